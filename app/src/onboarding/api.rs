//! Onboarding server functions and the port the server implements for them.

use leptos::prelude::*;
use uuid::Uuid;

use super::model::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for onboarding. Every method authorizes the caller itself.
    #[async_trait::async_trait]
    pub trait OnboardingPort: Send + Sync + 'static {
        /// Consent state, receipt, system user, history and invites of a tenant (staff).
        async fn tenant_consent(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<TenantConsentView, AppError>;
        /// Issues a new invite (revoking any pending one) and returns its link, once.
        async fn create_invite(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<IssuedInvite, AppError>;
        /// Revokes an invite.
        async fn revoke_invite(&self, ctx: &RequestCtx, invite_id: Uuid) -> Result<(), AppError>;
        /// Re-runs verification of a tenant's system user (staff "check again").
        async fn staff_verify(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<VerificationView, AppError>;
        /// What an invite link's landing page shows; consumes nothing.
        async fn invite_landing(&self, ctx: &RequestCtx, token: &str) -> Result<InviteLandingView, AppError>;
        /// Redeems an invite into an invite session (exactly once) and returns its `Set-Cookie`.
        async fn redeem_invite(&self, ctx: &RequestCtx, token: &str) -> Result<String, AppError>;
        /// From the page of a used, expired or withdrawn link: asks the ISV for a fresh one
        /// (audited, once per link an hour).
        async fn request_invite_link(&self, ctx: &RequestCtx, token: &str) -> Result<(), AppError>;
        /// The wizard as the invitee's session sees it.
        async fn wizard_status(&self, ctx: &RequestCtx) -> Result<WizardView, AppError>;
        /// Organization path: the admin names the system user (e-mail or user id).
        async fn name_system_user(&self, ctx: &RequestCtx, input: SystemUserInput) -> Result<(), AppError>;
        /// Pins the system user's account (and its base URI) for the tenant; an account where the
        /// user is only a member needs `use_member_account`.
        async fn choose_account(&self, ctx: &RequestCtx, account_id: String, use_member_account: bool) -> Result<(), AppError>;
        /// Reads the organization's claimed domains again with the admin's read consent ("Check
        /// again" on the organization screen).
        async fn check_organization(&self, ctx: &RequestCtx) -> Result<(), AppError>;
        /// Judges organization coverage for another intended system user (no DocuSign call).
        async fn intended_system_user(&self, ctx: &RequestCtx, input: IntendedSystemUserInput) -> Result<(), AppError>;
        /// Verifies the system user with the JWT grant, userinfo and one call on the account.
        async fn wizard_verify(&self, ctx: &RequestCtx) -> Result<VerificationView, AppError>;
        /// Ends every invite session of a tenant (staff); returns how many ended.
        async fn end_customer_sessions(&self, ctx: &RequestCtx, tenant_id: Uuid) -> Result<u64, AppError>;
        /// Ends the caller's own invite session and returns the `Set-Cookie` that clears it.
        async fn leave_wizard(&self, ctx: &RequestCtx) -> Result<String, AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::OnboardingPort;

#[cfg(feature = "ssr")]
fn onboarding() -> Result<(crate::ssr::RequestCtx, std::sync::Arc<dyn OnboardingPort>), AppError> {
    Ok((crate::ssr::request_ctx()?, crate::ssr::port::<dyn OnboardingPort>()?))
}

/// A tenant's consent as staff see it.
#[server(endpoint = "onboarding/tenant_consent")]
pub async fn tenant_consent(tenant_id: Uuid) -> Result<TenantConsentView, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.tenant_consent(&ctx, tenant_id).await)
}

/// Issues an invite for a tenant.
#[server(endpoint = "onboarding/create_invite")]
pub async fn create_invite(tenant_id: Uuid) -> Result<IssuedInvite, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.create_invite(&ctx, tenant_id).await)
}

/// Revokes an invite.
#[server(endpoint = "onboarding/revoke_invite")]
pub async fn revoke_invite(invite_id: Uuid) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.revoke_invite(&ctx, invite_id).await)
}

/// Staff: verify a tenant's system user again.
#[server(endpoint = "onboarding/staff_verify")]
pub async fn staff_verify(tenant_id: Uuid) -> Result<VerificationView, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.staff_verify(&ctx, tenant_id).await)
}

/// The landing page of an invite link.
#[server(endpoint = "onboarding/invite_landing")]
pub async fn invite_landing(token: String) -> Result<InviteLandingView, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.invite_landing(&ctx, &token).await)
}

/// Starts the wizard: redeems the invite into a session for this browser.
#[server(endpoint = "onboarding/redeem_invite")]
pub async fn redeem_invite(token: String) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    let cookie = crate::ssr::respond(&ctx, port.redeem_invite(&ctx, &token).await)?;
    crate::ssr::set_cookie(&cookie);
    Ok(())
}

/// Asks the ISV for a fresh link, from the page of a used, expired or withdrawn one.
#[server(endpoint = "onboarding/request_invite_link")]
pub async fn request_invite_link(token: String) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.request_invite_link(&ctx, &token).await)
}

/// The wizard for this invite session.
#[server(endpoint = "wizard/status")]
pub async fn wizard_status() -> Result<WizardView, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.wizard_status(&ctx).await)
}

/// Names the organization path's system user.
#[server(endpoint = "wizard/name_system_user")]
pub async fn name_system_user(input: SystemUserInput) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.name_system_user(&ctx, input).await)
}

/// Pins the system user's account. `use_member_account` (the "Use it anyway" checkbox, sent
/// only when ticked) accepts an account where the user is only a member.
#[server(endpoint = "wizard/choose_account")]
pub async fn choose_account(account_id: String, use_member_account: Option<String>) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.choose_account(&ctx, account_id, use_member_account.is_some()).await)
}

/// Reads the organization's claimed domains again ("Check again").
#[server(endpoint = "wizard/check_organization")]
pub async fn check_organization() -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.check_organization(&ctx).await)
}

/// Names the intended system user whose coverage the organization screen judges.
#[server(endpoint = "wizard/intended_system_user")]
pub async fn intended_system_user(input: IntendedSystemUserInput) -> Result<(), AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.intended_system_user(&ctx, input).await)
}

/// Verifies the system user.
#[server(endpoint = "wizard/verify")]
pub async fn wizard_verify() -> Result<VerificationView, AppError> {
    let (ctx, port) = onboarding()?;
    crate::ssr::respond(&ctx, port.wizard_verify(&ctx).await)
}

/// Ends every customer-admin (invite) session of a tenant.
#[server(endpoint = "onboarding/end_customer_sessions")]
pub async fn end_customer_sessions(tenant_id: Uuid) -> Result<u64, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn OnboardingPort>()?;
    respond(&ctx, port.end_customer_sessions(&ctx, tenant_id).await)
}

/// Ends the customer admin's own wizard session (on a shared computer, say).
#[server(endpoint = "wizard/leave")]
pub async fn leave_wizard() -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn OnboardingPort>()?;
    let cookie = respond(&ctx, port.leave_wizard(&ctx).await)?;
    set_cookie(&cookie);
    Ok(())
}
