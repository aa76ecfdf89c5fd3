//! The rate-limit state DocuSign reports on every API answer (reference section 8): what the
//! transport reads from each response, the budget keeps per account, and the error
//! classification reads when an answer is refused for being over a limit.

use reqwest::header::HeaderMap;

/// Rate-limit state reported by DocuSign on an API response (reference section 8). Every field
/// is `None` when its header was absent or not a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimitInfo {
    /// `X-RateLimit-Limit`: hourly maximum for the account.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: calls left this hour.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: Unix seconds when the hourly window resets.
    pub reset_epoch: Option<i64>,
    /// `X-BurstLimit-Limit`: calls allowed per burst window (30 s).
    pub burst_limit: Option<u64>,
    /// `X-BurstLimit-Remaining`: calls left in the current burst window.
    pub burst_remaining: Option<u64>,
}

impl RateLimitInfo {
    /// Reads the five headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        fn get<T: std::str::FromStr>(h: &HeaderMap, name: &str) -> Option<T> {
            h.get(name)?.to_str().ok()?.trim().parse().ok()
        }
        RateLimitInfo {
            limit: get(headers, "x-ratelimit-limit"),
            remaining: get(headers, "x-ratelimit-remaining"),
            reset_epoch: get(headers, "x-ratelimit-reset"),
            burst_limit: get(headers, "x-burstlimit-limit"),
            burst_remaining: get(headers, "x-burstlimit-remaining"),
        }
    }
}
