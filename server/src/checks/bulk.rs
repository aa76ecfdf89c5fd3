//! Running the setup check of many tenants at once (the scheduler, the bench): a global
//! concurrency bound, and DocuSign's per-account limits respected without wasting it.
//!
//! Tenants often share an account (an ISV's customers rarely do, but a test or a reseller's
//! tenants can). Two rules keep the accounts busy in parallel instead of queueing on one:
//!
//! - tenants are started round-robin across accounts, so the first `concurrency` slots spread
//!   over as many accounts as there are;
//! - a tenant waits for its account's burst window *before* taking a global slot, so a slot is
//!   never held by a task that is only sleeping on one account's limit.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::providers::docusign::budget::AccountBudgets;

/// Orders `items` round-robin by account (stable within an account): a, b, c, a, b, c, …
pub fn interleave_by_account<T>(items: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut queues: BTreeMap<String, VecDeque<T>> = BTreeMap::new();
    let mut order = Vec::new();
    for (account, item) in items {
        if !queues.contains_key(&account) {
            order.push(account.clone());
        }
        queues.entry(account).or_default().push_back(item);
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for account in &order {
            if let Some(item) = queues.get_mut(account).and_then(VecDeque::pop_front) {
                out.push((account.clone(), item));
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Runs `work` for every item, at most `concurrency` at once, interleaved by account, each
/// waiting for its account's budget before taking a slot. `work`'s results come back in
/// completion order through `done`.
pub async fn run_many<T, R, F, Fut>(
    budgets: Arc<AccountBudgets>,
    items: Vec<(String, T)>,
    concurrency: usize,
    work: F,
    mut done: impl FnMut(R),
) where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let work = Arc::new(work);
    let mut tasks = tokio::task::JoinSet::new();
    for (account, item) in interleave_by_account(items) {
        let (gate, work, budgets) = (gate.clone(), work.clone(), budgets.clone());
        tasks.spawn(async move {
            // Not holding a slot while the account's window is spent.
            budgets.ready(&account).await;
            let _slot = gate.acquire_owned().await.expect("the semaphore is never closed");
            work(item).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => done(r),
            Err(e) => tracing::error!(error = %e, "a bulk check task panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_take_turns() {
        let items = vec![("a".to_owned(), 1), ("a".to_owned(), 2), ("a".to_owned(), 3), ("b".to_owned(), 4), ("c".to_owned(), 5), ("b".to_owned(), 6)];
        let order: Vec<i32> = interleave_by_account(items).into_iter().map(|(_, i)| i).collect();
        assert_eq!(order, vec![1, 4, 5, 2, 6, 3]);
    }

    #[tokio::test]
    async fn every_item_runs_once_within_the_bound() {
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let items: Vec<(String, usize)> = (0..40).map(|i| (format!("acct-{}", i % 4), i)).collect();
        let mut seen = Vec::new();
        let (r, p) = (running.clone(), peak.clone());
        run_many(
            Arc::new(AccountBudgets::default()),
            items,
            3,
            move |i| {
                let (r, p) = (r.clone(), p.clone());
                async move {
                    let now = r.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    p.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    r.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    i
                }
            },
            |i| seen.push(i),
        )
        .await;
        seen.sort_unstable();
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 3);
    }
}
