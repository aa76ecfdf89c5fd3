//! `POST /connect/{tenant_id}`: the portal's listener for DocuSign Connect messages. Public but
//! authenticated by the message itself. A message counts only if:
//!
//! - one of its `X-DocuSign-Signature-N` headers is a valid HMAC-SHA256 of the raw body under one
//!   of the environment's keys;
//! - its `data.accountId` is the tenant's pinned account (the keys are the ISV's, shared by every
//!   tenant of an environment, so the signature alone does not say whose message it is);
//! - its `generatedDateTime` is recent (within the replay window) and the same message was not
//!   accepted before (a replay is acknowledged but not counted).
//!
//! Unknown tenants and refused messages get the same answer, so the route does not reveal which
//! tenant ids exist. Refusals of a known tenant are counted for the setup check.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, EntityTrait};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::connect_listener::{ConnectEvent, SignatureError, verify_signatures};
use crate::db::entities::{connect_delivery, connect_message, tenant};
use crate::state::Portal;

/// The largest Connect message accepted. Messages may carry documents (`includeDocuments`), far
/// above the 64 KiB of the portal's forms; only this route gets the larger limit.
pub const CONNECT_BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// How far in the future a message's `generatedDateTime` may be (clock skew).
const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// Why a message was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No such tenant, a bad signature, another account's message, or outside the time window:
    /// all answered alike.
    Unauthorized,
    /// The portal has no Connect key for the environment: DocuSign should retry later.
    NoKeys,
    /// Signed, but not a JSON SIM message.
    Malformed,
}

/// Receives one Connect message.
pub async fn receive(State(portal): State<Arc<Portal>>, Path(tenant_id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let now = Utc::now();
    let found = match Uuid::parse_str(&tenant_id) {
        Ok(id) => tenant::Entity::find_by_id(id).one(&portal.db).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(t) = found else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let tenant_id = t.id;
    let outcome = check(&portal, &t, &headers, &body, now).await;
    let event = match outcome {
        Ok(event) => event,
        Err(refusal) => {
            tracing::warn!(%tenant_id, ?refusal, "refused a Connect message");
            count_refusal(&portal, tenant_id, now).await;
            return match refusal {
                Refusal::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
                Refusal::NoKeys => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                Refusal::Malformed => (StatusCode::BAD_REQUEST, "not a JSON SIM Connect message").into_response(),
            };
        }
    };
    match record(&portal, tenant_id, &event, now).await {
        // DocuSign retries anything but a 2xx: acknowledge only what was stored (or seen before).
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(%tenant_id, error = %e, "could not record a Connect delivery");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn check(portal: &Portal, t: &tenant::Model, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Result<ConnectEvent, Refusal> {
    let Some(env) = app::environment::Environment::parse(&t.environment) else { return Err(Refusal::Unauthorized) };
    let keys = portal.config.docusign.get(env).map(|i| i.connect_hmac_keys.clone()).unwrap_or_default();
    match verify_signatures(body, headers, &keys) {
        Ok(()) => {}
        Err(SignatureError::NoKeysConfigured) => return Err(Refusal::NoKeys),
        Err(_) => return Err(Refusal::Unauthorized),
    }
    let event = ConnectEvent::parse(body).map_err(|_| Refusal::Malformed)?;
    let pinned = crate::onboarding::records::system_user(&portal.db, t.id, env).await.ok().flatten();
    let same_account = match (&pinned, &event.account_id) {
        (Some(su), Some(account)) => su.account_id.eq_ignore_ascii_case(account),
        _ => false,
    };
    if !same_account {
        return Err(Refusal::Unauthorized);
    }
    let window = chrono::Duration::days(i64::from(portal.config.retention.connect_replay_days));
    let generated = event.generated.as_deref().and_then(|g| DateTime::parse_from_rfc3339(g).ok()).map(|g| g.with_timezone(&Utc));
    match generated {
        Some(g) if g > now - window && g < now + MAX_CLOCK_SKEW => Ok(event),
        _ => Err(Refusal::Unauthorized),
    }
}

/// The identity of a message: what DocuSign sends again, byte for byte in these fields, when it
/// retries or when someone replays it (`retryCount` is left out on purpose).
fn message_key(tenant_id: Uuid, event: &ConnectEvent) -> String {
    let mut h = Sha256::new();
    for part in [
        tenant_id.to_string().as_str(),
        &event.event,
        event.account_id.as_deref().unwrap_or(""),
        event.envelope_id.as_deref().unwrap_or(""),
        event.generated.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Counts an accepted message once: the message key and the delivery counters change in one
/// transaction, so a replay (or DocuSign's retry of a message we stored) changes nothing.
async fn record(portal: &Portal, tenant_id: Uuid, event: &ConnectEvent, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    let txn = crate::db::begin(&portal.db).await?;
    let inserted = connect_message::Entity::insert(connect_message::ActiveModel {
        message_key: Set(message_key(tenant_id, event)),
        tenant_id: Set(tenant_id),
        received_at: Set(now),
    })
    .on_conflict(OnConflict::column(connect_message::Column::MessageKey).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        tracing::info!(%tenant_id, "a Connect message arrived again; acknowledged, not counted");
        return txn.commit().await;
    }
    connect_delivery::Entity::insert(connect_delivery::ActiveModel {
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
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await
}

async fn count_refusal(portal: &Portal, tenant_id: Uuid, now: DateTime<Utc>) {
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
}
