//! The API's OpenAPI 3.1 description, generated from the handlers' annotations (utoipa), and a
//! reference page rendered from it, with an entry for every problem type the API answers.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, header};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::model::*;
use super::problem::Problem;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Consent Portal integration API",
        version = "1",
        description = "For the ISV's backend: each tenant's consent state, system user, account and base URI, and DocuSign access tokens for the system user. Authenticate with an API key from the portal's API clients page: `Authorization: Bearer cpk_…`. Errors are RFC 9457 problem documents."
    ),
    paths(super::list_tenants, super::get_tenant, super::access_token, super::consent_check),
    components(schemas(ApiEnvironment, ApiConsentState, ApiTenant, ApiConsent, ApiSystemUser, ApiAccount, ApiSetupCheck, ApiRemediation, ApiAction, ApiTenantPage, ApiAccessToken, Problem, super::consent_checks::ConsentCheckRequest, super::consent_checks::ConsentCheckResult)),
    modifiers(&BearerKey),
    tags((name = "tenants", description = "Tenants and their consent"), (name = "tokens", description = "DocuSign access tokens"), (name = "consent", description = "Individual users' consent"))
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("cpk_<key id>_<secret>").build()));
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    let mut res = axum::Json(ApiDoc::openapi()).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res
}

/// Every problem type the API answers, with what the caller does about it.
pub const PROBLEMS: &[(&str, &str)] = &[
    ("missing-key", "401: no `Authorization: Bearer` header. Send the API client's key."),
    ("unknown-key", "401: the key is not one of this portal's. Check it, or ask an administrator for a key."),
    ("revoked-key", "401: an administrator revoked the key. Ask for a new one."),
    ("expired-key", "401: the key passed its expiry. Ask for a new one."),
    ("missing-scope", "403: the key does not hold the scope the endpoint needs (`tenants:read`, `tokens:issue`, `consent:check`)."),
    ("wrong-environment", "403: the key may not act in the tenant's DocuSign environment."),
    ("not-found", "404: no such tenant (id or slug) or endpoint."),
    ("bad-request", "400: a parameter could not be read; the detail names it."),
    ("conflict", "409: the request conflicts with the portal's state (for example, the tenant's DocuSign environment is not configured on this portal); the detail says what to do."),
    ("invalid", "422: the request broke a rule; the detail names the field."),
    ("unauthorized", "401: not authenticated."),
    ("forbidden", "403: not allowed."),
    ("tenant-not-ready", "409: the tenant's consent is not verified. `remediation` says what staff do, with a link to the tenant in the portal."),
    ("rate-limited", "429: the key sent too many requests; wait `Retry-After` seconds."),
    ("provider-refused", "502: DocuSign refused the request in a way the portal cannot fix (for example the integration key); the detail carries DocuSign's reason."),
    ("provider-unavailable", "503: DocuSign did not answer properly; nothing changed. Retry after `Retry-After` seconds."),
    ("busy", "503: the portal is busy; nothing changed. Retry after `Retry-After` seconds."),
    ("internal", "500: an unexpected fault, logged under the request id in the detail."),
];

/// `GET /api/v1/docs`: the reference, from the same description as the JSON document.
pub async fn reference_page() -> Html<String> {
    let doc = ApiDoc::openapi();
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · Consent Portal</title><link rel=\"stylesheet\" href=\"/pkg/consent-portal.css\"></head><body><main id=\"main\" class=\"panel\">",
    );
    html.push_str(&format!("<h1>{}</h1><p>{}</p>", e(&doc.info.title), e(doc.info.description.as_deref().unwrap_or(""))));
    html.push_str("<p><a href=\"/api/v1/openapi.json\">OpenAPI 3.1 document</a></p><h2>Endpoints</h2>");
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post)] {
            let Some(op) = op else { continue };
            html.push_str(&format!("<section><h3><code>{method} {}</code></h3>", e(path)));
            if let Some(s) = &op.summary {
                html.push_str(&format!("<p><strong>{}</strong></p>", e(s)));
            }
            if let Some(d) = &op.description {
                html.push_str(&format!("<p>{}</p>", e(d)));
            }
            if let Some(security) = &op.security {
                let scopes: Vec<String> = security
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .filter_map(|v| v.get("api_key").and_then(|s| s.as_array()).cloned())
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                html.push_str(&format!("<p>Scope: <code>{}</code></p>", e(&scopes.join(" "))));
            }
            if let Some(params) = &op.parameters {
                html.push_str("<table><thead><tr><th scope=\"col\">Parameter</th><th scope=\"col\">In</th><th scope=\"col\">Description</th></tr></thead><tbody>");
                for p in params {
                    let location = serde_json::to_value(&p.parameter_in).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                    html.push_str(&format!("<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", e(&p.name), e(&location), e(p.description.as_deref().unwrap_or(""))));
                }
                html.push_str("</tbody></table>");
            }
            html.push_str("<ul>");
            for (status, response) in &op.responses.responses {
                let text = match response {
                    utoipa::openapi::RefOr::T(r) => r.description.clone(),
                    utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
                };
                html.push_str(&format!("<li><code>{}</code> {}</li>", e(status), e(&text)));
            }
            html.push_str("</ul></section>");
        }
    }
    html.push_str("<h2>Problems</h2><p>Every error is <code>application/problem+json</code> (RFC 9457); its <code>type</code> links here.</p><dl>");
    for (slug, text) in PROBLEMS {
        html.push_str(&format!("<dt id=\"problem-{slug}\"><code>{slug}</code></dt><dd>{}</dd>", e(text)));
    }
    html.push_str("</dl></main></body></html>");
    Html(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_type_the_api_answers_is_explained_on_the_reference_page() {
        use app::error::AppError;
        let errors = [
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::not_found("x"),
            AppError::field("f", "m"),
            AppError::conflict("x"),
            AppError::bad_request("x"),
            AppError::RateLimited { retry_after_secs: 1 },
            AppError::Busy { retry_after_secs: 1 },
            AppError::Internal { request_id: "r".into() },
        ];
        for e in errors {
            let kind = Problem::from_app(e).kind;
            let slug = kind.trim_start_matches("/api/v1/docs#problem-");
            assert!(PROBLEMS.iter().any(|(s, _)| *s == slug), "{slug} is not explained");
        }
        // And every slug the API spells out itself.
        for dir in ["src/isv_api"] {
            for entry in std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for (i, _) in text.match_indices("StatusCode::") {
                    let rest = &text[i..];
                    if let Some(slug) = rest.split('"').nth(1).filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !s.is_empty())
                        && rest.split(',').next().is_some_and(|s| s.len() < 40)
                    {
                        assert!(PROBLEMS.iter().any(|(p, _)| *p == slug), "{slug} is not explained");
                    }
                }
            }
        }
    }
}
