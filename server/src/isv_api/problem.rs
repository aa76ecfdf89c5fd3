//! RFC 9457 problem documents: every error of the REST API is `application/problem+json` with a
//! `type` that links to its explanation in the API reference, a `title` per kind, and a `detail`
//! that says what to do next.

use app::error::AppError;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ServiceError;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer of the REST API (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; it resolves to its entry in the API reference.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem (the same for every occurrence).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened here and what to do next.
    pub detail: String,
    /// For a tenant that is not ready: the remediation and the staff action that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::model::ApiRemediation>)]
    pub remediation: Option<Box<super::model::ApiRemediation>>,
    #[serde(skip)]
    retry_after_secs: Option<u64>,
}

impl Problem {
    /// A problem of kind `slug` (its anchor in the reference).
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("/api/v1/docs#problem-{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            remediation: None,
            retry_after_secs: None,
        }
    }

    /// Asks the caller to wait this long before trying again (`Retry-After`).
    pub fn retry_after(mut self, secs: u64) -> Problem {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// Attaches the tenant's remediation.
    pub fn with_remediation(mut self, remediation: super::model::ApiRemediation) -> Problem {
        self.remediation = Some(Box::new(remediation));
        self
    }

    pub fn missing_key() -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "missing-key", "API key required", "Send the API client's key as `Authorization: Bearer <key>`.")
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", "The request could not be read", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// A service error as the API answers it; unexpected causes are logged under `request_id`.
    pub fn from_service(err: ServiceError, request_id: &str) -> Problem {
        Problem::from_app(err.into_app(request_id))
    }

    /// The portal's error type in problem form.
    pub fn from_app(err: AppError) -> Problem {
        let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (slug, title) = match &err {
            AppError::Unauthorized => ("unauthorized", "Not authenticated"),
            AppError::Forbidden => ("forbidden", "Not allowed"),
            AppError::NotFound { .. } => ("not-found", "Not found"),
            AppError::Validation { .. } => ("invalid", "The request broke a rule"),
            AppError::Conflict { .. } => ("conflict", "Conflicts with the tenant's state"),
            AppError::BadRequest { .. } => ("bad-request", "The request could not be read"),
            AppError::RateLimited { .. } => ("rate-limited", "Too many requests"),
            AppError::Busy { .. } => ("busy", "The portal is busy"),
            AppError::Internal { .. } => ("internal", "Unexpected error"),
        };
        let detail = match &err {
            AppError::Validation { fields } => fields.iter().map(|(f, m)| format!("{f}: {}", m.join(" "))).collect::<Vec<_>>().join("; "),
            other => other.to_string(),
        };
        let problem = Problem::new(status, slug, title, detail);
        match err.retry_after_secs() {
            Some(s) => problem.retry_after(s),
            None => problem,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"consent-portal\""));
        }
        res
    }
}
