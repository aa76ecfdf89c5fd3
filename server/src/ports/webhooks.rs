//! The webhooks port: administrators manage the ISV backend's webhook endpoints and read their
//! delivery logs.

use app::error::AppResult;
use app::ssr::RequestCtx;
use app::webhooks::api::{CreatedEndpoint, DeliveryView, EndpointView, NewEndpointInput, WebhooksPort};
use uuid::Uuid;

use super::{ADMINS, done};
use crate::audit::Actor;
use crate::state::Portal;
use crate::webhooks::endpoints;

#[async_trait::async_trait]
impl WebhooksPort for Portal {
    async fn list(&self, ctx: &RequestCtx) -> AppResult<Vec<EndpointView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, endpoints::list(&self.db).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: NewEndpointInput) -> AppResult<CreatedEndpoint> {
        ctx.require_role(ADMINS)?;
        let allow_http = self.config.webhooks.allow_loopback_http;
        done(ctx, endpoints::create(&self.db, &self.keyring, allow_http, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn disable(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<()> {
        ctx.require_role(ADMINS)?;
        done(ctx, endpoints::disable(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id).await)
    }

    async fn deliveries(&self, ctx: &RequestCtx, endpoint_id: Uuid) -> AppResult<Vec<DeliveryView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, endpoints::deliveries(&self.db, endpoint_id).await)
    }

    async fn redeliver(&self, ctx: &RequestCtx, delivery_id: Uuid) -> AppResult<Uuid> {
        ctx.require_role(ADMINS)?;
        done(ctx, endpoints::redeliver(&self.db, &Actor::of(ctx), Some(&ctx.request_id), delivery_id).await)
    }
}
