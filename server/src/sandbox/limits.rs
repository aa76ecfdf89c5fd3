//! Per-account API rate limits (reference section 8): an hourly window that resets at the top of
//! each hour and a burst window (200 per 30 s in demo), reported in `X-RateLimit-*` and
//! `X-BurstLimit-*` headers on every eSignature and Admin API response.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::fixture::Limits;
use super::wire;

/// Counters of one account.
#[derive(Debug, Clone, Default)]
pub struct Window {
    hour_start: i64,
    hour_count: u32,
    burst_start: i64,
    burst_count: u32,
}

/// Which limit a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Hourly,
    Burst,
}

/// What the headers report after a request was counted (or refused).
#[derive(Debug, Clone)]
pub struct Usage {
    pub hourly_limit: u32,
    pub hourly_remaining: u32,
    /// Unix seconds of the next top of the hour.
    pub hourly_reset: i64,
    pub burst_limit: u32,
    pub burst_remaining: u32,
    /// Unix seconds when the burst window ends.
    pub burst_reset: i64,
}

impl Window {
    /// Counts one request at `now`, unless it would exceed a limit (refused calls don't count).
    pub fn hit(&mut self, limits: &Limits, now: i64) -> (Usage, Option<Exceeded>) {
        let hour_start = now - now.rem_euclid(3600);
        if self.hour_start != hour_start {
            self.hour_start = hour_start;
            self.hour_count = 0;
        }
        let span = limits.burst_window_seconds.max(1);
        let burst_start = now - now.rem_euclid(span);
        if self.burst_start != burst_start {
            self.burst_start = burst_start;
            self.burst_count = 0;
        }
        let exceeded = if self.hour_count >= limits.hourly {
            Some(Exceeded::Hourly)
        } else if self.burst_count >= limits.burst {
            Some(Exceeded::Burst)
        } else {
            self.hour_count += 1;
            self.burst_count += 1;
            None
        };
        (self.usage(limits, span), exceeded)
    }

    /// Uses up the hourly allowance (control API: "hit the rate limit").
    pub fn exhaust(&mut self, limits: &Limits, now: i64) {
        self.hit(limits, now);
        self.hour_count = limits.hourly;
    }

    fn usage(&self, limits: &Limits, span: i64) -> Usage {
        Usage {
            hourly_limit: limits.hourly,
            hourly_remaining: limits.hourly.saturating_sub(self.hour_count),
            hourly_reset: self.hour_start + 3600,
            burst_limit: limits.burst,
            burst_remaining: limits.burst.saturating_sub(self.burst_count),
            burst_reset: self.burst_start + span,
        }
    }
}

/// Adds the rate-limit headers to a response.
pub fn add_headers(headers: &mut HeaderMap, usage: &Usage) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("X-RateLimit-Limit", usage.hourly_limit.to_string());
    set("X-RateLimit-Remaining", usage.hourly_remaining.to_string());
    set("X-RateLimit-Reset", usage.hourly_reset.to_string());
    set("X-BurstLimit-Limit", usage.burst_limit.to_string());
    set("X-BurstLimit-Remaining", usage.burst_remaining.to_string());
}

/// The over-limit answer: configured status (429 by default), documented body, `Retry-After`
/// (left out in vary mode: the reference has it only from a third-party SDK that honours it on
/// 429, so a client must manage with the documented `X-RateLimit-Reset` alone).
pub fn exceeded_response(limits: &Limits, which: Exceeded, usage: &Usage, now: i64, vary: bool) -> Response {
    let status = StatusCode::from_u16(limits.exceeded_status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let (code, message, reset) = match which {
        Exceeded::Hourly => (
            "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
            "The maximum number of hourly API invocations has been exceeded.",
            usage.hourly_reset,
        ),
        Exceeded::Burst => (
            "BURST_APIINVOCATION_LIMIT_EXCEEDED",
            "The maximum number of burst API invocations has been exceeded.",
            usage.burst_reset,
        ),
    };
    let mut r = wire::esign_error(status, code, message);
    add_headers(r.headers_mut(), usage);
    if vary {
        return r;
    }
    if let Ok(v) = HeaderValue::from_str(&(reset - now).max(1).to_string()) {
        r.headers_mut().insert("Retry-After", v);
    }
    r
}
