//! The services' error type: an [`AppError`] for the caller, with unexpected causes logged once
//! (with the request id) and replaced by a short message.

use app::error::AppError;
use sea_orm::DbErr;

/// A service failure: either something the caller must hear about, or an unexpected fault.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A refusal or a validation problem, shown to the caller as is.
    #[error(transparent)]
    App(#[from] AppError),
    /// A database fault.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// Any other unexpected fault.
    #[error("{0}")]
    Other(String),
}

/// What an overloaded portal asks callers to wait.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Result alias for services.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Whether this is a refusal of what the caller asked (not found, conflict, gone, invalid),
    /// as opposed to a fault of ours; throttles count refusals as failures.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ServiceError::App(e) if (400..500).contains(&e.status_code()))
    }

    /// Converts to what crosses the wire, logging the cause of unexpected faults under the request
    /// id the person will see.
    pub fn into_app(self, request_id: &str) -> AppError {
        match self {
            ServiceError::App(e) => e,
            ServiceError::Db(DbErr::ConnectionAcquire(e)) => {
                tracing::warn!(request_id, error = %e, "no database connection came free in time; answering 503");
                AppError::Busy { retry_after_secs: BUSY_RETRY_AFTER_SECS }
            }
            other => {
                tracing::error!(request_id, error = %other, "unexpected failure");
                AppError::Internal { request_id: request_id.to_owned() }
            }
        }
    }
}
