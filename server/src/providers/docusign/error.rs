//! Every failure of a DocuSign call, classified into something the portal can act on
//! (reference sections 2.6, 4, 7 and 8), and the classification itself.
//!
//! No variant holds a secret. Strings that come from DocuSign (`error_description`, `message`)
//! are truncated and stripped of control characters before they are stored, so they cannot
//! forge log lines (L2).

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::limits::RateLimitInfo;

/// Every failure, classified. `Display` is a short, secret-free message (for logs and for
/// staff); the portal maps each variant to its own user-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// `400 {"error":"consent_required"}`: the user has not consented to the integration key
    /// for `impersonation` and every requested scope (JWT grant).
    #[error("consent required: the user has not granted consent for these scopes")]
    ConsentRequired,
    /// `invalid_grant` / `user_not_found` or `invalid_subject`: the JWT `sub` is not an active
    /// user GUID in this environment.
    #[error("user not found in this DocuSign environment")]
    UserNotFound,
    /// `invalid_grant` / `issuer_not_found`: the integration key is unknown in this environment
    /// (or the `aud` names another environment).
    #[error("integration key not found in this DocuSign environment")]
    IssuerNotFound,
    /// `invalid_grant` / `no_valid_keys_or_signatures`: the assertion's signature does not
    /// verify against the keys registered on the integration key (or the assertion is malformed).
    #[error("the private key does not match a key registered on the integration key")]
    KeyMismatch,
    /// `invalid_grant` / `expired_grant`: the assertion's `exp` is in the past (clock skew).
    #[error("the JWT assertion has expired (check the server clock)")]
    ExpiredGrant,
    /// `invalid_grant` / `expired_client_token`: the authorization code expired (about two
    /// minutes) or was already used. DocuSign also answers this for a wrong client secret.
    #[error("the authorization code has expired or was already used")]
    CodeExpiredOrUsed,
    /// Any other `invalid_grant` (a revoked or expired refresh token, a wrong PKCE verifier, …).
    #[error("invalid grant{}", fmt_opt(.description))]
    InvalidGrant {
        /// DocuSign's `error_description`, if any.
        description: Option<String>,
    },
    /// Any other OAuth error from the token endpoint.
    #[error("OAuth error {error}{}", fmt_opt(.description))]
    OAuth {
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The access token is expired, revoked or malformed (`401 AUTHORIZATION_INVALID_TOKEN`, a
    /// 401 from userinfo or the Admin API).
    #[error("the access token is expired, revoked or malformed")]
    InvalidToken,
    /// `400 USER_LACKS_MEMBERSHIP`: the token's user is not a member of the account.
    #[error("the user is not a member of this account")]
    UserLacksMembership,
    /// `USER_LACKS_PERMISSIONS` ("This user lacks sufficient permissions to access this
    /// resource."): the token's user is a member but may not do this, typically a change of the
    /// account's settings or Connect by a user who is not an account administrator. Sources:
    /// DocuSign Support's developer FAQ names the error ("User Lacks Permission") and a fix in the
    /// account's settings; the body with this code and message is quoted in public reports (status
    /// 400 today, 401 with legacy authentication); DocuSign's SOAP error codes list
    /// `User_Lacks_Permissions`. Matched on the code whatever the status.
    #[error("the user lacks the permissions for this in the account")]
    UserLacksPermissions,
    /// Any other API error: eSignature `{errorCode, message}` or Admin `{error, error_description}`.
    #[error("DocuSign API error {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `errorCode` (eSignature) or `error` (Admin API); `unknown` when the body did not say.
        code: String,
        /// `message` or `error_description`.
        message: String,
    },
    /// Over a rate limit: HTTP 429, or 400 `HOURLY_APIINVOCATION_LIMIT_EXCEEDED` /
    /// `BURST_APIINVOCATION_LIMIT_EXCEEDED` (and the envelope-level `…_LIMIT_EXCEEDED` codes).
    #[error("rate limited by DocuSign{}", fmt_retry(.retry_after_secs, .reset_epoch))]
    RateLimited {
        /// `Retry-After` in seconds, when sent.
        retry_after_secs: Option<u64>,
        /// `X-RateLimit-Reset` (Unix seconds), when sent.
        reset_epoch: Option<i64>,
    },
    /// 5xx, timeout, connection refused or reset: retry later; DocuSign did not answer with a
    /// decision (for a read nothing changed; for a write the outcome is unknown).
    #[error("DocuSign is unavailable: {detail}")]
    Unavailable {
        /// What happened (status or transport failure, method, host and path).
        detail: String,
    },
    /// A 2xx answer whose body is not what the API documents.
    #[error("DocuSign sent a malformed response: {detail}")]
    Malformed {
        /// What did not parse (field names, never values).
        detail: String,
    },
    /// The `base_uri` is not on the configured allowlist (or is not a bare https origin);
    /// nothing was sent to it (O14).
    #[error("untrusted base_uri {base_uri:?}")]
    UntrustedBaseUri {
        /// The refused value, truncated and without control characters.
        base_uri: String,
    },
    /// The provider settings are unusable (see `ProviderSettings::validate`).
    #[error("invalid DocuSign settings: {detail}")]
    InvalidSettings {
        /// What is wrong.
        detail: String,
    },
    /// The caller passed an argument that cannot be sent (an empty id, …); nothing was sent.
    #[error("invalid request: {detail}")]
    InvalidRequest {
        /// What is wrong.
        detail: String,
    },
}

fn fmt_opt(d: &Option<String>) -> String {
    d.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
}

fn fmt_retry(retry: &Option<u64>, reset: &Option<i64>) -> String {
    match (retry, reset) {
        (Some(r), _) => format!(", retry after {r} s"),
        (None, Some(t)) => format!(", limit resets at {t}"),
        (None, None) => String::new(),
    }
}

impl ProviderError {
    /// True when retrying later may succeed without anyone changing anything: `Unavailable` and
    /// `RateLimited`. Everything else needs a person (consent, membership, configuration) or is
    /// a bug; `Malformed` is not transient because a response that does not parse will not
    /// parse better next time.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Unavailable { .. } | ProviderError::RateLimited { .. })
    }

}

/// Keeps at most 300 characters and replaces control characters, for strings that come from
/// the network and end up in `Display` and logs.
pub(crate) fn clean(s: &str) -> String {
    let mut out: String = s.chars().take(300).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Which DocuSign surface answered: each has its own error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// `/oauth/token`: `{"error", "error_description"}`.
    Token,
    /// `/oauth/userinfo`.
    UserInfo,
    /// eSignature REST: `{"errorCode", "message"}`.
    ESignature,
    /// Admin API: `{"error", "error_description"}` (its rate limiter answers eSignature style).
    Admin,
}

/// The over-limit `errorCode`s DocuSign documents (reference §4 and §8): a 400 with one of these
/// is a rate limit like a 429. Compared without regard to case (§4 spells some in mixed case).
const LIMIT_CODES: [&str; 6] = [
    "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
    "BURST_APIINVOCATION_LIMIT_EXCEEDED",
    "Hourly_Envelope_Polling_Limit_Exceeded",
    "Burst_Envelope_Polling_Limit_Exceeded",
    "Hourly_APIInvocation_Envelope_Limit_Exceeded",
    "Burst_APIInvocation_Envelope_Limit_Exceeded",
];

/// An over-limit answer. The wait is `Retry-After` when DocuSign sends it (reference §8 has it
/// only from a third-party SDK); without it, an hourly allowance that is used up
/// (`X-RateLimit-Remaining: 0`) lasts until `X-RateLimit-Reset`, both documented (§8). A burst
/// limit gives no such hint and stays without a wait (the caller's burst window applies).
fn rate_limited(headers: &HeaderMap) -> ProviderError {
    let limits = RateLimitInfo::from_headers(headers);
    let until_reset = || {
        let reset = limits.reset_epoch.filter(|_| limits.remaining == Some(0))?;
        let now = chrono::Utc::now().timestamp();
        Some(u64::try_from(reset - now).unwrap_or(0).max(1))
    };
    let retry_after_secs = header_u64(headers, "retry-after").or_else(until_reset);
    ProviderError::RateLimited { retry_after_secs, reset_epoch: limits.reset_epoch }
}

/// Classifies a non-2xx answer. `what` is "METHOD host/path" for the `Unavailable` detail.
pub(crate) fn classify(surface: Surface, status: StatusCode, headers: &HeaderMap, body: &[u8], what: &str) -> ProviderError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return rate_limited(headers);
    }
    if status.is_server_error() {
        return ProviderError::Unavailable { detail: format!("HTTP {} from {what}", status.as_u16()) };
    }
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| -> Option<String> {
        let obj = json.as_ref()?.as_object()?;
        names.iter().find_map(|n| obj.get(*n).and_then(Value::as_str)).map(clean)
    };
    let code = field(&["errorCode", "error"]);
    let message = field(&["message", "error_description"]);
    if let Some(c) = &code
        && LIMIT_CODES.iter().any(|l| l.eq_ignore_ascii_case(c))
    {
        return rate_limited(headers);
    }
    match surface {
        Surface::Token => {
            let Some(error) = code else {
                return ProviderError::OAuth {
                    error: format!("http_{}", status.as_u16()),
                    description: Some("the token endpoint answered without an OAuth error body".into()),
                };
            };
            token_error(&error, message)
        }
        Surface::UserInfo | Surface::ESignature | Surface::Admin => {
            // Before the 401 rule: DocuSign has answered this code with 401 too, and it says what
            // happened (the user's rights), not that the token is bad.
            if surface == Surface::ESignature && code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("USER_LACKS_PERMISSIONS")) {
                return ProviderError::UserLacksPermissions;
            }
            if status == StatusCode::UNAUTHORIZED {
                return ProviderError::InvalidToken;
            }
            if code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("USER_LACKS_MEMBERSHIP")) {
                return ProviderError::UserLacksMembership;
            }
            ProviderError::Api {
                status: status.as_u16(),
                code: code.unwrap_or_else(|| "unknown".into()),
                message: message.unwrap_or_default(),
            }
        }
    }
}

/// Maps an OAuth token-endpoint error (reference 2.6) to its variant: the `error` code, and for
/// `invalid_grant` the `error_description` values §2.6 lists. Anything else keeps DocuSign's words
/// in [`ProviderError::InvalidGrant`] / [`ProviderError::OAuth`] for the general classification.
pub(crate) fn token_error(error: &str, description: Option<String>) -> ProviderError {
    if error == "consent_required" {
        return ProviderError::ConsentRequired;
    }
    if error != "invalid_grant" {
        return ProviderError::OAuth { error: error.to_owned(), description };
    }
    match description.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("user_not_found" | "invalid_subject") => ProviderError::UserNotFound,
        Some("issuer_not_found") => ProviderError::IssuerNotFound,
        Some("no_valid_keys_or_signatures") => ProviderError::KeyMismatch,
        Some("expired_grant") => ProviderError::ExpiredGrant,
        Some("expired_client_token") => ProviderError::CodeExpiredOrUsed,
        // `consent_required` is documented as the `error` itself (handled above), never as an
        // `invalid_grant` description: such an answer is a general invalid grant.
        _ => ProviderError::InvalidGrant { description },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esign(status: u16, body: &str) -> ProviderError {
        classify(Surface::ESignature, StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes(), "GET host/path")
    }

    #[test]
    fn every_documented_token_error_has_its_variant_and_anything_else_stays_general() {
        assert_eq!(token_error("consent_required", None), ProviderError::ConsentRequired);
        for (description, expected) in [
            ("user_not_found", ProviderError::UserNotFound),
            ("invalid_subject", ProviderError::UserNotFound),
            ("issuer_not_found", ProviderError::IssuerNotFound),
            ("Issuer_not_found", ProviderError::IssuerNotFound),
            ("no_valid_keys_or_signatures", ProviderError::KeyMismatch),
            ("expired_grant", ProviderError::ExpiredGrant),
            ("expired_client_token", ProviderError::CodeExpiredOrUsed),
        ] {
            assert_eq!(token_error("invalid_grant", Some(description.into())), expected, "{description}");
        }
        // Not documented as an invalid_grant description: a general invalid grant, words kept.
        assert_eq!(
            token_error("invalid_grant", Some("consent_required".into())),
            ProviderError::InvalidGrant { description: Some("consent_required".into()) }
        );
        assert_eq!(token_error("invalid_grant", None), ProviderError::InvalidGrant { description: None });
        assert_eq!(
            token_error("invalid_client", Some("x".into())),
            ProviderError::OAuth { error: "invalid_client".into(), description: Some("x".into()) }
        );
    }

    #[test]
    fn an_hourly_limit_without_retry_after_waits_until_the_documented_reset() {
        let reset = chrono::Utc::now().timestamp() + 1200;
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        let body = br#"{"errorCode":"HOURLY_APIINVOCATION_LIMIT_EXCEEDED","message":"words"}"#;
        let ProviderError::RateLimited { retry_after_secs: Some(wait), reset_epoch } =
            classify(Surface::ESignature, StatusCode::BAD_REQUEST, &headers, body, "GET host/path")
        else {
            panic!("a rate limit with a wait")
        };
        assert!((1190..=1200).contains(&wait), "{wait}");
        assert_eq!(reset_epoch, Some(reset));
        // Allowance left (a burst limit): no hint, no invented wait.
        headers.insert("x-ratelimit-remaining", "12".parse().unwrap());
        let e = classify(Surface::ESignature, StatusCode::TOO_MANY_REQUESTS, &headers, body, "GET host/path");
        assert_eq!(e, ProviderError::RateLimited { retry_after_secs: None, reset_epoch: Some(reset) });
        // Retry-After, when sent, wins.
        headers.insert("retry-after", "7".parse().unwrap());
        let e = classify(Surface::ESignature, StatusCode::TOO_MANY_REQUESTS, &headers, body, "GET host/path");
        assert_eq!(e, ProviderError::RateLimited { retry_after_secs: Some(7), reset_epoch: Some(reset) });
    }

    #[test]
    fn only_documented_error_codes_are_classified_and_undocumented_ones_keep_docusigns_words() {
        assert_eq!(esign(400, r#"{"errorCode":"USER_LACKS_MEMBERSHIP","message":"m"}"#), ProviderError::UserLacksMembership);
        for code in LIMIT_CODES {
            let e = esign(400, &format!(r#"{{"errorCode":"{code}","message":"m"}}"#));
            assert!(matches!(e, ProviderError::RateLimited { .. }), "{code}: {e:?}");
        }
        assert!(matches!(esign(429, ""), ProviderError::RateLimited { .. }));
        assert_eq!(esign(401, r#"{"errorCode":"ANYTHING"}"#), ProviderError::InvalidToken);
        assert!(matches!(esign(503, ""), ProviderError::Unavailable { .. }));
        for status in [400, 401, 403] {
            assert_eq!(esign(status, r#"{"errorCode":"USER_LACKS_PERMISSIONS","message":"m"}"#), ProviderError::UserLacksPermissions, "{status}");
        }
        // Undocumented codes, including look-alikes of documented ones: general, words kept.
        for code in ["USER_LACKS_PERMISSIONS_EXTRA", "SOMETHING_LIMIT_EXCEEDED", "ACCOUNT_LACKS_PERMISSIONS"] {
            let e = esign(400, &format!(r#"{{"errorCode":"{code}","message":"DocuSign's words"}}"#));
            assert_eq!(e, ProviderError::Api { status: 400, code: code.into(), message: "DocuSign's words".into() }, "{code}");
        }
    }
}
