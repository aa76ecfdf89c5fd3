//! Webhook endpoints for administrators: create one (its signing secret is generated here and
//! returned once; only a sealed copy is stored, because every delivery must sign with it), list,
//! disable, read an endpoint's delivery log, and queue a redelivery of an event.

use app::environment::Environment;
use app::error::AppError;
use app::webhooks::api::{CreatedEndpoint, DeliveryView, EndpointView, NewEndpointInput};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use uuid::Uuid;

use super::{DeliveryStatus, WebhookEventType, signing};
use crate::audit::{self, Actor, Event};
use crate::crypto::{Binding, Keyring};
use crate::db::entities::{webhook_delivery, webhook_endpoint, webhook_event};
use crate::error::{ServiceResult, Unexpected};

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Deliveries shown per endpoint in the log.
pub const LOG_LIMIT: u64 = 100;

/// The keyring binding of an endpoint's secret: its purpose and the endpoint's id (in the
/// binding's tenant slot), so a sealed secret copied to another endpoint does not open.
fn binding(endpoint_id: Uuid) -> Binding<'static> {
    Binding { purpose: "webhook_endpoint.secret", tenant_id: endpoint_id }
}

/// Opens an endpoint's signing secret (for the worker).
pub fn secret_of(keyring: &Keyring, endpoint: &webhook_endpoint::Model) -> ServiceResult<SecretString> {
    keyring.open(binding(endpoint.id), &endpoint.secret_sealed).unexpected("opening a webhook endpoint's secret")
}

/// Checks an endpoint URL: `https` with a host, no credentials and no fragment; plain `http` only
/// on a loopback host and only where the configuration allows it (the demo and tests, whose
/// receivers listen on 127.0.0.1).
pub fn validate_url(raw: &str, allow_loopback_http: bool) -> Result<url::Url, AppError> {
    let field = |m: &str| AppError::field("url", m.to_owned());
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(field("Enter the URL of your webhook receiver."));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(field("That URL is too long."));
    }
    let url = url::Url::parse(raw).map_err(|_| field("Enter a full URL, like https://api.example.com/webhooks/docusign-consent."))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(field("The URL needs a host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field("Leave credentials out of the URL: every request is signed instead."));
    }
    if url.fragment().is_some() {
        return Err(field("Leave the #fragment out of the URL."));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_loopback_http && is_loopback(&url) => Ok(url),
        _ => Err(field("Use an https:// URL.")),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn view(e: &webhook_endpoint::Model) -> ServiceResult<EndpointView> {
    Ok(EndpointView {
        id: e.id,
        environment: e.environment()?,
        url: e.url.clone(),
        event_types: e.event_types()?,
        created_by: e.created_by.clone(),
        created_at: e.created_at,
        disabled_at: e.disabled_at,
    })
}

/// Adds an endpoint and returns its `whsec_…` secret: the only time anyone sees it.
pub async fn create<C: TransactionTrait>(
    db: &C,
    keyring: &Keyring,
    allow_loopback_http: bool,
    actor: &Actor,
    request_id: Option<&str>,
    input: NewEndpointInput,
) -> ServiceResult<CreatedEndpoint> {
    let url = validate_url(&input.url, allow_loopback_http)?;
    let mut types: Vec<WebhookEventType> = Vec::new();
    for t in input.event_types {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Err(AppError::field("event_types", "Choose at least one event.").into());
    }
    types.sort_by_key(|t| WebhookEventType::ALL.iter().position(|a| a == t));
    let id = Uuid::new_v4();
    let secret = signing::generate_secret();
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let txn = crate::db::begin(db).await?;
    webhook_endpoint::ActiveModel {
        id: Set(id),
        environment: Set(input.environment.as_str().to_owned()),
        url: Set(url.to_string()),
        event_types: Set(names.join(",")),
        secret_sealed: Set(keyring.seal(binding(id), secret.expose_secret())),
        created_by: Set(actor.label.clone()),
        created_at: Set(Utc::now()),
        disabled_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "webhook.endpoint_created",
            before: None,
            after: Some(json!({ "endpoint_id": id, "environment": input.environment, "url": url.as_str(), "event_types": names })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedEndpoint { id, secret: secret.expose_secret().to_owned() })
}

/// Every endpoint, newest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> ServiceResult<Vec<EndpointView>> {
    webhook_endpoint::Entity::find()
        .order_by_desc(webhook_endpoint::Column::CreatedAt)
        .all(db)
        .await?
        .iter()
        .map(view)
        .collect()
}

/// Enabled endpoints of an environment (for tests and tools).
pub async fn enabled<C: ConnectionTrait>(db: &C, env: Environment) -> ServiceResult<Vec<EndpointView>> {
    Ok(list(db).await?.into_iter().filter(|e| e.environment == env && e.disabled_at.is_none()).collect())
}

/// Disables an endpoint: no new event is queued for it, and the worker ends its pending
/// deliveries as failed. Disabling a disabled endpoint changes nothing.
pub async fn disable<C: TransactionTrait>(db: &C, actor: &Actor, request_id: Option<&str>, id: Uuid) -> ServiceResult<()> {
    let txn = crate::db::begin(db).await?;
    let row = webhook_endpoint::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("Webhook endpoint"))?;
    if row.disabled_at.is_some() {
        return Ok(());
    }
    let mut model: webhook_endpoint::ActiveModel = row.clone().into();
    model.disabled_at = Set(Some(Utc::now()));
    model.update(&txn).await?;
    audit::record(
        &txn,
        Event { actor, tenant_id: None, action: "webhook.endpoint_disabled", before: None, after: Some(json!({ "endpoint_id": id, "url": row.url })), request_id },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The latest deliveries to an endpoint, newest first.
pub async fn deliveries<C: ConnectionTrait>(db: &C, endpoint_id: Uuid) -> ServiceResult<Vec<DeliveryView>> {
    webhook_endpoint::Entity::find_by_id(endpoint_id).one(db).await?.ok_or_else(|| AppError::not_found("Webhook endpoint"))?;
    let rows = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(LOG_LIMIT)
        .all(db)
        .await?;
    let event_ids: Vec<Uuid> = rows.iter().map(|d| d.event_id).collect();
    let events: std::collections::HashMap<Uuid, webhook_event::Model> = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    rows.into_iter()
        .map(|d| {
            let event = events
                .get(&d.event_id)
                .ok_or_else(|| crate::error::ServiceError::unexpected(format!("webhook delivery {}: its event is missing", d.id)))?;
            let status = d.status()?;
            Ok(DeliveryView {
                id: d.id,
                event_id: d.event_id,
                event_type: event.event_type()?,
                tenant_id: event.tenant_id,
                status,
                attempts: d.attempts,
                last_status_code: d.last_status_code,
                last_error: d.last_error,
                next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
                delivered_at: d.delivered_at,
                created_at: d.created_at,
                updated_at: d.updated_at,
            })
        })
        .collect()
}

/// Queues a new delivery of the same event to the same endpoint (the receiver sees the same
/// `webhook-id`, its idempotency key). The endpoint must be enabled.
pub async fn redeliver<C: TransactionTrait>(db: &C, actor: &Actor, request_id: Option<&str>, delivery_id: Uuid) -> ServiceResult<Uuid> {
    let txn = crate::db::begin(db).await?;
    let delivery = webhook_delivery::Entity::find_by_id(delivery_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Webhook delivery"))?;
    let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Webhook endpoint"))?;
    if endpoint.disabled_at.is_some() {
        return Err(AppError::conflict("This endpoint is disabled; add a new endpoint to receive events again.").into());
    }
    let id = super::queue_delivery(&txn, delivery.event_id, delivery.endpoint_id).await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "webhook.redelivery_queued",
            before: None,
            after: Some(json!({ "endpoint_id": endpoint.id, "event_id": delivery.event_id, "delivery_id": id })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_url_must_be_https_unless_loopback_http_is_allowed() {
        assert!(validate_url("https://api.example.com/hooks", false).is_ok());
        assert!(validate_url("http://api.example.com/hooks", false).is_err());
        assert!(validate_url("http://127.0.0.1:9000/hooks", false).is_err(), "loopback http only where configured");
        assert!(validate_url("http://127.0.0.1:9000/hooks", true).is_ok());
        assert!(validate_url("http://api.example.com/hooks", true).is_err(), "non-loopback http never");
        assert!(validate_url("ftp://api.example.com/hooks", true).is_err());
        assert!(validate_url("https://user:pw@api.example.com/hooks", false).is_err());
        assert!(validate_url("https://api.example.com/hooks#x", false).is_err());
        assert!(validate_url("not a url", false).is_err());
        assert!(validate_url("", false).is_err());
        assert!(validate_url(&format!("https://a.example/{}", "x".repeat(MAX_URL_LEN)), false).is_err());
    }
}
