//! The consent state of a tenant per environment, and its transitions. Each transition writes its
//! audit event, and the webhook event the ISV's backend hears about (see [`webhook_for`]), in the
//! same transaction (the caller's), so the state, its history and the outbox never disagree.

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
use crate::webhooks::{self, WebhookEventType};

/// The current status (`not_started` when nothing happened yet). A stored state the portal does
/// not know is an unexpected fault naming the row.
pub async fn status<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<ConsentStatus> {
    status_of(consent_state::Entity::find_by_id((tenant_id, env.as_str().to_owned())).one(db).await?)
}

/// The status a stored row says (`not_started` without one).
pub fn status_of(row: Option<consent_state::Model>) -> ServiceResult<ConsentStatus> {
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
    // Consent renewed after a revocation comes back through `consented`: a system user verified
    // before makes it a recovery, not a first verification.
    let verified_before = to == ConsentState::Verified
        && current.state == ConsentState::Consented
        && crate::db::entities::system_user::Entity::find_by_id((tenant_id, env.as_str().to_owned()))
            .one(db)
            .await?
            .is_some_and(|su| su.verified_at.is_some());
    if let Some(event) = webhook_for(current.state, to, verified_before) {
        let data = json!({ "state": to, "previous_state": current.state, "reason": reason });
        webhooks::emit(db, tenant_id, env, event, data).await?;
    }
    Ok(ConsentStatus { state: to, reason: reason.map(str::to_owned), updated_at: Some(now) })
}

/// The webhook event a transition from `from` to `to` sends, if any: verified for the first time,
/// verified again after a problem (recovered: from needs attention or revoked, or from consented
/// when the system user was `verified_before`, which is how renewed consent comes back after a
/// revocation), needs attention (also when only its reason changes), revoked. The steps before
/// consent send nothing.
pub fn webhook_for(from: ConsentState, to: ConsentState, verified_before: bool) -> Option<WebhookEventType> {
    match to {
        ConsentState::Verified if matches!(from, ConsentState::NeedsAttention | ConsentState::Revoked) => Some(WebhookEventType::ConsentRecovered),
        ConsentState::Verified if from == ConsentState::Consented && verified_before => Some(WebhookEventType::ConsentRecovered),
        ConsentState::Verified if from != ConsentState::Verified => Some(WebhookEventType::ConsentVerified),
        ConsentState::NeedsAttention => Some(WebhookEventType::ConsentNeedsAttention),
        ConsentState::Revoked if from != ConsentState::Revoked => Some(WebhookEventType::ConsentRevoked),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_consent_transition_maps_to_its_webhook_event() {
        use ConsentState::*;
        use WebhookEventType as W;
        for from in [NotStarted, Invited, InProgress, Consented] {
            assert_eq!(webhook_for(from, Verified, false), Some(W::ConsentVerified), "{from:?}");
        }
        assert_eq!(webhook_for(NeedsAttention, Verified, false), Some(W::ConsentRecovered));
        assert_eq!(webhook_for(Revoked, Verified, false), Some(W::ConsentRecovered));
        assert_eq!(webhook_for(Consented, Verified, true), Some(W::ConsentRecovered), "renewed consent after a revocation");
        assert_eq!(webhook_for(Verified, NeedsAttention, false), Some(W::ConsentNeedsAttention));
        assert_eq!(webhook_for(NeedsAttention, NeedsAttention, false), Some(W::ConsentNeedsAttention), "a new reason");
        assert_eq!(webhook_for(Verified, Revoked, false), Some(W::ConsentRevoked));
        for (from, to) in [(NotStarted, Invited), (Invited, InProgress), (InProgress, Consented), (Revoked, InProgress), (Verified, Consented)] {
            assert_eq!(webhook_for(from, to, true), None, "{from:?} → {to:?}");
        }
    }
}
