//! `POST /connect/{tenant_id}`: the portal's listener for DocuSign Connect messages. Public but
//! authenticated by the message itself: a message counts only if one of its
//! `X-DocuSign-Signature-N` headers is a valid HMAC-SHA256 of the raw body under one of the ISV's
//! keys. Verified and rejected deliveries are counted per tenant for the setup check.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderMap, StatusCode};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use crate::connect_listener::{ConnectEvent, verify_signatures};
use crate::db::entities::{connect_delivery, tenant};
use crate::portal::Portal;

/// Receives one Connect message.
pub async fn receive(State(portal): State<Arc<Portal>>, Path(tenant_id): Path<Uuid>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(Some(t)) = tenant::Entity::find_by_id(tenant_id).one(&portal.db).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let env = app::tenants::api::Environment::parse(&t.environment).unwrap_or_default();
    let keys = portal.config.docusign.get(env).map(|i| i.connect_hmac_keys.clone()).unwrap_or_default();
    let now = Utc::now();
    if let Err(e) = verify_signatures(&body, &headers, &keys) {
        tracing::warn!(%tenant_id, error = ?e, "refused a Connect message");
        let _ = connect_delivery::Entity::insert(connect_delivery::ActiveModel {
            tenant_id: Set(tenant_id),
            last_verified_at: Set(None),
            last_event: Set(None),
            last_envelope_id: Set(None),
            verified_count: Set(0),
            rejected_count: Set(1),
            last_rejected_at: Set(Some(now)),
        })
        .on_conflict(
            OnConflict::column(connect_delivery::Column::TenantId)
                .value(connect_delivery::Column::RejectedCount, Expr::col((connect_delivery::Entity, connect_delivery::Column::RejectedCount)).add(1))
                .value(connect_delivery::Column::LastRejectedAt, now)
                .to_owned(),
        )
        .exec_without_returning(&portal.db)
        .await;
        return e.status().into_response();
    }
    let event = match ConnectEvent::parse(&body) {
        Ok(e) => e,
        Err(_) => return (StatusCode::BAD_REQUEST, "not a JSON SIM Connect message").into_response(),
    };
    let recorded = connect_delivery::Entity::insert(connect_delivery::ActiveModel {
        tenant_id: Set(tenant_id),
        last_verified_at: Set(Some(now)),
        last_event: Set(Some(event.event.clone())),
        last_envelope_id: Set(event.envelope_id.clone()),
        verified_count: Set(1),
        rejected_count: Set(0),
        last_rejected_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(connect_delivery::Column::TenantId)
            .value(connect_delivery::Column::VerifiedCount, Expr::col((connect_delivery::Entity, connect_delivery::Column::VerifiedCount)).add(1))
            .update_columns([connect_delivery::Column::LastVerifiedAt, connect_delivery::Column::LastEvent, connect_delivery::Column::LastEnvelopeId])
            .to_owned(),
    )
    .exec_without_returning(&portal.db)
    .await;
    match recorded {
        // DocuSign retries anything but a 2xx: acknowledge only what was stored.
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(%tenant_id, error = %e, "could not record a Connect delivery");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
