//! Running the setup check for a tenant: a run is a row; each check runs on its own (so the
//! person sees each result as it completes), talks to DocuSign as the system user, retries
//! transient provider failures a bounded number of times, and stores its outcome. When a run's
//! last check lands, the run is closed with its overall status and every check whose status
//! changed since the previous run writes an audit event. Fixes run as the customer admin who
//! consented (or the system user), are audited with before and after, and re-run their check.

use std::future::Future;
use std::time::Duration;

use app::error::AppError;
use app::onboarding::model::{ConsentMode, VerificationView};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

use super::evaluate::{self, Attestation, CheckOutcome, CheckStatus, FixOffer, ReservedDomainFacts};
use crate::audit::{self, Actor, Event};
use crate::db::entities::{check_attestation, check_result, check_run, connect_delivery, system_user};
use crate::providers::docusign::ProviderError;
use crate::error::{ServiceError, ServiceResult};
use crate::onboarding::{Deps, credentials, records, verify};

/// The consent and system-user check.
pub const SYSTEM_USER_CHECK: &str = "system_user";
/// Whether a verified Connect message reached the portal's listener recently.
pub const DELIVERY_CHECK: &str = "connect_delivery";

/// Every check, in the order it runs, with its title.
pub const CHECKS: [(&str, &str); 5] = [
    (SYSTEM_USER_CHECK, "Consent and system user"),
    (evaluate::DOMAINS_CHECK, "Claimed domains"),
    (evaluate::SETTINGS_CHECK, "Account settings"),
    (evaluate::CONNECT_CHECK, "Connect configuration"),
    (DELIVERY_CHECK, "Connect delivery"),
];

/// How recent a verified Connect delivery must be for the delivery check to pass.
pub const DELIVERY_FRESHNESS: chrono::Duration = chrono::Duration::days(7);

/// Provider calls retried at most this many times after a transient failure.
pub const MAX_RETRIES: u32 = 3;

/// Runs `call`, retrying transient failures (5xx, timeouts, rate limits) with exponential backoff
/// that honours `Retry-After`, at most [`MAX_RETRIES`] times.
pub async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            // An hourly limit resets at the top of the hour: waiting here would hold a worker
            // for minutes; the next scheduled run tries again.
            Err(ProviderError::RateLimited { retry_after_secs: Some(s), .. }) if s > 30 => {
                return Err(ProviderError::RateLimited { retry_after_secs: Some(s), reset_epoch: None });
            }
            Err(e) if e.is_transient() && attempt < MAX_RETRIES => {
                let backoff = match &e {
                    // The account's budget (see `on_account`) already waits out the window.
                    ProviderError::RateLimited { retry_after_secs: Some(s), .. } => Duration::from_secs((*s).min(30)),
                    _ => Duration::from_millis(200 * 2u64.pow(attempt)),
                };
                tracing::debug!(attempt, error = %e, "transient provider failure; backing off");
                tokio::time::sleep(backoff).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A budgeted eSignature call on `account`: waits for (or refuses on) the account's budget,
/// retries transient failures, and learns the account's limits from the answer.
pub async fn on_account<T, F, Fut>(d: &Deps<'_>, account: &str, mut call: F) -> Result<crate::providers::docusign::Api<T>, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<crate::providers::docusign::Api<T>, ProviderError>>,
{
    // When the last attempt left: its answer describes the account's window at that time.
    let sent = std::sync::Mutex::new(std::time::Instant::now());
    let result = with_retries(|| {
        let attempt = call();
        let sent = &sent;
        async move {
            d.budgets.acquire(account).await?;
            *sent.lock().expect("sent lock") = std::time::Instant::now();
            let answer = attempt.await;
            if let Err(ProviderError::RateLimited { retry_after_secs, .. }) = &answer {
                let wait = Duration::from_secs(retry_after_secs.unwrap_or(30));
                if wait > super::budget::BURST_WINDOW {
                    d.budgets.hourly_exhausted(account, wait);
                } else {
                    d.budgets.exhausted(account, wait);
                }
            }
            answer
        }
    })
    .await;
    if let Ok(api) = &result {
        d.budgets.record(account, &api.limits, *sent.lock().expect("sent lock"));
    }
    result
}

/// Opens a run.
pub async fn start<C: ConnectionTrait>(db: &C, d: &Deps<'_>, tenant_id: Uuid, trigger: &str, requested_by: &str) -> ServiceResult<Uuid> {
    let id = Uuid::new_v4();
    check_run::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        trigger: Set(trigger.to_owned()),
        requested_by: Set(requested_by.to_owned()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        overall: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A run of this tenant (`NotFound` for another tenant's run: runs are scoped).
pub async fn run_of(d: &Deps<'_>, tenant_id: Uuid, run_id: Uuid) -> ServiceResult<check_run::Model> {
    check_run::Entity::find_by_id(run_id)
        .one(d.db)
        .await?
        .filter(|r| r.tenant_id == tenant_id)
        .ok_or_else(|| AppError::not_found("Check run").into())
}

/// Runs one check of a run and stores its outcome; closes the run when it was the last one.
pub async fn run_one(d: Deps<'_>, tenant_id: Uuid, run_id: Uuid, check_id: &str, actor: &Actor, request_id: Option<&str>) -> ServiceResult<CheckOutcome> {
    let run = run_of(&d, tenant_id, run_id).await?;
    let Some((_, title)) = CHECKS.iter().find(|(id, _)| *id == check_id) else {
        return Err(AppError::not_found("Check").into());
    };
    let outcome = evaluate_check(d, tenant_id, check_id, title, actor, request_id).await?;
    let model = check_result::ActiveModel {
        run_id: Set(run_id),
        check_id: Set(check_id.to_owned()),
        status: Set(outcome.status.as_str().to_owned()),
        outcome: Set(serde_json::to_value(&outcome).unwrap_or_default()),
        finished_at: Set(Utc::now()),
    };
    check_result::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([check_result::Column::RunId, check_result::Column::CheckId])
                .update_columns([check_result::Column::Status, check_result::Column::Outcome, check_result::Column::FinishedAt])
                .to_owned(),
        )
        .exec_without_returning(d.db)
        .await?;
    finish_if_complete(&d, &run, actor, request_id).await?;
    Ok(outcome)
}

/// Runs every check of a fresh run in order (the scheduler and tests use this).
pub async fn run_all(d: Deps<'_>, tenant_id: Uuid, trigger: &str, actor: &Actor, request_id: Option<&str>) -> ServiceResult<(Uuid, Vec<CheckOutcome>)> {
    let run_id = start(d.db, &d, tenant_id, trigger, &actor.label).await?;
    let mut outcomes = Vec::new();
    for (id, _) in CHECKS {
        outcomes.push(run_one(d, tenant_id, run_id, id, actor, request_id).await?);
    }
    Ok((run_id, outcomes))
}

async fn finish_if_complete(d: &Deps<'_>, run: &check_run::Model, actor: &Actor, request_id: Option<&str>) -> ServiceResult<()> {
    let results = outcomes_of(d.db, run.id).await?;
    if results.len() < CHECKS.len() {
        return Ok(());
    }
    let overall = evaluate::overall(&results);
    let first_close = run.finished_at.is_none();
    let mut model: check_run::ActiveModel = run.clone().into();
    model.finished_at = Set(Some(Utc::now()));
    model.overall = Set(Some(overall.as_str().to_owned()));
    model.update(d.db).await?;
    if !first_close {
        return Ok(());
    }
    // Compare with the previous finished run of the tenant: each changed check is audited.
    let previous = check_run::Entity::find()
        .filter(check_run::Column::TenantId.eq(run.tenant_id))
        .filter(check_run::Column::Environment.eq(run.environment.clone()))
        .filter(check_run::Column::Id.ne(run.id))
        .filter(check_run::Column::FinishedAt.is_not_null())
        .order_by_desc(check_run::Column::StartedAt)
        .one(d.db)
        .await?;
    let before = match &previous {
        Some(p) => outcomes_of(d.db, p.id).await?,
        None => Vec::new(),
    };
    for now in &results {
        let was = before.iter().find(|b| b.id == now.id).map(|b| b.status);
        if was != Some(now.status) {
            audit::record(
                d.db,
                Event {
                    actor,
                    tenant_id: Some(run.tenant_id),
                    action: "setup.check_changed",
                    before: was.map(|s| json!({ "check": now.id, "status": s })),
                    after: Some(json!({ "check": now.id, "status": now.status, "run": run.id })),
                    request_id,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The stored outcomes of a run, in check order.
pub async fn outcomes_of<C: ConnectionTrait>(db: &C, run_id: Uuid) -> ServiceResult<Vec<CheckOutcome>> {
    let rows = check_result::Entity::find().filter(check_result::Column::RunId.eq(run_id)).all(db).await?;
    let mut outcomes: Vec<CheckOutcome> = rows.into_iter().filter_map(|r| serde_json::from_value(r.outcome).ok()).collect();
    outcomes.sort_by_key(|o| CHECKS.iter().position(|(id, _)| *id == o.id).unwrap_or(usize::MAX));
    Ok(outcomes)
}

/// The tenant's runs, newest first.
pub async fn history<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: &str, limit: u64) -> ServiceResult<Vec<check_run::Model>> {
    use sea_orm::QuerySelect;
    Ok(check_run::Entity::find()
        .filter(check_run::Column::TenantId.eq(tenant_id))
        .filter(check_run::Column::Environment.eq(env))
        .order_by_desc(check_run::Column::StartedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// The tenant's latest run with its outcomes.
pub async fn latest<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: &str) -> ServiceResult<Option<(check_run::Model, Vec<CheckOutcome>)>> {
    let run = check_run::Entity::find()
        .filter(check_run::Column::TenantId.eq(tenant_id))
        .filter(check_run::Column::Environment.eq(env))
        .order_by_desc(check_run::Column::StartedAt)
        .one(db)
        .await?;
    match run {
        Some(r) => {
            let outcomes = outcomes_of(db, r.id).await?;
            Ok(Some((r, outcomes)))
        }
        None => Ok(None),
    }
}

fn error_outcome(id: &str, title: &str, e: &ProviderError) -> CheckOutcome {
    let mut o = CheckOutcome::new(id, title, CheckStatus::Error, vec![format!("DocuSign: {e}.")]);
    o.remediation = Some(if e.is_transient() {
        "DocuSign could not be reached or asked us to slow down. Nothing was changed; the check runs again later.".into()
    } else {
        "DocuSign refused the request; see the evidence. If the system user is not an account administrator, make it one in eSignature Admin → Users.".into()
    });
    o
}

async fn evaluate_check(d: Deps<'_>, tenant_id: Uuid, id: &str, title: &str, actor: &Actor, request_id: Option<&str>) -> ServiceResult<CheckOutcome> {
    let Some(su) = records::system_user(d.db, tenant_id, d.env).await? else {
        let mut o = CheckOutcome::new(id, title, CheckStatus::Skipped, vec!["No system user is pinned yet.".into()]);
        o.remediation = Some("Finish the onboarding wizard (consent, system user, account) first.".into());
        return Ok(o);
    };
    if id == SYSTEM_USER_CHECK {
        let v = verify::run(d, tenant_id, actor, request_id).await?;
        return Ok(system_user_outcome(id, title, &v));
    }
    if id == DELIVERY_CHECK {
        return delivery_outcome(d, tenant_id, id, title).await;
    }
    let scopes = d.esign_scopes();
    let token = match with_retries(|| d.client.jwt_token(&su.user_id, &scopes)).await {
        Ok(t) => t.access_token,
        Err(e) => return Ok(error_outcome(id, title, &e)),
    };
    match id {
        evaluate::SETTINGS_CHECK => match on_account(&d, &su.account_id, || d.client.get_settings(&su.base_uri, &su.account_id, &token)).await {
            Ok(api) => Ok(evaluate::settings_check(&d.isv.setup, &api.value).0),
            Err(e) => Ok(error_outcome(id, title, &e)),
        },
        evaluate::CONNECT_CHECK => {
            let settings = match on_account(&d, &su.account_id, || d.client.get_settings(&su.base_uri, &su.account_id, &token)).await {
                Ok(api) => api.value,
                Err(e) => return Ok(error_outcome(id, title, &e)),
            };
            let enabled = settings.get("envelopeIntegrationEnabled").and_then(Value::as_str);
            let configurations = match on_account(&d, &su.account_id, || d.client.list_connect(&su.base_uri, &su.account_id, &token)).await {
                Ok(api) => api.value,
                Err(e) => {
                    // Connect cannot be listed while it is switched off: the check says so.
                    if enabled != Some("true") {
                        Vec::new()
                    } else {
                        return Ok(error_outcome(id, title, &e));
                    }
                }
            };
            Ok(evaluate::connect_check(&d.isv.setup.connect, tenant_id, enabled, &configurations))
        }
        evaluate::DOMAINS_CHECK => domains_outcome(d, tenant_id, &su).await,
        _ => Err(AppError::not_found("Check").into()),
    }
}

fn system_user_outcome(id: &str, title: &str, v: &VerificationView) -> CheckOutcome {
    let status = match v.outcome.as_str() {
        "verified" => CheckStatus::Pass,
        "provider_unreachable" | "provider_error" => CheckStatus::Error,
        _ => CheckStatus::Fail,
    };
    let mut evidence = vec![v.title.clone()];
    evidence.extend(v.evidence.iter().cloned());
    let mut o = CheckOutcome::new(id, title, status, evidence);
    if status != CheckStatus::Pass {
        o.remediation = Some(v.remediation.clone());
    }
    if let Some(new) = &v.new_base_uri {
        o.fix = Some(FixOffer::AcceptBaseUri { new_base_uri: new.clone() });
    }
    o
}

async fn delivery_outcome(d: Deps<'_>, tenant_id: Uuid, id: &str, title: &str) -> ServiceResult<CheckOutcome> {
    let row = connect_delivery::Entity::find_by_id(tenant_id).one(d.db).await?;
    let fresh = row.as_ref().and_then(|r| r.last_verified_at).filter(|t| Utc::now() - *t < DELIVERY_FRESHNESS);
    let mut evidence = Vec::new();
    if let Some(r) = &row {
        if let Some(t) = r.last_verified_at {
            evidence.push(format!("Last verified event: {} at {}.", r.last_event.clone().unwrap_or_default(), t.format("%Y-%m-%d %H:%M UTC")));
        }
        evidence.push(format!("{} verified, {} rejected message(s) so far.", r.verified_count, r.rejected_count));
    } else {
        evidence.push("No Connect message has reached the portal's listener yet.".into());
    }
    let status = if fresh.is_some() { CheckStatus::Pass } else { CheckStatus::Warn };
    let mut o = CheckOutcome::new(id, title, status, evidence);
    if status != CheckStatus::Pass {
        o.remediation = Some(
            "Send an envelope (or, in eSignature Admin → Connect, use the configuration's test), then check again. Messages must carry a valid HMAC signature.".into(),
        );
    }
    Ok(o)
}

async fn domains_outcome(d: Deps<'_>, tenant_id: Uuid, su: &system_user::Model) -> ServiceResult<CheckOutcome> {
    let attestation = check_attestation::Entity::find_by_id((tenant_id, d.env.as_str().to_owned(), evaluate::DOMAINS_CHECK.to_owned()))
        .one(d.db)
        .await?
        .map(|a| Attestation { by: a.attested_by, justification: a.justification, at: a.attested_at });
    let grant = records::latest_grant(d.db, tenant_id, d.env).await?;
    let org = su.organization_id.clone().or(grant.as_ref().and_then(|g| g.organization_id.clone()));
    let organization_consent = grant.as_ref().is_some_and(|g| g.mode == ConsentMode::Organization.as_str());
    let facts: Result<Vec<ReservedDomainFacts>, String> = match (&org, organization_consent) {
        (None, _) => Err("The system user's account does not belong to a DocuSign organization.".into()),
        (Some(_), false) => Err("Individual consent does not give access to the Admin API's claimed domains.".into()),
        (Some(org_id), true) => {
            let scopes = d.admin_consent_scopes();
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            // The Admin API answers organization administrators: act as the admin who granted
            // the organization consent (covered by it), not as the system user.
            let admin = grant.as_ref().map(|g| g.user_sub.clone()).unwrap_or_else(|| su.user_id.clone());
            match with_retries(|| d.client.jwt_token(&admin, &scopes)).await {
                Err(e) if e.is_transient() => return Ok(error_outcome(evaluate::DOMAINS_CHECK, "Claimed domains", &e)),
                Err(e) => Err(format!("No Admin API access for the system user ({e}).")),
                Ok(token) => match with_retries(|| d.client.reserved_domains(&token.access_token, org_id)).await {
                    Ok(api) => Ok(api
                        .value
                        .into_iter()
                        .map(|r| ReservedDomainFacts { id: r.id, status: r.status, host_name: r.host_name, txt_token: r.txt_token })
                        .collect()),
                    Err(e) if e.is_transient() => return Ok(error_outcome(evaluate::DOMAINS_CHECK, "Claimed domains", &e)),
                    Err(e) => Err(format!("The Admin API refused to list claimed domains ({e}).")),
                },
            }
        }
    };
    let admin = match &facts {
        Ok(f) => Ok(f.as_slice()),
        Err(reason) => Err(reason.as_str()),
    };
    Ok(evaluate::domains_check(org.as_deref(), admin, &su.email, attestation.as_ref()))
}

/// Records (or replaces) a staff attestation for a check DocuSign cannot answer.
pub async fn attest(d: Deps<'_>, tenant_id: Uuid, check_id: &str, justification: &str, actor: &Actor, request_id: Option<&str>) -> ServiceResult<()> {
    let justification = justification.trim();
    if justification.len() < 10 {
        return Err(AppError::field("justification", "Explain in a sentence how you know (at least 10 characters).").into());
    }
    if check_id != evaluate::DOMAINS_CHECK {
        return Err(AppError::field("check_id", "Only the claimed-domains check can be attested.").into());
    }
    let model = check_attestation::ActiveModel {
        tenant_id: Set(tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        check_id: Set(check_id.to_owned()),
        attested_by: Set(actor.label.clone()),
        justification: Set(justification.to_owned()),
        attested_at: Set(Utc::now()),
    };
    check_attestation::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([check_attestation::Column::TenantId, check_attestation::Column::Environment, check_attestation::Column::CheckId])
                .update_columns([check_attestation::Column::AttestedBy, check_attestation::Column::Justification, check_attestation::Column::AttestedAt])
                .to_owned(),
        )
        .exec_without_returning(d.db)
        .await?;
    audit::record(
        d.db,
        Event { actor, tenant_id: Some(tenant_id), action: "setup.attested", before: None, after: Some(json!({ "check": check_id, "justification": justification })), request_id },
    )
    .await
}

/// Who asks for a fix, which decides whose DocuSign identity the fix acts as.
#[derive(Debug, Clone, Copy)]
pub enum FixRequester<'a> {
    /// ISV staff: the fix acts as the tenant's system user (with its own kept sign-in when it
    /// is the user who consented, else by the JWT grant). DocuSign refuses it unless the system
    /// user may change the account, and the portal says so.
    Staff,
    /// The customer admin in their wizard session: the fix acts as the admin who signed in with
    /// DocuSign in this session, with the sign-in they kept when they consented; never as anyone
    /// else.
    CustomerAdmin { session_hash: &'a str },
}

/// Applies the fix the stored outcome of `check_id` in `run_id` offers, then re-runs the check.
/// The identity it acts as follows [`FixRequester`]; the audit event names it, and when that
/// identity cannot act, the answer says so instead of trying another.
pub async fn apply_fix(
    d: Deps<'_>,
    tenant_id: Uuid,
    run_id: Uuid,
    check_id: &str,
    requester: FixRequester<'_>,
    actor: &Actor,
    request_id: Option<&str>,
) -> ServiceResult<CheckOutcome> {
    run_of(&d, tenant_id, run_id).await?;
    let stored = check_result::Entity::find_by_id((run_id, check_id.to_owned()))
        .one(d.db)
        .await?
        .ok_or_else(|| AppError::not_found("Check result"))?;
    let outcome: CheckOutcome = serde_json::from_value(stored.outcome).map_err(|e| ServiceError::Other(e.to_string()))?;
    let fix = outcome.fix.clone().ok_or_else(|| AppError::Conflict { message: "This check offers no fix; it may already pass.".into() })?;
    let su = records::system_user(d.db, tenant_id, d.env)
        .await?
        .ok_or_else(|| AppError::Conflict { message: "No system user is pinned.".into() })?;
    let (token, acted_as) = fix_token(&d, tenant_id, &su, requester).await?;
    let unreachable = |e: ProviderError| -> ServiceError {
        match &e {
            e if e.is_transient() => {
                AppError::Conflict { message: "DocuSign could not be reached. Nothing was changed; try again in a minute.".into() }.into()
            }
            // Documented statuses only: 401/403 on a write means this identity may not make it.
            ProviderError::Api { status: 401 | 403, .. } | ProviderError::InvalidToken => AppError::Conflict {
                message: format!(
                    "DocuSign refused the change made as {acted_as}: that user may not change this account ({e}). Nothing was changed. \
                     An administrator of the account must apply it: the customer admin from their wizard, or make the system user an account administrator."
                ),
            }
            .into(),
            _ => AppError::Conflict { message: format!("DocuSign refused the change made as {acted_as}: {e}. Nothing was changed.") }.into(),
        }
    };
    let after = match &fix {
        FixOffer::ApplySettings { changes } => {
            let partial: serde_json::Map<String, Value> = changes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            on_account(&d, &su.account_id, || d.client.put_settings(&su.base_uri, &su.account_id, &token, &partial)).await.map_err(unreachable)?;
            json!({ "settings": changes })
        }
        FixOffer::CreateConnect { configuration } => {
            let created = on_account(&d, &su.account_id, || d.client.create_connect(&su.base_uri, &su.account_id, &token, configuration)).await.map_err(unreachable)?;
            json!({ "created": created.value.get("connectId") })
        }
        FixOffer::RepairConnect { connect_id, configuration } => {
            on_account(&d, &su.account_id, || d.client.update_connect(&su.base_uri, &su.account_id, &token, configuration)).await.map_err(unreachable)?;
            json!({ "repaired": connect_id })
        }
        FixOffer::AcceptBaseUri { new_base_uri } => {
            d.client.check_base_uri(new_base_uri).map_err(unreachable)?;
            let mut model: system_user::ActiveModel = su.clone().into();
            model.base_uri = Set(new_base_uri.clone());
            model.update(d.db).await?;
            json!({ "base_uri": new_base_uri })
        }
    };
    audit::record(
        d.db,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: "setup.fix_applied",
            before: Some(json!({ "check": check_id, "status": outcome.status, "fix": fix })),
            after: Some(json!({ "applied": after, "acted_as": acted_as })),
            request_id,
        },
    )
    .await?;
    run_one(d, tenant_id, run_id, check_id, actor, request_id).await
}

/// The token a fix acts with, and who that is (for the audit event and the messages).
async fn fix_token(d: &Deps<'_>, tenant_id: Uuid, su: &system_user::Model, requester: FixRequester<'_>) -> ServiceResult<(SecretString, String)> {
    let kept_subject = credentials::subject(d.db, tenant_id, d.env, credentials::CONSENT).await?;
    let kept = || credentials::access_token(d.db, d.keyring, d.client, tenant_id, d.env, credentials::CONSENT);
    match requester {
        FixRequester::CustomerAdmin { session_hash } => {
            let signed_in = records::progress(d.db, session_hash)
                .await?
                .and_then(|p| p.signed_in_user)
                .and_then(|j| serde_json::from_value::<app::onboarding::model::DocuSignUserView>(j).ok());
            match (signed_in, kept_subject) {
                (Some(user), Some(subject)) if user.user_id == subject => {
                    let token = kept().await?;
                    Ok((token, format!("{} (the customer admin signed in to this wizard)", user.email)))
                }
                _ => Err(AppError::Conflict {
                    message: "A fix from the wizard acts as the customer admin who granted consent, signed in with DocuSign in this session. \
                              Sign in with DocuSign again as that admin, then apply the fix. Nothing was changed."
                        .into(),
                }
                .into()),
            }
        }
        FixRequester::Staff => {
            let who = format!("{} (the system user)", su.email);
            // The system user's own kept sign-in when they are the one who consented; otherwise
            // (or if it can no longer be renewed) the JWT grant for the same user.
            if kept_subject.as_deref() == Some(su.user_id.as_str())
                && let Ok(token) = kept().await
            {
                return Ok((token, who));
            }
            let scopes = d.esign_scopes();
            match with_retries(|| d.client.jwt_token(&su.user_id, &scopes)).await {
                Ok(t) => Ok((t.access_token, who)),
                Err(e) => Err(AppError::Conflict { message: format!("We could not act as {who} ({e}). Nothing was changed.") }.into()),
            }
        }
    }
}
