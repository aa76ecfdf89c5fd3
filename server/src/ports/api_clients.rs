//! The API-clients port: administrators create, list and revoke the ISV backend's keys.

use app::api_clients::api::{ApiClientView, ApiClientsPort, CreatedApiClient, NewApiClientInput};
use app::error::AppResult;
use app::ssr::RequestCtx;
use uuid::Uuid;

use super::{ADMINS, done};
use crate::api_clients;
use crate::audit::Actor;
use crate::state::Portal;

#[async_trait::async_trait]
impl ApiClientsPort for Portal {
    async fn list(&self, ctx: &RequestCtx) -> AppResult<Vec<ApiClientView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, api_clients::list(&self.db).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: NewApiClientInput) -> AppResult<CreatedApiClient> {
        ctx.require_role(ADMINS)?;
        done(ctx, api_clients::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn revoke(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<()> {
        ctx.require_role(ADMINS)?;
        done(ctx, api_clients::revoke(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id).await)
    }
}
