//! `GET /tenants/export.csv`: the tenant list as a CSV download, with the list's own filters
//! (`q`, `archived=1`) and scope. Staff only (the access gate sends anyone else to sign-in);
//! the work is `exports::tenants_csv`.

use std::sync::Arc;

use app::environment::Environment;
use app::error::AppError;
use app::onboarding::model::ConsentState;
use app::ssr::RequestCtx;
use app::tenants::api::TenantQuery;
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
        })
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
    match crate::exports::tenants_csv(portal.db.clone(), viewer, Some(ctx.request_id.clone()), query).await {
        Ok(stream) => {
            let filename = format!("tenants-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Err(e) => error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}
