//! Throttling of guessable secrets (staff passwords, invite links) by counting *failures*.
//!
//! Charging every attempt would let a third party lock anyone out by trying, and would lock out
//! the person who signs in correctly five times a minute. So an attempt is refused only while
//! its keys have too many recent failures, and only a failure is counted:
//!
//! - sign-in: per (account, address), per address across accounts, and an account-wide ceiling
//!   that a browser which has signed in to that account before (a known device) is exempt from,
//!   so an attacker spraying one account from many addresses cannot lock its owner out;
//! - invite redemption: per address and per link.
//!
//! The integration API's per-key request rate is a plain rate (every request counts): see
//! [`ApiLimiter`].
//!
//! Counts are held in memory per portal instance (fixed windows, pruned as they expire); with
//! several instances each enforces its own budget.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// At this many tracked keys, expired windows are pruned before a new key is added, and if half
/// of them are still live the oldest half goes; the map never holds more than this.
const MAX_TRACKED_KEYS: usize = 100_000;

/// Failures per key within a fixed window.
pub struct FailureLimiter<K> {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<K, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl<K: Eq + Hash + Clone> FailureLimiter<K> {
    /// Refuses a key after `max_failures` failures within `window` (until the window ends).
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureLimiter { max_failures: max_failures.max(1), window, entries: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` while `key` has used up its failures: how long until it may try again.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(w) if now.duration_since(w.started) < self.window && w.failures >= self.max_failures => {
                Err((self.window - now.duration_since(w.started)).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure of `key`.
    pub fn fail(&self, key: K, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_TRACKED_KEYS && !entries.contains_key(&key) {
            let window = self.window;
            entries.retain(|_, w| now.duration_since(w.started) < window);
            if entries.len() >= MAX_TRACKED_KEYS / 2 {
                // Still full of live windows (a flood of distinct keys): forget the oldest half,
                // so the next prune is half a map of inserts away.
                let mut starts: Vec<Instant> = entries.values().map(|w| w.started).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                entries.retain(|_, w| w.started > cut);
            }
        }
        let w = entries.entry(key).or_insert(Window { started: now, failures: 0 });
        if now.duration_since(w.started) >= self.window {
            *w = Window { started: now, failures: 0 };
        }
        w.failures = w.failures.saturating_add(1);
    }

    /// Forgets the failures of `key` (after a success).
    pub fn clear(&self, key: &K) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The sign-in throttle.
pub struct SignInLimiter {
    per_pair: FailureLimiter<(String, IpAddr)>,
    per_address: FailureLimiter<IpAddr>,
    per_account: FailureLimiter<String>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        // 5 wrong passwords for one account from one address per 15 minutes; 30 from one address
        // across accounts; 100 for one account from everywhere (unknown devices only).
        Self::new(5, 30, 100, Duration::from_secs(15 * 60))
    }
}

impl SignInLimiter {
    /// Limits per (account, address), per address and per account within `window`.
    pub fn new(per_pair: u32, per_address: u32, per_account: u32, window: Duration) -> Self {
        SignInLimiter {
            per_pair: FailureLimiter::new(per_pair, window),
            per_address: FailureLimiter::new(per_address, window),
            per_account: FailureLimiter::new(per_account, window),
        }
    }

    /// Whether a sign-in to `email` from `address` may be tried now; `known_device` when the
    /// browser proved it signed in to this account before (it skips the account-wide ceiling).
    pub fn check(&self, email: &str, address: IpAddr, known_device: bool, now: Instant) -> Result<(), u64> {
        self.per_address.check(&address, now)?;
        self.per_pair.check(&(email.to_owned(), address), now)?;
        if !known_device {
            self.per_account.check(&email.to_owned(), now)?;
        }
        Ok(())
    }

    /// Counts a wrong password.
    pub fn fail(&self, email: &str, address: IpAddr, now: Instant) {
        self.per_address.fail(address, now);
        self.per_pair.fail((email.to_owned(), address), now);
        self.per_account.fail(email.to_owned(), now);
    }

    /// A right password from this address clears its failures for the account.
    pub fn succeed(&self, email: &str, address: IpAddr) {
        self.per_pair.clear(&(email.to_owned(), address));
    }
}

/// The invite-redemption throttle: per address and per link (by the link's hash).
pub struct RedeemLimiter {
    per_address: FailureLimiter<IpAddr>,
    per_link: FailureLimiter<String>,
}

impl Default for RedeemLimiter {
    fn default() -> Self {
        // 20 failed redemptions per address per 10 minutes (a guesser needs ~2^256 tries); 5 per
        // link (a used or expired link pressed again and again).
        RedeemLimiter { per_address: FailureLimiter::new(20, Duration::from_secs(600)), per_link: FailureLimiter::new(5, Duration::from_secs(600)) }
    }
}

impl RedeemLimiter {
    /// Whether a redemption from `address` of the link whose stored hash is `link` may be tried.
    pub fn check(&self, address: IpAddr, link: &String, now: Instant) -> Result<(), u64> {
        self.per_address.check(&address, now)?;
        self.per_link.check(link, now)
    }

    /// Counts a failed redemption.
    pub fn fail(&self, address: IpAddr, link: String, now: Instant) {
        self.per_address.fail(address, now);
        self.per_link.fail(link, now);
    }
}

/// The integration API's rate: requests per minute per API key (or per address for requests without a well-formed key).
pub struct ApiLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

/// At this many tracked keys, forgotten ones are dropped before the next is added.
const MAX_TRACKED: usize = 10_000;

impl ApiLimiter {
    /// `per_minute` requests per minute per key, with a burst of the same size.
    pub fn new(per_minute: u32) -> ApiLimiter {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        ApiLimiter { limiter: RateLimiter::keyed(Quota::per_minute(n)) }
    }

    /// `Err(seconds to wait)` when `key` is over its rate.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.limiter.len() >= MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key.to_owned()).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn good_sign_ins_are_never_throttled() {
        let limiter = SignInLimiter::new(3, 10, 10, MIN);
        let ip = IpAddr::from([10, 0, 0, 1]);
        let now = Instant::now();
        for _ in 0..50 {
            assert!(limiter.check("a@x.test", ip, false, now).is_ok());
            limiter.succeed("a@x.test", ip);
        }
    }

    #[test]
    fn failures_lock_the_pair_but_not_the_owner_elsewhere() {
        let limiter = SignInLimiter::new(3, 100, 100, MIN);
        let attacker = IpAddr::from([10, 0, 0, 1]);
        let owner = IpAddr::from([10, 0, 0, 9]);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("a@x.test", attacker, false, now).is_ok());
            limiter.fail("a@x.test", attacker, now);
        }
        let wait = limiter.check("a@x.test", attacker, false, now).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("a@x.test", owner, false, now).is_ok(), "another address may still sign in");
        assert!(limiter.check("b@x.test", attacker, false, now).is_ok(), "another account is not affected");
        assert!(limiter.check("a@x.test", attacker, false, now + MIN).is_ok(), "the window ends");
    }

    #[test]
    fn the_account_ceiling_spares_a_known_device() {
        let limiter = SignInLimiter::new(100, 100, 5, MIN);
        let now = Instant::now();
        for i in 0..5u8 {
            limiter.fail("a@x.test", IpAddr::from([10, 1, 0, i]), now);
        }
        let owner = IpAddr::from([10, 0, 0, 9]);
        assert!(limiter.check("a@x.test", owner, false, now).is_err(), "unknown devices wait");
        assert!(limiter.check("a@x.test", owner, true, now).is_ok(), "the owner's browser is not locked out");
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let limiter = SignInLimiter::new(100, 2, 100, MIN);
        let ip = IpAddr::from([10, 0, 0, 2]);
        let now = Instant::now();
        limiter.fail("a@x.test", ip, now);
        limiter.fail("b@x.test", ip, now);
        assert!(limiter.check("c@x.test", ip, true, now).is_err());
        assert!(limiter.check("c@x.test", IpAddr::from([10, 0, 0, 3]), false, now).is_ok());
    }

    #[test]
    fn redemption_failures_are_counted_per_address_and_per_link() {
        let limiter = RedeemLimiter { per_address: FailureLimiter::new(3, MIN), per_link: FailureLimiter::new(2, MIN) };
        let now = Instant::now();
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let link = |n: u8| format!("link-{n}");
        limiter.fail(a, link(1), now);
        limiter.fail(b, link(1), now);
        assert!(limiter.check(IpAddr::from([10, 0, 0, 3]), &link(1), now).is_err(), "the link is throttled");
        assert!(limiter.check(a, &link(2), now).is_ok(), "other links and customers are not");
        limiter.fail(a, link(3), now);
        limiter.fail(a, link(4), now);
        assert!(limiter.check(a, &link(5), now).is_err(), "the address is throttled");
        assert!(limiter.check(b, &link(5), now).is_ok());
    }

    #[test]
    fn a_flood_of_keys_keeps_memory_bounded() {
        let limiter: FailureLimiter<u32> = FailureLimiter::new(1, MIN);
        let now = Instant::now();
        for k in 0..(3 * MAX_TRACKED_KEYS as u32) {
            limiter.fail(k, now + Duration::from_nanos(u64::from(k)));
        }
        assert!(limiter.entries.lock().unwrap().len() <= MAX_TRACKED_KEYS);
        assert!(limiter.check(&(3 * MAX_TRACKED_KEYS as u32 - 1), now).is_err(), "the newest failures are kept");
    }
}
