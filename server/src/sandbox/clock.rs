//! The sandbox's clock: real time plus an offset the control API can advance, so expiry (codes,
//! tokens, rate-limit windows) is testable without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time shifted by an adjustable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset_seconds.load(Ordering::Relaxed)
    }

    /// Now, as a UTC date-time.
    pub fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves time forward (or backward, for negative values).
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_seconds.store(0, Ordering::Relaxed);
    }

    /// The current offset from real time.
    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }
}

/// A date-time written as eSignature writes its own (`2020-01-01T00:00:00.0000000Z`: seven
/// fractional digits, which chrono's format strings cannot express).
pub fn seven_digit_time(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike as _;
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.nanosecond() % 1_000_000_000 / 100)
}
