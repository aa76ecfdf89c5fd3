//! The onboarding port: staff issue and revoke invites and verify; the customer admin redeems an
//! invite and walks the wizard (always scoped to the invite's own tenant).

use app::error::{AppError, AppResult};
use app::onboarding::api::OnboardingPort;
use app::onboarding::model::{IntendedSystemUserInput, InviteLandingView, IssuedInvite, SystemUserInput, TenantConsentView, VerificationView, WizardView};
use app::ssr::RequestCtx;
use uuid::Uuid;

use super::{MANAGERS, done};
use crate::audit::Actor;
use crate::onboarding::{invites, prerequisites, records, verify, wizard};
use crate::sessions;
use crate::state::Portal;
use crate::tenants::environment_of;

#[async_trait::async_trait]
impl OnboardingPort for Portal {
    async fn tenant_consent(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<TenantConsentView> {
        let viewer = ctx.require_staff()?;
        let t = crate::scope::visible_in_request(&self.db, ctx, tenant_id).await?;
        done(ctx, records::tenant_consent_view(&self.db, viewer, &t, |env| self.deps(env).is_some()).await)
    }

    async fn create_invite(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<IssuedInvite> {
        ctx.require_role(MANAGERS)?;
        let ttl = chrono::Duration::hours(i64::from(self.config.invite_ttl_hours));
        done(ctx, invites::issue(&self.db, &Actor::of(ctx), Some(&ctx.request_id), tenant_id, &self.config.public_url, ttl).await)
    }

    async fn revoke_invite(&self, ctx: &RequestCtx, invite_id: Uuid) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, invites::revoke(&self.db, &Actor::of(ctx), Some(&ctx.request_id), invite_id).await)
    }

    async fn staff_verify(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<VerificationView> {
        ctx.require_role(MANAGERS)?;
        let env = done(ctx, environment_of(&self.db, tenant_id).await)?;
        let deps = self.require_deps(env)?;
        done(ctx, verify::run(deps, tenant_id, &Actor::of(ctx), Some(&ctx.request_id)).await)
    }

    async fn invite_landing(&self, ctx: &RequestCtx, token: &str) -> AppResult<InviteLandingView> {
        done(ctx, invites::landing(&self.db, token, ctx.invitee.as_ref().map(|i| i.tenant_id)).await)
    }

    async fn redeem_invite(&self, ctx: &RequestCtx, token: &str) -> AppResult<String> {
        let link = sessions::hash_token(token);
        let now = std::time::Instant::now();
        if let Err(retry_after_secs) = self.redeem_limiter.check(ctx.client_ip, &link, now) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let redeemed = invites::redeem(&self.db, Some(&ctx.request_id), token, self.lifetimes()).await;
        if matches!(&redeemed, Err(e) if e.is_refusal()) {
            self.redeem_limiter.fail(ctx.client_ip, link, now);
        }
        let (_, session) = done(ctx, redeemed)?;
        if let Some(old) = &ctx.session_token {
            done(ctx, sessions::delete(&self.db, old).await)?;
        }
        Ok(sessions::set_cookie(&session, self.config.secure_cookies(), self.lifetimes()))
    }

    async fn request_invite_link(&self, ctx: &RequestCtx, token: &str) -> AppResult<()> {
        // The same throttle as redemption: guessing links here costs what guessing them there does.
        let link = sessions::hash_token(token);
        let now = std::time::Instant::now();
        if let Err(retry_after_secs) = self.redeem_limiter.check(ctx.client_ip, &link, now) {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let requested = invites::request_link(&self.db, Some(&ctx.request_id), token, chrono::Utc::now()).await;
        if matches!(&requested, Err(crate::error::ServiceError::App(AppError::NotFound { .. }))) {
            self.redeem_limiter.fail(ctx.client_ip, link, now);
        }
        done(ctx, requested).map(|_| ())
    }

    async fn wizard_status(&self, ctx: &RequestCtx) -> AppResult<WizardView> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, environment_of(&self.db, invitee.tenant_id).await)?;
        let deps = self.deps(env);
        let scopes = deps.as_ref().map(|d| d.individual_scopes()).unwrap_or_default();
        done(ctx, wizard::view(&self.db, invitee.tenant_id, env, &invitee.session_hash, deps.as_ref(), scopes).await)
    }

    async fn name_system_user(&self, ctx: &RequestCtx, input: SystemUserInput) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, environment_of(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        done(ctx, wizard::name_system_user(deps, invitee.tenant_id, &invitee.session_hash, input).await)
    }

    async fn choose_account(&self, ctx: &RequestCtx, account_id: String, use_member_account: bool) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, environment_of(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        let actor = wizard::session_actor(&self.db, &invitee.session_hash).await;
        done(ctx, wizard::choose_account(deps, invitee.tenant_id, &invitee.session_hash, &account_id, use_member_account, &actor, Some(&ctx.request_id)).await)
    }

    async fn check_organization(&self, ctx: &RequestCtx) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, environment_of(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        done(ctx, prerequisites::check_again(deps, invitee.tenant_id, &invitee.session_hash).await)
    }

    async fn intended_system_user(&self, ctx: &RequestCtx, input: IntendedSystemUserInput) -> AppResult<()> {
        let invitee = ctx.require_invitee()?;
        done(ctx, prerequisites::set_intended(&self.db, &invitee.session_hash, input).await)
    }

    async fn wizard_verify(&self, ctx: &RequestCtx) -> AppResult<VerificationView> {
        let invitee = ctx.require_invitee()?;
        let env = done(ctx, environment_of(&self.db, invitee.tenant_id).await)?;
        let deps = self.require_deps(env)?;
        let actor = wizard::session_actor(&self.db, &invitee.session_hash).await;
        done(ctx, verify::run(deps, invitee.tenant_id, &actor, Some(&ctx.request_id)).await)
    }

    async fn end_customer_sessions(&self, ctx: &RequestCtx, tenant_id: Uuid) -> AppResult<u64> {
        let viewer = ctx.require_role(MANAGERS)?;
        done(ctx, wizard::end_customer_sessions(&self.db, viewer, &Actor::of(ctx), Some(&ctx.request_id), tenant_id).await)
    }

    async fn leave_wizard(&self, ctx: &RequestCtx) -> AppResult<String> {
        let invitee = ctx.require_invitee()?;
        if let Some(token) = &ctx.session_token {
            let actor = wizard::session_actor(&self.db, &invitee.session_hash).await;
            done(ctx, wizard::leave(&self.db, token, invitee.tenant_id, &actor, Some(&ctx.request_id)).await)?;
        }
        Ok(sessions::clear_cookie(self.config.secure_cookies()))
    }
}
