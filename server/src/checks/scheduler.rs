//! The scheduled re-check: a background worker re-runs every onboarded tenant's setup check at a
//! configurable interval, jittered (±10 %) so runs do not cluster. Claiming due tenants is a
//! lease in the database (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes writers), so
//! several portal instances never run one tenant at once, and a crashed worker's lease expires
//! and another takes over. A run abandoned by a crash stays visible as `abandoned`; its tenant is
//! not advanced, so nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use app::checks::{RunOverall, RunTrigger};
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::audit::Actor;
use crate::error::ServiceResult;
use crate::state::Portal;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Time between two checks of one tenant (before jitter).
    pub interval: chrono::Duration,
    /// How often the worker looks for due tenants.
    pub tick: Duration,
    /// Tenants claimed at once; while a full batch comes back, the worker claims again without
    /// waiting for the next tick.
    pub batch: u64,
    /// Tenants checked at once by this worker (DocuSign's per-account limits are kept by the
    /// account budgets on top of this).
    pub concurrency: usize,
    /// How long a claim lasts; a worker that dies holding it loses it after this.
    pub lease: chrono::Duration,
    /// This worker's name in leases (host and process).
    pub owner: String,
}

impl SchedulerSettings {
    /// The interval with ±10 % jitter.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let spread = self.interval.num_seconds() / 10;
        let jitter = if spread > 0 { rand::thread_rng().gen_range(-spread..=spread) } else { 0 };
        now + self.interval + chrono::Duration::seconds(jitter)
    }
}

fn sql(db: &impl ConnectionTrait, postgres: &str, sqlite: &str, values: Vec<sea_orm::Value>) -> Statement {
    let backend = db.get_database_backend();
    let text = if backend == DbBackend::Postgres { postgres } else { sqlite };
    Statement::from_sql_and_values(backend, text, values)
}

/// Gives every tenant with a pinned system user a schedule row (due now when new).
pub async fn ensure_schedules<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> ServiceResult<u64> {
    let stmt = sql(
        db,
        "INSERT INTO check_schedules (tenant_id, environment, next_run_at) \
         SELECT su.tenant_id, su.environment, $1 FROM system_users su \
         WHERE NOT EXISTS (SELECT 1 FROM check_schedules cs WHERE cs.tenant_id = su.tenant_id AND cs.environment = su.environment)",
        "INSERT INTO check_schedules (tenant_id, environment, next_run_at) \
         SELECT su.tenant_id, su.environment, ? FROM system_users su \
         WHERE NOT EXISTS (SELECT 1 FROM check_schedules cs WHERE cs.tenant_id = su.tenant_id AND cs.environment = su.environment)",
        vec![now.into()],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// Claims up to `batch` due tenants for `owner` until `now + lease`. Concurrent claimers get
/// disjoint sets.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    batch: u64,
) -> ServiceResult<Vec<(Uuid, String)>> {
    let until = now + lease;
    let stmt = sql(
        db,
        "UPDATE check_schedules SET lease_owner = $1, lease_until = $2 \
         WHERE (tenant_id, environment) IN ( \
           SELECT tenant_id, environment FROM check_schedules \
           WHERE next_run_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
           ORDER BY next_run_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING tenant_id, environment",
        "UPDATE check_schedules SET lease_owner = ?, lease_until = ? \
         WHERE (tenant_id, environment) IN ( \
           SELECT tenant_id, environment FROM check_schedules \
           WHERE next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?) \
           ORDER BY next_run_at LIMIT ?) \
         RETURNING tenant_id, environment",
        if db.get_database_backend() == DbBackend::Postgres {
            vec![owner.into(), until.into(), now.into(), (batch as i64).into()]
        } else {
            vec![owner.into(), until.into(), now.into(), now.into(), (batch as i64).into()]
        },
    );
    let rows = db.query_all_raw(stmt).await?;
    let mut claimed = Vec::new();
    for row in rows {
        let tenant: Uuid = row.try_get("", "tenant_id")?;
        let env: String = row.try_get("", "environment")?;
        claimed.push((tenant, env));
    }
    Ok(claimed)
}

/// Releases a claim after a run and sets the next due time; false when the lease was lost (it
/// expired and another worker took the tenant), in which case nothing is changed.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    tenant_id: Uuid,
    env: &str,
    run_id: Option<Uuid>,
    next_run_at: DateTime<Utc>,
) -> ServiceResult<bool> {
    let stmt = sql(
        db,
        "UPDATE check_schedules SET next_run_at = $1, lease_owner = NULL, lease_until = NULL, last_run_id = $2 \
         WHERE tenant_id = $3 AND environment = $4 AND lease_owner = $5",
        "UPDATE check_schedules SET next_run_at = ?, lease_owner = NULL, lease_until = NULL, last_run_id = ? \
         WHERE tenant_id = ? AND environment = ? AND lease_owner = ?",
        vec![next_run_at.into(), run_id.into(), tenant_id.into(), env.into(), owner.into()],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected() == 1)
}

/// Marks runs left unfinished by a dead worker as `abandoned` (their results stay readable).
pub async fn close_abandoned<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: &str, now: DateTime<Utc>) -> ServiceResult<u64> {
    let stmt = sql(
        db,
        "UPDATE check_runs SET finished_at = $1, overall = $2 WHERE tenant_id = $3 AND environment = $4 AND finished_at IS NULL AND trigger = $5",
        "UPDATE check_runs SET finished_at = ?, overall = ? WHERE tenant_id = ? AND environment = ? AND finished_at IS NULL AND trigger = ?",
        vec![now.into(), RunOverall::Abandoned.as_str().into(), tenant_id.into(), env.into(), RunTrigger::Scheduled.as_str().into()],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// One pass: schedule new tenants, claim a batch of due ones, run their checks concurrently
/// (interleaved by account, see [`super::bulk`]), release each as it finishes. Returns how many
/// tenants were checked.
pub async fn tick(portal: &Arc<Portal>, settings: &SchedulerSettings) -> ServiceResult<usize> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let now = Utc::now();
    ensure_schedules(&portal.db, now).await?;
    let claimed = claim(&portal.db, &settings.owner, now, settings.lease, settings.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = claimed.iter().map(|(t, _)| *t).collect();
    let accounts: std::collections::HashMap<(Uuid, String), String> = crate::db::entities::system_user::Entity::find()
        .filter(crate::db::entities::system_user::Column::TenantId.is_in(ids))
        .all(&portal.db)
        .await?
        .into_iter()
        .map(|su| ((su.tenant_id, su.environment), su.account_id))
        .collect();
    let items: Vec<(String, (Uuid, String))> = claimed
        .into_iter()
        .map(|(t, env)| (accounts.get(&(t, env.clone())).cloned().unwrap_or_else(|| t.to_string()), (t, env)))
        .collect();
    let worker = {
        let (portal, settings) = (portal.clone(), settings.clone());
        move |(tenant_id, env_name): (Uuid, String)| {
            let (portal, settings) = (portal.clone(), settings.clone());
            async move { check_one(&portal, &settings, tenant_id, &env_name, now).await }
        }
    };
    let mut done = 0;
    let mut failure = None;
    super::bulk::run_many(portal.budgets.clone(), items, settings.concurrency, worker, |r: ServiceResult<()>| {
        done += 1;
        if let Err(e) = r {
            failure = Some(e);
        }
    })
    .await;
    match failure {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// Runs one claimed tenant's scheduled check and releases its claim.
async fn check_one(portal: &Portal, settings: &SchedulerSettings, tenant_id: Uuid, env_name: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let actor = Actor::system("scheduled check");
    close_abandoned(&portal.db, tenant_id, env_name, now).await?;
    let run_id = match app::environment::Environment::parse(env_name).and_then(|env| portal.deps(env)) {
        Some(deps) => match super::run::run_all(deps, tenant_id, RunTrigger::Scheduled, &actor, None).await {
            Ok((run_id, _)) => Some(run_id),
            Err(e) => {
                tracing::warn!(%tenant_id, error = %e, "scheduled check failed; it will be retried");
                None
            }
        },
        None => {
            tracing::warn!(%tenant_id, environment = env_name, "scheduled check skipped: the environment is not configured here");
            None
        }
    };
    // A failed run is retried at the next interval, not in a tight loop.
    if !complete(&portal.db, &settings.owner, tenant_id, env_name, run_id, settings.next_after(Utc::now())).await? {
        tracing::warn!(%tenant_id, "lost the lease of a scheduled check (another worker took over)");
    }
    Ok(())
}

/// Runs the worker until the process ends.
pub fn spawn(portal: Arc<Portal>, settings: SchedulerSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let full = match tick(&portal, &settings).await {
                Ok(n) if n > 0 => {
                    tracing::info!(tenants = n, "scheduled setup checks ran");
                    n as u64 >= settings.batch
                }
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler tick failed");
                    false
                }
            };
            // A full batch means more may be due: claim again at once.
            if !full {
                tokio::time::sleep(settings.tick).await;
            }
        }
    })
}
