//! Which tenants a staff member may see: every tenant for staff who manage tenants, only their
//! assigned ones for an account manager. A tenant outside the viewer's scope is "not found", so
//! its existence does not leak. Tenants, onboarding, checks and the audit log all ask here.

use app::auth::StaffPrincipal;
use app::error::AppError;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::db::entities::tenant;
use crate::error::ServiceResult;

/// The tenant row if `viewer` may see it; `NotFound` otherwise.
pub async fn visible<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, id: Uuid) -> ServiceResult<tenant::Model> {
    let row = tenant::Entity::find_by_id(id).one(db).await?;
    match row {
        Some(t) if viewer.role.manages_tenants() || t.account_manager_id == Some(viewer.id) => Ok(t),
        _ => Err(AppError::not_found("Tenant").into()),
    }
}

/// The ids of the tenants assigned to `viewer`, as a subquery; `None` when the viewer sees every
/// tenant (staff who manage tenants).
pub fn assigned_ids(viewer: &StaffPrincipal) -> Option<SelectStatement> {
    (!viewer.role.manages_tenants()).then(|| {
        Query::select().column(tenant::Column::Id).from(tenant::Entity).and_where(Expr::col(tenant::Column::AccountManagerId).eq(viewer.id)).to_owned()
    })
}
