//! The integration API's gate, deny by default: the matched route must be listed in
//! `app::policy::API_POLICY`; unless it is public, the request must carry a valid key
//! (`Authorization: Bearer cpk_…`) holding the route's scope, within the key's rate limit.
//! The authenticated [`ApiCaller`] is handed to the handler as a request extension.
//!
//! Refusals, all problem documents that change nothing: no or unknown, revoked or expired key →
//! 401; a key without the scope → 403; over the per-key rate → 429 with `Retry-After`.

use std::sync::Arc;

use app::policy::{ApiAccess, api_access};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use super::problem::Problem;
use crate::api_clients::{self, KeyRefusal};
use crate::telemetry::RequestId;
use crate::state::Portal;

/// The bearer token of a request, if its `Authorization` header has one.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The gate; see the module docs.
pub async fn api_gate(State(portal): State<Arc<Portal>>, mut req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let Some(access) = api_access(req.method().as_str(), &route) else {
        return Problem::not_found("This API has no such endpoint; see /api/v1/docs.").into_response();
    };
    let scope = match access {
        ApiAccess::Public => return next.run(req).await,
        ApiAccess::Scope(scope) => scope,
    };
    let Some(key) = bearer(&req).map(str::to_owned) else {
        return Problem::missing_key().into_response();
    };
    // Charged before the database is asked, by the key's public id when it has one.
    let limit_key = key.strip_prefix(api_clients::KEY_PREFIX).and_then(|k| k.split_once('_')).map(|(id, _)| id.to_owned()).unwrap_or_else(|| "malformed".into());
    if let Err(wait) = portal.api_limiter.check(&limit_key) {
        return Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", format!("This key sent too many requests; try again in {wait} seconds."))
            .retry_after(wait)
            .into_response();
    }
    let caller = match api_clients::authenticate(&portal.db, &key, Some(&request_id), chrono::Utc::now()).await {
        Ok(Ok(caller)) => caller,
        Ok(Err(refusal)) => {
            let (slug, title, detail) = match refusal {
                KeyRefusal::Unknown => ("unknown-key", "Unknown API key", "This is not a key of this portal. Check the key, or ask an administrator for one."),
                KeyRefusal::Revoked => ("revoked-key", "Revoked API key", "This key was revoked; ask an administrator for a new one."),
                KeyRefusal::Expired => ("expired-key", "Expired API key", "This key has expired; ask an administrator for a new one."),
            };
            return Problem::new(StatusCode::UNAUTHORIZED, slug, title, detail).into_response();
        }
        Err(e) => return Problem::from_service(e, &request_id).into_response(),
    };
    if !caller.scopes.contains(&scope) {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "missing-scope",
            "The key lacks a scope",
            format!("This endpoint needs the `{}` scope, which this key does not hold.", scope.as_str()),
        )
        .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}
