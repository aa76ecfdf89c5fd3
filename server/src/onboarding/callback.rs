//! The wizard's OAuth round trips: starting one (a random single-use `state` bound to this browser
//! session and tenant, a PKCE S256 verifier kept encrypted server-side, 10 minutes to come back)
//! and completing it on the environment's own callback (the transaction is consumed atomically
//! before the code is exchanged, so a replayed or concurrent callback never exchanges twice).

use app::error::AppError;
use app::onboarding::model::{ConsentMode, ConsentState, Notice, NoticeKind, WizardStep, controls};
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
use crate::onboarding::{credentials, prerequisites, state, wizard};
use crate::sessions::hash_token;

/// How long a started sign-in may take before its callback is refused.
pub const TRANSACTION_TTL_MINUTES: i64 = 10;

const PKCE: &str = "pkce_verifier";

/// Records a transaction and returns the provider's authorization URL to send the browser to.
pub async fn start(d: Deps<'_>, invitee: &InviteePrincipal, purpose: Purpose) -> ServiceResult<url::Url> {
    let state_value = providers::new_state();
    let pkce = providers::new_pkce();
    let now = Utc::now();
    let request = match purpose {
        Purpose::SignIn => AuthorizationRequest::SignIn,
        Purpose::OrganizationRead => {
            AuthorizationRequest::IndividualConsent { scopes: prerequisites::READ_SCOPES.iter().map(|s| (*s).to_owned()).collect() }
        }
        Purpose::Individual => {
            let mut scopes = d.individual_scopes();
            // An organization administrator who let the portal read the organization at sign-in
            // grants the read scopes with their consent, so the setup check can read the
            // claimed domains on this path too.
            let progress = records::progress(d.db, &invitee.session_hash).await?;
            if prerequisites::admin_read_granted(progress.as_ref()) {
                for s in prerequisites::DIRECTORY_SCOPES {
                    if !scopes.iter().any(|have| have == s) {
                        scopes.push(s.to_owned());
                    }
                }
            }
            AuthorizationRequest::IndividualConsent { scopes }
        }
        Purpose::Organization => AuthorizationRequest::OrganizationConsent { scopes: d.admin_consent_scopes() },
    };
    oauth_transaction::ActiveModel {
        state_hash: Set(hash_token(&state_value)),
        tenant_id: Set(invitee.tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        session_hash: Set(invitee.session_hash.clone()),
        purpose: Set(purpose.as_str().to_owned()),
        scopes: Set(Some(receipt_scopes(&request))),
        pkce_verifier: Set(d.keyring.seal(Binding { purpose: PKCE, tenant_id: invitee.tenant_id }, pkce.verifier.expose_secret())),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(TRANSACTION_TTL_MINUTES)),
        consumed_at: Set(None),
    }
    .insert(d.db)
    .await?;
    d.provider.authorization_url(&request, &state_value, &pkce.challenge).unexpected("building the authorization URL")
}

/// The scopes of a request as a consent receipt records them.
fn receipt_scopes(request: &AuthorizationRequest) -> String {
    match request {
        AuthorizationRequest::SignIn => "openid".to_owned(),
        AuthorizationRequest::IndividualConsent { scopes } => scopes.join(" "),
        AuthorizationRequest::OrganizationConsent { scopes } => format!("openid; admin consent: {}", scopes.join(" ")),
    }
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
    /// What DocuSign itself answered, shown as text beside the message (see [`Notice`]).
    pub evidence: Vec<String>,
    /// Trying again may help: [`complete`] adds which control to press, from the step the
    /// wizard shows next, so the text names only a control that screen has.
    pub restart: bool,
    /// Where the browser goes next instead of the wizard: the admin's read consent, which
    /// follows a sign-in whose accounts belong to an organization.
    pub next: Option<url::Url>,
}

fn refused(title: &'static str, message: impl Into<String>) -> Outcome {
    Outcome { ok: false, title, message: message.into(), evidence: Vec::new(), restart: true, next: None }
}

/// The longest part of DocuSign's own description shown to the admin.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// DocuSign's own field as evidence: verbatim but for control characters, bounded. It is only
/// ever shown as text (the page escapes it), never parsed and never put into a URL.
fn docusign_text(value: &str, max: usize) -> String {
    let mut out: String = value.trim().chars().filter(|c| !c.is_control()).take(max).collect();
    if value.trim().chars().count() > max {
        out.push('…');
    }
    out
}

/// What an error redirect tells the admin, from its documented fields only: the OAuth `error`
/// code (RFC 6749 §4.1.2.1; reference §1 "Redirect back to the app"), with DocuSign's
/// `error_description` and `error_uri` shown as evidence but never parsed: their wording is
/// DocuSign's and may change. Nothing here changes consent state.
///
/// `access_denied` is sent both when the admin presses Cancel or Deny and when DocuSign refuses
/// the request (an organization consent without an active claimed domain, for instance), and no
/// documented field tells the two apart, so the answer says that DocuSign did not grant consent,
/// never that the admin declined, and names the next step for the path that was tried.
pub fn error_redirect(error: &str, description: Option<&str>, error_uri: Option<&str>, purpose: Option<Purpose>) -> Outcome {
    let code: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
    let mut evidence = vec![format!("DocuSign's error code: {}", if code.is_empty() { "(none)" } else { &code })];
    if let Some(d) = description.map(|d| docusign_text(d, MAX_DESCRIPTION_CHARS)).filter(|d| !d.is_empty()) {
        evidence.push(format!("DocuSign's description: {d}"));
    }
    // Shown as text, not as a link: the redirect's query is not authenticated.
    if let Some(u) = error_uri.filter(|u| u.starts_with("https://") && u.len() <= 300 && !u.chars().any(|c| c.is_whitespace() || c.is_control())) {
        evidence.push(format!("DocuSign's reference: {u}"));
    }
    let not_granted = match purpose {
        Some(Purpose::SignIn) | None => "DocuSign did not complete the sign-in.",
        Some(Purpose::OrganizationRead) => "DocuSign did not let the portal read your organization.",
        Some(Purpose::Individual | Purpose::Organization) => "DocuSign did not grant consent.",
    };
    let (title, message, restart) = match error {
        "access_denied" => {
            let why = "DocuSign answers this both when Cancel or Deny is pressed there and when it refuses the request \
                       itself; its answer does not say which. Nothing was changed.";
            let message = match purpose {
                Some(Purpose::Organization) => format!(
                    "{why} Organization consent needs a DocuSign organization administrator and an active claimed domain: \
                     check Domains in DocuSign Admin (a domain still pending needs its TXT record published). \
                     Individual consent needs neither: choose “{}” instead.",
                    controls::GRANT_INDIVIDUAL
                ),
                // The organization screen explains what the missing read means and offers
                // both the read again and individual consent.
                Some(Purpose::OrganizationRead) => format!("{why} You are signed in; the organization check below says what this means."),
                _ => why.to_owned(),
            };
            (not_granted, message, purpose != Some(Purpose::OrganizationRead))
        }
        "server_error" | "temporarily_unavailable" => {
            ("DocuSign could not complete this right now.", "Nothing was changed. Wait a few minutes, then try again.".to_owned(), true)
        }
        "invalid_request" | "unauthorized_client" | "unsupported_response_type" | "invalid_scope" => (
            "DocuSign refused the request our portal sent.",
            "This points at the ISV's integration settings, not at your account, so trying again will not help. Nothing \
             was changed; please tell the person who invited you, with the details below."
                .to_owned(),
            false,
        ),
        _ => (not_granted, "DocuSign answered with an error the portal does not know. Nothing was changed.".to_owned(), true),
    };
    Outcome { ok: false, title, message, evidence, restart, next: None }
}

/// How to try again on the screen the admin returns to: only a control that screen has.
pub fn restart_hint(step: WizardStep) -> String {
    match step {
        WizardStep::Welcome => format!("To try again, press “{}” on this page.", controls::SIGN_IN),
        WizardStep::ChoosePath => {
            format!("To try again, press “{}” or “{}” on this page.", controls::GRANT_ORGANIZATION, controls::GRANT_INDIVIDUAL)
        }
        WizardStep::SystemUser => "Your earlier sign-in and consent still stand: continue below with the system user and account.".to_owned(),
        WizardStep::Verify => format!("Your earlier consent still stands: press “{}” below to check it.", controls::VERIFY_NOW),
        WizardStep::Done => "Your earlier consent still stands and is verified: nothing else is needed.".to_owned(),
    }
}

/// Completes a callback for the invite session `invitee` on the environment `d.env` (whose
/// redirect URI it arrived on). Every refusal changes nothing but the wizard's notice, and makes
/// no token request.
pub async fn complete(d: Deps<'_>, invitee: &InviteePrincipal, query: CallbackQuery, request_id: &str) -> ServiceResult<Outcome> {
    let mut outcome = complete_inner(d, invitee, query, request_id).await?;
    if !outcome.ok && outcome.restart {
        let step = wizard::current_step(d.db, invitee.tenant_id, d.env, &invitee.session_hash).await?;
        outcome.message = format!("{} {}", outcome.message, restart_hint(step));
    }
    let notice = Notice {
        kind: if outcome.ok { NoticeKind::Info } else { NoticeKind::Error },
        title: outcome.title.to_owned(),
        message: outcome.message.clone(),
        evidence: outcome.evidence.clone(),
    };
    records::notify(d.db, &invitee.session_hash, invitee.tenant_id, d.env, notice).await?;
    Ok(outcome)
}

async fn complete_inner(d: Deps<'_>, invitee: &InviteePrincipal, query: CallbackQuery, request_id: &str) -> ServiceResult<Outcome> {
    // The control to press is added by `complete`, from the step the wizard shows next.
    const AGAIN: &str = "Nothing was changed.";
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
        return Ok(refused("This sign-in was already completed.", format!("The same answer cannot be used twice. {AGAIN}")));
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
        let outcome = error_redirect(error, query.error_description.as_deref(), query.error_uri.as_deref(), Some(purpose));
        if purpose == Purpose::OrganizationRead {
            // The organization screen shows why nothing was read, with DocuSign's words.
            let read = match error {
                "access_denied" => prerequisites::DirectoryRead::NotGranted { evidence: outcome.evidence.clone() },
                _ => prerequisites::DirectoryRead::Failed { evidence: outcome.evidence.clone() },
            };
            prerequisites::record(d.db, d.keyring, &invitee.session_hash, invitee.tenant_id, d.env, read, None).await?;
        }
        return Ok(outcome);
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
            // A new sign-in may be another person: what was read of an organization goes.
            prerequisites::forget(d.db, &invitee.session_hash).await?;
            let has_organization = user.has_organization();
            records::update_progress(d.db, &invitee.session_hash, invitee.tenant_id, d.env, ProgressUpdate { signed_in_user: Some(user), ..Default::default() }).await?;
            if !has_organization {
                return Ok(Outcome { ok: true, title: "Signed in.", message: format!("Welcome, {}.", info.name), evidence: Vec::new(), restart: false, next: None });
            }
            // Part of signing in for an organization's member: their own read consent, so the
            // wizard can check organization consent's prerequisites before any consent.
            let next = start(d, invitee, Purpose::OrganizationRead).await?;
            Ok(Outcome {
                ok: true,
                title: "Signed in.",
                message: format!(
                    "Welcome, {}. Your accounts belong to a DocuSign organization: DocuSign asked you to let the portal read it, so the wizard can check what organization consent needs.",
                    info.name
                ),
                evidence: Vec::new(),
                restart: false,
                next: Some(next),
            })
        }
        Purpose::OrganizationRead => {
            let progress = records::progress(d.db, &invitee.session_hash).await?;
            let signed_in = progress.as_ref().and_then(|p| p.signed_in_user.clone()).and_then(|j| serde_json::from_value::<app::onboarding::model::DocuSignUserView>(j).ok());
            if let Some(before) = signed_in.filter(|u| !u.user_id.eq_ignore_ascii_case(&info.sub)) {
                return Ok(refused(
                    "You allowed the read as another DocuSign user.",
                    format!("You signed in as {} but allowed the read as {}. Nothing was read.", before.email, info.email),
                ));
            }
            let account_orgs: Vec<String> = user.accounts.iter().filter_map(|a| a.organization_id.clone()).collect();
            let read = prerequisites::DirectoryRead::from_result(prerequisites::read(d.directory, &tokens.access_token, &account_orgs).await);
            let failed = matches!(read, prerequisites::DirectoryRead::Failed { .. });
            records::update_progress(d.db, &invitee.session_hash, invitee.tenant_id, d.env, ProgressUpdate { signed_in_user: Some(user), ..Default::default() }).await?;
            let token = prerequisites::ReadToken { token: &tokens.access_token, expires_in: tokens.expires_in };
            prerequisites::record(d.db, d.keyring, &invitee.session_hash, invitee.tenant_id, d.env, read, Some(token)).await?;
            let message = if failed {
                "The portal could not read your organization; the organization check below says what this means."
            } else {
                "The portal read your organization's claimed domains: see what organization consent needs below."
            };
            Ok(Outcome { ok: true, title: "Signed in.", message: format!("Welcome, {}. {message}", info.name), evidence: Vec::new(), restart: false, next: None })
        }
        Purpose::Individual | Purpose::Organization => {
            let mode = if purpose == Purpose::Individual { ConsentMode::Individual } else { ConsentMode::Organization };
            // What this transaction asked for; older transactions did not record it.
            let scopes = tx.scopes.clone().unwrap_or_else(|| match mode {
                ConsentMode::Individual => d.individual_scopes().join(" "),
                ConsentMode::Organization => format!("openid; admin consent: {}", d.admin_consent_scopes().join(" ")),
            });
            let organization_id = info
                .accounts
                .iter()
                .find_map(|a| a.organization.as_ref().map(|o| o.organization_id.clone()));
            // The consenting user is the candidate system user: read their role in each account
            // (before the transaction: DocuSign calls never hold it open).
            let candidate = match mode {
                ConsentMode::Individual => Some(super::wizard::with_roles(&d, user.clone(), &tokens.access_token).await),
                ConsentMode::Organization => None,
            };
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
            Ok(Outcome {
                ok: true,
                title: "Consent granted.",
                // The title already says it was granted: the message says how, by whom, and what
                // comes next, without repeating "consent granted".
                message: match mode {
                    ConsentMode::Individual => format!("{} from {}. Next, choose the account the integration will use.", mode.label(), info.email),
                    ConsentMode::Organization => format!("{} from {}. Next, name the system user.", mode.label(), info.email),
                },
                evidence: Vec::new(),
                restart: false,
                next: None,
            })
        }
    }
}

/// A provider failure during the callback, in words for the admin.
fn provider_refusal(e: &ProviderError) -> Outcome {
    match e {
        ProviderError::CodeExpiredOrUsed => refused(
            "DocuSign says the sign-in code expired.",
            "Codes are valid for about two minutes. Nothing was changed.",
        ),
        e if e.is_transient() => refused("DocuSign could not be reached.", "Nothing was changed. Wait a few minutes, then try again."),
        _ => {
            tracing::warn!(error = %e, "callback: DocuSign refused the exchange");
            refused("DocuSign refused the sign-in.", "Nothing was changed.")
        }
    }
}

/// The refusal when the wizard session is missing (cookie lost, session expired).
pub fn no_session() -> AppError {
    AppError::Unauthorized
}

#[cfg(test)]
mod tests {
    use app::onboarding::model::quoted_controls;

    use super::*;

    #[test]
    fn access_denied_is_never_called_the_admins_own_decline_and_keeps_docusigns_words_as_evidence() {
        for description in [Some("The user canceled."), Some("Some other wording entirely"), Some("  "), None] {
            let o = error_redirect("access_denied", description, None, Some(Purpose::Organization));
            assert_eq!(o.title, "DocuSign did not grant consent.");
            assert!(!o.message.to_lowercase().contains("you declined"), "{}", o.message);
            assert!(o.message.contains("Nothing was changed"), "{}", o.message);
            assert!(o.message.contains("Domains in DocuSign Admin") && o.message.contains(controls::GRANT_INDIVIDUAL), "{}", o.message);
            assert!(o.restart);
            match description.map(str::trim).filter(|d| !d.is_empty()) {
                Some(d) => {
                    assert!(o.evidence.contains(&format!("DocuSign's description: {d}")), "{:?}", o.evidence);
                    assert!(!o.message.contains(d), "DocuSign's words are evidence, not the portal's message");
                }
                None => assert_eq!(o.evidence, vec!["DocuSign's error code: access_denied"]),
            }
        }
    }

    #[test]
    fn each_documented_error_code_has_its_own_next_step_and_an_unknown_one_a_general_one() {
        let o = |e: &str| error_redirect(e, None, None, Some(Purpose::Individual));
        assert_eq!(o("server_error").title, "DocuSign could not complete this right now.");
        assert_eq!(o("temporarily_unavailable").title, o("server_error").title);
        assert!(o("server_error").restart && o("server_error").message.contains("Wait a few minutes"));
        for integration in ["invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope"] {
            assert_eq!(o(integration).title, "DocuSign refused the request our portal sent.", "{integration}");
            assert!(!o(integration).restart, "retrying cannot help: {integration}");
            assert!(o(integration).message.contains("tell the person who invited you"), "{integration}");
        }
        assert_eq!(o("something_new").title, "DocuSign did not grant consent.");
        assert!(o("something_new").restart);
        assert_eq!(error_redirect("something_new", None, None, Some(Purpose::SignIn)).title, "DocuSign did not complete the sign-in.");
    }

    #[test]
    fn a_refused_read_of_the_organization_is_not_called_a_refused_consent_and_points_at_the_organization_screen() {
        let o = error_redirect("access_denied", Some("The user denied the request."), None, Some(Purpose::OrganizationRead));
        assert_eq!(o.title, "DocuSign did not let the portal read your organization.");
        assert!(o.message.contains("You are signed in") && !o.message.contains("did not grant consent"), "{}", o.message);
        assert!(!o.restart, "the organization screen names its own controls");
        assert!(quoted_controls(&o.message).is_empty(), "{}", o.message);
    }

    #[test]
    fn docusigns_fields_are_bounded_and_stripped_of_control_characters_and_an_unsafe_error_uri_is_dropped() {
        let odd = error_redirect("<script>x</script>", Some(&format!("a\u{7}b{}", "y".repeat(5000))), Some("javascript:alert(1)"), None);
        assert_eq!(odd.evidence[0], "DocuSign's error code: scriptxscript");
        assert!(odd.evidence[1].starts_with("DocuSign's description: ab") && odd.evidence[1].chars().count() < 400, "{:?}", odd.evidence);
        assert_eq!(odd.evidence.len(), 2, "a non-https error_uri is not shown");
        let with_uri = error_redirect("access_denied", None, Some("https://developers.docusign.com/errors#denied"), None);
        assert!(with_uri.evidence.contains(&"DocuSign's reference: https://developers.docusign.com/errors#denied".to_owned()));
    }

    #[test]
    fn every_control_a_callback_text_names_exists_on_the_screen_it_is_shown_on() {
        let on_screen = |step: WizardStep| -> Vec<&str> {
            match step {
                WizardStep::Welcome => vec![controls::SIGN_IN],
                WizardStep::ChoosePath => vec![controls::GRANT_ORGANIZATION, controls::GRANT_INDIVIDUAL],
                WizardStep::SystemUser | WizardStep::Done => vec![],
                // The grant buttons show there only when consent is missing; "Verify now" always.
                WizardStep::Verify => vec![controls::VERIFY_NOW],
            }
        };
        for (step, _) in WizardStep::ALL {
            let hint = restart_hint(step);
            for name in quoted_controls(&hint) {
                assert!(on_screen(step).contains(&name), "{step:?}: “{name}” is not on that screen ({hint})");
            }
        }
        // An organization refusal returns to the consent choice, which has the individual button.
        let org = error_redirect("access_denied", None, None, Some(Purpose::Organization));
        for name in quoted_controls(&org.message) {
            assert!(on_screen(WizardStep::ChoosePath).contains(&name), "“{name}”");
        }
    }
}
