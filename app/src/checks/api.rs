//! Setup-check server functions (staff on a tenant, or the customer admin on their own tenant)
//! and the port the server implements.

use leptos::prelude::*;
use uuid::Uuid;

use super::{CheckId, CheckResultView, CheckRunView, RunSummary, StartedRun};
use crate::error::AppError;

/// Whose tenant a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckScope {
    /// Staff, naming the tenant (account managers: read-only, assigned tenants only).
    Staff(Uuid),
    /// The customer admin of an invite session: always their own tenant.
    Invitee,
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for the setup check.
    #[async_trait::async_trait]
    pub trait ChecksPort: Send + Sync + 'static {
        /// The latest run, if any.
        async fn latest(&self, ctx: &RequestCtx, scope: CheckScope) -> Result<Option<CheckRunView>, AppError>;
        /// Opens a run.
        async fn start(&self, ctx: &RequestCtx, scope: CheckScope) -> Result<StartedRun, AppError>;
        /// Runs one check of a run.
        async fn run_one(&self, ctx: &RequestCtx, scope: CheckScope, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError>;
        /// Applies a check's fix and re-runs the check.
        async fn apply_fix(&self, ctx: &RequestCtx, scope: CheckScope, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError>;
        /// Staff: the tenant's past runs, newest first.
        async fn history(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<Vec<RunSummary>, AppError>;
        /// Staff attest a check DocuSign cannot answer (claimed domains), with a justification.
        async fn attest(&self, ctx: &RequestCtx, tenant_id: Uuid, justification: String) -> Result<(), AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::ChecksPort;

#[cfg(feature = "ssr")]
fn checks() -> Result<(crate::ssr::RequestCtx, std::sync::Arc<dyn ChecksPort>), AppError> {
    Ok((crate::ssr::request_ctx()?, crate::ssr::port::<dyn ChecksPort>()?))
}

/// Staff: a tenant's latest run.
#[server(endpoint = "checks/latest")]
pub async fn latest_run(tenant_id: Uuid) -> Result<Option<CheckRunView>, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.latest(&ctx, CheckScope::Staff(tenant_id)).await)
}

/// Staff: opens a run.
#[server(endpoint = "checks/start")]
pub async fn start_run(tenant_id: Uuid) -> Result<StartedRun, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.start(&ctx, CheckScope::Staff(tenant_id)).await)
}

/// Staff: runs one check.
#[server(endpoint = "checks/run_one")]
pub async fn run_check(tenant_id: Uuid, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.run_one(&ctx, CheckScope::Staff(tenant_id), run_id, check_id).await)
}

/// Staff: applies a fix.
#[server(endpoint = "checks/apply_fix")]
pub async fn apply_fix(tenant_id: Uuid, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.apply_fix(&ctx, CheckScope::Staff(tenant_id), run_id, check_id).await)
}

/// Staff: a tenant's past runs.
#[server(endpoint = "checks/history")]
pub async fn run_history(tenant_id: Uuid) -> Result<Vec<RunSummary>, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.history(&ctx, tenant_id).await)
}

/// Staff: attests the claimed-domains check.
#[server(endpoint = "checks/attest")]
pub async fn attest(tenant_id: Uuid, justification: String) -> Result<(), AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.attest(&ctx, tenant_id, justification).await)
}

/// Customer admin: the latest run of their tenant.
#[server(endpoint = "wizard/check_latest")]
pub async fn wizard_latest_run() -> Result<Option<CheckRunView>, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.latest(&ctx, CheckScope::Invitee).await)
}

/// Customer admin: opens a run.
#[server(endpoint = "wizard/check_start")]
pub async fn wizard_start_run() -> Result<StartedRun, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.start(&ctx, CheckScope::Invitee).await)
}

/// Customer admin: runs one check.
#[server(endpoint = "wizard/check_run_one")]
pub async fn wizard_run_check(run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.run_one(&ctx, CheckScope::Invitee, run_id, check_id).await)
}

/// Customer admin: applies a fix.
#[server(endpoint = "wizard/check_apply_fix")]
pub async fn wizard_apply_fix(run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    let (ctx, port) = checks()?;
    crate::ssr::respond(&ctx, port.apply_fix(&ctx, CheckScope::Invitee, run_id, check_id).await)
}

/// Calls the staff or the invitee variant, as the scope says (used by the panel).
pub async fn latest_for(scope: CheckScope) -> Result<Option<CheckRunView>, AppError> {
    match scope {
        CheckScope::Staff(t) => latest_run(t).await,
        CheckScope::Invitee => wizard_latest_run().await,
    }
}

/// See [`latest_for`].
pub async fn start_for(scope: CheckScope) -> Result<StartedRun, AppError> {
    match scope {
        CheckScope::Staff(t) => start_run(t).await,
        CheckScope::Invitee => wizard_start_run().await,
    }
}

/// See [`latest_for`].
pub async fn run_for(scope: CheckScope, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    match scope {
        CheckScope::Staff(t) => run_check(t, run_id, check_id).await,
        CheckScope::Invitee => wizard_run_check(run_id, check_id).await,
    }
}

/// See [`latest_for`].
pub async fn fix_for(scope: CheckScope, run_id: Uuid, check_id: CheckId) -> Result<CheckResultView, AppError> {
    match scope {
        CheckScope::Staff(t) => apply_fix(t, run_id, check_id).await,
        CheckScope::Invitee => wizard_apply_fix(run_id, check_id).await,
    }
}
