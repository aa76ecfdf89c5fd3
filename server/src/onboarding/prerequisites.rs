//! Organization consent's prerequisites, checked before any consent is attempted.
//!
//! When the signed-in admin's accounts belong to a DocuSign organization, signing in continues
//! with the admin's own read consent to the Admin API ([`READ_SCOPES`]; DocuSign: "you must
//! request a special set of Docusign Admin scopes in addition to your other Docusign eSignature
//! Authentication scopes", developers.docusign.com/orgadmin-api/guides/auth). With that token the
//! wizard lists the organizations the admin administers (`GET /v2/organizations`, `mode=org_admin`,
//! reference §7) and their reserved domains (`GET …/reserved_domains`, `status` ∈ unknown,
//! pending, active, deactivated, rejected), and [`assess`] turns what it read into one screen:
//! whether organization consent would cover the intended system user, the TXT record each
//! pending domain needs, and what to do next. Organization consent is recommended only when an
//! active claimed domain covers the intended system user's e-mail domain (reference §1.2: it
//! covers "every user who is a member of that organization's reserved domains", and only active
//! ones count).
//!
//! What was read is kept with the session's wizard progress; the read token is kept sealed
//! beside it (never shown, gone with the session's progress) so "Check again" reads DocuSign
//! again without another sign-in while it is valid.

use app::environment::Environment;
use app::error::AppError;
use app::onboarding::model::{
    DocuSignUserView, IntendedSystemUserInput, OrganizationCheckView, OrganizationVerdict, OtherDomainView, TxtRecordView, controls,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use super::records;
use crate::crypto::{Binding, Keyring};
use crate::db::entities::wizard_progress;
use crate::error::{ServiceError, ServiceResult};
use crate::providers::{OrganizationDirectory, ProviderError, ReservedDomain};

/// The scopes of the admin's read consent at sign-in: the Admin API's organization and domain
/// reads, with `signature` beside them as DocuSign's Admin API guide asks.
pub const READ_SCOPES: [&str; 3] = ["signature", "organization_read", "domain_read"];

/// The Admin API scopes that let the portal read claimed domains. Individual consent asks for
/// them too when the consenting admin administers the organization and allowed the read at
/// sign-in, so the setup check can read the domains on the individual path.
pub const DIRECTORY_SCOPES: [&str; 2] = crate::providers::docusign::admin::DIRECTORY_READ_SCOPES;

/// Keyring purpose of the sealed read token.
const TOKEN_PURPOSE: &str = "directory_token";

/// "Check again" is offered only while the read token has at least this long left.
const TOKEN_MARGIN_SECONDS: i64 = 60;

/// Where DocuSign's organization administrators manage claimed domains.
const DOMAINS_PLACE: &str = "DocuSign Admin (admin.docusign.com) → Domains";

/// What the wizard read of the admin's organization, stored with the session's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationFacts {
    /// When DocuSign was read (or refused).
    pub read_at: DateTime<Utc>,
    /// What DocuSign answered.
    pub read: DirectoryRead,
    /// The intended system user's e-mail when the admin named one; otherwise their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_email: Option<String>,
}

/// The outcome of reading the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DirectoryRead {
    /// The organizations the admin administers (of their own accounts when any matches), each
    /// with its reserved domains. Empty: the admin administers no organization.
    Read { organizations: Vec<AdministeredOrganization> },
    /// DocuSign did not grant the read consent (its error redirect).
    NotGranted { evidence: Vec<String> },
    /// DocuSign refused or could not answer a read.
    Failed { evidence: Vec<String> },
}

/// An organization the admin administers, with its reserved domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministeredOrganization {
    pub id: String,
    pub name: String,
    pub domains: Vec<ReservedDomain>,
}

/// Reads the organizations `token`'s user administers and their reserved domains. Of several,
/// the ones that hold the admin's own accounts (`account_orgs`, from userinfo) are kept when any
/// matches.
pub async fn read(
    directory: &dyn OrganizationDirectory,
    token: &SecretString,
    account_orgs: &[String],
) -> Result<Vec<AdministeredOrganization>, ProviderError> {
    let organizations = directory.organizations(token).await?;
    let own: Vec<_> = organizations.iter().filter(|o| account_orgs.iter().any(|a| a.eq_ignore_ascii_case(&o.id))).cloned().collect();
    let chosen = if own.is_empty() { organizations } else { own };
    let mut out = Vec::with_capacity(chosen.len());
    for org in chosen {
        let domains = directory.reserved_domains(token, &org.id).await?;
        out.push(AdministeredOrganization { id: org.id, name: org.name, domains });
    }
    Ok(out)
}

impl DirectoryRead {
    /// What a read came to: the organizations, or DocuSign's refusal or outage in its words.
    pub fn from_result(result: Result<Vec<AdministeredOrganization>, ProviderError>) -> DirectoryRead {
        match result {
            Ok(organizations) => DirectoryRead::Read { organizations },
            Err(e) => {
                let what = if e.is_transient() { "DocuSign could not be reached" } else { "DocuSign refused the read" };
                DirectoryRead::Failed { evidence: vec![format!("{what}: {e}")] }
            }
        }
    }
}

/// Lowercase, trimmed, without a trailing root dot.
fn normalize(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn email_domain(email: &str) -> Option<String> {
    email.trim().rsplit_once('@').map(|(_, d)| normalize(d)).filter(|d| !d.is_empty())
}

fn status_of(d: &ReservedDomain) -> String {
    d.status.trim().to_ascii_lowercase()
}

/// The screen for what was read. `admin_email` is judged until the admin names another system
/// user; `can_check_again` says which control re-reads ([`controls::CHECK_AGAIN`] with a valid
/// read token, else [`controls::READ_ORGANIZATION`]), so the texts name only controls the screen
/// shows ([`OrganizationCheckView::controls`]).
pub fn assess(facts: Option<&OrganizationFacts>, admin_email: &str, can_check_again: bool) -> OrganizationCheckView {
    let reread = if can_check_again { controls::CHECK_AGAIN } else { controls::READ_ORGANIZATION };
    let individual = format!(
        "Individual consent works whatever your organization's set-up: press “{}”; you consent for yourself and become the system user.",
        controls::GRANT_INDIVIDUAL
    );
    let intended_email = facts.and_then(|f| f.intended_email.clone()).unwrap_or_else(|| admin_email.trim().to_owned());
    let mut view = OrganizationCheckView {
        verdict: OrganizationVerdict::NotRead,
        organizations: Vec::new(),
        active_domains: Vec::new(),
        pending: Vec::new(),
        other_domains: Vec::new(),
        intended_email: intended_email.clone(),
        headline: String::new(),
        next_steps: Vec::new(),
        evidence: Vec::new(),
        checked_at: facts.map(|f| f.read_at).unwrap_or_else(Utc::now),
        can_check_again,
    };
    let organizations = match facts.map(|f| &f.read) {
        None => {
            view.headline = "Your DocuSign accounts belong to an organization, but the portal has not read it yet, so it cannot tell whether organization consent would work.".into();
            view.next_steps = vec![
                format!("To check it first, press “{}”: DocuSign asks you to let the portal read your organization and its claimed domains.", controls::READ_ORGANIZATION),
                individual,
            ];
            view.can_check_again = false;
            return view;
        }
        Some(DirectoryRead::NotGranted { evidence }) => {
            view.headline = "DocuSign did not let the portal read your organization, so it cannot tell whether organization consent would work.".into();
            view.next_steps = vec![
                format!("To check it first, press “{}” and allow reading your organization in DocuSign.", controls::READ_ORGANIZATION),
                individual,
            ];
            view.evidence = evidence.clone();
            view.can_check_again = false;
            return view;
        }
        Some(DirectoryRead::Failed { evidence }) => {
            view.verdict = OrganizationVerdict::Unreadable;
            view.headline = "The portal could not read your organization's claimed domains, so it cannot tell whether organization consent would work.".into();
            view.next_steps = vec![format!("Wait a moment, then press “{reread}”."), individual];
            view.evidence = evidence.clone();
            return view;
        }
        Some(DirectoryRead::Read { organizations }) => organizations,
    };
    view.organizations = organizations.iter().map(|o| o.name.clone()).collect();
    if organizations.is_empty() {
        view.verdict = OrganizationVerdict::NotAnAdmin;
        view.headline = format!("{} is not an administrator of a DocuSign organization, and only an organization administrator can grant organization consent.", admin_email.trim());
        view.next_steps = vec![
            "Ask one of your organization's administrators (DocuSign Admin → Administrators lists them) to grant organization consent, or:".into(),
            individual,
        ];
        return view;
    }
    for org in organizations {
        for d in &org.domains {
            let host = normalize(&d.host_name);
            match status_of(d).as_str() {
                "active" => view.active_domains.push(host),
                "pending" => view.pending.push(TxtRecordView {
                    host,
                    value: d.txt_token.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
                }),
                other => view.other_domains.push(OtherDomainView { host, status: other.to_owned() }),
            }
        }
    }
    let publish = format!(
        "Publish the DNS TXT record shown below for each pending domain, choose Validate on the domain in {DOMAINS_PLACE}, then press “{reread}”."
    );
    let user_domain = email_domain(&intended_email).unwrap_or_default();
    if view.active_domains.is_empty() && view.pending.is_empty() {
        view.verdict = OrganizationVerdict::NoClaimedDomain;
        view.headline = "Your organization has no active claimed domain, so organization consent would cover nobody and DocuSign would refuse it.".into();
        view.next_steps = vec![
            format!("Claim your e-mail domain ({user_domain}) in {DOMAINS_PLACE} (Claim Domain), publish the TXT record DocuSign shows, then press “{reread}”."),
            individual,
        ];
    } else if view.active_domains.is_empty() {
        view.verdict = OrganizationVerdict::PendingOnly;
        view.headline = "Your organization's claimed domains are still pending (not yet verified), so DocuSign would refuse organization consent.".into();
        view.next_steps = vec![publish, individual];
    } else if view.active_domains.contains(&user_domain) {
        view.verdict = OrganizationVerdict::Covered;
        view.headline = format!("Organization consent will cover {intended_email}: {user_domain} is an active claimed domain of your organization.");
        view.next_steps = vec![format!(
            "Press “{}”; you then name the system user, any user whose e-mail is in {}.",
            controls::GRANT_ORGANIZATION,
            view.active_domains.join(", ")
        )];
        if !view.pending.is_empty() {
            view.next_steps.push(format!("Nothing else is needed; to finish claiming the pending domains too: {publish}"));
        }
    } else {
        view.verdict = OrganizationVerdict::NotCovered;
        let why = if view.pending.iter().any(|p| p.host == user_domain) {
            format!("{user_domain} is claimed but still pending")
        } else if let Some(other) = view.other_domains.iter().find(|o| o.host == user_domain) {
            format!("the claim on {user_domain} is {}", other.status)
        } else {
            format!("{user_domain} is not a claimed domain of your organization")
        };
        view.headline = format!(
            "Organization consent would not cover {intended_email}: {why}. It covers only users in {}.",
            view.active_domains.join(", ")
        );
        view.next_steps = vec![format!(
            "Enter a system user whose e-mail is in {} and press “{}”, or:",
            view.active_domains.join(", "),
            controls::CHECK_SYSTEM_USER
        )];
        if view.pending.iter().any(|p| p.host == user_domain) {
            view.next_steps.push(publish);
        } else {
            view.next_steps.push(format!("claim {user_domain} in {DOMAINS_PLACE} (Claim Domain), then press “{reread}”, or:"));
        }
        view.next_steps.push(individual);
    }
    view
}

/// Whether the admin of this session administers an organization and granted the read scopes:
/// then individual consent asks for [`DIRECTORY_SCOPES`] too.
pub fn admin_read_granted(progress: Option<&wizard_progress::Model>) -> bool {
    facts_of(progress).is_some_and(|f| matches!(&f.read, DirectoryRead::Read { organizations } if !organizations.is_empty()))
}

fn facts_of(progress: Option<&wizard_progress::Model>) -> Option<OrganizationFacts> {
    progress.and_then(|p| p.organization.clone()).and_then(|j| serde_json::from_value(j).ok())
}

fn token_valid(progress: &wizard_progress::Model, now: DateTime<Utc>) -> bool {
    progress.directory_token.is_some() && progress.directory_token_expires_at.is_some_and(|t| t > now + Duration::seconds(TOKEN_MARGIN_SECONDS))
}

/// The organization screen of a session, when the signed-in admin's accounts belong to an
/// organization.
pub fn view(progress: Option<&wizard_progress::Model>, signed_in: Option<&DocuSignUserView>) -> Option<OrganizationCheckView> {
    let user = signed_in.filter(|u| u.has_organization())?;
    let can_check_again = progress.is_some_and(|p| token_valid(p, Utc::now()));
    Some(assess(facts_of(progress).as_ref(), &user.email, can_check_again))
}

/// The read token to keep: the access token and how long DocuSign said it lasts.
pub struct ReadToken<'a> {
    pub token: &'a SecretString,
    pub expires_in: u64,
}

/// Stores what was read (keeping the admin's named system user) and the read token sealed,
/// or clears the token when `token` is `None`.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    session_hash: &str,
    tenant_id: Uuid,
    env: Environment,
    read: DirectoryRead,
    token: Option<ReadToken<'_>>,
) -> ServiceResult<()> {
    // Creates the row if this is the session's first write.
    records::update_progress(db, session_hash, tenant_id, env, records::ProgressUpdate::default()).await?;
    let row = records::progress(db, session_hash).await?.ok_or_else(|| ServiceError::unexpected("wizard progress vanished"))?;
    let intended_email = facts_of(Some(&row)).and_then(|f| f.intended_email);
    let now = Utc::now();
    let facts = OrganizationFacts { read_at: now, read, intended_email };
    let mut model: wizard_progress::ActiveModel = row.into();
    model.organization = Set(Some(serde_json::to_value(&facts).map_err(|e| ServiceError::unexpected(format!("organization facts: {e}")))?));
    match token {
        Some(t) => {
            // DocuSign's code-grant tokens last 8 h; an answer without `expires_in` is kept for one.
            let seconds = if t.expires_in == 0 { 3600 } else { t.expires_in.min(86_400) as i64 };
            model.directory_token = Set(Some(keyring.seal(Binding { purpose: TOKEN_PURPOSE, tenant_id }, t.token.expose_secret())));
            model.directory_token_expires_at = Set(Some(now + Duration::seconds(seconds)));
        }
        None => {
            model.directory_token = Set(None);
            model.directory_token_expires_at = Set(None);
        }
    }
    model.updated_at = Set(now);
    model.update(db).await?;
    Ok(())
}

/// Forgets what was read and the read token (a new sign-in: it may be another user).
pub async fn forget<C: ConnectionTrait>(db: &C, session_hash: &str) -> ServiceResult<()> {
    if let Some(row) = records::progress(db, session_hash).await? {
        let mut model: wizard_progress::ActiveModel = row.into();
        model.organization = Set(None);
        model.directory_token = Set(None);
        model.directory_token_expires_at = Set(None);
        model.update(db).await?;
    }
    Ok(())
}

/// "Check again": reads the organization again with the kept read token. Without a valid token
/// (expired, or DocuSign no longer accepts it) nothing is read, the token is dropped and the
/// answer names the control that asks DocuSign again.
pub async fn check_again(d: crate::state::Deps<'_>, tenant_id: Uuid, session_hash: &str) -> ServiceResult<()> {
    let progress = records::progress(d.db, session_hash).await?;
    let signed_in: Option<DocuSignUserView> =
        progress.as_ref().and_then(|p| p.signed_in_user.clone()).and_then(|j| serde_json::from_value(j).ok());
    let Some(user) = signed_in.filter(|u| u.has_organization()) else {
        return Err(AppError::conflict("Sign in with DocuSign first; your accounts must belong to an organization to check it.").into());
    };
    let expired = || {
        ServiceError::App(AppError::conflict(format!(
            "The portal's permission to read your organization has expired. Press “{}” to allow it again.",
            controls::READ_ORGANIZATION
        )))
    };
    let Some(row) = progress.filter(|p| token_valid(p, Utc::now())) else {
        return Err(expired());
    };
    let sealed = row.directory_token.clone().unwrap_or_default();
    let token = d
        .keyring
        .open(Binding { purpose: TOKEN_PURPOSE, tenant_id }, &sealed)
        .map_err(|_| ServiceError::unexpected("the sealed organization read token cannot be opened"))?;
    let account_orgs: Vec<String> = user.accounts.iter().filter_map(|a| a.organization_id.clone()).collect();
    let result = read(d.directory, &token, &account_orgs).await;
    if matches!(result, Err(ProviderError::InvalidToken)) {
        record(d.db, d.keyring, session_hash, tenant_id, d.env, DirectoryRead::from_result(result), None).await?;
        return Err(expired());
    }
    let read = DirectoryRead::from_result(result);
    let expires_in = (row.directory_token_expires_at.unwrap_or_else(Utc::now) - Utc::now()).num_seconds().max(1) as u64;
    record(d.db, d.keyring, session_hash, tenant_id, d.env, read, Some(ReadToken { token: &token, expires_in })).await
}

/// Names the intended system user whose coverage the screen judges. Bad input changes nothing.
pub async fn set_intended<C: ConnectionTrait>(db: &C, session_hash: &str, input: IntendedSystemUserInput) -> ServiceResult<()> {
    let input = IntendedSystemUserInput { email: input.email.trim().to_owned() };
    input.validate().map_err(AppError::from)?;
    let row = records::progress(db, session_hash).await?;
    let Some((row, mut facts)) = row.and_then(|r| facts_of(Some(&r)).map(|f| (r, f))) else {
        return Err(AppError::conflict("Sign in with DocuSign first, so the portal can read your organization.").into());
    };
    facts.intended_email = Some(input.email);
    let mut model: wizard_progress::ActiveModel = row.into();
    model.organization = Set(Some(serde_json::to_value(&facts).map_err(|e| ServiceError::unexpected(format!("organization facts: {e}")))?));
    model.updated_at = Set(Utc::now());
    model.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use app::onboarding::model::quoted_controls;

    use super::*;

    fn domain(status: &str, host: &str, token: Option<&str>) -> ReservedDomain {
        ReservedDomain { id: format!("id-{host}"), status: status.into(), host_name: host.into(), txt_token: token.map(str::to_owned) }
    }

    fn read(domains: Vec<ReservedDomain>) -> OrganizationFacts {
        OrganizationFacts {
            read_at: Utc::now(),
            read: DirectoryRead::Read { organizations: vec![AdministeredOrganization { id: "o".into(), name: "Acme Corp".into(), domains }] },
            intended_email: None,
        }
    }

    #[test]
    fn organization_consent_is_recommended_only_when_an_active_domain_covers_the_intended_system_user() {
        let facts = read(vec![domain("active", "Acme.example.", None)]);
        let v = assess(Some(&facts), "ada@acme.example", true);
        assert_eq!(v.verdict, OrganizationVerdict::Covered, "{}", v.headline);
        assert_eq!(v.active_domains, vec!["acme.example"]);
        let mut other = facts.clone();
        other.intended_email = Some("sam@stark.example".into());
        let v = assess(Some(&other), "ada@acme.example", true);
        assert_eq!(v.verdict, OrganizationVerdict::NotCovered);
        assert!(v.headline.contains("stark.example is not a claimed domain"), "{}", v.headline);
        assert_eq!(v.intended_email, "sam@stark.example");
    }

    #[test]
    fn a_pending_domain_shows_its_exact_txt_host_and_value_and_asks_to_check_again() {
        let v = assess(Some(&read(vec![domain("pending", "umbrella.example", Some(" docusign=9f8e "))])), "uma@umbrella.example", true);
        assert_eq!(v.verdict, OrganizationVerdict::PendingOnly);
        assert_eq!(v.pending, vec![TxtRecordView { host: "umbrella.example".into(), value: Some("docusign=9f8e".into()) }]);
        assert!(v.next_steps.iter().any(|s| s.contains(controls::CHECK_AGAIN)), "{:?}", v.next_steps);
        assert!(v.next_steps.iter().any(|s| s.contains(controls::GRANT_INDIVIDUAL)));
    }

    #[test]
    fn the_intended_users_pending_domain_beside_an_active_one_is_not_covered_and_shows_its_txt_record() {
        let v = assess(Some(&read(vec![domain("active", "acme.example", None), domain("pending", "acme.test", Some("t"))])), "ada@acme.test", false);
        assert_eq!(v.verdict, OrganizationVerdict::NotCovered);
        assert!(v.headline.contains("acme.test is claimed but still pending"), "{}", v.headline);
        assert!(v.next_steps.iter().any(|s| s.contains("TXT record")));
    }

    #[test]
    fn no_claimed_domain_and_not_an_admin_and_an_unread_organization_each_say_so_and_offer_individual_consent() {
        let none = assess(Some(&read(vec![domain("deactivated", "old.example", None)])), "a@acme.example", true);
        assert_eq!(none.verdict, OrganizationVerdict::NoClaimedDomain);
        assert_eq!(none.other_domains, vec![OtherDomainView { host: "old.example".into(), status: "deactivated".into() }]);
        let facts = OrganizationFacts { read_at: Utc::now(), read: DirectoryRead::Read { organizations: vec![] }, intended_email: None };
        assert_eq!(assess(Some(&facts), "nora@acme.example", true).verdict, OrganizationVerdict::NotAnAdmin);
        let denied = OrganizationFacts { read_at: Utc::now(), read: DirectoryRead::NotGranted { evidence: vec!["x".into()] }, intended_email: None };
        let v = assess(Some(&denied), "a@b.example", true);
        assert_eq!(v.verdict, OrganizationVerdict::NotRead);
        assert!(!v.can_check_again, "without a read, the screen asks DocuSign again");
        assert_eq!(assess(None, "a@b.example", false).verdict, OrganizationVerdict::NotRead);
        for v in [none, v] {
            assert!(v.next_steps.iter().any(|s| s.contains(controls::GRANT_INDIVIDUAL)), "{:?}", v.next_steps);
        }
    }

    #[test]
    fn every_control_the_organization_screen_names_is_on_that_screen() {
        let failed = OrganizationFacts { read_at: Utc::now(), read: DirectoryRead::Failed { evidence: vec![] }, intended_email: None };
        let denied = OrganizationFacts { read_at: Utc::now(), read: DirectoryRead::NotGranted { evidence: vec![] }, intended_email: None };
        let empty = OrganizationFacts { read_at: Utc::now(), read: DirectoryRead::Read { organizations: vec![] }, intended_email: None };
        let cases = [
            None,
            Some(failed),
            Some(denied),
            Some(empty),
            Some(read(vec![])),
            Some(read(vec![domain("pending", "u.example", None)])),
            Some(read(vec![domain("active", "acme.example", None), domain("pending", "p.example", None)])),
            Some(read(vec![domain("active", "other.example", None), domain("rejected", "acme.example", None)])),
        ];
        for facts in &cases {
            for can in [true, false] {
                let v = assess(facts.as_ref(), "ada@acme.example", can);
                let on_screen = v.controls();
                for text in v.next_steps.iter().chain([&v.headline]) {
                    for name in quoted_controls(text) {
                        assert!(on_screen.contains(&name), "{:?}: “{name}” is not on the screen ({text})", v.verdict);
                    }
                }
            }
        }
    }
}
