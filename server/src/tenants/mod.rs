//! Tenant records: creation, reading scoped to what the caller may see, editing and archiving.
//! Every change writes its audit event in the same transaction. The staff console's list of
//! tenants (filters, search, paging, counts) is [`list`].

pub mod list;

pub use list::{ListCounts, count, list, list_counts, matching_ids, overview, page, page_of};
pub(crate) use list::{in_state, own_state_row};

use app::auth::{Role, StaffPrincipal};
use app::error::AppError;
use app::tenants::api::{TenantDetail, TenantInput};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr, TransactionSession, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Event};
use crate::db::entities::{staff_user, tenant};
use crate::error::{ServiceError, ServiceResult};
use crate::scope::Visible;

const SLUG_TAKEN: &str = "This slug is already used by another tenant. Choose another.";

/// A tenant `viewer` may see, as staff read it (its history is the timeline: `crate::timeline`).
/// Whether they may see it is `crate::scope`'s answer, which an account manager hears as "not
/// found" for a tenant not assigned to them, so its existence does not leak.
pub fn get(viewer: &StaffPrincipal, t: Visible) -> ServiceResult<TenantDetail> {
    let manager_email = t.account_manager_email().map(str::to_owned);
    let t = t.into_inner();
    Ok(TenantDetail {
        id: t.id,
        environment: t.environment()?,
        display_name: t.display_name,
        slug: t.slug,
        contact_email: t.contact_email,
        account_manager_id: t.account_manager_id,
        account_manager_email: manager_email,
        notes: t.notes,
        archived_at: t.archived_at,
        created_at: t.created_at,
        updated_at: t.updated_at,
        can_manage: viewer.role.manages_tenants(),
    })
}

/// The environment of a tenant, whoever asks (callers have already scoped the tenant); not found
/// when there is no such tenant, an error naming the row when its stored value is unknown.
pub async fn environment_of<C: ConnectionTrait>(db: &C, id: Uuid) -> ServiceResult<app::environment::Environment> {
    let t = tenant::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Tenant"))?;
    t.environment()
}

/// Creates a tenant. A slug clash is a field error, whether found up front or raised by the
/// unique index when two requests race.
pub async fn create<C: TransactionTrait>(db: &C, actor: &Actor, request_id: Option<&str>, input: TenantInput) -> ServiceResult<Uuid> {
    let input = checked(input)?;
    let txn = crate::db::begin(db).await?;
    ensure_account_manager(&txn, input.account_manager_id).await?;
    if slug_taken(&txn, &input.slug, None).await? {
        return Err(AppError::field("slug", SLUG_TAKEN).into());
    }
    let id = Uuid::new_v4();
    let now = Utc::now();
    let model = tenant::ActiveModel {
        id: Set(id),
        display_name: Set(input.display_name.clone()),
        slug: Set(input.slug.clone()),
        environment: Set(input.environment.as_str().to_owned()),
        contact_email: Set(input.contact_email.clone()),
        account_manager_id: Set(input.account_manager_id),
        notes: Set(input.notes.clone()),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    map_slug_clash(model.insert(&txn).await)?;
    audit::record(
        &txn,
        Event { actor, tenant_id: Some(id), action: "tenant.created", before: None, after: Some(snapshot(&input)), request_id },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Replaces a tenant's editable fields.
pub async fn update<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    id: Uuid,
    input: TenantInput,
) -> ServiceResult<()> {
    let input = checked(input)?;
    let txn = crate::db::begin(db).await?;
    let row = tenant::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("Tenant"))?;
    ensure_account_manager(&txn, input.account_manager_id).await?;
    if slug_taken(&txn, &input.slug, Some(id)).await? {
        return Err(AppError::field("slug", SLUG_TAKEN).into());
    }
    let before = snapshot_row(&row);
    let mut model: tenant::ActiveModel = row.into();
    model.display_name = Set(input.display_name.clone());
    model.slug = Set(input.slug.clone());
    model.environment = Set(input.environment.as_str().to_owned());
    model.contact_email = Set(input.contact_email.clone());
    model.account_manager_id = Set(input.account_manager_id);
    model.notes = Set(input.notes.clone());
    model.updated_at = Set(Utc::now());
    map_slug_clash(model.update(&txn).await)?;
    audit::record(
        &txn,
        Event { actor, tenant_id: Some(id), action: "tenant.updated", before: Some(before), after: Some(snapshot(&input)), request_id },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Archives or restores a tenant; doing what is already done changes nothing and writes nothing.
pub async fn set_archived<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    id: Uuid,
    archived: bool,
) -> ServiceResult<()> {
    let txn = crate::db::begin(db).await?;
    let row = tenant::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("Tenant"))?;
    if row.archived_at.is_some() == archived {
        return Ok(());
    }
    let before = json!({ "archived_at": row.archived_at });
    let now = Utc::now();
    let mut model: tenant::ActiveModel = row.into();
    model.archived_at = Set(archived.then_some(now));
    model.updated_at = Set(now);
    let after = model.clone().update(&txn).await?;
    // An archived tenant's customer can no longer onboard: links sent earlier stop working and
    // open wizard sessions end.
    let (revoked_invites, ended_sessions) = if archived {
        (crate::onboarding::invites::revoke_pending(&txn, id, now).await?, crate::sessions::end_for_tenant(&txn, id).await?)
    } else {
        (0, 0)
    };
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: Some(id),
            action: if archived { "tenant.archived" } else { "tenant.restored" },
            before: Some(before),
            after: Some(json!({ "archived_at": after.archived_at, "revoked_invites": revoked_invites, "ended_sessions": ended_sessions })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn checked(input: TenantInput) -> ServiceResult<TenantInput> {
    let input = input.normalized();
    input.validate().map_err(AppError::from)?;
    Ok(input)
}

async fn slug_taken<C: ConnectionTrait>(db: &C, slug: &str, except: Option<Uuid>) -> ServiceResult<bool> {
    let mut q = tenant::Entity::find().filter(tenant::Column::Slug.eq(slug));
    if let Some(id) = except {
        q = q.filter(tenant::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

async fn ensure_account_manager<C: ConnectionTrait>(db: &C, id: Option<Uuid>) -> ServiceResult<()> {
    let Some(id) = id else { return Ok(()) };
    let ok = staff_user::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|s| s.active && s.role == Role::AccountManager.as_str());
    if ok { Ok(()) } else { Err(AppError::field("account_manager_id", "Choose an active account manager.").into()) }
}

fn map_slug_clash<T>(result: Result<T, sea_orm::DbErr>) -> ServiceResult<T> {
    match result {
        // Tenants have one unique column besides their generated id: the slug.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(ServiceError::App(AppError::field("slug", SLUG_TAKEN)))
        }
        other => Ok(other?),
    }
}

fn snapshot(input: &TenantInput) -> serde_json::Value {
    json!({
        "display_name": input.display_name,
        "slug": input.slug,
        "environment": input.environment,
        "contact_email": input.contact_email,
        "account_manager_id": input.account_manager_id,
        "notes": input.notes,
    })
}

fn snapshot_row(row: &tenant::Model) -> serde_json::Value {
    json!({
        "display_name": row.display_name,
        "slug": row.slug,
        "environment": row.environment,
        "contact_email": row.contact_email,
        "account_manager_id": row.account_manager_id,
        "notes": row.notes,
    })
}
