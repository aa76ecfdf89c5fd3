//! The wizard as an invite session sees it, and its steps that need no redirect: naming the
//! organization path's system user, and pinning the system user's account.

use app::error::AppError;
use app::onboarding::model::*;
use app::environment::Environment;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;
use validator::Validate;

use crate::state::Deps;
use super::records::{self, ProgressUpdate};
use crate::audit::{self, Actor, Event};
use crate::db::entities::{system_user, tenant};
use crate::providers::ProviderError;
use crate::error::{ServiceError, ServiceResult};
use crate::onboarding::prerequisites;

/// Advice on the consent path: organization consent only when the organization screen found an
/// active claimed domain covering the intended system user; otherwise individual consent, with
/// the screen's reason.
pub fn advise(user: &DocuSignUserView, organization: Option<&OrganizationCheckView>) -> PathAdvice {
    match organization {
        _ if !user.has_organization() => PathAdvice {
            recommended: ConsentMode::Individual,
            reasons: vec![
                "Your DocuSign accounts do not belong to an organization, so organization consent is not possible.".into(),
                "To use it later, an administrator must set up a DocuSign organization (Access Management) and claim your e-mail domain.".into(),
            ],
        },
        Some(o) if o.verdict == OrganizationVerdict::Covered => PathAdvice {
            recommended: ConsentMode::Organization,
            reasons: vec![o.headline.clone(), "One consent then covers every user in your organization's active claimed domains.".into()],
        },
        Some(o) => PathAdvice {
            recommended: ConsentMode::Individual,
            reasons: vec![o.headline.clone(), "Individual consent works today: you consent for yourself and become the system user.".into()],
        },
        None => PathAdvice {
            recommended: ConsentMode::Individual,
            reasons: vec!["The portal has not read your organization, so it cannot tell whether organization consent would work.".into()],
        },
    }
}

/// Builds the wizard view for an invite session.
pub async fn view<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    env: Environment,
    session_hash: &str,
    configured: Option<&Deps<'_>>,
    scope_names: Vec<String>,
) -> ServiceResult<WizardView> {
    let t = tenant::Entity::find_by_id(tenant_id).one(db).await?.ok_or_else(|| AppError::not_found("Tenant"))?;
    let records::ConsentRecord { status, system_user: su, grant } = records::consent_record(db, tenant_id, env).await?;
    let progress = records::progress(db, session_hash).await?;
    let signed_in: Option<DocuSignUserView> =
        progress.as_ref().and_then(|p| p.signed_in_user.clone()).and_then(|j| serde_json::from_value(j).ok());
    let candidate: Option<DocuSignUserView> =
        progress.as_ref().and_then(|p| p.candidate.clone()).and_then(|j| serde_json::from_value(j).ok());
    let notice: Option<Notice> = progress.as_ref().and_then(|p| p.notice.clone()).and_then(|j| serde_json::from_value(j).ok());
    let step = step_of(grant.is_some(), status.state, signed_in.is_some(), su.is_some(), candidate.is_some());
    let organization = prerequisites::view(progress.as_ref(), signed_in.as_ref());
    let mut scope_names = scope_names;
    if prerequisites::admin_read_granted(progress.as_ref()) {
        // Individual consent asks for these too (see `callback::start`): say so before it does.
        scope_names.extend(prerequisites::DIRECTORY_SCOPES.iter().map(|s| (*s).to_owned()).filter(|s| !scope_names.contains(s)).collect::<Vec<_>>());
    }
    Ok(WizardView {
        tenant_name: t.display_name,
        environment: env,
        environment_configured: configured.is_some(),
        step,
        advice: signed_in.as_ref().map(|u| advise(u, organization.as_ref())),
        organization,
        signed_in,
        receipt: grant.as_ref().map(records::receipt_view).transpose()?,
        candidate,
        verification: su.as_ref().and_then(records::last_verification),
        system_user: su.as_ref().map(records::system_user_view),
        notice,
        scopes: scope_names.iter().map(|s| (s.clone(), explain_scope(s).to_owned())).collect(),
        status,
    })
}

/// Which step the wizard shows, from what the portal holds for the tenant and this session.
fn step_of(granted: bool, state: ConsentState, signed_in: bool, pinned: bool, candidate: bool) -> WizardStep {
    if !granted || state.is_before_consent() {
        if signed_in { WizardStep::ChoosePath } else { WizardStep::Welcome }
    } else if !pinned || candidate {
        WizardStep::SystemUser
    } else if state == ConsentState::Verified {
        WizardStep::Done
    } else {
        WizardStep::Verify
    }
}

/// The step an invite session's wizard shows now (what [`view`] would say), for texts that name
/// the controls on that screen.
pub async fn current_step<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment, session_hash: &str) -> ServiceResult<WizardStep> {
    let record = records::consent_record(db, tenant_id, env).await?;
    let progress = records::progress(db, session_hash).await?;
    let signed_in = progress.as_ref().is_some_and(|p| p.signed_in_user.is_some());
    let candidate = progress.as_ref().is_some_and(|p| p.candidate.is_some());
    Ok(step_of(record.grant.is_some(), record.status.state, signed_in, record.system_user.is_some(), candidate))
}

fn looks_like_guid(value: &str) -> bool {
    Uuid::parse_str(value).is_ok()
}

fn domain_of(email: &str) -> Option<String> {
    email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())
}

/// Organization path: resolves the system user the admin named (e-mail or user id), checks that
/// its e-mail domain is claimed and active, and that the JWT grant works for it; stores it with
/// its accounts as the candidate.
pub async fn name_system_user(d: Deps<'_>, tenant_id: Uuid, session_hash: &str, input: SystemUserInput) -> ServiceResult<()> {
    let input = SystemUserInput { user: input.user.trim().to_owned() };
    input.validate().map_err(AppError::from)?;
    let grant = match records::latest_grant(d.db, tenant_id, d.env).await? {
        Some(g) if g.mode()? == ConsentMode::Organization => g,
        _ => return Err(AppError::conflict("Naming a system user is part of organization consent; grant it first.").into()),
    };
    let field = |msg: String| ServiceError::App(AppError::field("user", msg));
    let unreachable = || ServiceError::App(AppError::conflict("DocuSign could not be reached. Nothing was changed; please try again."));
    if !looks_like_guid(&input.user) && !input.user.contains('@') {
        return Err(field("Enter an e-mail address (name@yourcompany.com) or a DocuSign user ID (a GUID).".into()));
    }
    // The admin's own JWT grant carries the Admin API read scopes of the organization consent.
    let admin_scopes: Vec<String> = d.admin_consent_scopes();
    let admin_scopes: Vec<&str> = admin_scopes.iter().map(String::as_str).collect();
    let admin_token = match d.provider.app_token(&grant.user_sub, &admin_scopes).await {
        Ok(t) => t.access_token,
        Err(e) if e.is_transient() => return Err(unreachable()),
        Err(e) => {
            return Err(AppError::conflict(format!("We could not use the organization consent to look up users ({e}). Is your own e-mail domain claimed and active?"))
            .into());
        }
    };
    let org_id = grant
        .organization_id
        .clone()
        .ok_or_else(|| AppError::conflict("Your DocuSign accounts do not belong to an organization."))?;
    let domains = match d.directory.reserved_domains(&admin_token, &org_id).await {
        Ok(domains) => domains,
        Err(e) if e.is_transient() => return Err(unreachable()),
        Err(e) => {
            return Err(AppError::conflict(format!(
                "We could not read your organization's claimed domains. Check that you are an administrator of the organization in DocuSign Admin, then try again. DocuSign said: {e}."
            ))
            .into());
        }
    };
    let active: Vec<String> = domains.iter().filter(|r| r.is_active()).map(|r| r.host_name.to_ascii_lowercase()).collect();
    let user_id = if looks_like_guid(&input.user) {
        input.user.clone()
    } else {
        let email_domain = domain_of(&input.user).unwrap_or_default();
        if !active.contains(&email_domain) {
            return Err(field(format!(
                "{email_domain} is not an active claimed domain of your organization (active: {}). Organization consent covers only those.",
                if active.is_empty() { "none".to_owned() } else { active.join(", ") }
            )));
        }
        let profile = match d.directory.user_by_email(&admin_token, &org_id, &input.user).await {
            Ok(profile) => profile,
            Err(e) if e.is_transient() => return Err(unreachable()),
            Err(e) => {
                return Err(AppError::conflict(format!(
                    "We could not look the user up. Enter their DocuSign user ID instead, or check that you are an administrator of the organization. DocuSign said: {e}."
                ))
                .into());
            }
        };
        profile
            .map(|p| p.id)
            .ok_or_else(|| field(format!("No DocuSign user with the e-mail {} in your organization.", input.user)))?
    };
    let token = match d.provider.app_token(&user_id, &d.esign_scopes()).await {
        Ok(t) => t.access_token,
        Err(ProviderError::ConsentRequired) => {
            return Err(field("This user is not covered by your organization's consent: their e-mail domain must be claimed and active.".into()));
        }
        Err(ProviderError::UserNotFound) => return Err(field("DocuSign does not know this user in this environment.".into())),
        Err(e) if e.is_transient() => return Err(unreachable()),
        Err(e) => {
            return Err(AppError::conflict(format!(
                "DocuSign refused to act as this user. Name another system user, or use individual consent signed in as this user. DocuSign said: {e}."
            ))
            .into());
        }
    };
    let info = match d.provider.userinfo(&token).await {
        Ok(i) => i,
        Err(e) if e.is_transient() => return Err(unreachable()),
        Err(e) => {
            return Err(AppError::conflict(format!("DocuSign refused to describe this user. Try again, or name another system user. DocuSign said: {e}.")).into());
        }
    };
    if !domain_of(&info.email).is_some_and(|dom| active.contains(&dom)) {
        return Err(field(format!("{} is not in an active claimed domain of your organization.", info.email)));
    }
    if info.accounts.is_empty() {
        return Err(field("This user belongs to no DocuSign account.".into()));
    }
    records::update_progress(
        d.db,
        session_hash,
        tenant_id,
        d.env,
        ProgressUpdate { candidate: Some(Some(with_roles(&d, records::user_view(&info), &token).await)), notice: Some(None), ..Default::default() },
    )
    .await
}

/// `user` with their role in each of their accounts, read with `token` (acting as them). An
/// account whose address the guard refuses, or whose role DocuSign will not tell, stays
/// `Unknown`: the role informs a choice, it never blocks one.
pub async fn with_roles(d: &Deps<'_>, mut user: DocuSignUserView, token: &secrecy::SecretString) -> DocuSignUserView {
    for account in &mut user.accounts {
        if d.provider.check_base_uri(&account.base_uri).is_err() {
            continue;
        }
        match d.provider.account_role(d.budgets, &account.base_uri, &account.account_id, &user.user_id, token).await {
            Ok(role) => account.role = role,
            Err(e) => tracing::info!(account = %account.account_id, error = %e, "wizard: DocuSign did not say the user's role in an account"),
        }
    }
    user
}

/// What the admin reads when they choose an account where the system user is only a member.
pub fn member_account_warning(account_name: &str) -> String {
    format!(
        "In {account_name} this user is a member, not an administrator: the integration can act as them there, but the portal cannot \
         change the account's settings or Connect for you, and an administrator of the account will have to. Choose an account \
         marked administrator, or tick “{}” to continue with this one.",
        controls::USE_MEMBER_ACCOUNT
    )
}

/// Pins the candidate's account as the tenant's system user and account. An account where the
/// candidate is only a member is refused (a field error that says why) unless `use_member_account`
/// says the admin read the warning and wants it anyway.
pub async fn choose_account(
    d: Deps<'_>,
    tenant_id: Uuid,
    session_hash: &str,
    account_id: &str,
    use_member_account: bool,
    actor: &Actor,
    request_id: Option<&str>,
) -> ServiceResult<()> {
    let progress = records::progress(d.db, session_hash).await?;
    let candidate: DocuSignUserView = progress
        .and_then(|p| p.candidate)
        .and_then(|j| serde_json::from_value(j).ok())
        .ok_or_else(|| AppError::conflict("Choose the system user first."))?;
    let account = candidate
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .ok_or_else(|| AppError::field("account_id", "Choose one of the listed accounts."))?;
    if account.role == AccountRole::Member && !use_member_account {
        return Err(AppError::field("account_id", member_account_warning(&account.account_name)).into());
    }
    d.provider.check_base_uri(&account.base_uri).map_err(|_| {
        AppError::conflict(format!("The account's address {} is not a DocuSign address we may call.", account.base_uri))
    })?;
    let grant = records::latest_grant(d.db, tenant_id, d.env).await?;
    let now = Utc::now();
    let txn = crate::db::begin(d.db).await?;
    let existing = records::system_user(&txn, tenant_id, d.env).await?;
    let model = system_user::ActiveModel {
        tenant_id: Set(tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        user_id: Set(candidate.user_id.clone()),
        email: Set(candidate.email.clone()),
        name: Set(candidate.name.clone()),
        account_id: Set(account.account_id.clone()),
        account_name: Set(account.account_name.clone()),
        base_uri: Set(account.base_uri.clone()),
        organization_id: Set(account.organization_id.clone().or(grant.and_then(|g| g.organization_id))),
        pinned_at: Set(now),
        verified_at: Set(None),
        last_verification: Set(None),
    };
    let before = existing.as_ref().map(|s| json!({ "user_id": s.user_id, "account_id": s.account_id, "base_uri": s.base_uri }));
    if existing.is_some() {
        model.update(&txn).await?;
    } else {
        model.insert(&txn).await?;
    }
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: "consent.system_user_pinned",
            before: before.clone(),
            after: Some(json!({ "user_id": candidate.user_id, "email": candidate.email, "account_id": account.account_id, "account_name": account.account_name, "base_uri": account.base_uri, "role": account.role.as_str() })),
            request_id,
        },
    )
    .await?;
    let moved = existing.as_ref().is_none_or(|s| {
        (s.user_id.as_str(), s.account_id.as_str(), s.base_uri.as_str()) != (candidate.user_id.as_str(), account.account_id.as_str(), account.base_uri.as_str())
    });
    if moved {
        let data = json!({
            "system_user": { "user_id": candidate.user_id, "email": candidate.email, "account_id": account.account_id, "account_name": account.account_name, "base_uri": account.base_uri },
            "previous": before,
        });
        crate::webhooks::emit(&txn, tenant_id, d.env, crate::webhooks::WebhookEventType::SystemUserChanged, data).await?;
    }
    records::update_progress(&txn, session_hash, tenant_id, d.env, ProgressUpdate { candidate: Some(None), notice: Some(None), ..Default::default() }).await?;
    txn.commit().await?;
    Ok(())
}

/// The audit actor of an invite session: the DocuSign user who signed in in it, when known.
pub async fn session_actor<C: ConnectionTrait>(db: &C, session_hash: &str) -> Actor {
    let signed_in = records::progress(db, session_hash)
        .await
        .ok()
        .flatten()
        .and_then(|p| p.signed_in_user)
        .and_then(|j| serde_json::from_value::<DocuSignUserView>(j).ok());
    invitee_actor(signed_in.as_ref())
}

/// Ends the customer admin's own wizard session (the "Leave" button), audited.
pub async fn leave<C: ConnectionTrait>(db: &C, session_token: &str, tenant_id: Uuid, actor: &Actor, request_id: Option<&str>) -> ServiceResult<()> {
    crate::sessions::delete(db, session_token).await?;
    audit::record(db, Event { actor, tenant_id: Some(tenant_id), action: "invite.session_left", before: None, after: None, request_id }).await
}

/// Ends every wizard session of a tenant the viewer may see (staff's "End customer sessions"),
/// audited with how many ended.
pub async fn end_customer_sessions<C: ConnectionTrait>(
    db: &C,
    viewer: &app::auth::StaffPrincipal,
    actor: &Actor,
    request_id: Option<&str>,
    tenant_id: Uuid,
) -> ServiceResult<u64> {
    crate::scope::visible(db, viewer, tenant_id).await?;
    let ended = crate::sessions::end_for_tenant(db, tenant_id).await?;
    let after = Some(json!({ "ended_sessions": ended }));
    audit::record(db, Event { actor, tenant_id: Some(tenant_id), action: "invite.sessions_ended", before: None, after, request_id }).await?;
    Ok(ended)
}

/// The customer admin of an invite session, as an audit actor.
pub fn invitee_actor(signed_in: Option<&DocuSignUserView>) -> Actor {
    match signed_in {
        Some(u) => Actor { id: None, label: format!("{} (customer admin)", u.email) },
        None => Actor::system("customer admin (invite)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(org: bool) -> DocuSignUserView {
        DocuSignUserView {
            user_id: "u".into(),
            name: "n".into(),
            email: "e@x.test".into(),
            accounts: vec![AccountView {
                account_id: "a".into(),
                account_name: "A".into(),
                base_uri: "https://na1.docusign.net".into(),
                is_default: true,
                organization_id: org.then(|| "o".into()),
                role: AccountRole::Admin,
            }],
        }
    }

    #[test]
    fn organization_consent_is_recommended_only_when_the_organization_screen_found_the_system_user_covered() {
        let facts = |status: &str| prerequisites::OrganizationFacts {
            read_at: Utc::now(),
            read: prerequisites::DirectoryRead::Read {
                organizations: vec![prerequisites::AdministeredOrganization {
                    id: "o".into(),
                    name: "Org".into(),
                    domains: vec![crate::providers::ReservedDomain { id: "d".into(), status: status.into(), host_name: "x.test".into(), txt_token: None }],
                }],
            },
            intended_email: None,
        };
        let covered = prerequisites::assess(Some(&facts("active")), "e@x.test", true);
        assert_eq!(advise(&user(true), Some(&covered)).recommended, ConsentMode::Organization);
        let pending = prerequisites::assess(Some(&facts("pending")), "e@x.test", true);
        let advice = advise(&user(true), Some(&pending));
        assert_eq!(advice.recommended, ConsentMode::Individual);
        assert_eq!(advice.reasons[0], pending.headline, "the reason is the screen's");
        assert_eq!(advise(&user(true), None).recommended, ConsentMode::Individual, "an organization alone is not enough");
        let advice = advise(&user(false), Some(&covered));
        assert_eq!(advice.recommended, ConsentMode::Individual);
        assert!(advice.reasons.iter().any(|r| r.contains("claim")));
    }
}
