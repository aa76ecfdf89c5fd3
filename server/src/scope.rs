//! Which tenants a staff member may see: every tenant for staff who manage tenants, only their
//! assigned ones for an account manager. A tenant outside the viewer's scope is "not found", so
//! its existence does not leak. Tenants, onboarding, checks and the audit log all ask here.
//!
//! [`Visible`] is the answer as a type: only this module makes one, so a service that takes a
//! `&Visible` cannot be reached with a tenant nobody checked.

use std::ops::Deref;

use app::auth::StaffPrincipal;
use app::error::AppError;
use app::ssr::RequestCtx;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, EntityTrait};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::entities::tenant;
use crate::error::ServiceResult;

/// A tenant row its viewer may see.
#[derive(Debug, Clone)]
pub struct Visible(tenant::Model);

impl Visible {
    /// The row, to keep.
    pub fn into_inner(self) -> tenant::Model {
        self.0
    }
}

impl Deref for Visible {
    type Target = tenant::Model;
    fn deref(&self) -> &tenant::Model {
        &self.0
    }
}

/// The tenant row if `viewer` may see it; `NotFound` otherwise.
pub async fn visible<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, id: Uuid) -> ServiceResult<Visible> {
    find(db, viewer, id).await?.ok_or_else(|| not_found().into())
}

/// [`visible`] for the staff member of `ctx`, read once per request: the panels of a tenant's
/// page, rendered side by side, share one read (the others wait for it) instead of each reading
/// the row again. "Not found" is kept too; a database error is not (the next caller reads again).
pub async fn visible_in_request<C: ConnectionTrait>(db: &C, ctx: &RequestCtx, id: Uuid) -> app::error::AppResult<Visible> {
    let viewer = ctx.require_staff()?;
    let slot = ctx.memo.slot::<OnceCell<Option<Visible>>>(id);
    let found = slot.get_or_try_init(|| find(db, viewer, id)).await.map_err(|e| e.into_app(&ctx.request_id))?;
    found.clone().ok_or_else(not_found)
}

async fn find<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, id: Uuid) -> ServiceResult<Option<Visible>> {
    let row = tenant::Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|t| viewer.role.manages_tenants() || t.account_manager_id == Some(viewer.id)).map(Visible))
}

fn not_found() -> AppError {
    AppError::not_found("Tenant")
}

/// The ids of the tenants assigned to `viewer`, as a subquery; `None` when the viewer sees every
/// tenant (staff who manage tenants).
pub fn assigned_ids(viewer: &StaffPrincipal) -> Option<SelectStatement> {
    (!viewer.role.manages_tenants()).then(|| {
        Query::select().column(tenant::Column::Id).from(tenant::Entity).and_where(Expr::col(tenant::Column::AccountManagerId).eq(viewer.id)).to_owned()
    })
}
