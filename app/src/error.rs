//! The one error type that crosses the wire: every server function returns it, every plain route
//! maps it to a status code, and the UI shows field errors inline and the rest as a short message.

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Field name → messages, as shown next to each form field.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Result alias used by server functions and the backend ports.
pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// 401: no valid session, or the session expired.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// 403: signed in, but this role may not do this.
    #[error("You do not have permission to do this.")]
    Forbidden,
    /// 404: the thing does not exist, or the caller may not know that it does.
    #[error("{what} was not found.")]
    NotFound { what: String },
    /// 422: the input broke one or more rules; `fields` says which and why.
    #[error("Please correct the highlighted fields.")]
    Validation { fields: FieldErrors },
    /// 409: the request conflicts with the current state.
    #[error("{message}")]
    Conflict { message: String },
    /// 400: the request itself is malformed.
    #[error("{message}")]
    BadRequest { message: String },
    /// 429: too many attempts; try again after `retry_after_secs`.
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// 503: the portal is overloaded (no database connection came free in time); nothing was
    /// done, try again after `retry_after_secs`.
    #[error("The portal is busy right now; nothing was changed. Try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: u64 },
    /// 500: something unexpected; the cause is logged under `request_id`, never sent.
    #[error("Something went wrong on our side (request {request_id}).")]
    Internal { request_id: String },
}

impl AppError {
    /// Seconds the caller should wait before trying again, for the answers that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs } | AppError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound { .. } => 404,
            AppError::Validation { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::BadRequest { .. } => 400,
            AppError::RateLimited { .. } => 429,
            AppError::Busy { .. } => 503,
            AppError::Internal { .. } => 500,
        }
    }

    /// A not-found error naming the missing thing ("Tenant", "Staff user").
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    /// 409: the request conflicts with the current state; `message` says what to do instead.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict { message: message.into() }
    }

    /// 400: the request itself is malformed; `message` says how.
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest { message: message.into() }
    }

    /// A validation error on a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        AppError::Validation { fields }
    }

    /// The messages for one field, if the error is a validation error that names it.
    pub fn field_messages(&self, field: &str) -> Vec<String> {
        match self {
            AppError::Validation { fields } => fields.get(field).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        AppError::Validation { fields: field_errors(&errors) }
    }
}

/// Flattens `validator`'s errors into field → messages, using each rule's message.
pub fn field_errors(errors: &validator::ValidationErrors) -> FieldErrors {
    errors
        .field_errors()
        .into_iter()
        .map(|(field, errs)| {
            let messages = errs
                .iter()
                .map(|e| e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| format!("{field} is invalid")))
                .collect();
            (field.to_string(), messages)
        })
        .collect()
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode are bad input from the caller, not a server fault.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                AppError::bad_request(format!("The request could not be read: {message}"))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::bad_request("The server could not be reached. Check your connection and try again."),
            _ => AppError::Internal { request_id: "unknown".into() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_documented_status() {
        assert_eq!(AppError::Unauthorized.status_code(), 401);
        assert_eq!(AppError::Forbidden.status_code(), 403);
        assert_eq!(AppError::not_found("Tenant").status_code(), 404);
        assert_eq!(AppError::field("slug", "taken").status_code(), 422);
        assert_eq!(AppError::conflict("x").status_code(), 409);
        assert_eq!(AppError::RateLimited { retry_after_secs: 3 }.status_code(), 429);
        assert_eq!(AppError::Internal { request_id: "r".into() }.status_code(), 500);
    }

    #[test]
    fn internal_errors_show_only_the_request_id() {
        let shown = AppError::Internal { request_id: "req-42".into() }.to_string();
        assert_eq!(shown, "Something went wrong on our side (request req-42).");
    }

    #[test]
    fn errors_round_trip_through_json_with_their_fields() {
        let err = AppError::field("slug", "This slug is already used by another tenant.");
        let json = serde_json::to_string(&err).unwrap();
        let back: AppError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.field_messages("slug"), vec!["This slug is already used by another tenant."]);
    }
}
