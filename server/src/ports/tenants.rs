//! The tenants port: any staff member reads the tenants they may see; managers change them.

use app::error::AppResult;
use app::ssr::RequestCtx;
use app::tenants::api::{Overview, TENANT_PAGE_SIZE, TenantDetail, TenantInput, TenantPage, TenantQuery, TenantSummary, TenantsPort};
use app::tenants::timeline::{TIMELINE_PAGE_SIZE, TimelinePage, TimelineQuery};
use uuid::Uuid;

use super::{MANAGERS, done};
use crate::audit::Actor;
use crate::state::Portal;
use crate::tenants;

#[async_trait::async_trait]
impl TenantsPort for Portal {
    async fn list(&self, ctx: &RequestCtx, include_archived: bool) -> AppResult<Vec<TenantSummary>> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::list(&self.db, viewer, include_archived, &self.config.onboarding_sla).await)
    }

    async fn page(&self, ctx: &RequestCtx, query: TenantQuery) -> AppResult<TenantPage> {
        let viewer = ctx.require_staff()?;
        let sla = self.config.onboarding_sla;
        let (items, next) = done(ctx, tenants::page_of(&self.db, viewer, &query, TENANT_PAGE_SIZE, &sla).await)?;
        // The rows are always current; the counts may be a few seconds old (`list_counts`).
        let key = format!("{}?{}", crate::list_counts::scope_key(viewer), query.url_params(None));
        let (db, viewer, counted) = (self.db.clone(), viewer.clone(), query);
        let counts = self.list_counts.get(key, move || async move { tenants::list_counts(&db, &viewer, &counted, &sla).await }).await;
        Ok(done(ctx, counts)?.into_page(items, next))
    }

    async fn overview(&self, ctx: &RequestCtx) -> AppResult<Overview> {
        let viewer = ctx.require_staff()?;
        let sla = self.config.onboarding_sla;
        let (db, key, viewer) = (self.db.clone(), crate::list_counts::scope_key(viewer), viewer.clone());
        done(ctx, self.overviews.get(key, move || async move { tenants::overview(&db, &viewer, &sla).await }).await)
    }

    async fn get(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<TenantDetail> {
        let viewer = ctx.require_staff()?;
        let t = crate::scope::visible_in_request(&self.db, ctx, id).await?;
        done(ctx, tenants::get(viewer, t))
    }

    async fn timeline(&self, ctx: &RequestCtx, id: Uuid, query: TimelineQuery) -> AppResult<TimelinePage> {
        let t = crate::scope::visible_in_request(&self.db, ctx, id).await?;
        done(ctx, crate::timeline::page(&self.db, &t, &query, TIMELINE_PAGE_SIZE, chrono::Utc::now()).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: TenantInput) -> AppResult<Uuid> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn update(&self, ctx: &RequestCtx, id: Uuid, input: TenantInput) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::update(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, input).await)
    }

    async fn set_archived(&self, ctx: &RequestCtx, id: Uuid, archived: bool) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::set_archived(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, archived).await)
    }
}
