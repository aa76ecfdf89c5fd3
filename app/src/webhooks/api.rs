//! Webhook DTOs, the webhooks port and its server functions (administrators only).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DeliveryStatus, WebhookEventType};
use crate::environment::Environment;
use crate::error::AppError;

/// What an administrator enters to add an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEndpointInput {
    pub environment: Environment,
    pub url: String,
    /// Subscribed event types (at least one).
    #[serde(default)]
    pub event_types: Vec<WebhookEventType>,
}

/// An endpoint just created, with its signing secret: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub id: Uuid,
    /// `whsec_<base64>`, for the receiver's Standard Webhooks library.
    pub secret: String,
}

/// An endpoint as administrators see it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: Uuid,
    pub environment: Environment,
    pub url: String,
    pub event_types: Vec<WebhookEventType>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// One delivery of one event to an endpoint, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: WebhookEventType,
    pub tenant_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for webhook endpoints.
    #[async_trait::async_trait]
    pub trait WebhooksPort: Send + Sync + 'static {
        /// Every endpoint, newest first.
        async fn list(&self, ctx: &RequestCtx) -> Result<Vec<EndpointView>, AppError>;
        /// Adds an endpoint and returns its secret (once).
        async fn create(&self, ctx: &RequestCtx, input: NewEndpointInput) -> Result<CreatedEndpoint, AppError>;
        /// Disables an endpoint: no new deliveries; pending ones end as failed.
        async fn disable(&self, ctx: &RequestCtx, id: Uuid) -> Result<(), AppError>;
        /// The latest deliveries to an endpoint, newest first.
        async fn deliveries(&self, ctx: &RequestCtx, endpoint_id: Uuid) -> Result<Vec<DeliveryView>, AppError>;
        /// Queues a new delivery of the same event to the same endpoint.
        async fn redeliver(&self, ctx: &RequestCtx, delivery_id: Uuid) -> Result<Uuid, AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::WebhooksPort;

/// Every webhook endpoint.
#[server(endpoint = "webhooks/list")]
pub async fn list_webhook_endpoints() -> Result<Vec<EndpointView>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn WebhooksPort>()?;
    respond(&ctx, port.list(&ctx).await)
}

/// Adds a webhook endpoint; the answer carries its secret, shown once.
#[server(endpoint = "webhooks/create")]
pub async fn create_webhook_endpoint(input: NewEndpointInput) -> Result<CreatedEndpoint, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn WebhooksPort>()?;
    respond(&ctx, port.create(&ctx, input).await)
}

/// Disables a webhook endpoint.
#[server(endpoint = "webhooks/disable")]
pub async fn disable_webhook_endpoint(id: Uuid) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn WebhooksPort>()?;
    respond(&ctx, port.disable(&ctx, id).await)
}

/// The delivery log of a webhook endpoint.
#[server(endpoint = "webhooks/deliveries")]
pub async fn webhook_deliveries(endpoint_id: Uuid) -> Result<Vec<DeliveryView>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn WebhooksPort>()?;
    respond(&ctx, port.deliveries(&ctx, endpoint_id).await)
}

/// Delivers an event again.
#[server(endpoint = "webhooks/redeliver")]
pub async fn redeliver_webhook(delivery_id: Uuid) -> Result<Uuid, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn WebhooksPort>()?;
    respond(&ctx, port.redeliver(&ctx, delivery_id).await)
}
