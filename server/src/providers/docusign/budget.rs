//! Per-account request budgets. DocuSign limits each account (by default 3,000 calls an hour and
//! a burst of 200 per 30 seconds in demo) and says where an account stands in the
//! `X-RateLimit-*` and `X-BurstLimit-*` headers of every answer. Before a call on an account the
//! checks take one request from that account's budget; when the burst budget is spent they wait
//! for the next window instead of being refused, and when the hourly one is spent they stop (the
//! check reports an error; the next scheduled run tries again).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::providers::docusign::{ProviderError, RateLimitInfo};

/// The burst window DocuSign documents.
pub const BURST_WINDOW: Duration = Duration::from_secs(30);

/// Requests kept in reserve below the advertised remaining count (other integrations share the
/// account's budget).
pub const RESERVE: u64 = 2;

#[derive(Debug, Clone)]
struct Budget {
    /// Requests we may still send in the current burst window.
    burst_left: Option<u64>,
    burst_limit: Option<u64>,
    window_started: Instant,
    hourly_left: Option<u64>,
    hourly_reset_epoch: Option<i64>,
}

impl Budget {
    /// An account we know nothing about yet.
    fn unknown() -> Self {
        Budget { burst_left: None, burst_limit: None, window_started: Instant::now(), hourly_left: None, hourly_reset_epoch: None }
    }
}

/// Budgets of every account seen.
#[derive(Debug, Default)]
pub struct AccountBudgets {
    inner: Mutex<HashMap<String, Budget>>,
    refusals: std::sync::atomic::AtomicU64,
}

impl AccountBudgets {
    /// Takes one request from `account`'s budget, waiting for the next burst window when the
    /// current one is spent; refuses (without sending) when the hourly budget is spent.
    pub async fn acquire(&self, account: &str) -> Result<(), ProviderError> {
        loop {
            let wait = {
                let mut map = self.inner.lock().expect("budget lock");
                let Some(b) = map.get_mut(account) else { return Ok(()) };
                if b.window_started.elapsed() >= BURST_WINDOW {
                    b.window_started = Instant::now();
                    b.burst_left = b.burst_limit.map(|l| l.saturating_sub(RESERVE));
                }
                let now = chrono::Utc::now().timestamp();
                if b.hourly_left == Some(0) && b.hourly_reset_epoch.is_some_and(|r| r > now) {
                    return Err(ProviderError::RateLimited { retry_after_secs: b.hourly_reset_epoch.map(|r| (r - now) as u64), reset_epoch: b.hourly_reset_epoch });
                }
                match b.burst_left {
                    Some(0) => BURST_WINDOW.saturating_sub(b.window_started.elapsed()),
                    Some(n) => {
                        b.burst_left = Some(n - 1);
                        if let Some(h) = b.hourly_left.as_mut() {
                            *h = h.saturating_sub(1);
                        }
                        return Ok(());
                    }
                    None => return Ok(()),
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
        }
    }

    /// Learns from a refusal that `account`'s burst budget is spent until `retry_after` from now:
    /// every request on it waits until then (DocuSign's windows need not align with ours).
    /// Waits until `account` has burst budget left in its window, without taking any (a bulk
    /// run waits here before taking a global slot). Returns at once for an unknown account or a
    /// spent hourly budget (the call itself then reports that).
    pub async fn ready(&self, account: &str) {
        loop {
            let wait = {
                let mut map = self.inner.lock().expect("budget lock");
                let Some(b) = map.get_mut(account) else { return };
                if b.window_started.elapsed() >= BURST_WINDOW {
                    b.window_started = Instant::now();
                    b.burst_left = b.burst_limit.map(|l| l.saturating_sub(RESERVE));
                }
                match b.burst_left {
                    Some(0) => BURST_WINDOW.saturating_sub(b.window_started.elapsed()),
                    _ => return,
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
        }
    }

    pub fn exhausted(&self, account: &str, retry_after: Duration) {
        self.refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().expect("budget lock");
        let b = map.entry(account.to_owned()).or_insert_with(Budget::unknown);
        b.burst_left = Some(0);
        // The window "started" so that it ends `retry_after` from now.
        b.window_started = Instant::now() + retry_after.min(BURST_WINDOW) - BURST_WINDOW;
    }

    /// Learns from a refusal that `account`'s hourly budget is spent until `retry_after` from
    /// now: requests on it are refused here, without being sent, until then.
    pub fn hourly_exhausted(&self, account: &str, retry_after: Duration) {
        self.refusals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().expect("budget lock");
        let b = map.entry(account.to_owned()).or_insert_with(Budget::unknown);
        b.hourly_left = Some(0);
        b.hourly_reset_epoch = Some(chrono::Utc::now().timestamp() + retry_after.as_secs() as i64);
    }

    /// How many requests DocuSign refused for a rate limit so far (each was retried later).
    pub fn refusals(&self) -> u64 {
        self.refusals.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Learns where `account` stands from the headers of an answer to a request sent at `sent`.
    /// The lower of our own count and DocuSign's wins, so concurrent requests are not counted
    /// twice as free; an answer to a request sent before our current window began describes the
    /// previous window and must not drain this one.
    pub fn record(&self, account: &str, limits: &RateLimitInfo, sent: Instant) {
        if limits.burst_remaining.is_none() && limits.remaining.is_none() {
            return;
        }
        let mut map = self.inner.lock().expect("budget lock");
        // First news of an account: its window is the one this request went out in.
        let b = map.entry(account.to_owned()).or_insert_with(|| Budget { window_started: sent, ..Budget::unknown() });
        if let Some(remaining) = limits.burst_remaining.filter(|_| sent >= b.window_started) {
            let advertised = remaining.saturating_sub(RESERVE);
            b.burst_left = Some(b.burst_left.map_or(advertised, |mine| mine.min(advertised)));
        }
        if limits.burst_limit.is_some() {
            b.burst_limit = limits.burst_limit;
        }
        if let Some(remaining) = limits.remaining {
            b.hourly_left = Some(b.hourly_left.map_or(remaining, |mine| mine.min(remaining)));
            b.hourly_reset_epoch = limits.reset_epoch;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst_remaining: u64, hourly_remaining: u64) -> RateLimitInfo {
        RateLimitInfo {
            limit: Some(3000),
            remaining: Some(hourly_remaining),
            reset_epoch: Some(chrono::Utc::now().timestamp() + 1800),
            burst_limit: Some(200),
            burst_remaining: Some(burst_remaining),
        }
    }

    #[tokio::test]
    async fn an_unknown_account_is_not_held_back() {
        let budgets = AccountBudgets::default();
        assert!(budgets.acquire("a").await.is_ok());
    }

    #[tokio::test]
    async fn a_spent_burst_budget_waits_for_the_next_window() {
        let budgets = AccountBudgets::default();
        budgets.record("a", &limits(RESERVE + 1, 100), Instant::now());
        assert!(budgets.acquire("a").await.is_ok(), "one request left");
        let second = tokio::time::timeout(Duration::from_millis(300), budgets.acquire("a")).await;
        assert!(second.is_err(), "the next request waits for the window instead of being sent");
        assert!(budgets.acquire("b").await.is_ok(), "other accounts are not held back");
    }

    #[tokio::test]
    async fn a_spent_hourly_budget_refuses_without_sending() {
        let budgets = AccountBudgets::default();
        budgets.record("a", &limits(50, 0), Instant::now());
        assert!(matches!(budgets.acquire("a").await, Err(ProviderError::RateLimited { .. })));
    }

    #[test]
    fn an_answer_from_before_the_current_window_does_not_drain_it() {
        let budgets = AccountBudgets::default();
        let early = Instant::now();
        budgets.record("a", &limits(100, 1000), early);
        budgets.inner.lock().unwrap().get_mut("a").unwrap().window_started = Instant::now() + Duration::from_millis(5);
        budgets.record("a", &limits(3, 1000), early);
        assert_eq!(budgets.inner.lock().unwrap()["a"].burst_left, Some(100 - RESERVE));
    }

    #[test]
    fn the_lower_of_our_count_and_docusigns_wins() {
        let budgets = AccountBudgets::default();
        budgets.record("a", &limits(100, 1000), Instant::now());
        budgets.record("a", &limits(150, 1000), Instant::now());
        let map = budgets.inner.lock().unwrap();
        assert_eq!(map["a"].burst_left, Some(100 - RESERVE));
    }
}
