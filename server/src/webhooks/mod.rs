//! Outgoing webhooks to the ISV's backend, from a transactional outbox.
//!
//! A state change that the ISV's backend must hear about calls [`emit`] inside the transaction
//! that makes the change: the event row and one pending delivery per subscribed endpoint are
//! committed (or rolled back) with it, so an event is never sent for a change that did not
//! happen, and never lost for one that did. The [`worker`] then delivers each pending delivery,
//! signed per the Standard Webhooks specification ([`signing`]), under a lease in the database,
//! retrying with exponential backoff and jitter for more than a day before giving up.
//! Administrators manage endpoints and read the delivery log through [`endpoints`].
//!
//! The event types are a stored vocabulary shared with the staff page, so they live in
//! `app::webhooks`; this module re-exports them.

pub mod endpoints;
pub mod signing;
pub mod worker;

pub use app::webhooks::{DeliveryStatus, WebhookEventType};

use app::environment::Environment;
use chrono::{SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::entities::{tenant, webhook_delivery, webhook_endpoint, webhook_event};
use crate::error::ServiceResult;

/// Records that `event` happened to a tenant in `env`, in the caller's transaction: one event row
/// with the exact body to send, and one pending delivery for every enabled endpoint of that
/// environment subscribed to the type. With no such endpoint nothing is written.
///
/// `data` adds what changed (an object; no tokens or other secrets); the tenant's id, slug and
/// the environment are always included.
pub async fn emit<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment, event: WebhookEventType, data: Value) -> ServiceResult<()> {
    let endpoints: Vec<Uuid> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Environment.eq(env.as_str()))
        .filter(webhook_endpoint::Column::DisabledAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| match e.event_types() {
            Ok(types) => types.contains(&event).then_some(e.id),
            Err(err) => {
                tracing::warn!(endpoint_id = %e.id, error = %err, "webhook endpoint skipped");
                None
            }
        })
        .collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let slug = tenant::Entity::find_by_id(tenant_id).one(db).await?.map(|t| t.slug);
    let now = Utc::now();
    let mut payload_data = serde_json::Map::new();
    payload_data.insert("tenant_id".into(), json!(tenant_id));
    payload_data.insert("tenant_slug".into(), json!(slug));
    payload_data.insert("environment".into(), json!(env));
    if let Value::Object(extra) = data {
        for (k, v) in extra {
            payload_data.entry(k).or_insert(v);
        }
    }
    let body = json!({
        "type": event.as_str(),
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": Value::Object(payload_data),
    });
    let event_id = Uuid::new_v4();
    webhook_event::ActiveModel {
        id: Set(event_id),
        event_type: Set(event.as_str().to_owned()),
        tenant_id: Set(tenant_id),
        environment: Set(env.as_str().to_owned()),
        payload: Set(body.to_string()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    for endpoint_id in endpoints {
        queue_delivery(db, event_id, endpoint_id).await?;
    }
    Ok(())
}

/// Queues one pending delivery of an event to an endpoint, due now.
pub(crate) async fn queue_delivery<C: ConnectionTrait>(db: &C, event_id: Uuid, endpoint_id: Uuid) -> ServiceResult<Uuid> {
    let now = Utc::now();
    let id = Uuid::new_v4();
    webhook_delivery::ActiveModel {
        id: Set(id),
        event_id: Set(event_id),
        endpoint_id: Set(endpoint_id),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(id)
}
