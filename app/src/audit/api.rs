//! The audit log's port and server function: the events of every tenant the caller may see.

use leptos::prelude::*;

use super::log::{AuditPage, AuditQuery};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for the audit log.
    #[async_trait::async_trait]
    pub trait AuditPort: Send + Sync + 'static {
        /// One page of the events the caller may see (account managers: their tenants' only).
        async fn log(&self, ctx: &RequestCtx, query: AuditQuery) -> Result<AuditPage, AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::AuditPort;

/// One page of the audit log.
#[server(endpoint = "audit/log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn AuditPort>()?;
    respond(&ctx, port.log(&ctx, query).await)
}
