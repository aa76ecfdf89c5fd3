//! The retention job: deletes what has served its purpose after the configured periods
//! (`[retention]`): ended sessions, used or expired OAuth transactions, wizard progress of ended
//! sessions, setup-check runs older than the period (the latest run of each tenant always stays)
//! remembered Connect message ids past the replay window, and webhook events (with their
//! deliveries) past their period once nothing of them is pending. Audit events are never deleted.
//!
//! Every instance may run it: each step is one idempotent `DELETE`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::config::Retention;
use crate::db::entities::{check_run, connect_message, oauth_transaction, session, webhook_event, wizard_progress};
use crate::error::ServiceResult;
use crate::sessions::{self, Lifetimes};

/// How many rows one pass deleted, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub oauth_transactions: u64,
    pub wizard_progress: u64,
    pub check_runs: u64,
    pub connect_messages: u64,
    pub webhook_events: u64,
}

fn days(d: u32) -> Duration {
    Duration::days(i64::from(d))
}

/// One pass of the retention job at `now`.
pub async fn purge<C: ConnectionTrait>(db: &C, retention: Retention, lifetimes: Lifetimes, now: DateTime<Utc>) -> ServiceResult<Purged> {
    let sessions = sessions::purge_ended(db, lifetimes, days(retention.expired_session_days), now).await?;
    let oauth_transactions = oauth_transaction::Entity::delete_many()
        .filter(
            Condition::any()
                .add(oauth_transaction::Column::ExpiresAt.lt(now - days(retention.expired_session_days)))
                .add(oauth_transaction::Column::ConsumedAt.lt(now - days(retention.expired_session_days))),
        )
        .exec(db)
        .await?
        .rows_affected;
    // Progress whose session is gone and that has not changed for the period.
    let live_sessions = Query::select().column(session::Column::IdHash).from(session::Entity).to_owned();
    let wizard_progress = wizard_progress::Entity::delete_many()
        .filter(wizard_progress::Column::UpdatedAt.lt(now - days(retention.wizard_progress_days)))
        .filter(wizard_progress::Column::SessionHash.not_in_subquery(live_sessions))
        .exec(db)
        .await?
        .rows_affected;
    // Old runs, except each tenant's latest (its results stay on the tenant page).
    let check_runs = check_run::Entity::delete_many()
        .filter(check_run::Column::StartedAt.lt(now - days(retention.check_run_days)))
        .filter(Expr::cust(
            "EXISTS (SELECT 1 FROM check_runs AS newer WHERE newer.tenant_id = check_runs.tenant_id \
             AND newer.environment = check_runs.environment AND newer.started_at > check_runs.started_at)",
        ))
        .exec(db)
        .await?
        .rows_affected;
    let connect_messages = connect_message::Entity::delete_many()
        .filter(connect_message::Column::ReceivedAt.lt(now - days(retention.connect_replay_days) - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected;
    // Old webhook events, their deliveries with them (cascade), unless one is still pending.
    let webhook_events = webhook_event::Entity::delete_many()
        .filter(webhook_event::Column::CreatedAt.lt(now - days(retention.webhook_event_days)))
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d WHERE d.event_id = webhook_events.id AND d.status = 'pending')",
        ))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Purged { sessions, oauth_transactions, wizard_progress, check_runs, connect_messages, webhook_events })
}

/// Runs the job every `every` on this instance, logging what it deleted.
pub fn spawn(portal: Arc<crate::state::Portal>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match purge(&portal.db, portal.config.retention, portal.lifetimes(), Utc::now()).await {
                Ok(purged) => tracing::info!(?purged, "retention job"),
                Err(e) => tracing::warn!(error = %e, "retention job failed; it runs again later"),
            }
        }
    });
}
