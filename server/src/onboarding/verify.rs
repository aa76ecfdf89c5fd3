//! Verification: the only proof of consent is a JWT grant for the system user, then userinfo,
//! then one call on the pinned account at its base URI. Every outcome is classified into a state
//! and a remediation a non-developer can act on. A provider outage changes nothing.

use app::error::AppError;
use app::onboarding::model::{ConsentState, VerificationOutcome, VerificationView};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::state::Deps;
use super::records;
use crate::audit::{self, Actor, Event};
use crate::db::entities::{consent_grant, system_user};
use crate::providers::ProviderError;
use crate::error::ServiceResult;
use crate::onboarding::state;

/// A classified outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// What was found (its wire name is also the `needs_attention` reason).
    pub outcome: VerificationOutcome,
    /// The state to move to; `None` leaves the state alone (provider unreachable).
    pub state: Option<ConsentState>,
    pub title: &'static str,
    pub remediation: &'static str,
}

/// The outcome of a successful verification.
pub const VERIFIED: Classified = Classified {
    outcome: VerificationOutcome::Verified,
    state: Some(ConsentState::Verified),
    title: "Verified: the integration can act as the system user.",
    remediation: "Nothing to do.",
};

/// The pinned account is no longer among the system user's accounts, or DocuSign says the user
/// is not a member.
pub const NOT_A_MEMBER: Classified = Classified {
    outcome: VerificationOutcome::NotAMember,
    state: Some(ConsentState::NeedsAttention),
    title: "The system user is not a member of the chosen account.",
    remediation: "In DocuSign eSignature Admin → Users, add the system user to the account, or choose another account here.",
};

/// The account now lives on another host.
pub const BASE_URI_CHANGED: Classified = Classified {
    outcome: VerificationOutcome::BaseUriChanged,
    state: Some(ConsentState::NeedsAttention),
    title: "The account has moved to another DocuSign host.",
    remediation: "Choose the account again so the new address is recorded.",
};

/// Classifies a provider failure. `had_verified` tells a revoked consent (it worked before)
/// from consent that never covered the system user.
pub fn classify(err: &ProviderError, had_verified: bool) -> Classified {
    match err {
        ProviderError::ConsentRequired if had_verified => Classified {
            outcome: VerificationOutcome::ConsentRevoked,
            state: Some(ConsentState::Revoked),
            title: "Consent was withdrawn in DocuSign.",
            remediation: "Grant consent again (the wizard's consent step); until then the integration cannot act for you.",
        },
        ProviderError::ConsentRequired => Classified {
            outcome: VerificationOutcome::ConsentMissing,
            state: Some(ConsentState::NeedsAttention),
            title: "The system user has not granted consent.",
            remediation: "Grant individual consent signed in as the system user, or use organization consent with a system user whose e-mail domain is claimed and active.",
        },
        ProviderError::UserNotFound => Classified {
            outcome: VerificationOutcome::UnknownUser,
            state: Some(ConsentState::NeedsAttention),
            title: "DocuSign does not know the system user.",
            remediation: "The user may have been closed or belong to the other DocuSign environment. Choose another system user.",
        },
        ProviderError::KeyMismatch | ProviderError::IssuerNotFound | ProviderError::ExpiredGrant => Classified {
            outcome: VerificationOutcome::KeyMismatch,
            state: Some(ConsentState::NeedsAttention),
            title: "DocuSign rejected our integration's key.",
            remediation: "This is on our side (the integration's RSA key or environment). We have been told; you do not need to do anything.",
        },
        ProviderError::UserLacksMembership => NOT_A_MEMBER,
        e if e.is_transient() || matches!(e, ProviderError::Malformed { .. }) => Classified {
            outcome: VerificationOutcome::ProviderUnreachable,
            state: None,
            title: "DocuSign could not be reached.",
            remediation: "Nothing was changed. Please check again in a few minutes.",
        },
        _ => Classified {
            outcome: VerificationOutcome::ProviderError,
            state: None,
            title: "DocuSign answered with an unexpected error.",
            remediation: "Nothing was changed. Please check again; if it persists, tell us.",
        },
    }
}

/// Runs the verification for a tenant's pinned system user and records the result (state,
/// receipt, system user, audit) in one transaction; an unreachable provider records nothing.
pub async fn run(d: Deps<'_>, tenant_id: Uuid, actor: &Actor, request_id: Option<&str>) -> ServiceResult<VerificationView> {
    let su = records::system_user(d.db, tenant_id, d.env)
        .await?
        .ok_or_else(|| AppError::conflict("Choose the system user and account first."))?;
    let current = state::status(d.db, tenant_id, d.env).await?;
    let had_verified = su.verified_at.is_some() || current.state == ConsentState::Verified || current.state == ConsentState::Revoked;
    let mut evidence = Vec::new();
    let mut new_base_uri = None;
    let classified = probe(d, &su, had_verified, &mut evidence, &mut new_base_uri).await;
    let view = VerificationView {
        ok: classified.outcome == VerificationOutcome::Verified,
        outcome: classified.outcome,
        title: classified.title.to_owned(),
        remediation: classified.remediation.to_owned(),
        checked_at: Utc::now(),
        evidence,
        new_base_uri,
    };
    let Some(to) = classified.state else {
        return Ok(view);
    };
    let txn = crate::db::begin(d.db).await?;
    let reason = (to == ConsentState::NeedsAttention).then_some(classified.outcome.as_str());
    // A lost consent or membership is found by the verification, not done by whoever ran it:
    // the history says so, and still names who ran it.
    let found = Actor { id: actor.id, label: format!("verification run by {}", actor.label) };
    let by = if view.ok { actor } else { &found };
    state::transition(&txn, by, request_id, tenant_id, d.env, to, reason).await?;
    let mut model: system_user::ActiveModel = su.clone().into();
    model.last_verification = Set(Some(serde_json::to_value(&view).unwrap_or_default()));
    if view.ok {
        model.verified_at = Set(Some(view.checked_at));
    }
    model.update(&txn).await?;
    if view.ok
        && let Some(grant) = records::latest_grant(&txn, tenant_id, d.env).await? {
            let mut g: consent_grant::ActiveModel = grant.into();
            g.verified_at = Set(Some(view.checked_at));
            g.verification = Set(Some(format!(
                "JWT grant for {} ({}), userinfo lists account {}, GET account at {} succeeded",
                su.email, su.user_id, su.account_id, su.base_uri
            )));
            g.update(&txn).await?;
        }
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: "consent.verified",
            before: None,
            after: Some(json!({ "outcome": view.outcome, "ok": view.ok, "environment": d.env })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

async fn probe(
    d: Deps<'_>,
    su: &system_user::Model,
    had_verified: bool,
    evidence: &mut Vec<String>,
    new_base_uri: &mut Option<String>,
) -> Classified {
    let token = match d.provider.app_token(&su.user_id, &d.esign_scopes()).await {
        Ok(t) => {
            evidence.push(format!("JWT grant for {} succeeded.", su.user_id));
            t
        }
        Err(e) => {
            evidence.push(format!("JWT grant for {}: {e}.", su.user_id));
            // Checks must not keep using a token DocuSign would no longer grant.
            d.provider.forget_app_tokens(&su.user_id);
            return classify(&e, had_verified);
        }
    };
    let info = match d.provider.userinfo(&token.access_token).await {
        Ok(i) => i,
        Err(e) => {
            evidence.push(format!("userinfo: {e}."));
            return classify(&e, had_verified);
        }
    };
    let Some(account) = info.account(&su.account_id) else {
        evidence.push(format!("userinfo does not list account {}.", su.account_id));
        return NOT_A_MEMBER;
    };
    evidence.push(format!("userinfo lists account {} at {}.", account.account_id, account.base_uri));
    if account.base_uri.trim_end_matches('/') != su.base_uri.trim_end_matches('/') {
        evidence.push(format!("The pinned base URI was {}.", su.base_uri));
        *new_base_uri = Some(account.base_uri.clone());
        return BASE_URI_CHANGED;
    }
    match d.provider.verify_account(d.budgets, &su.base_uri, &su.account_id, &token.access_token).await {
        Ok(()) => {
            evidence.push(format!("GET account {} at {} succeeded.", su.account_id, su.base_uri));
            VERIFIED
        }
        Err(e) => {
            evidence.push(format!("GET account {}: {e}.", su.account_id));
            classify(&e, had_verified)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_required_is_missing_before_and_revoked_after_a_verification() {
        assert_eq!(classify(&ProviderError::ConsentRequired, false).outcome.as_str(), "consent_missing");
        let revoked = classify(&ProviderError::ConsentRequired, true);
        assert_eq!(revoked.outcome.as_str(), "consent_revoked");
        assert_eq!(revoked.state, Some(ConsentState::Revoked));
    }

    #[test]
    fn an_unreachable_provider_changes_no_state() {
        let c = classify(&ProviderError::Unavailable { detail: "timeout".into() }, true);
        assert_eq!(c.state, None);
        assert_eq!(c.outcome.as_str(), "provider_unreachable");
        assert_eq!(classify(&ProviderError::Malformed { detail: "x".into() }, false).state, None);
    }

    #[test]
    fn each_provider_refusal_has_its_own_remediation() {
        assert_eq!(classify(&ProviderError::UserNotFound, false).outcome.as_str(), "unknown_user");
        assert_eq!(classify(&ProviderError::KeyMismatch, false).outcome.as_str(), "key_mismatch");
        assert_eq!(classify(&ProviderError::UserLacksMembership, false).outcome.as_str(), "not_a_member");
    }
}
