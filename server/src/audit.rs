//! Writing audit events. Every mutation calls [`record`] inside the same transaction as the change,
//! so a change and its audit row commit or roll back together.

use app::audit::AuditEventView;
use app::ssr::RequestCtx;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::entities::audit_event;
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

/// Appends one event.
pub async fn record<C: ConnectionTrait>(db: &C, event: Event<'_>) -> ServiceResult<()> {
    audit_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor_id: Set(event.actor.id),
        actor_label: Set(event.actor.label.clone()),
        tenant_id: Set(event.tenant_id),
        action: Set(event.action.to_owned()),
        before: Set(event.before),
        after: Set(event.after),
        request_id: Set(event.request_id.map(str::to_owned)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A tenant's events, newest first.
pub async fn for_tenant<C: ConnectionTrait>(db: &C, tenant_id: Uuid) -> ServiceResult<Vec<AuditEventView>> {
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant_id))
        .order_by_desc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEventView {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_label: r.actor_label,
            action: r.action,
            before: r.before,
            after: r.after,
            request_id: r.request_id,
        })
        .collect())
}
