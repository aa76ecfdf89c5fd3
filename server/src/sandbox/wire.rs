//! Response shapes shared by the sandbox's hosts: the three error body styles DocuSign uses
//! (OAuth `error`, eSignature `errorCode`, Admin `error`) and bearer-token extraction.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// JSON response with the given status.
pub fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Account server error: `{"error": …[, "error_description": …]}` (reference 2.6), status 400.
pub fn oauth_error(error: &str, description: Option<&str>) -> Response {
    let body = match description {
        Some(d) => json!({ "error": error, "error_description": d }),
        None => json!({ "error": error }),
    };
    let mut r = json(StatusCode::BAD_REQUEST, body);
    no_store(&mut r);
    r
}

/// eSignature error: `{"errorCode": …, "message": …}` (reference section 4).
pub fn esign_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(status, json!({ "errorCode": code, "message": message }))
}

/// 401 for an expired, revoked or malformed token on the eSignature API.
pub fn invalid_token() -> Response {
    esign_error(
        StatusCode::UNAUTHORIZED,
        "AUTHORIZATION_INVALID_TOKEN",
        "The access token provided is expired, revoked or malformed.",
    )
}

/// Admin API error: `{"error": …, "error_description": …}` (reference section 7).
pub fn admin_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(status, json!({ "error": error, "error_description": description }))
}

/// Token responses must not be cached.
pub fn no_store(r: &mut Response) {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_owned())
}
