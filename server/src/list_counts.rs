//! The staff console's aggregates, kept per instance for a few seconds: the tenant list's total
//! and filter counts (per viewer scope and filter) and the overview (per viewer scope). Each
//! aggregate reads every tenant the viewer may see (100,000 at scale: hundreds of milliseconds),
//! while the page of 50 rows itself is a keyset read that costs the same at any size; keeping the
//! aggregates lets the list answer in the time of its page.
//!
//! Stale-while-revalidate: a value younger than the configured age (`list_counts_seconds`) is
//! served as it is; an older one is still served while one background task (never more than one
//! per key) computes the next, so a busy list never waits on its counts twice; a key seen for
//! the first time is computed in the request, once: requests arriving meanwhile wait for that
//! computation rather than starting 32 of their own. An age of 0 turns the cache off (every
//! request computes its aggregates).
//!
//! A value is stale after the configured age or after [`COST_RATIO`] times what computing it
//! last took, whichever is longer: a filter whose counts take a second at 100,000 tenants is
//! recomputed every ten seconds, not every five, so keeping one busy key fresh never takes more
//! than a tenth of one core from the pages being served (at five seconds, a filter whose counts
//! took four kept a core busy and halved that list's throughput). Counts may therefore trail a
//! change by that long; the rows of the page never do.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// Tokio's clock, so tests can run it paused and step it exactly.
use tokio::time::Instant;

use app::auth::StaffPrincipal;

use crate::error::ServiceResult;

/// Keys kept at most; past it the oldest half is dropped (a key is a viewer scope and a filter,
/// and people use few filters).
const MAX_KEYS: usize = 2048;

/// A kept value is fresh for at least this many times what computing it took.
const COST_RATIO: u32 = 10;

struct Entry<V> {
    value: V,
    at: Instant,
    /// How long computing `value` took.
    cost: Duration,
    refreshing: bool,
}

impl<V> Entry<V> {
    /// The value `compute` gives, kept with how long it took.
    async fn computed<Fut: Future<Output = ServiceResult<V>>>(compute: impl FnOnce() -> Fut) -> ServiceResult<Self> {
        let started = Instant::now();
        let value = compute().await?;
        let at = Instant::now();
        Ok(Self { value, at, cost: at - started, refreshing: false })
    }

    /// Whether the value has outlived `max_age` and [`COST_RATIO`] times its cost.
    fn is_stale(&self, max_age: Duration) -> bool {
        self.at.elapsed() >= max_age.max(self.cost * COST_RATIO)
    }
}

/// One kind of aggregate by key.
pub struct Aggregates<V> {
    max_age: Duration,
    entries: Arc<Mutex<HashMap<String, Entry<V>>>>,
    /// One lock per key being computed for the first time: requests that arrive meanwhile wait
    /// for that computation instead of starting their own.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<V: Clone + Send + 'static> Aggregates<V> {
    /// Aggregates kept for `max_age` (zero: none kept).
    pub fn new(max_age: Duration) -> Self {
        Self { max_age, entries: Arc::new(Mutex::new(HashMap::new())), flights: Mutex::new(HashMap::new()) }
    }

    /// The value for `key`: kept, or computed by `compute` (in the request for a new key, once
    /// however many requests ask at the same moment; in the background for a stale one).
    pub async fn get<F, Fut>(&self, key: String, compute: F) -> ServiceResult<V>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ServiceResult<V>> + Send + 'static,
    {
        if self.max_age.is_zero() {
            return compute().await;
        }
        let compute = match self.kept(&key, compute) {
            Ok(value) => return Ok(value),
            Err(compute) => compute,
        };
        let flight = self.flights.lock().unwrap_or_else(|e| e.into_inner()).entry(key.clone()).or_default().clone();
        let _turn = flight.lock().await;
        // Whoever held the turn before may have computed it.
        let compute = match self.kept(&key, compute) {
            Ok(value) => return Ok(value),
            Err(compute) => compute,
        };
        let result = Entry::computed(compute).await;
        self.flights.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        let entry = result?;
        let value = entry.value.clone();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            let mut ages: Vec<Instant> = entries.values().map(|e| e.at).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            entries.retain(|_, e| e.at > cut);
        }
        entries.insert(key, entry);
        Ok(value)
    }

    /// The kept value for `key` (starting its background recomputation when it is stale), or
    /// `compute` back when there is none.
    fn kept<F, Fut>(&self, key: &str, compute: F) -> Result<V, F>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ServiceResult<V>> + Send + 'static,
    {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = entries.get_mut(key) else { return Err(compute) };
        if entry.is_stale(self.max_age) && !entry.refreshing {
            entry.refreshing = true;
            let (entries, key) = (self.entries.clone(), key.to_owned());
            tokio::spawn(async move {
                let fresh = Entry::computed(compute).await;
                let mut entries = entries.lock().unwrap_or_else(|e| e.into_inner());
                match fresh {
                    Ok(entry) => {
                        entries.insert(key, entry);
                    }
                    // The next request tries again; the stale value stays meanwhile.
                    Err(_) => {
                        if let Some(entry) = entries.get_mut(&key) {
                            entry.refreshing = false;
                        }
                    }
                }
            });
        }
        Ok(entry.value.clone())
    }
}

/// The part of a key that says which tenants a viewer sees: every staff member who manages
/// tenants sees the same ones (one shared entry), an account manager their own.
pub fn scope_key(viewer: &StaffPrincipal) -> String {
    if viewer.role.manages_tenants() { "all".to_owned() } else { format!("manager:{}", viewer.id) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(calls: &Arc<AtomicUsize>) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ServiceResult<usize>> + Send>> + Send + 'static {
        let calls = calls.clone();
        move || Box::pin(async move { Ok(calls.fetch_add(1, Ordering::SeqCst) + 1) })
    }

    #[tokio::test]
    async fn a_fresh_value_is_served_without_computing_again() {
        let cache = Aggregates::new(Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(cache.get("k".into(), counting(&calls)).await.unwrap(), 1);
        assert_eq!(cache.get("k".into(), counting(&calls)).await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get("other".into(), counting(&calls)).await.unwrap(), 2, "each key its own value");
    }

    #[tokio::test]
    async fn a_stale_value_is_served_while_one_background_computation_replaces_it() {
        let cache = Aggregates::new(Duration::from_millis(20));
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(cache.get("k".into(), counting(&calls)).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(30)).await;
        // Stale: served at once, and only the first of these starts a computation.
        for _ in 0..5 {
            assert_eq!(cache.get("k".into(), counting(&calls)).await.unwrap(), 1);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(cache.get("k".into(), counting(&calls)).await.unwrap(), 2, "the refreshed value");
    }

    #[tokio::test(start_paused = true)]
    async fn a_value_that_was_slow_to_compute_stays_fresh_for_ten_times_its_cost() {
        let cache = Aggregates::new(Duration::from_millis(10));
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = |calls: &Arc<AtomicUsize>| {
            let calls = calls.clone();
            move || async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(calls.fetch_add(1, Ordering::SeqCst) + 1)
            }
        };
        assert_eq!(cache.get("k".into(), slow(&calls)).await.unwrap(), 1);
        // Past the configured age, inside ten times the 30 ms it cost: fresh, nothing recomputed.
        tokio::time::sleep(Duration::from_millis(290)).await;
        assert_eq!(cache.get("k".into(), slow(&calls)).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no recomputation before 300 ms");
        // Past ten times its cost: stale, served while one background computation replaces it.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(cache.get("k".into(), slow(&calls)).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(cache.get("k".into(), slow(&calls)).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn requests_arriving_together_for_a_new_key_share_one_computation() {
        let cache = Arc::new(Aggregates::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.spawn(async move {
                cache
                    .get("k".into(), move || async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(calls.fetch_add(1, Ordering::SeqCst) + 1)
                    })
                    .await
                    .unwrap()
            });
        }
        while let Some(v) = tasks.join_next().await {
            assert_eq!(v.unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_age_of_zero_computes_every_time() {
        let cache = Aggregates::new(Duration::ZERO);
        let calls = Arc::new(AtomicUsize::new(0));
        cache.get("k".into(), counting(&calls)).await.unwrap();
        cache.get("k".into(), counting(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
