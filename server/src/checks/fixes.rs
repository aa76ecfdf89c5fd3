//! Fixes: applying the change a check's stored outcome offers, as the identity the requester may
//! act as (the customer admin's own sign-in from the wizard, or the system user for staff),
//! auditing it with before and after, and re-running the check so the answer is its new verdict.

use app::checks::CheckId;
use app::error::AppError;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

use super::rules::{CheckOutcome, FixOffer};
use super::run::{run_of, run_one};
use crate::audit::{self, Actor, Event};
use crate::db::entities::{check_result, system_user};
use crate::error::{ServiceError, ServiceResult, Unexpected};
use crate::onboarding::{credentials, records};
use crate::providers::docusign::ProviderError;
use crate::providers::docusign::policy::{on_account, with_retries};
use crate::state::Deps;

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
    check_id: CheckId,
    requester: FixRequester<'_>,
    actor: &Actor,
    request_id: Option<&str>,
) -> ServiceResult<CheckOutcome> {
    run_of(&d, tenant_id, run_id).await?;
    let stored = check_result::Entity::find_by_id((run_id, check_id.as_str().to_owned()))
        .one(d.db)
        .await?
        .ok_or_else(|| AppError::not_found("Check result"))?;
    let outcome: CheckOutcome = serde_json::from_value(stored.outcome).unexpected("reading a stored check outcome")?;
    let fix = outcome.fix.clone().ok_or_else(|| AppError::conflict("This check offers no fix; it may already pass."))?;
    let su = records::system_user(d.db, tenant_id, d.env)
        .await?
        .ok_or_else(|| AppError::conflict("No system user is pinned."))?;
    let (token, acted_as) = fix_token(&d, tenant_id, &su, requester).await?;
    let unreachable = |e: ProviderError| -> ServiceError { refusal(&e, &acted_as, &su.account_name).into() };
    let after = match &fix {
        FixOffer::ApplySettings { changes } => {
            let partial: serde_json::Map<String, Value> = changes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            on_account(d.budgets, &su.account_id, || d.client.put_settings(&su.base_uri, &su.account_id, &token, &partial)).await.map_err(unreachable)?;
            json!({ "settings": changes })
        }
        FixOffer::CreateConnect { configuration } => {
            let created = on_account(d.budgets, &su.account_id, || d.client.create_connect(&su.base_uri, &su.account_id, &token, configuration)).await.map_err(unreachable)?;
            json!({ "created": created.value.get("connectId") })
        }
        FixOffer::RepairConnect { connect_id, configuration } => {
            on_account(d.budgets, &su.account_id, || d.client.update_connect(&su.base_uri, &su.account_id, &token, configuration)).await.map_err(unreachable)?;
            json!({ "repaired": connect_id })
        }
        FixOffer::AcceptBaseUri { new_base_uri } => {
            d.provider.check_base_uri(new_base_uri).map_err(unreachable)?;
            let mut model: system_user::ActiveModel = su.clone().into();
            model.base_uri = Set(new_base_uri.clone());
            // The new base URI and the webhook that announces it commit together.
            let txn = crate::db::begin(d.db).await?;
            model.update(&txn).await?;
            let data = json!({
                "system_user": { "user_id": su.user_id, "email": su.email, "account_id": su.account_id, "account_name": su.account_name, "base_uri": new_base_uri },
                "previous": { "user_id": su.user_id, "account_id": su.account_id, "base_uri": su.base_uri },
            });
            crate::webhooks::emit(&txn, tenant_id, d.env, crate::webhooks::WebhookEventType::SystemUserChanged, data).await?;
            txn.commit().await?;
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

/// What the person who asked for a fix reads when DocuSign did not make it: nothing changed in
/// every case, and the next action names who can act. Documented answers only are told apart
/// (a passing outage, `USER_LACKS_PERMISSIONS`, a refused token); anything else is a general
/// refusal with DocuSign's words beside it.
fn refusal(e: &ProviderError, acted_as: &str, account_name: &str) -> AppError {
    match e {
        e if e.is_transient() => AppError::conflict("DocuSign could not be reached. Nothing was changed; try again in a minute."),
        ProviderError::UserLacksPermissions => AppError::conflict(format!(
            "DocuSign refused the change: {acted_as} is not allowed to change {account_name} (only an account administrator may). \
             Nothing was changed. An administrator of {account_name} must make the change in DocuSign eSignature Admin, or make \
             that user an account administrator (eSignature Admin → Users); then press “{}”.",
            app::checks::RUN_CHECK
        )),
        // Documented statuses only: 401/403 on a write means this identity may not make it.
        ProviderError::Api { status: 401 | 403, .. } | ProviderError::InvalidToken => AppError::conflict(format!(
            "DocuSign refused the change made as {acted_as}: that user may not change this account ({e}). Nothing was changed. \
             An administrator of the account must apply it: the customer admin from their wizard, or make the system user an account administrator."
        )),
        // Undocumented refusals: no text is matched, and the answer still names who can make the
        // change.
        _ => AppError::conflict(format!(
            "DocuSign refused the change made as {acted_as}. Nothing was changed. The usual cause is missing rights: an \
             administrator of the account must make it, from this page or in DocuSign eSignature Admin. DocuSign said: {e}."
        )),
    }
}

/// The token a fix acts with, and who that is (for the audit event and the messages).
async fn fix_token(d: &Deps<'_>, tenant_id: Uuid, su: &system_user::Model, requester: FixRequester<'_>) -> ServiceResult<(SecretString, String)> {
    let kept_subject = credentials::subject(d.db, tenant_id, d.env, credentials::CONSENT).await?;
    let kept = || credentials::access_token(d.db, d.keyring, d.provider, tenant_id, d.env, credentials::CONSENT);
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
                _ => Err(AppError::conflict(
                    "A fix from the wizard acts as the customer admin who granted consent, signed in with DocuSign in this session. \
                     Sign in with DocuSign again as that admin, then apply the fix. Nothing was changed.",
                )
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
            match with_retries(|| d.provider.cached_app_token(&su.user_id, &scopes)).await {
                Ok(t) => Ok((t.access_token, who)),
                Err(e) => Err(AppError::conflict(format!("We could not act as {who} ({e}). Nothing was changed.")).into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_refused_for_missing_rights_names_who_can_make_it_and_never_shows_the_raw_code() {
        let text = refusal(&ProviderError::UserLacksPermissions, "mia@initech.example (the system user)", "Initech EU").to_string();
        assert!(text.contains("Nothing was changed"), "{text}");
        assert!(text.contains("An administrator of Initech EU must make the change"), "{text}");
        assert!(text.contains(&format!("press “{}”", app::checks::RUN_CHECK)), "{text}");
        assert!(!text.contains("USER_LACKS_PERMISSIONS"), "DocuSign's code is translated, not shown: {text}");
        let outage = refusal(&ProviderError::Unavailable { detail: "HTTP 503".into() }, "x", "A").to_string();
        assert!(outage.contains("could not be reached") && outage.contains("Nothing was changed"), "{outage}");
        let other = ProviderError::Api { status: 400, code: "SOMETHING_NEW".into(), message: "DocuSign's words".into() };
        let general = refusal(&other, "x", "A").to_string();
        assert!(general.contains("administrator of the account must make it") && general.contains("DocuSign's words"), "{general}");
    }
}
