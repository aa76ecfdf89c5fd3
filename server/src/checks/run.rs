//! The run lifecycle: a run is a row; each check runs on its own (so the person sees each result
//! as it completes) and stores its outcome. When a run's last check lands, the run is closed with
//! its overall status and every check whose status changed since the previous run writes an
//! audit event; when the overall status differs from what the tenant's setup check said before,
//! the `tenant.setup_check.changed` webhook is queued in the same transaction. What each check
//! reads lives in `facts`, its verdict in `rules`.

use app::checks::{CheckId, RunOverall, RunTrigger};
use app::error::AppError;
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use super::facts;
use super::rules::{self, CheckOutcome};
use crate::audit::{self, Actor, Event};
use crate::db::entities::{check_result, check_run, latest_check_run};
use crate::error::ServiceResult;
use crate::state::Deps;

/// Opens a run.
pub async fn start<C: ConnectionTrait>(db: &C, d: &Deps<'_>, tenant_id: Uuid, trigger: RunTrigger, requested_by: &str) -> ServiceResult<Uuid> {
    let id = Uuid::new_v4();
    check_run::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        trigger: Set(trigger.as_str().to_owned()),
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
pub async fn run_one(d: Deps<'_>, tenant_id: Uuid, run_id: Uuid, check_id: CheckId, actor: &Actor, request_id: Option<&str>) -> ServiceResult<CheckOutcome> {
    let run = run_of(&d, tenant_id, run_id).await?;
    let outcome = facts::evaluate(d, tenant_id, check_id, actor, request_id).await?;
    let model = check_result::ActiveModel {
        run_id: Set(run_id),
        check_id: Set(check_id.as_str().to_owned()),
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
pub async fn run_all(d: Deps<'_>, tenant_id: Uuid, trigger: RunTrigger, actor: &Actor, request_id: Option<&str>) -> ServiceResult<(Uuid, Vec<CheckOutcome>)> {
    let run_id = start(d.db, &d, tenant_id, trigger, &actor.label).await?;
    let mut outcomes = Vec::new();
    for id in CheckId::ALL {
        outcomes.push(run_one(d, tenant_id, run_id, id, actor, request_id).await?);
    }
    Ok((run_id, outcomes))
}

async fn finish_if_complete(d: &Deps<'_>, run: &check_run::Model, actor: &Actor, request_id: Option<&str>) -> ServiceResult<()> {
    let results = outcomes_of(d.db, run.id).await?;
    if results.len() < CheckId::ALL.len() {
        return Ok(());
    }
    let overall = RunOverall::from(rules::overall(&results));
    let now = Utc::now();
    // The close, its audit events and the webhook commit together. Exactly one caller closes a
    // run first (a conditional UPDATE), so its changes are recorded once.
    let txn = crate::db::begin(d.db).await?;
    let first_close = check_run::Entity::update_many()
        .col_expr(check_run::Column::FinishedAt, Expr::value(now))
        .col_expr(check_run::Column::Overall, Expr::value(overall.as_str()))
        .filter(check_run::Column::Id.eq(run.id))
        .filter(check_run::Column::FinishedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    // What the tenant's setup check said before this result: the previous run's overall on the
    // first close, this run's own when one of its checks ran again (after a fix).
    let was = if first_close {
        let previous = check_run::Entity::find()
            .filter(check_run::Column::TenantId.eq(run.tenant_id))
            .filter(check_run::Column::Environment.eq(run.environment.clone()))
            .filter(check_run::Column::Id.ne(run.id))
            .filter(check_run::Column::FinishedAt.is_not_null())
            .filter(check_run::Column::Overall.ne(RunOverall::Abandoned.as_str()))
            .order_by_desc(check_run::Column::StartedAt)
            .one(&txn)
            .await?;
        previous.map(|p| p.overall()).transpose()?.flatten()
    } else {
        let current = check_run::Entity::find_by_id(run.id).one(&txn).await?.ok_or_else(|| AppError::not_found("Check run"))?;
        let was = current.overall()?;
        let mut model: check_run::ActiveModel = current.into();
        model.finished_at = Set(Some(now));
        model.overall = Set(Some(overall.as_str().to_owned()));
        model.update(&txn).await?;
        was
    };
    if first_close {
        // Compare with the previous finished run of the tenant: each changed check is audited.
        let previous = check_run::Entity::find()
            .filter(check_run::Column::TenantId.eq(run.tenant_id))
            .filter(check_run::Column::Environment.eq(run.environment.clone()))
            .filter(check_run::Column::Id.ne(run.id))
            .filter(check_run::Column::FinishedAt.is_not_null())
            .order_by_desc(check_run::Column::StartedAt)
            .one(&txn)
            .await?;
        let before = match &previous {
            Some(p) => outcomes_of(&txn, p.id).await?,
            None => Vec::new(),
        };
        for now in &results {
            let was = before.iter().find(|b| b.id == now.id).map(|b| b.status);
            if was != Some(now.status) {
                audit::record(
                    &txn,
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
    }
    // The run re-checks what staff overrode: passing now clears an override, expiry ends it.
    crate::checks::overrides::after_run(&txn, run.tenant_id, d.env, &results, run.id, actor, request_id).await?;
    if was != Some(overall) {
        let data = json!({
            "run_id": run.id,
            "overall": overall,
            "previous_overall": was,
            "checks": results.iter().map(|r| json!({ "check": r.id, "status": r.status })).collect::<Vec<_>>(),
        });
        crate::webhooks::emit(&txn, run.tenant_id, d.env, crate::webhooks::WebhookEventType::SetupCheckChanged, data).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The stored outcomes of a run, in check order. A row naming a check the portal does not know is
/// an error naming the row.
pub async fn outcomes_of<C: ConnectionTrait>(db: &C, run_id: Uuid) -> ServiceResult<Vec<CheckOutcome>> {
    let rows = check_result::Entity::find().filter(check_result::Column::RunId.eq(run_id)).all(db).await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.check_id()?;
        // A stored outcome the portal cannot read is an error naming the row, never a check that
        // silently disappears from the run.
        let outcome = serde_json::from_value::<CheckOutcome>(row.outcome).map_err(|e| {
            crate::error::ServiceError::unexpected(format!("check result {} of run {run_id}: stored outcome does not decode: {e}", id.as_str()))
        })?;
        outcomes.push(outcome);
    }
    outcomes.sort_by_key(|o| CheckId::ALL.iter().position(|id| *id == o.id));
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

/// The latest run of each of `tenants` in each environment it ran in: the runs
/// `latest_check_runs` names, so the list, the tenant page and the ISV API agree on them.
pub async fn latest_runs<C: ConnectionTrait>(db: &C, tenants: &[Uuid]) -> ServiceResult<Vec<check_run::Model>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let latest = latest_check_run::Entity::find()
        .select_only()
        .column(latest_check_run::Column::RunId)
        .filter(latest_check_run::Column::TenantId.is_in(tenants.to_vec()))
        .into_query();
    Ok(check_run::Entity::find().filter(check_run::Column::Id.in_subquery(latest)).all(db).await?)
}

/// The tenant's latest run in `env` with its outcomes (see [`latest_runs`]).
pub async fn latest<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: &str) -> ServiceResult<Option<(check_run::Model, Vec<CheckOutcome>)>> {
    let run = latest_runs(db, &[tenant_id]).await?.into_iter().find(|r| r.environment == env);
    match run {
        Some(r) => {
            let outcomes = outcomes_of(db, r.id).await?;
            Ok(Some((r, outcomes)))
        }
        None => Ok(None),
    }
}

/// The tenant's consent state if it changed after `run` started (a revocation found by a later
/// verification, a new consent): the run's results predate it and must not read as current.
pub async fn consent_changed_since<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    env: app::environment::Environment,
    run: &check_run::Model,
) -> ServiceResult<Option<app::onboarding::model::ConsentStatus>> {
    let status = crate::onboarding::state::status(db, tenant_id, env).await?;
    Ok(status.updated_at.is_some_and(|at| at > run.started_at).then_some(status))
}
