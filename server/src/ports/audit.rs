//! The audit-log port: every staff role reads the log; the service narrows account managers to
//! the events of their own tenants.

use app::audit::api::AuditPort;
use app::audit::log::{AUDIT_PAGE_SIZE, AuditPage, AuditQuery};
use app::error::AppResult;
use app::ssr::RequestCtx;

use super::done;
use crate::state::Portal;

#[async_trait::async_trait]
impl AuditPort for Portal {
    async fn log(&self, ctx: &RequestCtx, query: AuditQuery) -> AppResult<AuditPage> {
        let viewer = ctx.require_staff()?;
        done(ctx, crate::audit::log(&self.db, viewer, &query, AUDIT_PAGE_SIZE).await)
    }
}
