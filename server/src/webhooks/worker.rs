//! The delivery worker: claims due deliveries under a lease in the database, POSTs each signed
//! event to its endpoint, and records the outcome.
//!
//! - Claiming is one conditional `UPDATE … RETURNING` (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
//!   SQLite serializes writers), so concurrent workers, in one process or many, get disjoint
//!   deliveries, and a delivery is never sent twice at once. The lease outlasts the request
//!   timeout; recording the outcome is conditional on still holding it.
//! - Nothing is lost on `kill -9`: a claimed delivery whose worker died keeps `pending`, and
//!   once its lease runs out the next worker claims it again (at-least-once delivery; receivers
//!   deduplicate by `webhook-id`, the event's id, the same on every attempt).
//! - A 2xx answer marks the delivery delivered. Anything else (another status, a redirect, a
//!   timeout, a refused connection) schedules the next attempt by [`RETRY_DELAYS`] (exponential,
//!   capped at 12 h, ±10 % jitter: about 40 h in all, never under 24 h); after the last one the
//!   delivery is failed. A disabled endpoint's pending deliveries end as failed.
//! - Logs name the delivery, endpoint and status code, never the secret, the body or the URL
//!   (a receiver's URL may carry its own token).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement};
use uuid::Uuid;

use super::{DeliveryStatus, endpoints, signing};
use crate::crypto::Keyring;
use crate::db::entities::{webhook_delivery, webhook_endpoint, webhook_event};
use crate::error::{ServiceResult, Unexpected};

/// Delays before each retry, after the first attempt: 30 s, 2 min, 10 min, 30 min, then doubling
/// from 1 h to a cap of 12 h. Eleven attempts over about 40 hours (at least 24 h with jitter).
pub const RETRY_DELAYS: [Duration; 10] = [
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(12 * 3600),
    Duration::from_secs(12 * 3600),
];

/// The share of a delay added or taken away at random.
pub const JITTER: f64 = 0.10;

/// The longest `last_error` stored.
const MAX_ERROR_CHARS: usize = 120;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How often the worker looks for due deliveries.
    pub tick: Duration,
    /// Deliveries claimed at once; while a full batch comes back, the worker claims again at once.
    pub batch: u64,
    /// How long a claim lasts; it must outlast `timeout` (a worker that dies loses it after this).
    pub lease: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Delays before each retry; after the last, the delivery is failed.
    pub retry_delays: Vec<Duration>,
    /// This worker's name in leases (unique per worker).
    pub owner: String,
}

impl WorkerSettings {
    /// The production settings from the configuration.
    pub fn from_config(config: &crate::config::WebhookSettings) -> WorkerSettings {
        let timeout = Duration::from_secs(u64::from(config.timeout_seconds));
        WorkerSettings {
            tick: Duration::from_secs(u64::from(config.worker_tick_seconds.max(1))),
            batch: 32,
            lease: timeout * 2 + Duration::from_secs(30),
            timeout,
            retry_delays: RETRY_DELAYS.to_vec(),
            owner: format!("{}-{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "portal".into()), std::process::id(), Uuid::new_v4().simple()),
        }
    }

    /// The delay before the retry that follows `attempts` failed attempts, jittered; `None` when
    /// the schedule is exhausted.
    pub fn next_delay(&self, attempts: usize) -> Option<Duration> {
        let base = *self.retry_delays.get(attempts.checked_sub(1)?)?;
        let factor = 1.0 + rand::thread_rng().gen_range(-JITTER..=JITTER);
        Some(base.mul_f64(factor))
    }
}

/// A delivery worker over a database.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    keyring: Keyring,
    http: reqwest::Client,
    settings: Arc<WorkerSettings>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The endpoint answered 2xx.
    Delivered(u16),
    /// Another answer or no answer; retried unless the schedule is exhausted.
    Failed { status: Option<u16>, error: String },
    /// The endpoint is disabled: the delivery ends as failed, unsent.
    EndpointDisabled,
}

fn sql(db: &impl ConnectionTrait, postgres: &str, sqlite: &str, values: Vec<sea_orm::Value>) -> Statement {
    let backend = db.get_database_backend();
    Statement::from_sql_and_values(backend, if backend == DbBackend::Postgres { postgres } else { sqlite }, values)
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Claims up to `batch` due pending deliveries for `owner` until `now + lease`. Concurrent
/// claimers get disjoint sets; a delivery whose lease ran out is due again.
pub async fn claim<C: ConnectionTrait>(db: &C, owner: &str, now: DateTime<Utc>, lease: Duration, batch: u64) -> ServiceResult<Vec<Uuid>> {
    let until = now + chrono_of(lease);
    let pending = DeliveryStatus::Pending.as_str();
    let stmt = sql(
        db,
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 \
         WHERE id IN ( \
           SELECT id FROM webhook_deliveries \
           WHERE status = $3 AND next_attempt_at <= $4 AND (lease_until IS NULL OR lease_until < $4) \
           ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED) \
         RETURNING id",
        "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? \
         WHERE id IN ( \
           SELECT id FROM webhook_deliveries \
           WHERE status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) \
           ORDER BY next_attempt_at LIMIT ?) \
         RETURNING id",
        if db.get_database_backend() == DbBackend::Postgres {
            vec![owner.into(), until.into(), pending.into(), now.into(), (batch as i64).into()]
        } else {
            vec![owner.into(), until.into(), pending.into(), now.into(), now.into(), (batch as i64).into()]
        },
    );
    let mut ids = Vec::new();
    for row in db.query_all_raw(stmt).await? {
        ids.push(row.try_get::<Uuid>("", "id")?);
    }
    Ok(ids)
}

/// What an attempt leaves on its delivery row.
struct Outcome<'a> {
    status: DeliveryStatus,
    /// 1 for an attempt made, 0 when nothing was sent.
    attempts_delta: i32,
    code: Option<u16>,
    error: Option<&'a str>,
    /// The next attempt's time (pending only).
    next_attempt_at: Option<DateTime<Utc>>,
}

impl<'a> Outcome<'a> {
    fn ended(error: &'a str) -> Self {
        Outcome { status: DeliveryStatus::Failed, attempts_delta: 0, code: None, error: Some(error), next_attempt_at: None }
    }
}

/// Records an attempt's outcome and releases the lease; false when the lease was lost (it ran
/// out and another worker claimed the delivery), in which case nothing is changed.
async fn finish<C: ConnectionTrait>(db: &C, owner: &str, id: Uuid, outcome: Outcome<'_>) -> ServiceResult<bool> {
    let Outcome { status, attempts_delta, code, error, next_attempt_at } = outcome;
    let now = Utc::now();
    let delivered_at = (status == DeliveryStatus::Delivered).then_some(now);
    let code = code.map(i32::from);
    let error = error.map(|e| e.chars().take(MAX_ERROR_CHARS).collect::<String>());
    let stmt = sql(
        db,
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + $2, last_status_code = $3, last_error = $4, \
           delivered_at = COALESCE($5, delivered_at), next_attempt_at = COALESCE($6, next_attempt_at), \
           lease_owner = NULL, lease_until = NULL, updated_at = $7 \
         WHERE id = $8 AND lease_owner = $9 AND status = $10",
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + ?, last_status_code = ?, last_error = ?, \
           delivered_at = COALESCE(?, delivered_at), next_attempt_at = COALESCE(?, next_attempt_at), \
           lease_owner = NULL, lease_until = NULL, updated_at = ? \
         WHERE id = ? AND lease_owner = ? AND status = ?",
        vec![
            status.as_str().into(),
            attempts_delta.into(),
            code.into(),
            error.into(),
            delivered_at.into(),
            next_attempt_at.into(),
            now.into(),
            id.into(),
            owner.into(),
            DeliveryStatus::Pending.as_str().into(),
        ],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected() == 1)
}

impl Worker {
    /// A worker over `db`, opening endpoint secrets with `keyring`.
    pub fn new(db: DatabaseConnection, keyring: Keyring, settings: WorkerSettings) -> ServiceResult<Worker> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect is a failure (the specification's advice): the endpoint URL should be fixed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("consent-portal-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unexpected("building the webhook HTTP client")?;
        Ok(Worker { db, keyring, http, settings: Arc::new(settings) })
    }

    /// The worker's settings.
    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// One pass: claims a batch of due deliveries and attempts each (concurrently). Returns how
    /// many were attempted.
    pub async fn tick(&self) -> ServiceResult<usize> {
        let claimed = claim(&self.db, &self.settings.owner, Utc::now(), self.settings.lease, self.settings.batch).await?;
        let n = claimed.len();
        let results = futures::future::join_all(claimed.into_iter().map(|id| self.attempt(id))).await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    /// Attempts one claimed delivery and records the outcome.
    pub async fn attempt(&self, id: Uuid) -> ServiceResult<Attempt> {
        let owner = self.settings.owner.as_str();
        let delivery = webhook_delivery::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| crate::error::ServiceError::unexpected(format!("webhook delivery {id} vanished")))?;
        let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id).one(&self.db).await?;
        let event = webhook_event::Entity::find_by_id(delivery.event_id).one(&self.db).await?;
        let (Some(endpoint), Some(event)) = (endpoint, event) else {
            finish(&self.db, owner, id, Outcome::ended("the endpoint or event was deleted")).await?;
            return Ok(Attempt::EndpointDisabled);
        };
        if endpoint.disabled_at.is_some() {
            finish(&self.db, owner, id, Outcome::ended("endpoint disabled")).await?;
            return Ok(Attempt::EndpointDisabled);
        }
        let outcome = self.send(&endpoint, &event).await;
        let attempts = usize::try_from(delivery.attempts).unwrap_or(0) + 1;
        let kept = match &outcome {
            Attempt::Delivered(code) => {
                tracing::info!(delivery_id = %id, endpoint_id = %endpoint.id, event_id = %event.id, status = code, "webhook delivered");
                let done = Outcome { status: DeliveryStatus::Delivered, attempts_delta: 1, code: Some(*code), error: None, next_attempt_at: None };
                finish(&self.db, owner, id, done).await?
            }
            Attempt::Failed { status, error } => match self.settings.next_delay(attempts) {
                Some(delay) => {
                    tracing::info!(delivery_id = %id, endpoint_id = %endpoint.id, attempts, status, error, "webhook attempt failed; will retry");
                    let next = Utc::now() + chrono_of(delay);
                    let retry = Outcome { status: DeliveryStatus::Pending, attempts_delta: 1, code: *status, error: Some(error), next_attempt_at: Some(next) };
                    finish(&self.db, owner, id, retry).await?
                }
                None => {
                    tracing::warn!(delivery_id = %id, endpoint_id = %endpoint.id, attempts, status, error, "webhook delivery failed for good");
                    let failed = Outcome { status: DeliveryStatus::Failed, attempts_delta: 1, code: *status, error: Some(error), next_attempt_at: None };
                    finish(&self.db, owner, id, failed).await?
                }
            },
            Attempt::EndpointDisabled => true,
        };
        if !kept {
            tracing::warn!(delivery_id = %id, "lost the lease of a webhook delivery (another worker took over)");
        }
        Ok(outcome)
    }

    /// POSTs the event's stored body to the endpoint, signed, and classifies the answer.
    async fn send(&self, endpoint: &webhook_endpoint::Model, event: &webhook_event::Model) -> Attempt {
        let secret = match endpoints::secret_of(&self.keyring, endpoint) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(endpoint_id = %endpoint.id, error = %e, "cannot open a webhook endpoint's secret");
                return Attempt::Failed { status: None, error: "the signing secret could not be opened".into() };
            }
        };
        let msg_id = event.id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = match signing::sign(&secret, &msg_id, timestamp, event.payload.as_bytes()) {
            Ok(s) => s,
            Err(_) => return Attempt::Failed { status: None, error: "the signing secret is malformed".into() },
        };
        let request = self
            .http
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signing::HEADER_ID, msg_id)
            .header(signing::HEADER_TIMESTAMP, timestamp.to_string())
            .header(signing::HEADER_SIGNATURE, signature)
            .body(event.payload.clone());
        match request.send().await {
            Ok(res) if res.status().is_success() => Attempt::Delivered(res.status().as_u16()),
            Ok(res) => {
                let code = res.status().as_u16();
                Attempt::Failed { status: Some(code), error: format!("answered HTTP {code}") }
            }
            // The error's text may name the URL (and a token in it): store a category only.
            Err(e) => Attempt::Failed { status: None, error: describe(&e).into() },
        }
    }
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirected"
    } else if e.is_body() || e.is_decode() {
        "the response could not be read"
    } else {
        "the request failed"
    }
}

/// Runs the worker until the process ends.
pub fn spawn(worker: Worker) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let full = match worker.tick().await {
                Ok(n) => n as u64 >= worker.settings.batch,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker tick failed");
                    false
                }
            };
            if !full {
                tokio::time::sleep(worker.settings.tick).await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_schedule_spans_more_than_24_hours_even_with_the_least_jitter() {
        let least: f64 = RETRY_DELAYS.iter().map(|d| d.as_secs_f64() * (1.0 - JITTER)).sum();
        assert!(least >= 24.0 * 3600.0, "{least} s");
        // Exponential backoff: never shorter than the one before.
        assert!(RETRY_DELAYS.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn the_next_delay_is_jittered_around_the_schedule_and_ends_after_the_last() {
        let s = WorkerSettings::from_config(&crate::config::WebhookSettings::default());
        assert!(s.lease > s.timeout, "a lease outlasts the request");
        for attempts in 1..=RETRY_DELAYS.len() {
            let d = s.next_delay(attempts).unwrap().as_secs_f64();
            let base = RETRY_DELAYS[attempts - 1].as_secs_f64();
            assert!(d >= base * (1.0 - JITTER) - 0.001 && d <= base * (1.0 + JITTER) + 0.001, "{attempts}: {d}");
        }
        assert_eq!(s.next_delay(RETRY_DELAYS.len() + 1), None);
    }
}
