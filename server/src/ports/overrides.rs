//! The overrides port: config staff and admins set and withdraw overrides, every staff member
//! who sees the tenant reads them (the services scope the tenant).

use app::error::AppResult;
use app::overrides::api::OverridesPort;
use app::overrides::{OverrideInput, OverrideView, TenantOverrides};
use app::ssr::RequestCtx;
use uuid::Uuid;

use super::{MANAGERS, done};
use crate::audit::Actor;
use crate::checks::overrides;
use crate::state::Portal;

#[async_trait::async_trait]
impl OverridesPort for Portal {
    async fn active(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<TenantOverrides> {
        let staff = ctx.require_staff()?;
        let t = crate::scope::visible_in_request(&self.db, ctx, tenant_id).await?;
        let overrides = done(ctx, overrides::in_force(&self.db, &t).await)?;
        Ok(TenantOverrides { overrides, can_manage: MANAGERS.contains(&staff.role) })
    }

    async fn create(&self, ctx: &RequestCtx, tenant_id: Uuid, input: OverrideInput) -> AppResult<OverrideView> {
        let staff = ctx.require_role(MANAGERS)?;
        done(ctx, overrides::create(&self.db, staff, &Actor::of(ctx), Some(&ctx.request_id), tenant_id, &input).await)
    }

    async fn withdraw(&self, ctx: &RequestCtx, tenant_id: Uuid, subject: String) -> AppResult<()> {
        let staff = ctx.require_role(MANAGERS)?;
        done(ctx, overrides::withdraw(&self.db, staff, &Actor::of(ctx), Some(&ctx.request_id), tenant_id, &subject).await)
    }
}
