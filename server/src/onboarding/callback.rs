//! The wizard's OAuth round trips: starting one (a random single-use `state` bound to this browser
//! session and tenant, a PKCE S256 verifier kept encrypted server-side, 10 minutes to come back)
//! and completing it on the environment's own callback (the transaction is consumed atomically
//! before the code is exchanged, so a replayed or concurrent callback never exchanges twice).

use app::error::AppError;
use app::onboarding::model::{ConsentMode, ConsentState, NoticeKind};
use app::ssr::InviteePrincipal;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::state::Deps;
use super::records::{self, ProgressUpdate};
use crate::audit::{self, Actor, Event};
use crate::crypto::Binding;
use crate::db::entities::{consent_grant, oauth_transaction};
use crate::providers::{self, AuthorizationRequest, ProviderError};

/// Stored by the entity, named here where the flow uses it.
pub use crate::db::entities::oauth_transaction::Purpose;
use crate::error::{ServiceResult, Unexpected};
use crate::onboarding::{credentials, state};
use crate::sessions::hash_token;

/// How long a started sign-in may take before its callback is refused.
pub const TRANSACTION_TTL_MINUTES: i64 = 10;

const PKCE: &str = "pkce_verifier";

/// Records a transaction and returns the provider's authorization URL to send the browser to.
pub async fn start(d: Deps<'_>, invitee: &InviteePrincipal, purpose: Purpose) -> ServiceResult<url::Url> {
    let state_value = providers::new_state();
    let pkce = providers::new_pkce();
    let now = Utc::now();
    oauth_transaction::ActiveModel {
        state_hash: Set(hash_token(&state_value)),
        tenant_id: Set(invitee.tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        session_hash: Set(invitee.session_hash.clone()),
        purpose: Set(purpose.as_str().to_owned()),
        pkce_verifier: Set(d.keyring.seal(Binding { purpose: PKCE, tenant_id: invitee.tenant_id }, pkce.verifier.expose_secret())),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(TRANSACTION_TTL_MINUTES)),
        consumed_at: Set(None),
    }
    .insert(d.db)
    .await?;
    let request = match purpose {
        Purpose::SignIn => AuthorizationRequest::SignIn,
        Purpose::Individual => AuthorizationRequest::IndividualConsent { scopes: d.individual_scopes() },
        Purpose::Organization => AuthorizationRequest::OrganizationConsent { scopes: d.admin_consent_scopes() },
    };
    d.provider.authorization_url(&request, &state_value, &pkce.challenge).unexpected("building the authorization URL")
}

/// The query DocuSign sends back to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    pub iss: Option<String>,
}

/// What the callback tells the admin (shown on the wizard after the redirect to a clean URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub title: &'static str,
    pub message: String,
}

fn refused(title: &'static str, message: impl Into<String>) -> Outcome {
    Outcome { ok: false, title, message: message.into() }
}

/// The longest part of DocuSign's own description shown to the admin.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// What an error redirect tells the admin, from its documented fields only: the OAuth `error`
/// code (RFC 6749 §4.1.2.1), with DocuSign's `error_description` and `error_uri` shown as they
/// came (the page escapes them) but never parsed: their wording is DocuSign's and may change.
///
/// `access_denied` is sent both when the admin presses Cancel or Deny and when DocuSign refuses
/// the request (an organization consent without an active claimed domain, for instance), and no
/// documented field tells the two apart, so the answer says that DocuSign did not grant consent
/// and names both possibilities and the next step for the path that was tried.
pub fn error_redirect(error: &str, description: Option<&str>, error_uri: Option<&str>, purpose: Option<Purpose>) -> Outcome {
    let said = description
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let cut: String = d.chars().filter(|c| !c.is_control()).take(MAX_DESCRIPTION_CHARS).collect();
            format!(" DocuSign said: “{cut}”.")
        })
        .unwrap_or_default();
    let more = error_uri
        .filter(|u| u.starts_with("https://") && u.len() <= 300 && !u.chars().any(|c| c.is_whitespace() || c.is_control()))
        .map(|u| format!(" More from DocuSign: {u}"))
        .unwrap_or_default();
    let retry = match purpose {
        Some(Purpose::Organization) => {
            "Nothing was changed. Organization consent needs a DocuSign organization administrator whose organization has an active claimed domain; \
             if that is not yet the case, choose “Grant individual consent” instead, or try “Grant organization consent” again once the domain is active."
        }
        Some(Purpose::Individual) => "Nothing was changed. When you are ready, press “Grant individual consent” to try again.",
        _ => "Nothing was changed. Press “Sign in with DocuSign” to try again.",
    };
    match error {
        "access_denied" => refused(
            "DocuSign did not grant consent.",
            format!("This happens when Cancel or Deny is pressed at DocuSign, and also when DocuSign refuses the request.{said}{more} {retry}"),
        ),
        "server_error" | "temporarily_unavailable" => refused(
            "DocuSign could not complete this right now.",
            format!("It answered `{error}`.{said}{more} Wait a few minutes. {retry}"),
        ),
        "invalid_request" | "unauthorized_client" | "unsupported_response_type" | "invalid_scope" => refused(
            "DocuSign refused the request our portal sent.",
            format!(
                "It answered `{error}`, which points at the ISV's integration settings, not at your account.{said}{more} Nothing was changed; please tell the person who invited you."
            ),
        ),
        other => {
            let code: String = other.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
            refused("DocuSign did not complete the sign-in.", format!("It answered `{code}`.{said}{more} {retry}"))
        }
    }
}

/// Completes a callback for the invite session `invitee` on the environment `d.env` (whose
/// redirect URI it arrived on). Every refusal changes nothing but the wizard's notice, and makes
/// no token request.
pub async fn complete(d: Deps<'_>, invitee: &InviteePrincipal, query: CallbackQuery, request_id: &str) -> ServiceResult<Outcome> {
    let outcome = complete_inner(d, invitee, query, request_id).await?;
    let kind = if outcome.ok { NoticeKind::Info } else { NoticeKind::Error };
    records::notify(d.db, &invitee.session_hash, invitee.tenant_id, d.env, kind, outcome.title, &outcome.message).await?;
    Ok(outcome)
}

async fn complete_inner(d: Deps<'_>, invitee: &InviteePrincipal, query: CallbackQuery, request_id: &str) -> ServiceResult<Outcome> {
    const AGAIN: &str = "Nothing was changed. Start again with “Sign in with DocuSign” or the consent button you used, on this page.";
    let Some(state_value) = query.state.as_deref().filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Ok(refused("The answer from DocuSign was incomplete.", AGAIN));
    };
    let Some(tx) = oauth_transaction::Entity::find_by_id(hash_token(state_value)).one(d.db).await? else {
        return Ok(refused("This sign-in is not one we started, or it was already used.", AGAIN));
    };
    if tx.session_hash != invitee.session_hash || tx.tenant_id != invitee.tenant_id {
        return Ok(refused("This sign-in was started in another browser session.", format!("For your safety it was not accepted. {AGAIN}")));
    }
    // Consume first, atomically: of two identical callbacks only one passes this point.
    let now = Utc::now();
    let consumed = oauth_transaction::Entity::update_many()
        .col_expr(oauth_transaction::Column::ConsumedAt, Expr::value(now))
        .filter(oauth_transaction::Column::StateHash.eq(tx.state_hash.clone()))
        .filter(oauth_transaction::Column::ConsumedAt.is_null())
        .exec(d.db)
        .await?
        .rows_affected;
    if consumed != 1 {
        return Ok(refused("This sign-in was already completed.", "The same answer cannot be used twice. Start again with “Sign in with DocuSign” or the consent button you used, on this page."));
    }
    if tx.environment != d.env.as_str() {
        tracing::warn!(request_id, "callback arrived on another environment's redirect URI; refused");
        return Ok(refused("This answer came back to the wrong environment.", AGAIN));
    }
    if tx.expires_at <= now {
        return Ok(refused("This sign-in took too long.", format!("Sign-ins must be completed within {TRANSACTION_TTL_MINUTES} minutes. {AGAIN}")));
    }
    if let Some(iss) = query.iss.as_deref()
        && iss.trim_end_matches('/') != d.provider.expected_issuer()
    {
        return Ok(refused("The answer did not come from the expected DocuSign server.", AGAIN));
    }
    let purpose = tx.purpose()?;
    if let Some(error) = query.error.as_deref() {
        return Ok(error_redirect(error, query.error_description.as_deref(), query.error_uri.as_deref(), Some(purpose)));
    }
    let Some(code) = query.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 4096) else {
        return Ok(refused("The answer from DocuSign was incomplete.", AGAIN));
    };
    let verifier = d
        .keyring
        .open(Binding { purpose: PKCE, tenant_id: tx.tenant_id }, &tx.pkce_verifier)
        .unexpected("opening the PKCE verifier of an OAuth transaction")?;
    let tokens = match d.provider.exchange_code(code, &verifier).await {
        Ok(t) => t,
        Err(e) => return Ok(provider_refusal(&e)),
    };
    let info = match d.provider.userinfo(&tokens.access_token).await {
        Ok(i) => i,
        Err(e) => return Ok(provider_refusal(&e)),
    };
    let user = records::user_view(&info);
    match purpose {
        Purpose::SignIn => {
            records::update_progress(d.db, &invitee.session_hash, invitee.tenant_id, d.env, ProgressUpdate { signed_in_user: Some(user), ..Default::default() }).await?;
            Ok(Outcome { ok: true, title: "Signed in.", message: format!("Welcome, {}.", info.name) })
        }
        Purpose::Individual | Purpose::Organization => {
            let mode = if purpose == Purpose::Individual { ConsentMode::Individual } else { ConsentMode::Organization };
            let scopes = match mode {
                ConsentMode::Individual => d.individual_scopes().join(" "),
                ConsentMode::Organization => format!("openid; admin consent: {}", d.admin_consent_scopes().join(" ")),
            };
            let organization_id = info
                .accounts
                .iter()
                .find_map(|a| a.organization.as_ref().map(|o| o.organization_id.clone()));
            let txn = crate::db::begin(d.db).await?;
            let actor = Actor { id: None, label: format!("{} (DocuSign {})", info.email, info.sub) };
            consent_grant::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(tx.tenant_id),
                environment: Set(d.env.as_str().to_owned()),
                mode: Set(mode.as_str().to_owned()),
                user_sub: Set(info.sub.clone()),
                user_email: Set(info.email.clone()),
                user_name: Set(info.name.clone()),
                scopes: Set(scopes.clone()),
                organization_id: Set(if mode == ConsentMode::Organization { organization_id.clone() } else { None }),
                granted_at: Set(now),
                verified_at: Set(None),
                verification: Set(None),
            }
            .insert(&txn)
            .await?;
            audit::record(
                &txn,
                Event {
                    actor: &actor,
                    tenant_id: Some(tx.tenant_id),
                    action: "consent.granted",
                    before: None,
                    after: Some(json!({ "mode": mode, "user": info.sub, "email": info.email, "scopes": scopes, "organization_id": organization_id, "environment": d.env })),
                    request_id: Some(request_id),
                },
            )
            .await?;
            state::transition(&txn, &actor, Some(request_id), tx.tenant_id, d.env, ConsentState::Consented, None).await?;
            let candidate = (mode == ConsentMode::Individual).then_some(user.clone());
            records::update_progress(
                &txn,
                &invitee.session_hash,
                invitee.tenant_id,
                d.env,
                ProgressUpdate { signed_in_user: Some(user), chosen_path: Some(mode), candidate: Some(candidate), notice: None },
            )
            .await?;
            if mode == ConsentMode::Individual && d.isv.keep_refresh_tokens {
                credentials::store(&txn, d.keyring, tx.tenant_id, d.env, credentials::CONSENT, &tokens, &info.sub).await?;
            }
            txn.commit().await?;
            Ok(Outcome { ok: true, title: "Consent granted.", message: format!("{} granted by {}.", mode.label(), info.email) })
        }
    }
}

/// A provider failure during the callback, in words for the admin.
fn provider_refusal(e: &ProviderError) -> Outcome {
    match e {
        ProviderError::CodeExpiredOrUsed => refused(
            "DocuSign says the sign-in code expired.",
            "Codes are valid for about two minutes. Nothing was changed. Start again with “Sign in with DocuSign” or the consent button you used, on this page.",
        ),
        e if e.is_transient() => refused("DocuSign could not be reached.", "Nothing was changed. Please try again in a few minutes."),
        _ => {
            tracing::warn!(error = %e, "callback: DocuSign refused the exchange");
            refused("DocuSign refused the sign-in.", "Nothing was changed. Start again with “Sign in with DocuSign” or the consent button you used, on this page.")
        }
    }
}

/// The refusal when the wizard session is missing (cookie lost, session expired).
pub fn no_session() -> AppError {
    AppError::Unauthorized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_is_never_called_the_admins_own_decline_and_shows_docusigns_words() {
        for description in [Some("The user canceled."), Some("admin_consent_not_allowed"), Some("Some other wording entirely"), None] {
            let o = error_redirect("access_denied", description, None, Some(Purpose::Organization));
            assert_eq!(o.title, "DocuSign did not grant consent.");
            assert!(!o.message.contains("You declined"));
            assert!(o.message.contains("Grant individual consent"), "the next step names a real control: {}", o.message);
            if let Some(d) = description {
                assert!(o.message.contains(d), "DocuSign's own words are shown: {}", o.message);
            }
        }
    }

    #[test]
    fn every_documented_error_code_has_its_own_next_step_and_unknown_ones_a_general_one() {
        let titles: Vec<&str> = ["server_error", "temporarily_unavailable", "invalid_scope", "unauthorized_client", "something_new"]
            .iter()
            .map(|e| error_redirect(e, None, None, Some(Purpose::Individual)).title)
            .collect();
        assert_eq!(titles[0], "DocuSign could not complete this right now.");
        assert_eq!(titles[1], titles[0]);
        assert_eq!(titles[2], "DocuSign refused the request our portal sent.");
        assert_eq!(titles[3], titles[2]);
        assert_eq!(titles[4], "DocuSign did not complete the sign-in.");
        let odd = error_redirect("<script>x</script>", Some(&"y".repeat(5000)), Some("javascript:alert(1)"), None);
        assert!(!odd.message.contains('<') && !odd.message.contains("javascript:"), "{}", odd.message);
        assert!(odd.message.len() < 1000);
    }
}
