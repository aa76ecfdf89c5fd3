//! The staff port: admins manage staff accounts; managers list account managers to assign.

use app::error::AppResult;
use app::ssr::RequestCtx;
use app::staff::api::{NewStaffInput, StaffOption, StaffPort, StaffView};
use uuid::Uuid;

use super::{ADMINS, MANAGERS, done};
use crate::audit::Actor;
use crate::staff;
use crate::state::Portal;

#[async_trait::async_trait]
impl StaffPort for Portal {
    async fn list(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::list(&self.db).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: NewStaffInput) -> AppResult<Uuid> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn set_active(&self, ctx: &RequestCtx, id: Uuid, active: bool) -> AppResult<()> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::set_active(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, active).await)
    }

    async fn end_sessions(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<u64> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::end_sessions(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id).await)
    }

    async fn account_managers(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffOption>> {
        ctx.require_role(MANAGERS)?;
        done(ctx, staff::account_managers(&self.db).await)
    }
}
