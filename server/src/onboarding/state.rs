//! The consent state of a tenant per environment, and its transitions. Each transition writes its
//! audit event in the same transaction (the caller's), so the state and its history never
//! disagree.

use app::error::AppError;
use app::onboarding::model::{ConsentState, ConsentStatus};
use app::environment::Environment;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::db::entities::consent_state;
use crate::error::ServiceResult;

/// The current status (`not_started` when nothing happened yet). A stored state the portal does
/// not know is an unexpected fault naming the row.
pub async fn status<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<ConsentStatus> {
    let row = consent_state::Entity::find_by_id((tenant_id, env.as_str().to_owned())).one(db).await?;
    Ok(match row {
        Some(r) => ConsentStatus { state: r.state()?, reason: r.reason, updated_at: Some(r.updated_at) },
        None => ConsentStatus { state: ConsentState::NotStarted, reason: None, updated_at: None },
    })
}

/// Moves the state to `to` (with a reason for `needs_attention`), writing one audit event.
/// Staying in the same state with the same reason writes nothing. A transition the state
/// machine forbids is a conflict and changes nothing.
pub async fn transition<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    tenant_id: Uuid,
    env: Environment,
    to: ConsentState,
    reason: Option<&str>,
) -> ServiceResult<ConsentStatus> {
    let current = status(db, tenant_id, env).await?;
    if current.state == to && current.reason.as_deref() == reason {
        return Ok(current);
    }
    if current.state != to && !current.state.can_become(to) {
        return Err(AppError::conflict(format!("Consent cannot go from {} to {}.", current.state.label(), to.label())).into());
    }
    let now = Utc::now();
    let model = consent_state::ActiveModel {
        tenant_id: Set(tenant_id),
        environment: Set(env.as_str().to_owned()),
        state: Set(to.as_str().to_owned()),
        reason: Set(reason.map(str::to_owned)),
        updated_at: Set(now),
    };
    if current.updated_at.is_some() {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    audit::record(
        db,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: "consent.state_changed",
            before: Some(json!({ "state": current.state, "reason": current.reason, "environment": env })),
            after: Some(json!({ "state": to, "reason": reason, "environment": env })),
            request_id,
        },
    )
    .await?;
    Ok(ConsentStatus { state: to, reason: reason.map(str::to_owned), updated_at: Some(now) })
}
