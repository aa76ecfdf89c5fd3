//! `POST /tenants/{tenant}/access-token`: a DocuSign access token for the tenant's system user, by
//! the JWT grant, for the ISV's backend to send envelopes with.
//!
//! Tokens are cached twice: in this instance's memory (a warm request touches the database only
//! to read the tenant's state and system user) and in the database, AES-GCM sealed like every
//! kept credential, so other instances reuse a token instead of asking DocuSign again. When the
//! cached token is near its expiry, one caller across all instances takes the credential row's
//! lease (a conditional UPDATE) and makes the grant; the others wait and read its result. A
//! grant DocuSign refuses is classified like a verification: the tenant moves to the matching
//! state (which emits its webhook) and the caller gets a 409 naming the remediation. Tokens never
//! reach logs or audit rows.

use std::time::Duration as StdDuration;

use app::environment::Environment;
use app::onboarding::model::ConsentState;
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

use super::model::ApiAccessToken;
use super::problem::Problem;
use crate::api_clients::ApiCaller;
use crate::audit::{self, Event};
use crate::crypto::Binding;
use crate::db::entities::{credential, tenant};
use crate::error::{ServiceError, ServiceResult, Unexpected};
use crate::onboarding::{credentials, records, state, verify};
use crate::state::{Deps, Portal};
use crate::token_cache::{Cached, MARGIN};

/// The credential purpose of cached API tokens (beside `consent`).
pub const PURPOSE: &str = "api";

/// How long one instance holds the grant lease (a crashed holder's lease simply runs out).
const LEASE: Duration = Duration::seconds(20);

/// How long a waiting request polls for another caller's grant before answering 503.
const WAIT_POLLS: u32 = 200;
const POLL: StdDuration = StdDuration::from_millis(50);

fn binding_purpose() -> String {
    format!("credential.{PURPOSE}.access")
}

/// The tenant is not ready for tokens: a 409 naming what staff do.
fn not_ready(portal_url: &str, t: &tenant::Model, state: ConsentState, reason: Option<&str>) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "tenant-not-ready",
        "The tenant's consent is not in place",
        format!("Tenant {} is {}{}: no token can be issued until it is verified.", t.slug, state.label().to_lowercase(), reason.map(|r| format!(" ({r})")).unwrap_or_default()),
    )
    .with_remediation(super::tenants::remediation(portal_url, t.id, state, reason))
}

/// A token for `t`'s system user, from a cache or by one JWT grant across every instance.
pub async fn vend(portal: &Portal, caller: &ApiCaller, t: &tenant::Model, request_id: &str) -> Result<ApiAccessToken, Problem> {
    let fail = |e: ServiceError| Problem::from_service(e, request_id);
    let env = t.environment().map_err(fail)?;
    let base = portal.config.public_url.as_str().trim_end_matches('/').to_owned();
    let status = state::status(&portal.db, t.id, env).await.map_err(fail)?;
    if status.state != ConsentState::Verified {
        portal.api_tokens.forget(t.id, env);
        return Err(not_ready(&base, t, status.state, status.reason.as_deref()));
    }
    let su = records::system_user(&portal.db, t.id, env)
        .await
        .map_err(fail)?
        .ok_or_else(|| not_ready(&base, t, ConsentState::NeedsAttention, Some("not_a_member")))?;
    let deps = portal.require_deps(env).map_err(Problem::from_app)?;
    let answer = |c: Cached, now: DateTime<Utc>| ApiAccessToken {
        access_token: c.token.expose_secret().to_owned(),
        token_type: "Bearer".into(),
        expires_at: c.expires_at,
        expires_in: (c.expires_at - now).num_seconds(),
        user_id: su.user_id.clone(),
        account_id: su.account_id.clone(),
        base_uri: su.base_uri.clone(),
    };
    let now = Utc::now();
    if let Some(hit) = portal.api_tokens.fresh(t.id, env, &su.user_id, now) {
        return Ok(answer(hit, now));
    }
    match from_database_or_grant(portal, deps, caller, t, &su.user_id, request_id).await {
        Ok(Granted::Token(c)) => {
            portal.api_tokens.put(t.id, env, c.clone());
            Ok(answer(c, Utc::now()))
        }
        Ok(Granted::Refused(to, reason)) => Err(not_ready(&base, t, to, reason.as_deref())),
        Ok(Granted::Unavailable(detail)) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "provider-unavailable",
            "DocuSign could not be reached",
            format!("DocuSign did not answer the JWT grant properly ({detail}). Nothing was changed; try again shortly."),
        )
        .retry_after(5)),
        Err(e) => Err(fail(e)),
    }
}

enum Granted {
    Token(Cached),
    /// DocuSign refused: the tenant moved to this state.
    Refused(ConsentState, Option<String>),
    /// DocuSign failed transiently; nothing changed.
    Unavailable(String),
}

async fn from_database_or_grant(portal: &Portal, deps: Deps<'_>, caller: &ApiCaller, t: &tenant::Model, user_id: &str, request_id: &str) -> ServiceResult<Granted> {
    let db = &portal.db;
    let env = deps.env;
    let key = (t.id, env.as_str().to_owned(), PURPOSE.to_owned());
    for _ in 0..WAIT_POLLS {
        let now = Utc::now();
        let row = credential::Entity::find_by_id(key.clone()).one(db).await?;
        if let Some(row) = &row
            && row.subject == user_id
            && row.access_expires_at - MARGIN > now
        {
            let token = portal.keyring.open(Binding { purpose: &binding_purpose(), tenant_id: t.id }, &row.access_token).unexpected("opening a cached API token")?;
            return Ok(Granted::Token(Cached { token, expires_at: row.access_expires_at, user_id: user_id.to_owned() }));
        }
        let seen_expiry = match &row {
            Some(r) => r.access_expires_at,
            None => {
                // Nothing cached yet: a placeholder row (already expired) to hold the lease on.
                let placeholder = credential::ActiveModel {
                    tenant_id: Set(t.id),
                    environment: Set(env.as_str().to_owned()),
                    purpose: Set(PURPOSE.to_owned()),
                    access_token: Set(String::new()),
                    refresh_token: Set(None),
                    access_expires_at: Set(DateTime::<Utc>::UNIX_EPOCH),
                    subject: Set(user_id.to_owned()),
                    refresh_lease_until: Set(None),
                    refresh_state: Set(credentials::RefreshState::Active.as_str().to_owned()),
                    refresh_failure_days: Set(0),
                    last_refresh_failure_on: Set(None),
                    updated_at: Set(now),
                };
                credential::Entity::insert(placeholder)
                    .on_conflict(OnConflict::columns([credential::Column::TenantId, credential::Column::Environment, credential::Column::Purpose]).do_nothing().to_owned())
                    .exec_without_returning(db)
                    .await?;
                continue;
            }
        };
        let claimed = credentials::claim_lease(db, t.id, env, PURPOSE, seen_expiry, now, now + LEASE).await?;
        if !claimed {
            tokio::time::sleep(POLL).await;
            continue;
        }
        return grant(portal, deps, caller, t, user_id, request_id).await;
    }
    Err(crate::error::ServiceError::App(app::error::AppError::Busy { retry_after_secs: 2 }))
}

/// Holding the lease: one JWT grant, stored (releasing the lease) or classified.
async fn grant(portal: &Portal, deps: Deps<'_>, caller: &ApiCaller, t: &tenant::Model, user_id: &str, request_id: &str) -> ServiceResult<Granted> {
    let db = &portal.db;
    let env = deps.env;
    match deps.provider.app_token(user_id, &deps.esign_scopes()).await {
        Ok(tokens) => {
            let expires_at = Utc::now() + Duration::seconds(tokens.expires_in.clamp(60, 86_400) as i64);
            let sealed = portal.keyring.seal(Binding { purpose: &binding_purpose(), tenant_id: t.id }, tokens.access_token.expose_secret());
            let txn = crate::db::begin(db).await?;
            credential::Entity::update_many()
                .col_expr(credential::Column::AccessToken, Expr::value(sealed))
                .col_expr(credential::Column::AccessExpiresAt, Expr::value(expires_at))
                .col_expr(credential::Column::Subject, Expr::value(user_id.to_owned()))
                .col_expr(credential::Column::RefreshLeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(credential::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(credential::Column::TenantId.eq(t.id))
                .filter(credential::Column::Environment.eq(env.as_str()))
                .filter(credential::Column::Purpose.eq(PURPOSE))
                .exec(&txn)
                .await?;
            audit::record(
                &txn,
                Event {
                    actor: &caller.actor(),
                    tenant_id: Some(t.id),
                    action: "api.token_granted",
                    before: None,
                    after: Some(json!({ "environment": env, "user_id": user_id, "expires_at": expires_at })),
                    request_id: Some(request_id),
                },
            )
            .await?;
            txn.commit().await?;
            Ok(Granted::Token(Cached { token: tokens.access_token, expires_at, user_id: user_id.to_owned() }))
        }
        Err(e) => {
            release(portal, t.id, env).await?;
            deps.provider.forget_app_tokens(user_id);
            let classified = verify::classify(&e, true);
            let Some(to) = classified.state else {
                tracing::warn!(tenant = %t.id, error = %e, "JWT grant for an API token failed transiently");
                return Ok(Granted::Unavailable(e.to_string()));
            };
            let reason = (to == ConsentState::NeedsAttention).then(|| classified.outcome.as_str().to_owned());
            let txn = crate::db::begin(db).await?;
            let found = crate::audit::Actor { id: None, label: format!("access-token request by {}", caller.actor().label) };
            state::transition(&txn, &found, Some(request_id), t.id, env, to, reason.as_deref()).await?;
            txn.commit().await?;
            portal.api_tokens.forget(t.id, env);
            Ok(Granted::Refused(to, reason))
        }
    }
}

async fn release(portal: &Portal, tenant_id: Uuid, env: Environment) -> ServiceResult<()> {
    credential::Entity::update_many()
        .col_expr(credential::Column::RefreshLeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(credential::Column::TenantId.eq(tenant_id))
        .filter(credential::Column::Environment.eq(env.as_str()))
        .filter(credential::Column::Purpose.eq(PURPOSE))
        .exec(&portal.db)
        .await?;
    Ok(())
}
