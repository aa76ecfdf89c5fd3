//! The HTTP plumbing shared by every call: one request, its transport failures, the bounded
//! body read, the rate-limit headers (read by [`super::limits`]) and the JSON parsing, each
//! mapped to a [`ProviderError`].
//!
//! Logging: one `debug` line per request with method, host and path only (never the query,
//! headers or bodies), and one with the status when it answers.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{ProviderError, Surface, classify};
use super::limits::RateLimitInfo;

/// Bodies larger than this are refused as malformed (DocuSign's largest answer the portal reads,
/// account settings, is about 100 KB).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A successful API answer with the rate-limit state that came with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Api<T> {
    /// The parsed body.
    pub value: T,
    /// The rate-limit headers of the response.
    pub limits: RateLimitInfo,
}

/// A 2xx answer, read.
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// `METHOD host[:port]/path`, the only description of a request that goes into logs and errors.
pub(crate) fn describe(method: &Method, url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{method} {host}:{p}{}", url.path()),
        None => format!("{method} {host}{}", url.path()),
    }
}

fn transport_error(e: &reqwest::Error, what: &str, timeout: Duration) -> ProviderError {
    let kind = if e.is_timeout() {
        format!("timed out after {} ms", timeout.as_millis())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    };
    ProviderError::Unavailable { detail: format!("{kind}: {what}") }
}

/// Sends `req` and reads the answer. Non-2xx answers are classified for `surface`; 2xx answers
/// are returned with their body.
pub(crate) async fn execute(
    http: &reqwest::Client,
    req: reqwest::RequestBuilder,
    surface: Surface,
    timeout: Duration,
) -> Result<Answer, ProviderError> {
    let req = req.build().map_err(|_| ProviderError::InvalidRequest { detail: "the request could not be built".into() })?;
    let what = describe(req.method(), req.url());
    tracing::debug!(request = %what, "docusign request");
    let mut resp = http.execute(req).await.map_err(|e| transport_error(&e, &what, timeout))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&e, &what, timeout))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ProviderError::Malformed { detail: format!("the body of {what} exceeds {MAX_BODY} bytes") });
        }
        body.extend_from_slice(&chunk);
    }
    tracing::debug!(request = %what, status = status.as_u16(), "docusign answer");
    if status.is_redirection() {
        // Redirects are never followed (SSRF guard); DocuSign's APIs do not redirect.
        return Err(ProviderError::Api {
            status: status.as_u16(),
            code: "unexpected_redirect".into(),
            message: "DocuSign answered with a redirect, which is not followed".into(),
        });
    }
    if !status.is_success() {
        return Err(classify(surface, status, &headers, &body, &what));
    }
    Ok(Answer { headers, body })
}

/// Parses a 2xx JSON body into `T`; on failure the detail names the position and the kind of
/// problem, never the body's content.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "JSON of an unexpected shape",
            serde_json::error::Category::Eof => "truncated JSON",
        };
        ProviderError::Malformed { detail: format!("{what}: {kind} at line {} column {}", e.line(), e.column()) }
    })
}
