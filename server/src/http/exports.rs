//! The CSV downloads: `GET /tenants/export.csv` (the tenant list with its own filters and scope),
//! `GET /tenants/receipts.csv` (the consent receipts of the same tenants) and `GET /audit/export.csv` (the audit log with its filters and scope). Staff only (the access
//! gate sends anyone else to sign-in); the work is in `exports`.

use std::sync::Arc;

use app::environment::Environment;
use app::audit::log::AuditQuery;
use app::error::AppError;
use app::onboarding::model::ConsentState;
use app::ssr::RequestCtx;
use app::checks::CheckId;
use app::tenants::api::{CheckFilter, TenantQuery};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::header;
use serde::Deserialize;

use crate::http::middleware::error_response;
use crate::state::Portal;

/// The list page's own query parameters.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    archived: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    env: Option<String>,
    #[serde(default)]
    stuck: Option<String>,
    #[serde(default)]
    manager: Option<String>,
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    failing: Option<String>,
    #[serde(default)]
    overridden: Option<String>,
}

/// A value echoed in a refusal, cut short (it came from a URL).
fn short(value: &str) -> String {
    value.chars().take(40).collect()
}

impl ExportQuery {
    /// The list query these parameters ask for; a value the list never produces is refused by
    /// name, before anything is read or audited.
    fn into_query(self) -> Result<TenantQuery, AppError> {
        let present = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let state = match present(self.state) {
            None => None,
            Some(s) => Some(ConsentState::parse(&s).ok_or_else(|| AppError::bad_request(format!("`{}` is not a consent state.", short(&s))))?),
        };
        let environment = match present(self.env) {
            None => None,
            Some(e) => Some(Environment::parse(&e).ok_or_else(|| AppError::bad_request(format!("`{}` is not an environment.", short(&e))))?),
        };
        Ok(TenantQuery {
            include_archived: self.archived.as_deref() == Some("1"),
            q: present(self.q),
            after: None,
            state,
            reason: present(self.reason),
            environment,
            stuck: self.stuck.as_deref() == Some("1"),
            check: match present(self.check) {
                None => None,
                Some(c) => Some(CheckFilter::parse(&c).ok_or_else(|| AppError::bad_request(format!("`{}` is not a setup-check status.", short(&c))))?),
            },
            failing: match present(self.failing) {
                None => None,
                Some(c) => Some(CheckId::parse(&c).ok_or_else(|| AppError::bad_request(format!("`{}` is not a setup check.", short(&c))))?),
            },
            overridden: self.overridden.as_deref() == Some("1"),
            manager: match present(self.manager) {
                None => None,
                Some(m) => Some(uuid::Uuid::parse_str(&m).map_err(|_| AppError::bad_request(format!("`{}` is not a staff id.", short(&m))))?),
            },
        })
    }
}

/// A CSV download named `{what}-{time}.csv` streaming `body`.
fn download(what: &str, body: Body) -> Response {
    let filename = format!("{what}-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// The audit log page's own query parameters (all text: a bad value is refused by name).
#[derive(Debug, Deserialize)]
pub struct AuditExportQuery {
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

impl AuditExportQuery {
    fn into_query(self) -> Result<AuditQuery, AppError> {
        let present = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let day = |v: Option<String>, field: &str| match present(v) {
            None => Ok(None),
            Some(d) => d.parse().map(Some).map_err(|_| AppError::bad_request(format!("`{}` is not a date ({field}: YYYY-MM-DD).", short(&d)))),
        };
        let tenant = match present(self.tenant) {
            None => None,
            Some(t) => Some(uuid::Uuid::parse_str(&t).map_err(|_| AppError::bad_request(format!("`{}` is not a tenant id.", short(&t))))?),
        };
        Ok(AuditQuery { tenant, actor: present(self.actor), action: present(self.action), from: day(self.from, "from")?, to: day(self.to, "to")?, before: None })
    }
}

pub async fn audit(State(portal): State<Arc<Portal>>, Extension(ctx): Extension<RequestCtx>, Query(params): Query<AuditExportQuery>) -> Response {
    let Some(viewer) = ctx.staff().cloned() else {
        return error_response(&AppError::Unauthorized, Some(&ctx.request_id));
    };
    let query = match params.into_query() {
        Ok(query) => query,
        Err(e) => return error_response(&e, Some(&ctx.request_id)),
    };
    match crate::exports::audit_csv(portal.db.clone(), viewer, Some(ctx.request_id.clone()), query).await {
        Ok(stream) => download("audit", Body::from_stream(stream)),
        Err(e) => error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}

pub async fn tenants(State(portal): State<Arc<Portal>>, Extension(ctx): Extension<RequestCtx>, Query(params): Query<ExportQuery>) -> Response {
    let Some(viewer) = ctx.staff().cloned() else {
        return error_response(&AppError::Unauthorized, Some(&ctx.request_id));
    };
    let query = match params.into_query() {
        Ok(query) => query,
        Err(e) => return error_response(&e, Some(&ctx.request_id)),
    };
    match crate::exports::tenants_csv(portal.db.clone(), viewer, Some(ctx.request_id.clone()), query, portal.config.onboarding_sla).await {
        Ok(stream) => download("tenants", Body::from_stream(stream)),
        Err(e) => error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}

pub async fn receipts(State(portal): State<Arc<Portal>>, Extension(ctx): Extension<RequestCtx>, Query(params): Query<ExportQuery>) -> Response {
    let Some(viewer) = ctx.staff().cloned() else {
        return error_response(&AppError::Unauthorized, Some(&ctx.request_id));
    };
    let query = match params.into_query() {
        Ok(query) => query,
        Err(e) => return error_response(&e, Some(&ctx.request_id)),
    };
    match crate::exports::receipts_csv(portal.db.clone(), viewer, Some(ctx.request_id.clone()), query, portal.config.onboarding_sla).await {
        Ok(stream) => download("consent-receipts", Body::from_stream(stream)),
        Err(e) => error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}
