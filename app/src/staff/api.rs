//! Staff DTOs, the staff port and its server functions.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Role;
use crate::error::AppError;

/// The shortest password a staff account may have.
pub const MIN_PASSWORD_LEN: usize = 12;

/// What an administrator types to add a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewStaffInput {
    #[validate(custom(function = "crate::validation::email", message = "Enter a valid e-mail address."))]
    pub email: String,
    pub role: Role,
    #[validate(length(min = 12, max = 256, message = "Use a password of at least 12 characters."))]
    pub password: String,
}

/// A staff account as administrators see it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// An account manager, for the tenant form's select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffOption {
    pub id: Uuid,
    pub email: String,
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for staff management.
    #[async_trait::async_trait]
    pub trait StaffPort: Send + Sync + 'static {
        /// Every staff account (administrators only).
        async fn list(&self, ctx: &RequestCtx) -> Result<Vec<StaffView>, AppError>;
        /// Adds a staff account; a taken e-mail is a field error.
        async fn create(&self, ctx: &RequestCtx, input: NewStaffInput) -> Result<Uuid, AppError>;
        /// Deactivates (ending all its sessions) or reactivates an account.
        async fn set_active(&self, ctx: &RequestCtx, id: Uuid, active: bool) -> Result<(), AppError>;
        /// Ends every session of an account (it must sign in again); returns how many ended.
        async fn end_sessions(&self, ctx: &RequestCtx, id: Uuid) -> Result<u64, AppError>;
        /// Active account managers, for assignment to tenants.
        async fn account_managers(&self, ctx: &RequestCtx) -> Result<Vec<StaffOption>, AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::StaffPort;

/// Every staff account.
#[server(endpoint = "staff/list")]
pub async fn list_staff() -> Result<Vec<StaffView>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn StaffPort>()?;
    respond(&ctx, port.list(&ctx).await)
}

/// Adds a staff account.
#[server(endpoint = "staff/create")]
pub async fn create_staff(input: NewStaffInput) -> Result<Uuid, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn StaffPort>()?;
    respond(&ctx, port.create(&ctx, input).await)
}

/// Deactivates or reactivates a staff account.
#[server(endpoint = "staff/set_active")]
pub async fn set_staff_active(id: Uuid, active: bool) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn StaffPort>()?;
    respond(&ctx, port.set_active(&ctx, id, active).await)
}

/// Ends every session of a staff account.
#[server(endpoint = "staff/end_sessions")]
pub async fn end_staff_sessions(id: Uuid) -> Result<u64, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn StaffPort>()?;
    respond(&ctx, port.end_sessions(&ctx, id).await)
}

/// Active account managers.
#[server(endpoint = "staff/account_managers")]
pub async fn account_managers() -> Result<Vec<StaffOption>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn StaffPort>()?;
    respond(&ctx, port.account_managers(&ctx).await)
}
