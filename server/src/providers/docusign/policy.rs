//! The call policy for DocuSign: bounded retries of transient failures with exponential backoff
//! that honours `Retry-After`, and per-account budgets taken before each eSignature call (so a
//! bulk run never exceeds an account's burst or hourly limit). Onboarding, verification, checks
//! and fixes all call DocuSign through these two functions.

use std::future::Future;
use std::time::Duration;

use super::budget::{AccountBudgets, BURST_WINDOW};
use super::{Api, ProviderError};

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
pub async fn on_account<T, F, Fut>(budgets: &AccountBudgets, account: &str, mut call: F) -> Result<Api<T>, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Api<T>, ProviderError>>,
{
    // When the last attempt left: its answer describes the account's window at that time.
    let sent = std::sync::Mutex::new(std::time::Instant::now());
    let result = with_retries(|| {
        let attempt = call();
        let sent = &sent;
        async move {
            budgets.acquire(account).await?;
            *sent.lock().expect("sent lock") = std::time::Instant::now();
            let answer = attempt.await;
            if let Err(ProviderError::RateLimited { retry_after_secs, .. }) = &answer {
                let wait = Duration::from_secs(retry_after_secs.unwrap_or(30));
                if wait > BURST_WINDOW {
                    budgets.hourly_exhausted(account, wait);
                } else {
                    budgets.exhausted(account, wait);
                }
            }
            answer
        }
    })
    .await;
    if let Ok(api) = &result {
        budgets.record(account, &api.limits, *sent.lock().expect("sent lock"));
    }
    result
}
