//! Writing and reading audit events. Every mutation calls [`record`] inside the same transaction
//! as the change, so a change and its audit row commit or roll back together; [`log`] reads the
//! log across tenants, scoped to what the viewer may see.

use app::audit::AuditEventView;
use app::audit::log::{AuditEntry, AuditPage, AuditQuery};
use app::auth::StaffPrincipal;
use app::error::AppError;
use app::ssr::RequestCtx;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::db::entities::{audit_event, tenant};
use crate::error::ServiceResult;

/// Who did it, in the audit log's terms.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub label: String,
}

impl Actor {
    /// The staff member of `ctx`, or "anonymous".
    pub fn of(ctx: &RequestCtx) -> Actor {
        match ctx.staff() {
            Some(s) => Actor { id: Some(s.id), label: s.email.clone() },
            None => Actor { id: None, label: "anonymous".into() },
        }
    }

    /// The system itself (start-up, CLI, background work).
    pub fn system(label: &str) -> Actor {
        Actor { id: None, label: label.to_owned() }
    }
}

/// One event to append.
pub struct Event<'a> {
    pub actor: &'a Actor,
    pub tenant_id: Option<Uuid>,
    pub action: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<&'a str>,
}

/// The longest text kept in any one audit field (labels, and each string inside before/after).
pub const MAX_FIELD_CHARS: usize = 256;
/// The most entries kept of any array or object inside before/after.
pub const MAX_ENTRIES: usize = 64;
/// How deep before/after may nest; deeper values are replaced by a marker.
pub const MAX_DEPTH: usize = 6;

/// Cuts text to [`MAX_FIELD_CHARS`] characters, marking the cut. Audit rows are append-only and
/// some are written for anonymous requests, so no field may carry unbounded input.
pub fn bound_text(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        Some((cut, _)) => format!("{}… [{} more bytes]", &text[..cut], text.len() - cut),
        None => text.to_owned(),
    }
}

/// Bounds every string, array and object inside a JSON value (see [`bound_text`]).
pub fn bound_json(value: serde_json::Value) -> serde_json::Value {
    fn go(value: serde_json::Value, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        if depth >= MAX_DEPTH && matches!(value, Value::Array(_) | Value::Object(_)) {
            return Value::String("[nested too deep]".into());
        }
        match value {
            Value::String(s) => Value::String(bound_text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().take(MAX_ENTRIES).map(|v| go(v, depth + 1)).collect()),
            Value::Object(map) => {
                Value::Object(map.into_iter().take(MAX_ENTRIES).map(|(k, v)| (bound_text(&k), go(v, depth + 1))).collect())
            }
            other => other,
        }
    }
    go(value, 0)
}

/// Appends one event, every field bounded.
pub async fn record<C: ConnectionTrait>(db: &C, event: Event<'_>) -> ServiceResult<()> {
    audit_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor_id: Set(event.actor.id),
        actor_label: Set(bound_text(&event.actor.label)),
        tenant_id: Set(event.tenant_id),
        action: Set(bound_text(event.action)),
        before: Set(event.before.map(bound_json)),
        after: Set(event.after.map(bound_json)),
        request_id: Set(event.request_id.map(bound_text)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Every event of a tenant, newest first (for audits and tests; the tenant page reads them a
/// page at a time through its timeline, `crate::timeline`).
pub async fn for_tenant<C: ConnectionTrait>(db: &C, tenant_id: Uuid) -> ServiceResult<Vec<AuditEventView>> {
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant_id))
        .order_by_desc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// The events `viewer` may see that match `query` (its cursor ignored): every event for staff
/// who manage tenants; for an account manager only the events of their assigned tenants.
fn matching(viewer: &StaffPrincipal, query: &AuditQuery) -> ServiceResult<sea_orm::Select<audit_event::Entity>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};

    let mut select = audit_event::Entity::find();
    if let Some(theirs) = crate::scope::assigned_ids(viewer) {
        select = select.filter(audit_event::Column::TenantId.in_subquery(theirs));
    }
    if let Some(t) = query.tenant {
        select = select.filter(audit_event::Column::TenantId.eq(t));
    }
    if let Some(actor) = query.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        if actor.chars().count() > 100 {
            return Err(AppError::field("actor", "Search for at most 100 characters.").into());
        }
        let escaped = actor.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(audit_event::Column::ActorLabel))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    if let Some(action) = query.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        if action.chars().count() > 64 || !action.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_') {
            return Err(AppError::field("action", "Choose an action from the list.").into());
        }
        select = select.filter(audit_event::Column::Action.starts_with(action));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(AppError::field("to", "The end date is before the start date.").into());
    }
    let day_start = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    if let Some(from) = query.from.and_then(day_start) {
        select = select.filter(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(end) = query.to.and_then(|d| d.succ_opt()).and_then(day_start) {
        select = select.filter(audit_event::Column::OccurredAt.lt(end));
    }
    Ok(select)
}

/// An event row as the UI shows it.
fn view(r: audit_event::Model) -> AuditEventView {
    AuditEventView {
        id: r.id,
        occurred_at: r.occurred_at,
        actor_label: r.actor_label,
        action: r.action,
        before: r.before,
        after: r.after,
        request_id: r.request_id,
    }
}

/// How many events `viewer` may see match `query` (its cursor ignored).
pub async fn count<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &AuditQuery) -> ServiceResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(matching(viewer, query)?.count(db).await?)
}

/// One page of the audit log `viewer` may see: up to `size` events older than the query's
/// cursor, newest first, each with its tenant's name.
pub async fn log<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &AuditQuery, size: u64) -> ServiceResult<AuditPage> {
    let mut select = matching(viewer, query)?;
    if let Some(before) = query.before {
        select = select.filter(audit_event::Column::Id.lt(before));
    }
    let mut rows = select.order_by_desc(audit_event::Column::Id).limit(size + 1).all(db).await?;
    let next = if rows.len() as u64 > size {
        rows.truncate(size as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.tenant_id).collect();
    ids.sort();
    ids.dedup();
    let names: std::collections::HashMap<Uuid, String> =
        tenant::Entity::find().filter(tenant::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|t| (t.id, t.display_name)).collect();
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            tenant_id: r.tenant_id,
            tenant_name: r.tenant_id.and_then(|t| names.get(&t).cloned()),
            event: view(r),
        })
        .collect();
    Ok(AuditPage { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_fields_are_bounded_whatever_the_input() {
        let huge = "x".repeat(60_000);
        assert!(bound_text(&huge).len() < MAX_FIELD_CHARS + 40);
        assert_eq!(bound_text("short"), "short");
        let value = serde_json::json!({ "email": huge, "list": vec![1; 1000], huge.clone(): 1 });
        let bounded = serde_json::to_string(&bound_json(value)).unwrap();
        assert!(bounded.len() < 2_000, "{} bytes", bounded.len());
        let mut deep = serde_json::json!("leaf");
        for _ in 0..100 {
            deep = serde_json::json!([deep]);
        }
        assert!(serde_json::to_string(&bound_json(deep)).unwrap().contains("nested too deep"));
    }
}
