//! The facts each check needs, read as the tenant's system user from DocuSign (every call through
//! `providers::docusign::policy`: bounded retries, per-account budgets) and from the portal's own
//! records, then handed to the check's rule. A provider failure becomes the check's `Error`
//! outcome, not the run's failure, so the other checks still report.

use app::checks::CheckId;
use app::onboarding::model::{AccountRole, ConsentMode};
use chrono::Utc;
use sea_orm::EntityTrait;
use secrecy::SecretString;
use serde_json::Value;
use uuid::Uuid;

use super::attest;
use super::rules::claimed_domains::{ReservedDomainFacts, Unreadable, domains_check};
use super::rules::connect_configuration::connect_check;
use super::profile::check_listener_url;
use super::rules::connect_configuration::{connect_id, publish_url, same_listener};
use super::rules::connect_delivery::{Attempt, DeliveryFacts, DocuSignLog, delivery_check};
use super::rules::settings::settings_check;
use super::rules::system_user::system_user_check;
use super::rules::{CheckOutcome, CheckStatus};
use crate::audit::Actor;
use crate::db::entities::{connect_delivery, system_user};
use crate::error::ServiceResult;
use crate::onboarding::{records, verify};
use crate::providers::docusign::{ConnectLogEntry, ProviderError};
use crate::providers::docusign::admin::DIRECTORY_READ_SCOPES as DIRECTORY_SCOPES;
use crate::providers::docusign::policy::{on_account, with_retries};
use crate::state::Deps;

/// Gathers what check `id` needs and returns its rule's verdict. Every check is skipped until a
/// system user is pinned: there is no one to act as.
pub(super) async fn evaluate(d: Deps<'_>, tenant_id: Uuid, id: CheckId, actor: &Actor, request_id: Option<&str>) -> ServiceResult<CheckOutcome> {
    let Some(su) = records::system_user(d.db, tenant_id, d.env).await? else {
        let mut o = CheckOutcome::new(id, CheckStatus::Skipped, vec!["No system user is pinned yet.".into()]);
        o.remediation = Some("Finish the onboarding wizard (consent, system user, account) first.".into());
        return Ok(o);
    };
    match id {
        CheckId::SystemUser => {
            // Verification moves the consent state itself, so a run notices revoked consent.
            let v = verify::run(d, tenant_id, actor, request_id).await?;
            Ok(system_user_check(&v))
        }
        CheckId::ConnectDelivery => {
            // The listener's record needs no DocuSign call: when DocuSign refuses the system
            // user or its logs, the check still answers from it (and says why DocuSign is silent).
            let listener = listener_record(&d, tenant_id).await?;
            let log = match system_user_token(&d, &su).await {
                Ok(token) => delivery_log(&d, tenant_id, &su, &token).await,
                Err(e) => Err(e),
            };
            let docusign = match log {
                Ok(log) => log,
                Err(e) if e.is_transient() => return Ok(error_outcome(id, &e)),
                Err(e) => DocuSignLog::Unreadable(e.to_string()),
            };
            let listener_url = d.isv.setup.connect.listener_url(tenant_id);
            Ok(delivery_check(listener.as_ref(), &docusign, &listener_url, Utc::now()))
        }
        CheckId::AccountSettings => match system_user_token(&d, &su).await {
            Ok(token) => Ok(settings(&d, &su, &token).await.unwrap_or_else(|e| error_outcome(id, &e))),
            Err(e) => Ok(error_outcome(id, &e)),
        },
        CheckId::ConnectConfiguration => match system_user_token(&d, &su).await {
            Ok(token) => Ok(connect(&d, tenant_id, &su, &token).await.unwrap_or_else(|e| error_outcome(id, &e))),
            Err(e) => Ok(error_outcome(id, &e)),
        },
        CheckId::ClaimedDomains => {
            // The Admin API is read as another identity (below), but like the other account
            // checks this one first needs the system user's grant: a system user DocuSign
            // refuses makes it an error rather than a verdict read as someone else.
            if let Err(e) = system_user_token(&d, &su).await {
                return Ok(error_outcome(id, &e));
            }
            domains(d, tenant_id, &su).await
        }
    }
}

/// The system user's eSignature token (the JWT grant; the client caches it while it is valid).
async fn system_user_token(d: &Deps<'_>, su: &system_user::Model) -> Result<SecretString, ProviderError> {
    let scopes = d.esign_scopes();
    with_retries(|| d.provider.cached_app_token(&su.user_id, &scopes)).await.map(|t| t.access_token)
}

/// A check DocuSign would not answer: an error with the provider's words, and whether waiting or
/// an administrator fixes it.
fn error_outcome(id: CheckId, e: &ProviderError) -> CheckOutcome {
    let mut o = CheckOutcome::new(id, CheckStatus::Error, vec![format!("DocuSign: {}.", e.to_string().trim_end_matches('.'))]);
    o.remediation = Some(if matches!(e, ProviderError::UserLacksPermissions) {
        "DocuSign says the system user lacks the rights to read this in the account (only an account administrator may). \
         An administrator of the account must make the system user an administrator in DocuSign eSignature Admin → Users, or check this \
         in DocuSign themselves."
            .into()
    } else if e.is_transient() {
        "DocuSign could not be reached or asked us to slow down. Nothing was changed; the check runs again later.".into()
    } else {
        "DocuSign refused the request; see the evidence. If the system user is not an account administrator, make it one in eSignature Admin → Users.".into()
    });
    o
}

/// The settings against the profile. Whether the system user (whom a fix acts as) is only a
/// member of the account is read only when the verdict would offer a fix: a passing or
/// unfixable account costs no extra call. When DocuSign will not say, the metadata decides.
async fn settings(d: &Deps<'_>, su: &system_user::Model, token: &SecretString) -> Result<CheckOutcome, ProviderError> {
    let api = on_account(d.budgets, &su.account_id, || d.client.get_settings(&su.base_uri, &su.account_id, token)).await?;
    let (outcome, _) = settings_check(&d.isv.setup, &api.value, AccountRole::Unknown);
    if outcome.fix.is_none() {
        return Ok(outcome);
    }
    let role = d.provider.account_role(d.budgets, &su.base_uri, &su.account_id, &su.user_id, token).await.unwrap_or_else(|e| {
        tracing::info!(error = %e, "settings check: DocuSign did not say the system user's role; the settings' metadata decides");
        AccountRole::Unknown
    });
    Ok(settings_check(&d.isv.setup, &api.value, role).0)
}

async fn connect(d: &Deps<'_>, tenant_id: Uuid, su: &system_user::Model, token: &SecretString) -> Result<CheckOutcome, ProviderError> {
    let settings = on_account(d.budgets, &su.account_id, || d.client.get_settings(&su.base_uri, &su.account_id, token)).await?.value;
    let enabled = settings.get("envelopeIntegrationEnabled").and_then(Value::as_str);
    let configurations = match on_account(d.budgets, &su.account_id, || d.client.list_connect(&su.base_uri, &su.account_id, token)).await {
        Ok(api) => api.value,
        // Connect cannot be listed while it is switched off: the check says so.
        Err(_) if enabled != Some("true") => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(connect_check(&d.isv.setup.connect, tenant_id, enabled, &configurations))
}

/// What the portal's listener recorded for the tenant, if anything arrived.
async fn listener_record(d: &Deps<'_>, tenant_id: Uuid) -> ServiceResult<Option<DeliveryFacts>> {
    let row = connect_delivery::Entity::find_by_id(tenant_id).one(d.db).await?;
    Ok(row.map(|r| DeliveryFacts {
        last_verified_at: r.last_verified_at,
        last_event: r.last_event,
        verified_count: r.verified_count,
        rejected_count: r.rejected_count,
    }))
}

/// DocuSign's Connect log and failure log, narrowed to the configurations that publish to the
/// tenant's listener (matched by `connectId`, or by `configUrl` for an entry of a configuration
/// since changed or deleted). Connect switched off or not readable is `Unreadable` with
/// DocuSign's words; transient failures are returned for the check's `Error`.
async fn delivery_log(d: &Deps<'_>, tenant_id: Uuid, su: &system_user::Model, token: &SecretString) -> Result<DocuSignLog, ProviderError> {
    let Ok(listener) = check_listener_url(&d.isv.setup.connect.listener_url(tenant_id)) else {
        return Ok(DocuSignLog::Unreadable("the portal's listener URL is not usable (see the Connect configuration check)".into()));
    };
    let configurations = on_account(d.budgets, &su.account_id, || d.client.list_connect(&su.base_uri, &su.account_id, token)).await?.value;
    let ours: Vec<&Value> = configurations.iter().filter(|c| same_listener(publish_url(c), &listener)).collect();
    if ours.is_empty() {
        return Ok(DocuSignLog::NoConfiguration);
    }
    let connect_ids: Vec<String> = ours.iter().filter_map(|c| connect_id(c)).collect();
    let logging = ours.iter().all(|c| c.get("enableLog").and_then(Value::as_str).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")));
    let logs = on_account(d.budgets, &su.account_id, || d.client.connect_logs(&su.base_uri, &su.account_id, token)).await?.value;
    let failures = on_account(d.budgets, &su.account_id, || d.client.connect_failures(&su.base_uri, &su.account_id, token)).await?.value;
    let mine = |e: &ConnectLogEntry| {
        e.connect_id.as_ref().is_some_and(|id| connect_ids.contains(id))
            || e.config_url.as_deref().is_some_and(|u| same_listener(u, &listener))
    };
    let attempt = |e: &ConnectLogEntry| Attempt {
        at: e.created.as_deref().and_then(Attempt::parse_time),
        created: e.created.clone(),
        envelope_id: e.envelope_id.clone(),
        status: e.status.clone(),
        error: e.error.clone(),
    };
    let attempts = logs.iter().filter(|e| mine(e)).map(attempt).collect();
    let failures = failures.iter().filter(|e| mine(e)).map(attempt).collect();
    Ok(DocuSignLog::Read { connect_ids, logging, attempts, failures })
}

async fn domains(d: Deps<'_>, tenant_id: Uuid, su: &system_user::Model) -> ServiceResult<CheckOutcome> {
    let attestation = attest::attestation_of(&d, tenant_id, CheckId::ClaimedDomains).await?;
    let grant = records::latest_grant(d.db, tenant_id, d.env).await?;
    let org = su.organization_id.clone().or(grant.as_ref().and_then(|g| g.organization_id.clone()));
    let mode = match &grant {
        Some(g) => g.mode()?,
        None => ConsentMode::Individual,
    };
    let facts: Result<Vec<ReservedDomainFacts>, Unreadable> = match (&org, &grant) {
        (None, _) => Err(Unreadable::organization_consent("The system user's account does not belong to a DocuSign organization.")),
        (Some(_), None) => Err(Unreadable::individual_consent("No consent is recorded for this tenant.")),
        (Some(org_id), Some(grant)) => {
            // The Admin API answers organization administrators: act as the admin who granted
            // the consent, never as the system user. Organization consent carries the read
            // scopes for every covered user; individual consent only when the consenting admin
            // granted them (see `onboarding::prerequisites`).
            let individual = mode == ConsentMode::Individual;
            let unreadable =
                |reason: String| if individual { Unreadable::individual_consent(reason) } else { Unreadable::organization_consent(reason) };
            let scopes: Vec<String> = if individual {
                d.esign_scopes().iter().map(|s| (*s).to_owned()).chain(DIRECTORY_SCOPES.iter().map(|s| (*s).to_owned())).collect()
            } else {
                d.admin_consent_scopes()
            };
            let granted: Vec<&str> = grant.scopes.split([' ', ';', ':']).collect();
            let missing: Vec<&str> = DIRECTORY_SCOPES.iter().copied().filter(|s| !granted.contains(s)).collect();
            if !missing.is_empty() {
                Err(unreadable(format!(
                    "{} by {} was granted without the Admin API read scope{} {}.",
                    mode.label(),
                    grant.user_email,
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(" and ")
                )))
            } else {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                match with_retries(|| d.provider.cached_app_token(&grant.user_sub, &scopes)).await {
                    Err(e) if e.is_transient() => return Ok(error_outcome(CheckId::ClaimedDomains, &e)),
                    Err(e) => Err(unreadable(format!("DocuSign refused the Admin API read as {} ({e}).", grant.user_email))),
                    Ok(token) => match with_retries(|| d.directory.reserved_domains(&token.access_token, org_id)).await {
                        Ok(domains) => Ok(domains
                            .into_iter()
                            .map(|r| ReservedDomainFacts { id: r.id, status: r.status, host_name: r.host_name, txt_token: r.txt_token })
                            .collect()),
                        Err(e) if e.is_transient() => return Ok(error_outcome(CheckId::ClaimedDomains, &e)),
                        Err(e) => Err(unreadable(format!(
                            "the Admin API refused to list the claimed domains as {}, who may not administer organization {org_id} ({e}).",
                            grant.user_email
                        ))),
                    },
                }
            }
        }
    };
    let admin = match &facts {
        Ok(f) => Ok(f.as_slice()),
        Err(unreadable) => Err(unreadable),
    };
    Ok(domains_check(org.as_deref(), admin, &su.email, attestation.as_ref(), mode))
}
