//! The ISV integration API, `/api/v1`: what the ISV's own backend needs to act for each customer.
//! JSON answers, RFC 9457 problem documents for every error, API-key authentication with scopes
//! and a per-key rate limit (`gate`), an OpenAPI 3.1 description generated from these handlers
//! (`openapi`), and a reference page.
//!
//! Handlers are thin: read the request, call one service (`tenants`, `tokens`), answer.

pub mod consent_checks;
pub mod gate;
pub mod model;
pub mod openapi;
pub mod problem;
pub mod tenants;
pub mod tokens;

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderValue, header};

use crate::api_clients::ApiCaller;
use crate::telemetry::RequestId;
use crate::state::Portal;
use model::*;
use problem::Problem;

/// The API's routes (mounted at `/api/v1`), behind the gate; they carry their own state, so
/// they nest into any router.
pub fn router<S: Clone + Send + Sync + 'static>(portal: Arc<Portal>) -> Router<S> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::reference_page))
        .route("/tenants", get(list_tenants))
        .route("/tenants/{tenant}", get(get_tenant))
        .route("/tenants/{tenant}/access-token", post(access_token))
        .route("/tenants/{tenant}/consent-checks", post(consent_check))
        .route_layer(axum::middleware::from_fn_with_state(portal.clone(), gate::api_gate))
        .fallback(|| async { Problem::not_found("This API has no such endpoint; see /api/v1/docs.") })
        .with_state(portal)
}

/// A handler's outcome as the answer: the value as [`fresh_json`], or the problem.
fn answer<T: serde::Serialize>(result: Result<T, Problem>) -> Response {
    match result {
        Ok(value) => fresh_json(&value),
        Err(problem) => problem.into_response(),
    }
}

/// JSON that no cache may keep (tokens and tenant records change).
fn fresh_json<T: serde::Serialize>(value: &T) -> Response {
    let mut res = Json(value).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Lists tenants, paged by cursor.
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    tag = "tenants",
    params(TenantListParams),
    security(("api_key" = ["tenants:read"])),
    responses(
        (status = 200, description = "One page of tenants", body = ApiTenantPage),
        (status = 400, description = "A parameter could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `tenants:read` or the environment", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's rate limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_tenants(
    State(portal): State<Arc<Portal>>,
    Extension(caller): Extension<ApiCaller>,
    Extension(rid): Extension<RequestId>,
    params: Result<Query<TenantListParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return Problem::bad_request("The query string could not be read; see the parameters in /api/v1/docs.").into_response();
    };
    let req = match tenants::ListRequest::parse(&caller, &params) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    answer(tenants::list(&portal.db, &portal.config.public_url, &req).await.map_err(|e| Problem::from_service(e, &rid.0)))
}

/// One tenant, by id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{tenant}",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant's id (UUID) or slug", example = "acme")),
    security(("api_key" = ["tenants:read"])),
    responses(
        (status = 200, description = "The tenant", body = ApiTenant),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `tenants:read` or the tenant's environment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's rate limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_tenant(State(portal): State<Arc<Portal>>, Extension(caller): Extension<ApiCaller>, Extension(rid): Extension<RequestId>, Path(key): Path<String>) -> Response {
    answer(
        async {
            let t = tenants::find(&portal.db, &caller, &key, &rid.0).await?;
            tenants::one(&portal.db, &portal.config.public_url, t).await.map_err(|e| Problem::from_service(e, &rid.0))
        }
        .await,
    )
}

/// A DocuSign access token for the tenant's system user (JWT grant), with the account and base
/// URI to use it on. Cached until five minutes before it expires.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{tenant}/access-token",
    tag = "tokens",
    params(("tenant" = String, Path, description = "The tenant's id (UUID) or slug", example = "acme")),
    security(("api_key" = ["tokens:issue"])),
    responses(
        (status = 200, description = "A token valid for at least five more minutes", body = ApiAccessToken),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `tokens:issue` or the tenant's environment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tenant's consent is not in place (the problem names the remediation); DocuSign's refusal moved the tenant to the matching state", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's rate limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "DocuSign could not be reached; nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_token(State(portal): State<Arc<Portal>>, Extension(caller): Extension<ApiCaller>, Extension(rid): Extension<RequestId>, Path(key): Path<String>) -> Response {
    answer(
        async {
            let t = tenants::find(&portal.db, &caller, &key, &rid.0).await?;
            tokens::vend(&portal, &caller, &t, &rid.0).await
        }
        .await,
    )
}

/// Whether an individual user of the tenant has consented, with a consent link when not.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{tenant}/consent-checks",
    tag = "consent",
    params(("tenant" = String, Path, description = "The tenant's id (UUID) or slug", example = "acme")),
    request_body = consent_checks::ConsentCheckRequest,
    security(("api_key" = ["consent:check"])),
    responses(
        (status = 200, description = "The user's consent: `consented`, `consent_required` (with `consent_url`), `not_in_claimed_domain` (with `consent_url`) or `unknown_user`", body = consent_checks::ConsentCheckResult),
        (status = 400, description = "The body is not the JSON described", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `consent:check` or the tenant's environment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`user` is neither a GUID nor an e-mail, or an e-mail cannot be looked up for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's rate limit", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "DocuSign refused the request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "DocuSign could not be reached; nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn consent_check(
    State(portal): State<Arc<Portal>>,
    Extension(caller): Extension<ApiCaller>,
    Extension(rid): Extension<RequestId>,
    Path(key): Path<String>,
    body: Result<Json<consent_checks::ConsentCheckRequest>, JsonRejection>,
) -> Response {
    // The tenant first: a key that may not see it hears that, whatever it sent.
    answer(
        async {
            let t = tenants::find(&portal.db, &caller, &key, &rid.0).await?;
            let Ok(Json(body)) = body else {
                return Err(Problem::bad_request("Send a JSON body such as {\"user\": \"ada@example.com\"} with `Content-Type: application/json`."));
            };
            consent_checks::check(&portal, &caller, &t, body, &rid.0).await
        }
        .await,
    )
}
