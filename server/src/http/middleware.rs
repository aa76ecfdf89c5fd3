//! Middleware every request passes, outermost first: a fresh request id, the tracing span, the
//! security headers, refusal of cross-site state changes, the session → [`RequestCtx`], and the
//! deny-by-default access gate for server functions.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::error::AppError;
use app::policy::{Access, page_access, server_fn_access};
use app::security::content_security_policy;
use app::ssr::RequestCtx;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

use crate::config::Config;
use crate::state::Portal;
use crate::sessions;

/// The request id, defined beside the logging it names lines in.
pub use crate::telemetry::RequestId;

/// Gives every request a fresh id. An id sent by the client is ignored: it would let anyone
/// write arbitrary text into our logs.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", value);
    }
    res
}

/// The tracing span of a request: method, path with secrets masked (never the query, which may
/// carry codes) and id.
pub fn request_span(req: &Request) -> tracing::Span {
    let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()), request_id = %id)
}

/// Paths whose next segment is a secret (an invite link carries its token in the path).
const SECRET_PATH_PREFIXES: &[&str] = &["/onboard/"];

/// The path as it may be logged: the secret segment of a secret-bearing path is replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_PATH_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}[redacted]{tail}").into();
        }
    }
    path.into()
}

/// The client's address: the peer, unless the peer is a trusted reverse proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further left
/// were written by the client and prove nothing).
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.iter().rev().flat_map(|h| h.rsplit(',')) {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A malformed entry: stop at the last address a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    client
}

/// Sets the security headers on every response; pages already carry a CSP with their nonce.
pub async fn security_headers(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/pkg/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(v) = HeaderValue::from_str(&content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if config.secure_cookies() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        // Pages and API answers hold private data: never cache them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Refuses state-changing requests a browser sent from another site: the `Origin` must be the
/// portal's public origin, or, without `Origin`, `Sec-Fetch-Site` must not say cross-site.
/// Server functions are form-encoded POSTs that any page could submit, so SameSite alone is not
/// enough.
pub async fn refuse_cross_site(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin_ok = match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")) {
        // Browsers send `Origin: null` for form posts from a page with `Referrer-Policy:
        // no-referrer` (ours); the unforgeable Sec-Fetch-Site then decides.
        Some("null") => fetch_site == Some("same-origin"),
        Some(origin) => origin == config.public_origin(),
        None => match fetch_site {
            Some(site) => matches!(site, "same-origin" | "none"),
            // Neither header: not a browser request made on behalf of another site.
            None => true,
        },
    };
    if origin_ok {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site state-changing request");
        error_response(&AppError::Forbidden, None)
    }
}

/// Resolves the session cookie into a [`RequestCtx`] for the handlers and server functions.
pub async fn attach_request_ctx(State(portal): State<Arc<Portal>>, mut req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<super::middleware::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let client_ip = client_address(peer, &forwarded, &portal.config.trusted_proxies);
    let secure = portal.config.secure_cookies();
    let device_token = cookie_in(&req, secure, sessions::device_token_from_cookie_header);
    let mut ctx =
        RequestCtx { staff: None, invitee: None, session_token: None, client_ip, device_token, request_id: request_id.clone(), memo: Default::default() };
    let session = (!req.uri().path().starts_with("/pkg/")).then(|| cookie_in(&req, secure, sessions::token_from_cookie_header)).flatten();
    if let Some(token) = session {
        match sessions::resolve(&portal.db, &token, portal.lifetimes(), chrono::Utc::now()).await {
            Ok(Some(sessions::Holder::Staff(staff))) => match crate::staff::to_principal(&staff) {
                Ok(principal) => ctx.staff = Some(principal),
                Err(e) => return error_response(&e.into_app(&request_id), Some(&request_id)),
            },
            Ok(Some(sessions::Holder::Invitee { tenant_id })) => {
                ctx.invitee = Some(app::ssr::InviteePrincipal { tenant_id, session_hash: sessions::hash_token(&token) });
            }
            Ok(None) => {}
            Err(e) => {
                return error_response(&e.into_app(&request_id), Some(&request_id));
            }
        }
        ctx.session_token = Some(token);
    }
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// A cookie of the request, read by `read` from each `Cookie` header.
fn cookie_in(req: &Request, secure: bool, read: fn(&str, bool) -> Option<String>) -> Option<String> {
    req.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|h| read(h, secure))
}

/// Deny by default: a server-function path must be listed in the policy table, be called with
/// POST, and the caller's role must pass its rule. Services then check which tenant.
pub async fn access_gate(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let role = req.extensions().get::<RequestCtx>().and_then(|c| c.staff().map(|s| s.role));
    let invitee = req.extensions().get::<RequestCtx>().is_some_and(|c| c.invitee.is_some());
    if !path.starts_with("/api/") {
        // Pages: anonymous visitors of a staff page go to sign-in, keeping the address they
        // wanted; a signed-in role the page is not for sees the page's own 403. Invitee pages and
        // the OAuth routes explain themselves to anyone without an invite session.
        let access = page_access(path);
        if role.is_none() && matches!(access, Access::Staff | Access::Roles(_)) {
            let wanted = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path.to_owned(),
            };
            let target = format!("/login?next={}", app::components::urlencode(&wanted));
            return (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
        }
        return next.run(req).await;
    }
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let Some(access) = server_fn_access(path) else {
        return error_response(&AppError::not_found("This endpoint"), request_id.as_deref());
    };
    if req.method() != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]).into_response();
    }
    if !access.allows(role, invitee) {
        let err = if role.is_none() && !invitee { AppError::Unauthorized } else { AppError::Forbidden };
        return error_response(&err, request_id.as_deref());
    }
    with_error_status(next.run(req).await, request_id.as_deref()).await
}

/// Makes a server function's error answer carry the status of its [`AppError`] and the real
/// request id, including errors raised by Leptos itself before the function ran (arguments that
/// do not decode are a 400, not a 500).
async fn with_error_status(res: Response, request_id: Option<&str>) -> Response {
    if res.status().is_success() || res.status().is_redirection() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return error_response(&AppError::Internal { request_id: request_id.unwrap_or("-").to_owned() }, request_id);
    };
    match serde_json::from_slice::<AppError>(&bytes) {
        Ok(AppError::Internal { .. }) if request_id.is_some() => {
            error_response(&AppError::Internal { request_id: request_id.unwrap_or_default().to_owned() }, request_id)
        }
        Ok(err) => {
            parts.status = StatusCode::from_u16(err.status_code()).unwrap_or(parts.status);
            Response::from_parts(parts, axum::body::Body::from(bytes))
        }
        Err(_) => Response::from_parts(parts, axum::body::Body::from(bytes)),
    }
}

/// An [`AppError`] as a JSON response with its status (the shape server functions use).
pub fn error_response(err: &AppError, request_id: Option<&str>) -> Response {
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(err).unwrap_or_else(|_| "{}".into());
    let mut res = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(secs) = err.retry_after_secs() {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        res.headers_mut().insert("x-request-id", id);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_tokens_in_paths_are_masked_in_logs() {
        assert_eq!(loggable_path("/onboard/abcDEF123_-secret"), "/onboard/[redacted]");
        assert_eq!(loggable_path("/onboard/abc/x"), "/onboard/[redacted]/x");
        assert_eq!(loggable_path("/tenants/1"), "/tenants/1");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/24".parse().unwrap()];
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        // Not behind a proxy: the header is the client's own claim.
        assert_eq!(client_address(client, &["198.51.100.1"], &trusted), client);
        assert_eq!(client_address(proxy, &["203.0.113.7"], &[]), proxy);
        // Behind the proxy: the right-most untrusted entry; a spoofed left entry is ignored.
        assert_eq!(client_address(proxy, &["1.2.3.4, 203.0.113.7"], &trusted), client);
        assert_eq!(client_address(proxy, &["1.2.3.4", "203.0.113.7, 10.0.0.9"], &trusted), client);
        assert_eq!(client_address(proxy, &["garbage"], &trusted), proxy);
        assert_eq!(client_address(proxy, &[], &trusted), proxy);
    }
}
