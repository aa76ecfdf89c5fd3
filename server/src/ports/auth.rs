//! Staff sign-in and sign-out: the service decides, this adapter turns the outcome into cookies.

use app::auth::api::AuthPort;
use app::error::AppResult;
use app::ssr::RequestCtx;

use super::done;
use crate::sessions;
use crate::staff;
use crate::state::Portal;

#[async_trait::async_trait]
impl AuthPort for Portal {
    async fn sign_in(&self, ctx: &RequestCtx, email: &str, password: &str) -> AppResult<Vec<String>> {
        let attempt = staff::SignInAttempt {
            email,
            password,
            client_ip: ctx.client_ip,
            device_token: ctx.device_token.as_deref(),
            old_session: ctx.session_token.as_deref(),
            request_id: &ctx.request_id,
        };
        let signed_in = done(ctx, staff::sign_in(&self.db, &self.keyring, &self.sign_in_limiter, self.lifetimes(), attempt).await)?;
        let secure = self.config.secure_cookies();
        Ok(vec![
            sessions::set_cookie(&signed_in.session_token, secure, self.lifetimes()),
            sessions::device_cookie(&signed_in.device_token, secure),
        ])
    }

    async fn sign_out(&self, ctx: &RequestCtx) -> AppResult<String> {
        if let Some(token) = &ctx.session_token {
            done(ctx, sessions::delete(&self.db, token).await)?;
        }
        Ok(sessions::clear_cookie(self.config.secure_cookies()))
    }
}
