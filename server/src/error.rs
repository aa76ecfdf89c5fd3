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
    /// Any other unexpected fault, with its chain of causes (logged, never sent).
    #[error("{0:#}")]
    Other(anyhow::Error),
}

/// Attaches what the portal was doing to an unexpected failure, keeping the cause chain.
pub trait Unexpected<T> {
    /// An unexpected fault "while `doing`", with the original error as its cause.
    fn unexpected(self, doing: &'static str) -> ServiceResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Unexpected<T> for Result<T, E> {
    fn unexpected(self, doing: &'static str) -> ServiceResult<T> {
        self.map_err(|e| ServiceError::Other(anyhow::Error::new(e).context(doing)))
    }
}

/// What an overloaded portal asks callers to wait.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Result alias for services.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An unexpected fault described by `message` (for faults that have no error value, such as
    /// an unknown value stored in a row: name the row).
    pub fn unexpected(message: impl std::fmt::Display) -> Self {
        ServiceError::Other(anyhow::anyhow!("{message}"))
    }

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
            ServiceError::Db(e) if is_busy(&e) => {
                tracing::warn!(request_id, error = %e, "the database was too busy to answer in time; answering 503");
                AppError::Busy { retry_after_secs: BUSY_RETRY_AFTER_SECS }
            }
            other => {
                tracing::error!(request_id, error = %other, "unexpected failure");
                AppError::Internal { request_id: request_id.to_owned() }
            }
        }
    }
}

/// Whether a database error means "too busy right now" (no pooled connection came free, or the
/// SQLite write lock stayed taken): nothing was done and the caller may simply try again.
pub fn is_busy(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            // SQLITE_BUSY (5) and its extended codes (e.g. 261, 517): the low byte is the primary code.
            e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
        }
        _ => false,
    }
}
