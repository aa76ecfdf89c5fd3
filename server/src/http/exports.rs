//! `GET /tenants/export.csv`: the tenant list as a CSV download, with the list's own filters
//! (`q`, `archived=1`) and scope. Staff only (the access gate sends anyone else to sign-in);
//! the work is `exports::tenants_csv`.

use std::sync::Arc;

use app::error::AppError;
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
}

pub async fn tenants(State(portal): State<Arc<Portal>>, Extension(ctx): Extension<RequestCtx>, Query(params): Query<ExportQuery>) -> Response {
    let Some(viewer) = ctx.staff().cloned() else {
        return error_response(&AppError::Unauthorized, Some(&ctx.request_id));
    };
    let query = TenantQuery {
        include_archived: params.archived.as_deref() == Some("1"),
        q: params.q.filter(|q| !q.trim().is_empty()),
        after: None,
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
