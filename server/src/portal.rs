//! The backend behind the app's ports: one `Portal` value holding the database and settings,
//! implementing each port by authorizing the caller and calling one service function.

use std::sync::Arc;

use app::auth::Role;
use app::auth::api::AuthPort;
use app::error::{AppError, AppResult};
use app::ssr::RequestCtx;
use app::staff::api::{NewStaffInput, StaffOption, StaffPort, StaffView};
use app::tenants::api::{TenantDetail, TenantInput, TenantSummary, TenantsPort};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::config::Config;
use crate::error::ServiceResult;
use crate::rate_limit::SignInLimiter;
use crate::sessions::{self, Lifetimes};
use crate::{staff, tenants};

const MANAGERS: &[Role] = &[Role::ConfigStaff, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];

/// The portal's backend.
pub struct Portal {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub sign_in_limiter: SignInLimiter,
}

impl Portal {
    /// A backend over `db` with `config`.
    pub fn new(db: DatabaseConnection, config: Arc<Config>) -> Self {
        Portal { db, config, sign_in_limiter: SignInLimiter::default() }
    }

    /// Session lifetimes from the configuration.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: chrono::Duration::minutes(i64::from(self.config.session_idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.config.session_absolute_hours)),
        }
    }
}

fn done<T>(ctx: &RequestCtx, result: ServiceResult<T>) -> AppResult<T> {
    result.map_err(|e| e.into_app(&ctx.request_id))
}

#[async_trait::async_trait]
impl AuthPort for Portal {
    async fn sign_in(&self, ctx: &RequestCtx, email: &str, password: &str) -> AppResult<String> {
        let email = staff::normalize_email(email);
        if email.is_empty() || password.is_empty() {
            return Err(AppError::field("email", "Enter your e-mail and password."));
        }
        if let Err(retry_after_secs) = self.sign_in_limiter.check(&email, ctx.client_ip) {
            tracing::warn!(request_id = %ctx.request_id, "sign-in throttled");
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let result: ServiceResult<String> = async {
            let Some(principal) = staff::authenticate(&self.db, &email, password).await? else {
                audit::record(
                    &self.db,
                    Event {
                        actor: &Actor::system("anonymous"),
                        tenant_id: None,
                        action: "staff.sign_in_failed",
                        before: None,
                        after: Some(serde_json::json!({ "email": email })),
                        request_id: Some(&ctx.request_id),
                    },
                )
                .await?;
                return Err(AppError::field("email", "That e-mail and password do not match an active account.").into());
            };
            // Rotate: the id a browser had before signing in never becomes an authenticated one.
            if let Some(old) = &ctx.session_token {
                sessions::delete(&self.db, old).await?;
            }
            let token = sessions::create_staff_session(&self.db, principal.id, self.lifetimes()).await?;
            let actor = Actor { id: Some(principal.id), label: principal.email.clone() };
            audit::record(
                &self.db,
                Event { actor: &actor, tenant_id: None, action: "staff.signed_in", before: None, after: None, request_id: Some(&ctx.request_id) },
            )
            .await?;
            Ok(sessions::set_cookie(&token, self.config.secure_cookies(), self.lifetimes()))
        }
        .await;
        done(ctx, result)
    }

    async fn sign_out(&self, ctx: &RequestCtx) -> AppResult<String> {
        if let Some(token) = &ctx.session_token {
            done(ctx, sessions::delete(&self.db, token).await)?;
        }
        Ok(sessions::clear_cookie(self.config.secure_cookies()))
    }
}

#[async_trait::async_trait]
impl TenantsPort for Portal {
    async fn list(&self, ctx: &RequestCtx, include_archived: bool) -> AppResult<Vec<TenantSummary>> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::list(&self.db, viewer, include_archived).await)
    }

    async fn get(&self, ctx: &RequestCtx, id: Uuid) -> AppResult<TenantDetail> {
        let viewer = ctx.require_staff()?;
        done(ctx, tenants::get(&self.db, viewer, id).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: TenantInput) -> AppResult<Uuid> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn update(&self, ctx: &RequestCtx, id: Uuid, input: TenantInput) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::update(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, input).await)
    }

    async fn set_archived(&self, ctx: &RequestCtx, id: Uuid, archived: bool) -> AppResult<()> {
        ctx.require_role(MANAGERS)?;
        done(ctx, tenants::set_archived(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, archived).await)
    }
}

#[async_trait::async_trait]
impl StaffPort for Portal {
    async fn list(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffView>> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::list(&self.db).await)
    }

    async fn create(&self, ctx: &RequestCtx, input: NewStaffInput) -> AppResult<Uuid> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::create(&self.db, &Actor::of(ctx), Some(&ctx.request_id), input).await)
    }

    async fn set_active(&self, ctx: &RequestCtx, id: Uuid, active: bool) -> AppResult<()> {
        ctx.require_role(ADMINS)?;
        done(ctx, staff::set_active(&self.db, &Actor::of(ctx), Some(&ctx.request_id), id, active).await)
    }

    async fn account_managers(&self, ctx: &RequestCtx) -> AppResult<Vec<StaffOption>> {
        ctx.require_role(MANAGERS)?;
        done(ctx, staff::account_managers(&self.db).await)
    }
}
