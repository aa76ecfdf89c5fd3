//! The backend behind the app's ports: one `Portal` value holding the database and settings,
//! implementing each port by authorizing the caller and calling one service function.

use std::sync::Arc;

use app::auth::Role;
use app::auth::api::AuthPort;
use app::error::{AppError, AppResult};
use app::ssr::RequestCtx;
use app::staff::api::{NewStaffInput, StaffOption, StaffPort, StaffView};
use app::onboarding::api::OnboardingPort;
use app::onboarding::model::{InviteLandingView, IssuedInvite, SystemUserInput, TenantConsentView, VerificationView, WizardView};
use app::tenants::api::{TenantDetail, TenantInput, TenantSummary, TenantsPort};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::config::Config;
use crate::crypto::Keyring;
use crate::providers::docusign::{DocuSignClient, ProviderSettings};
use crate::error::ServiceResult;
use crate::onboarding::{self, Deps};
use crate::rate_limit::{RedeemLimiter, SignInLimiter};
use crate::sessions::{self, Lifetimes};
use crate::{staff, tenants};
use app::environment::Environment;

const MANAGERS: &[Role] = &[Role::ConfigStaff, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];

/// The portal's backend.
pub struct Portal {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keyring: Keyring,
    /// One DocuSign client per configured environment.
    pub providers: Vec<(Environment, DocuSignClient)>,
    pub sign_in_limiter: SignInLimiter,
    /// Throttles failed invite redemptions per address and per link.
    pub redeem_limiter: RedeemLimiter,
    /// What each DocuSign account still allows us (from its rate-limit headers).
    pub budgets: Arc<crate::checks::budget::AccountBudgets>,
}

/// Why the portal cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("docusign.{env}: {message}")]
    Provider { env: &'static str, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl Portal {
    /// A backend over `db` with `config`; refuses to start without encryption keys or with an
    /// invalid DocuSign environment (key unparseable or under 2048 bits, plain http, …).
    pub fn new(db: DatabaseConnection, config: Arc<Config>) -> Result<Self, StartError> {
        let keyring = Keyring::parse(config.encryption_keys.as_ref())?;
        let mut providers = Vec::new();
        for env in Environment::ALL {
            let Some(isv) = config.docusign.get(env) else { continue };
            let mut settings = ProviderSettings::new(
                isv.account_server.clone(),
                isv.admin_api.clone(),
                isv.integration_key.clone(),
                isv.client_secret.clone(),
                isv.private_key()?,
                isv.redirect_uri.clone(),
            );
            settings.allowed_base_uri_hosts = isv.allowed_base_uri_hosts.clone();
            settings.validate().map_err(|message| StartError::Provider { env: env.as_str(), message })?;
            let client = DocuSignClient::new(settings).map_err(|e| StartError::Provider { env: env.as_str(), message: e.to_string() })?;
            providers.push((env, client));
        }
        Ok(Portal {
            db,
            config,
            keyring,
            providers,
            sign_in_limiter: SignInLimiter::default(),
            redeem_limiter: RedeemLimiter::default(),
            budgets: Default::default(),
        })
    }

    /// The onboarding dependencies of an environment, if it is configured.
    pub fn deps(&self, env: Environment) -> Option<Deps<'_>> {
        let client = self.providers.iter().find(|(e, _)| *e == env).map(|(_, c)| c)?;
        let isv = self.config.docusign.get(env)?;
        Some(Deps { db: &self.db, keyring: &self.keyring, client, isv, env, budgets: &self.budgets })
    }

    /// The onboarding dependencies, or a conflict naming the missing environment.
    pub fn require_deps(&self, env: Environment) -> AppResult<Deps<'_>> {
        self.deps(env).ok_or_else(|| AppError::Conflict {
            message: format!("The DocuSign {} environment is not configured on this portal.", env.as_str()),
        })
    }

    /// The origins of the configured account servers (for the page CSP's `form-action`).
    pub fn account_server_origins(&self) -> Vec<String> {
        self.providers.iter().map(|(_, c)| c.settings().account_server.origin().ascii_serialization()).collect()
    }

    /// Session lifetimes from the configuration.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: chrono::Duration::minutes(i64::from(self.config.session_idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.config.session_absolute_hours)),
        }
    }
}

fn done<T>(ctx: &RequestCtx, result: ServiceResult<T>) -> AppResult<T> {
    result.map_err(|e| e.into_app(&ctx.request_id))
}

#[async_trait::async_trait]
impl AuthPort for Portal {
    async fn sign_in(&self, ctx: &RequestCtx, email: &str, password: &str) -> AppResult<Vec<String>> {
        let attempt = staff::SignInAttempt {
            email,
            password,
            client_ip: ctx.client_ip,
            device_token: ctx.device_token.as_deref(),
            old_session: ctx.session_token.as_deref(),
            request_id: &ctx.request_id,
        };
        let signed_in = done(ctx, staff::sign_in(&self.db, &self.keyring, &self.sign_in_limiter, self.lifetimes(), attempt).await)?;
        let secure = self.config.secure_cookies();
        Ok(vec![
            sessions::set_cookie(&signed_in.session_token, secure, self.lifetimes()),
            sessions::device_cookie(&signed_in.device_token, secure),
        ])
    }

    async fn sign_out(&self, ctx: &RequestCtx) -> AppResult<String> {
        if let Some(token) = &ctx.session_token {
            done(ctx, sessions::delete(&self.db, token).await)?;
        }
        Ok(sessions::clear_cookie(self.config.secure_cookies()))
    }
}

#[async_trait::async_trait]
impl TenantsPort for Portal {
    async fn list(&self, ctx: &RequestCtx, include_archived: bool) -> AppResult<Vec<TenantSummary>> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::list(&self.db, viewer, include_archived).await)
    }

    async fn page(&self, ctx: &RequestCtx, query: app::tenants::api::TenantQuery) -> AppResult<app::tenants::api::TenantPage> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::page(&self.db, viewer, &query).await)
    }

    async fn get(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<TenantDetail> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::get(&self.db, viewer, id).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: TenantInput) -> AppResult<Uuid> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn update(&self, ctx: &RequestCtx, id: Uuid, input: TenantInput) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::update(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, input).await)
    }

    async fn set_archived(&self, ctx: &RequestCtx, id: Uuid, archived: bool) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::set_archived(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, archived).await)
    }
}

#[async_trait::async_trait]
impl StaffPort for Portal {
    async fn list(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::list(&self.db).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: NewStaffInput) -> AppResult<Uuid> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn set_active(&self, ctx: &RequestCtx, id: Uuid, active: bool) -> AppResult<()> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::set_active(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, active).await)
    }

    async fn end_sessions(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<u64> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::end_sessions(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id).await)
    }

    async fn account_managers(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffOption>> {
        ctx.require_role(MANAGERS)?;
        done(ctx, staff::account_managers(&self.db).await)
    }
}

async fn tenant_env(db: &DatabaseConnection, tenant_id: Uuid) -> ServiceResult<Environment> {
    use sea_orm::EntityTrait;
    let t = crate::db::entities::tenant::Entity::find_by_id(tenant_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Tenant"))?;
    t.environment()
}

#[async_trait::async_trait]
impl OnboardingPort for Portal {
    async fn tenant_consent(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<TenantConsentView> {
        let viewer = ctx.require_staff()?.clone();
        let result: ServiceResult<TenantConsentView> = async {
            let t = tenants::visible(&self.db, &viewer, tenant_id).await?;
            let env = t.environment()?;
            let su = onboarding::records::system_user(&self.db, tenant_id, env).await?;
            let history = crate::audit::recent_for_tenant(&self.db, tenant_id, &["consent.state_changed", "invite."], Some(crate::audit::PAGE_EVENTS)).await?;
            Ok(TenantConsentView {
                tenant_id,
                environment: env,
                environment_configured: self.deps(env).is_some(),
                status: onboarding::state::status(&self.db, tenant_id, env).await?,
                receipt: onboarding::records::latest_grant(&self.db, tenant_id, env).await?.as_ref().map(onboarding::records::receipt_view),
                last_verification: su.as_ref().and_then(onboarding::records::last_verification),
                system_user: su.as_ref().map(onboarding::records::system_user_view),
                history,
                invites: onboarding::invites::list(&self.db, tenant_id).await?,
                can_manage: viewer.role.manages_tenants(),
            })
        }
        .await;
        done(ctx, result)
    }

    async fn create_invite(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<IssuedInvite> {
        ctx.require_role(MANAGERS)?;
        let ttl = chrono::Duration::hours(i64::from(self.config.invite_ttl_hours));
        done(ctx, onboarding::invites::issue(&self.db, &Actor::of(ctx), Some(&ctx.request_id), tenant_id, &self.config.public_url, ttl).await)
    }

    async fn revoke_invite(&self, ctx: &RequestCtx, invite_id: Uuid) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, onboarding::invites::revoke(&self.db, &Actor::of(ctx), Some(&ctx.request_id), invite_id).await)
    }

    async fn staff_verify(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<VerificationView> {
        ctx.require_role(MANAGERS)?;
        let env = done(ctx, tenant_env(&self.db, tenant_id).await)?;
        let deps = self.require_deps(env)?;
        done(ctx, onboarding::verify::run(deps, tenant_id, &Actor::of(ctx), Some(&ctx.request_id)).await)
    }

    async fn invite_landing(&self, ctx: &RequestCtx, token: &str) -> AppResult<InviteLandingView> {
        done(ctx, onboarding::invites::landing(&self.db, token, ctx.invitee.as_ref().map(|i| i.tenant_id)).await)
    }

    async fn redeem_invite(&self, ctx: &RequestCtx, token: &str) -> AppResult<String> {
        let link = sessions::hash_token(token);
        let now = std::time::Instant::now();
        if let Err(retry_after_secs) = self.redeem_limiter.check(ctx.client_ip, &link, now) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let redeemed = onboarding::invites::redeem(&self.db, Some(&ctx.request_id), token, self.lifetimes()).await;
        if matches!(&redeemed, Err(e) if e.is_refusal()) {
            self.redeem_limiter.fail(ctx.client_ip, link, now);
        }
        let (_, session) = done(ctx, redeemed)?;
        if let Some(old) = &ctx.session_token {
            done(ctx, sessions::delete(&self.db, old).await)?;
        }
        Ok(sessions::set_cookie(&session, self.config.secure_cookies(), self.lifetimes()))
    }

    async fn wizard_status(&self, ctx: &RequestCtx) -> AppResult<WizardView> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, tenant_env(&self.db, invitee.tenant_id).await)?;
        let deps = self.deps(env);
        let scopes = deps.as_ref().map(|d| d.individual_scopes()).unwrap_or_default();
        done(ctx, onboarding::wizard::view(&self.db, invitee.tenant_id, env, &invitee.session_hash, deps.as_ref(), scopes).await)
    }

    async fn name_system_user(&self, ctx: &RequestCtx, input: SystemUserInput) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, tenant_env(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        done(ctx, onboarding::wizard::name_system_user(deps, invitee.tenant_id, &invitee.session_hash, input).await)
    }

    async fn choose_account(&self, ctx: &RequestCtx, account_id: String) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, tenant_env(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        let actor = self.invitee_actor(ctx).await;
        done(ctx, onboarding::wizard::choose_account(deps, invitee.tenant_id, &invitee.session_hash, &account_id, &actor, Some(&ctx.request_id)).await)
    }

    async fn wizard_verify(&self, ctx: &RequestCtx) -> AppResult<VerificationView> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, tenant_env(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        let actor = self.invitee_actor(ctx).await;
        done(ctx, onboarding::verify::run(deps, invitee.tenant_id, &actor, Some(&ctx.request_id)).await)
    }

    async fn end_customer_sessions(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<u64> {
        done(ctx, self.end_customer_sessions_impl(ctx, tenant_id).await)
    }

    async fn leave_wizard(&self, ctx: &RequestCtx) -> AppResult<String> {
        let invitee = ctx.require_invitee()?;
        if let Some(token) = &ctx.session_token {
            let actor = self.invitee_actor(ctx).await;
            let result: ServiceResult<()> = async {
                sessions::delete(&self.db, token).await?;
                audit::record(
                    &self.db,
                    Event { actor: &actor, tenant_id: Some(invitee.tenant_id), action: "invite.session_left", before: None, after: None, request_id: Some(&ctx.request_id) },
                )
                .await
            }
            .await;
            done(ctx, result)?;
        }
        Ok(sessions::clear_cookie(self.config.secure_cookies()))
    }
}

impl Portal {
    async fn end_customer_sessions_impl(&self, ctx: &RequestCtx, tenant_id: Uuid) -> ServiceResult<u64> {
        let viewer = ctx.require_role(MANAGERS)?;
        tenants::visible(&self.db, viewer, tenant_id).await?;
        let ended = sessions::end_for_tenant(&self.db, tenant_id).await?;
        audit::record(
            &self.db,
            Event {
                actor: &Actor::of(ctx),
                tenant_id: Some(tenant_id),
                action: "invite.sessions_ended",
                before: None,
                after: Some(serde_json::json!({ "ended_sessions": ended })),
                request_id: Some(&ctx.request_id),
            },
        )
        .await?;
        Ok(ended)
    }

    /// The audit actor of an invite session: the DocuSign user who signed in, when known.
    pub async fn invitee_actor(&self, ctx: &RequestCtx) -> Actor {
        let signed_in = match &ctx.invitee {
            Some(i) => onboarding::records::progress(&self.db, &i.session_hash)
                .await
                .ok()
                .flatten()
                .and_then(|p| p.signed_in_user)
                .and_then(|j| serde_json::from_value::<app::onboarding::model::DocuSignUserView>(j).ok()),
            None => None,
        };
        onboarding::wizard::invitee_actor(signed_in.as_ref())
    }
}

fn check_view(o: &crate::checks::CheckOutcome) -> app::checks::CheckResultView {
    use crate::checks::FixOffer;
    let status = o.status;
    let fix = o.fix.as_ref().map(|f| match f {
        FixOffer::ApplySettings { changes } => app::checks::FixView {
            kind: "apply_settings".into(),
            label: "Apply recommended settings".into(),
            details: changes.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect(),
        },
        FixOffer::CreateConnect { configuration } => app::checks::FixView {
            kind: "create_connect".into(),
            label: "Create the Connect configuration".into(),
            details: vec![format!("urlToPublishTo = {}", configuration.get("urlToPublishTo").and_then(|v| v.as_str()).unwrap_or_default())],
        },
        FixOffer::RepairConnect { connect_id, configuration } => app::checks::FixView {
            kind: "repair_connect".into(),
            label: "Repair the Connect configuration".into(),
            details: vec![
                format!("connectId = {connect_id}"),
                format!("urlToPublishTo = {}", configuration.get("urlToPublishTo").and_then(|v| v.as_str()).unwrap_or_default()),
            ],
        },
        FixOffer::AcceptBaseUri { new_base_uri } => app::checks::FixView {
            kind: "accept_base_uri".into(),
            label: "Accept the new base URI".into(),
            details: vec![format!("base_uri = {new_base_uri}")],
        },
    });
    app::checks::CheckResultView {
        id: o.id.clone(),
        title: o.title.clone(),
        status,
        evidence: o.evidence.clone(),
        remediation: o.remediation.clone(),
        fix,
    }
}

impl Portal {
    /// The tenant a setup-check call is about, checked against the caller: staff must see the
    /// tenant (and manage it, unless `read_only`); an invitee always gets their own tenant.
    async fn check_scope(&self, ctx: &RequestCtx, scope: app::checks::api::CheckScope, read_only: bool) -> AppResult<(Uuid, Environment, Actor)> {
        use app::checks::api::CheckScope;
        match scope {
            CheckScope::Staff(tenant_id) => {
                let staff = if read_only { ctx.require_staff()?.clone() } else { ctx.require_role(MANAGERS)?.clone() };
                let t = done(ctx, tenants::visible(&self.db, &staff, tenant_id).await)?;
                Ok((tenant_id, done(ctx, t.environment())?, Actor::of(ctx)))
            }
            CheckScope::Invitee => {
                let invitee = ctx.require_invitee()?;
                let env = done(ctx, tenant_env(&self.db, invitee.tenant_id).await)?;
                Ok((invitee.tenant_id, env, self.invitee_actor(ctx).await))
            }
        }
    }
}

#[async_trait::async_trait]
impl app::checks::api::ChecksPort for Portal {
    async fn latest(&self, ctx: &RequestCtx, scope: app::checks::api::CheckScope) -> AppResult<Option<app::checks::CheckRunView>> {
        let (tenant_id, env, _) = self.check_scope(ctx, scope, true).await?;
        let latest = done(ctx, crate::checks::run::latest(&self.db, tenant_id, env.as_str()).await)?;
        Ok(latest.map(|(run, outcomes)| app::checks::CheckRunView {
            run_id: run.id,
            trigger: run.trigger,
            requested_by: run.requested_by,
            started_at: run.started_at,
            finished_at: run.finished_at,
            overall: run.overall.and_then(|o| serde_json::from_value(serde_json::Value::String(o)).ok()),
            results: outcomes.iter().map(check_view).collect(),
        }))
    }

    async fn start(&self, ctx: &RequestCtx, scope: app::checks::api::CheckScope) -> AppResult<app::checks::StartedRun> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let run_id = done(ctx, crate::checks::run::start(&self.db, &deps, tenant_id, "manual", &actor.label).await)?;
        Ok(app::checks::StartedRun {
            run_id,
            checks: crate::checks::run::CHECKS.iter().map(|(id, title)| ((*id).to_owned(), (*title).to_owned())).collect(),
        })
    }

    async fn run_one(&self, ctx: &RequestCtx, scope: app::checks::api::CheckScope, run_id: Uuid, check_id: String) -> AppResult<app::checks::CheckResultView> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let outcome = done(ctx, crate::checks::run::run_one(deps, tenant_id, run_id, &check_id, &actor, Some(&ctx.request_id)).await)?;
        Ok(check_view(&outcome))
    }

    async fn apply_fix(&self, ctx: &RequestCtx, scope: app::checks::api::CheckScope, run_id: Uuid, check_id: String) -> AppResult<app::checks::CheckResultView> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let requester = match (&scope, &ctx.invitee) {
            (app::checks::api::CheckScope::Invitee, Some(invitee)) => crate::checks::run::FixRequester::CustomerAdmin { session_hash: &invitee.session_hash },
            _ => crate::checks::run::FixRequester::Staff,
        };
        let outcome = done(ctx, crate::checks::run::apply_fix(deps, tenant_id, run_id, &check_id, requester, &actor, Some(&ctx.request_id)).await)?;
        Ok(check_view(&outcome))
    }

    async fn history(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<Vec<app::checks::RunSummary>> {
        let (tenant_id, env, _) = self.check_scope(ctx, app::checks::api::CheckScope::Staff(tenant_id), true).await?;
        let runs = done(ctx, crate::checks::run::history(&self.db, tenant_id, env.as_str(), 20).await)?;
        Ok(runs
            .into_iter()
            .map(|r| app::checks::RunSummary { run_id: r.id, trigger: r.trigger, requested_by: r.requested_by, started_at: r.started_at, overall: r.overall })
            .collect())
    }

    async fn attest(&self, ctx: &RequestCtx, tenant_id: Uuid, justification: String) -> AppResult<()> {
        let (tenant_id, env, actor) = self.check_scope(ctx, app::checks::api::CheckScope::Staff(tenant_id), false).await?;
        let deps = self.require_deps(env)?;
        done(ctx, crate::checks::run::attest(deps, tenant_id, crate::checks::DOMAINS_CHECK, &justification, &actor, Some(&ctx.request_id)).await)
    }
}
