//! The setup-check port: staff (managers to run, anyone who sees the tenant to read) and the
//! customer admin of an invite session (their own tenant only) run checks and apply fixes.

use app::checks::api::{CheckScope, ChecksPort};
use app::checks::{CheckId, CheckResultView, CheckRunView, RunSummary, RunTrigger, StartedRun};
use app::environment::Environment;
use app::error::AppResult;
use app::ssr::RequestCtx;
use uuid::Uuid;

use super::{MANAGERS, done};
use crate::audit::Actor;
use crate::checks::fixes::{self, FixRequester};
use crate::checks::{attest, check_view, run};
use crate::onboarding::wizard;
use crate::state::Portal;
use crate::tenants;

impl Portal {
    /// The tenant a setup-check call is about, checked against the caller: staff must see the
    /// tenant (and manage it, unless `read_only`); an invitee always gets their own tenant.
    async fn check_scope(&self, ctx: &RequestCtx, scope: CheckScope, read_only: bool) -> AppResult<(Uuid, Environment, Actor)> {
        match scope {
            CheckScope::Staff(tenant_id) => {
                if !read_only {
                    ctx.require_role(MANAGERS)?;
                }
                let t = crate::scope::visible_in_request(&self.db, ctx, tenant_id).await?;
                Ok((tenant_id, done(ctx, t.environment())?, Actor::of(ctx)))
            }
            CheckScope::Invitee => {
                let invitee = ctx.require_invitee()?;
                let env = done(ctx, tenants::environment_of(&self.db, invitee.tenant_id).await)?;
                Ok((invitee.tenant_id, env, wizard::session_actor(&self.db, &invitee.session_hash).await))
            }
        }
    }
}

#[async_trait::async_trait]
impl ChecksPort for Portal {
    async fn latest(&self, ctx: &RequestCtx, scope: CheckScope) -> AppResult<Option<CheckRunView>> {
        let (tenant_id, env, _) = self.check_scope(ctx, scope, true).await?;
        let Some((run, outcomes)) = done(ctx, run::latest(&self.db, tenant_id, env.as_str()).await)? else {
            return Ok(None);
        };
        let consent_changed = done(ctx, run::consent_changed_since(&self.db, tenant_id, env, &run).await)?;
        Ok(Some(CheckRunView {
            consent_changed,
            run_id: run.id,
            trigger: done(ctx, run.trigger())?,
            overall: done(ctx, run.overall())?,
            requested_by: run.requested_by,
            started_at: run.started_at,
            finished_at: run.finished_at,
            results: outcomes.iter().map(|o| check_view(o, scope)).collect(),
        }))
    }

    async fn start(&self, ctx: &RequestCtx, scope: CheckScope) -> AppResult<StartedRun> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let run_id = done(ctx, run::start(&self.db, &deps, tenant_id, RunTrigger::Manual, &actor.label).await)?;
        Ok(StartedRun { run_id, checks: CheckId::ALL.iter().map(|id| (*id, id.title().to_owned())).collect() })
    }

    async fn run_one(&self, ctx: &RequestCtx, scope: CheckScope, run_id: Uuid, check_id: CheckId) -> AppResult<CheckResultView> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let outcome = done(ctx, run::run_one(deps, tenant_id, run_id, check_id, &actor, Some(&ctx.request_id)).await)?;
        Ok(check_view(&outcome, scope))
    }

    async fn apply_fix(&self, ctx: &RequestCtx, scope: CheckScope, run_id: Uuid, check_id: CheckId) -> AppResult<CheckResultView> {
        let (tenant_id, env, actor) = self.check_scope(ctx, scope, false).await?;
        let deps = self.require_deps(env)?;
        let requester = match (&scope, &ctx.invitee) {
            (CheckScope::Invitee, Some(invitee)) => FixRequester::CustomerAdmin { session_hash: &invitee.session_hash },
            _ => FixRequester::Staff,
        };
        let outcome = done(ctx, fixes::apply_fix(deps, tenant_id, run_id, check_id, requester, &actor, Some(&ctx.request_id)).await)?;
        Ok(check_view(&outcome, scope))
    }

    async fn history(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<Vec<RunSummary>> {
        let (tenant_id, env, _) = self.check_scope(ctx, CheckScope::Staff(tenant_id), true).await?;
        let runs = done(ctx, run::history(&self.db, tenant_id, env.as_str(), 20).await)?;
        runs.into_iter()
            .map(|r| {
                Ok(RunSummary {
                    run_id: r.id,
                    trigger: done(ctx, r.trigger())?,
                    overall: done(ctx, r.overall())?,
                    requested_by: r.requested_by,
                    started_at: r.started_at,
                })
            })
            .collect()
    }

    async fn attest(&self, ctx: &RequestCtx, tenant_id: Uuid, justification: String) -> AppResult<()> {
        let (tenant_id, env, actor) = self.check_scope(ctx, CheckScope::Staff(tenant_id), false).await?;
        let deps = self.require_deps(env)?;
        done(ctx, attest::attest(deps, tenant_id, CheckId::ClaimedDomains, &justification, &actor, Some(&ctx.request_id)).await)
    }
}
