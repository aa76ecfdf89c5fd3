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
use sea_orm::{ConnectionTrait, FromQueryResult};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::columns_as;
use crate::db::entities::{staff_user, tenant};
use crate::error::ServiceResult;

/// A tenant row its viewer may see, with its account manager's e-mail (every view of a tenant
/// names the manager, and reading it with the row saves a round trip).
#[derive(Debug, Clone)]
pub struct Visible {
    row: tenant::Model,
    account_manager_email: Option<String>,
}

impl Visible {
    /// The row, to keep.
    pub fn into_inner(self) -> tenant::Model {
        self.row
    }

    /// The e-mail of the tenant's account manager, if it has one.
    pub fn account_manager_email(&self) -> Option<&str> {
        self.account_manager_email.as_deref()
    }
}

impl Deref for Visible {
    type Target = tenant::Model;
    fn deref(&self) -> &tenant::Model {
        &self.row
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
    let mut q = Query::select();
    q.from(tenant::Entity)
        .left_join(staff_user::Entity, Expr::col((staff_user::Entity, staff_user::Column::Id)).equals((tenant::Entity, tenant::Column::AccountManagerId)))
        .expr_as(Expr::col((staff_user::Entity, staff_user::Column::Email)), MANAGER_EMAIL)
        .and_where(Expr::col((tenant::Entity, tenant::Column::Id)).eq(id));
    columns_as::<tenant::Entity>(&mut q, "");
    let Some(found) = db.query_one(&q).await? else { return Ok(None) };
    let row = tenant::Model::from_query_result(&found, "")?;
    let account_manager_email = found.try_get::<Option<String>>("", MANAGER_EMAIL)?;
    Ok((viewer.role.manages_tenants() || row.account_manager_id == Some(viewer.id)).then_some(Visible { row, account_manager_email }))
}

/// The column [`find`] reads the manager's e-mail into (no tenant column has this name).
const MANAGER_EMAIL: &str = "account_manager_email";

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
