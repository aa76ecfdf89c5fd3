//! Sign-in throttling per account and per address (GCRA, via `governor`). Limits are held in
//! memory per portal instance; with several instances each enforces its own budget.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The sign-in limiters.
pub struct SignInLimiter {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        // 5 quick attempts per account, then one every 12 s; 20 per address, then one every 3 s.
        Self::new(5, Duration::from_secs(12), 20, Duration::from_secs(3))
    }
}

impl SignInLimiter {
    /// Limiters with the given bursts and refill periods.
    pub fn new(account_burst: u32, account_period: Duration, address_burst: u32, address_period: Duration) -> Self {
        let quota = |burst: u32, period: Duration| {
            Quota::with_period(period).expect("non-zero period").allow_burst(NonZeroU32::new(burst.max(1)).expect("non-zero"))
        };
        SignInLimiter {
            per_account: RateLimiter::keyed(quota(account_burst, account_period)),
            per_address: RateLimiter::keyed(quota(address_burst, address_period)),
        }
    }

    /// Counts one attempt; `Err(seconds)` says how long to wait when over either limit.
    pub fn check(&self, email: &str, address: IpAddr) -> Result<(), u64> {
        let clock = DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| not_until.wait_time_from(clock.now()).as_secs().max(1);
        self.per_address.check_key(&address).map_err(wait)?;
        self.per_account.check_key(&email.to_owned()).map_err(wait)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_its_burst_without_affecting_others() {
        let limiter = SignInLimiter::new(3, Duration::from_secs(60), 100, Duration::from_secs(1));
        let ip = IpAddr::from([10, 0, 0, 1]);
        for _ in 0..3 {
            assert!(limiter.check("a@x.test", ip).is_ok());
        }
        assert!(limiter.check("a@x.test", ip).is_err());
        assert!(limiter.check("b@x.test", ip).is_ok());
    }

    #[test]
    fn an_address_is_throttled_across_accounts() {
        let limiter = SignInLimiter::new(100, Duration::from_secs(1), 2, Duration::from_secs(60));
        let ip = IpAddr::from([10, 0, 0, 2]);
        assert!(limiter.check("a@x.test", ip).is_ok());
        assert!(limiter.check("b@x.test", ip).is_ok());
        let wait = limiter.check("c@x.test", ip).unwrap_err();
        assert!(wait >= 1);
        assert!(limiter.check("c@x.test", IpAddr::from([10, 0, 0, 3])).is_ok());
    }
}
