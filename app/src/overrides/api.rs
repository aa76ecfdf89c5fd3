//! Override server functions and the port the server implements. Config staff and admins set
//! and withdraw overrides; every staff member who may see the tenant reads them (account
//! managers audit, they do not decide).

use leptos::prelude::*;
use uuid::Uuid;

use super::{OverrideInput, OverrideView, TenantOverrides};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for overrides. Every method authorizes the caller itself.
    #[async_trait::async_trait]
    pub trait OverridesPort: Send + Sync + 'static {
        /// The overrides in force on a tenant (none expired) and whether the caller may decide;
        /// `NotFound` when the caller may not see the tenant.
        async fn active(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<TenantOverrides, AppError>;
        /// Overrides a check or the consent of a tenant, replacing one in force on the same subject.
        async fn create(&self, ctx: &RequestCtx, tenant_id: Uuid, input: OverrideInput) -> Result<OverrideView, AppError>;
        /// Ends the override in force on a subject before its expiry.
        async fn withdraw(&self, ctx: &RequestCtx, tenant_id: Uuid, subject: String) -> Result<(), AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::OverridesPort;

#[cfg(feature = "ssr")]
fn overrides() -> Result<(crate::ssr::RequestCtx, std::sync::Arc<dyn OverridesPort>), AppError> {
    Ok((crate::ssr::request_ctx()?, crate::ssr::port::<dyn OverridesPort>()?))
}

/// Staff: the overrides in force on a tenant.
#[server(endpoint = "overrides/active")]
pub async fn active_overrides(tenant_id: Uuid) -> Result<TenantOverrides, AppError> {
    let (ctx, port) = overrides()?;
    crate::ssr::respond(&ctx, port.active(&ctx, tenant_id).await)
}

/// Config staff and admins: override a check or the consent, with a justification and an expiry.
#[server(endpoint = "overrides/create")]
pub async fn create_override(tenant_id: Uuid, #[server(default)] input: OverrideInput) -> Result<OverrideView, AppError> {
    let (ctx, port) = overrides()?;
    crate::ssr::respond(&ctx, port.create(&ctx, tenant_id, input).await)
}

/// Config staff and admins: withdraw an override before its expiry.
#[server(endpoint = "overrides/withdraw")]
pub async fn withdraw_override(tenant_id: Uuid, subject: String) -> Result<(), AppError> {
    let (ctx, port) = overrides()?;
    crate::ssr::respond(&ctx, port.withdraw(&ctx, tenant_id, subject).await)
}
