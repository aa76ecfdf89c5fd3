//! Kept credentials: the consenting user's tokens, AES-256-GCM encrypted and bound to tenant and
//! purpose. Reading an access token near its expiry refreshes it single-flight across every
//! portal instance: a lease column is claimed with a conditional UPDATE, one caller refreshes,
//! the others wait and read the result. The new refresh token is stored before the new access
//! token is handed out (DocuSign rotates refresh tokens).
//!
//! Refresh failures follow a state machine (security bar O10):
//!
//! - `invalid_grant` (or a used code): the credential is `reconsent_required`: audited once, and
//!   no further refresh is ever sent; the customer admin must consent again.
//! - a transient failure (5xx, timeout, rate limit): counted at most once per calendar day (UTC);
//!   after [`MAX_REFRESH_FAILURE_DAYS`] days the credential is `exhausted` (audited, no more
//!   calls). Each failing day is audited once.
//! - a success resets the count.

use std::time::Duration as StdDuration;

use app::error::AppError;
use app::environment::Environment;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::crypto::{Binding, Keyring};
use crate::db::entities::credential;
use crate::providers::{ConsentProvider, ProviderError, TokenSet};
use crate::error::{ServiceError, ServiceResult, Unexpected};

/// Stored by the entity, named here where the flow uses it.
pub use crate::db::entities::credential::RefreshState;

/// The consenting user's code-grant tokens.
pub const CONSENT: &str = "consent";

/// After transient refresh failures on this many calendar days, stop trying.
pub const MAX_REFRESH_FAILURE_DAYS: i32 = 4;

impl RefreshState {
    /// What the person asking for the token hears when the credential can no longer refresh.
    fn refusal(self) -> AppError {
        AppError::conflict(match self {
            RefreshState::ReconsentRequired => {
                "DocuSign no longer accepts the customer admin's stored sign-in (consent withdrawn or expired); they must sign in again through a new invite."
            }
            _ => "DocuSign could not be reached to renew the customer admin's stored sign-in for several days; they must sign in again through a new invite.",
        })
    }
}

/// Refresh this long before the access token expires.
pub const REFRESH_MARGIN: Duration = Duration::minutes(15);

/// How long one refresher holds the lease (a crashed refresher's lease simply runs out).
pub const LEASE: Duration = Duration::seconds(30);

fn binding(purpose: &str, tenant_id: Uuid, field: &'static str) -> (String, Uuid, &'static str) {
    (format!("credential.{purpose}.{field}"), tenant_id, field)
}

fn seal(keyring: &Keyring, purpose: &str, tenant_id: Uuid, field: &'static str, value: &SecretString) -> String {
    let (p, t, _) = binding(purpose, tenant_id, field);
    keyring.seal(Binding { purpose: &p, tenant_id: t }, value.expose_secret())
}

fn open(keyring: &Keyring, purpose: &str, tenant_id: Uuid, field: &'static str, sealed: &str) -> ServiceResult<SecretString> {
    let (p, t, _) = binding(purpose, tenant_id, field);
    keyring.open(Binding { purpose: &p, tenant_id: t }, sealed).unexpected("opening a stored credential")
}

/// The DocuSign user a kept credential acts for, if one is kept.
pub async fn subject<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment, purpose: &str) -> ServiceResult<Option<String>> {
    Ok(credential::Entity::find_by_id((tenant_id, env.as_str().to_owned(), purpose.to_owned())).one(db).await?.map(|c| c.subject))
}

/// Records a failed refresh on `row` (and releases its lease): `refused` moves it to
/// `reconsent_required`; a `transient` failure counts the day once and, on the last allowed
/// day, moves it to `exhausted`. Each change of state and each failing day is audited once.
async fn record_failure<C: ConnectionTrait>(db: &C, row: &credential::Model, refused: bool, transient: bool, now: chrono::DateTime<Utc>) -> ServiceResult<()> {
    let today = now.format("%Y-%m-%d").to_string();
    let new_day = row.last_refresh_failure_on.as_deref() != Some(today.as_str());
    let days = if transient && new_day { row.refresh_failure_days + 1 } else { row.refresh_failure_days };
    let state = if refused {
        RefreshState::ReconsentRequired
    } else if days >= MAX_REFRESH_FAILURE_DAYS {
        RefreshState::Exhausted
    } else {
        RefreshState::Active
    };
    let mut model: credential::ActiveModel = row.clone().into();
    model.refresh_lease_until = Set(None);
    model.refresh_state = Set(state.as_str().to_owned());
    model.refresh_failure_days = Set(days);
    if transient {
        model.last_refresh_failure_on = Set(Some(today));
    }
    model.update(db).await?;
    let action = match state {
        RefreshState::ReconsentRequired => Some("credential.reconsent_required"),
        RefreshState::Exhausted => Some("credential.refresh_exhausted"),
        RefreshState::Active if transient && new_day => Some("credential.refresh_failed"),
        RefreshState::Active => None,
    };
    if let Some(action) = action {
        crate::audit::record(
            db,
            crate::audit::Event {
                actor: &crate::audit::Actor::system("token refresh"),
                tenant_id: Some(row.tenant_id),
                action,
                before: Some(serde_json::json!({ "refresh_state": row.refresh_state, "failure_days": row.refresh_failure_days })),
                after: Some(serde_json::json!({ "refresh_state": state.as_str(), "failure_days": days, "subject": row.subject })),
                request_id: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Takes the renewal lease of the credential (`tenant_id`, `env`, `purpose`) until `until`, only
/// if nobody holds a live one and its access token still expires at `seen_expiry` (nobody renewed
/// it meanwhile): one conditional UPDATE, so exactly one caller across every instance wins.
pub(crate) async fn claim_lease<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    env: Environment,
    purpose: &str,
    seen_expiry: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
    until: chrono::DateTime<Utc>,
) -> ServiceResult<bool> {
    let claimed = credential::Entity::update_many()
        .col_expr(credential::Column::RefreshLeaseUntil, Expr::value(until))
        .filter(credential::Column::TenantId.eq(tenant_id))
        .filter(credential::Column::Environment.eq(env.as_str()))
        .filter(credential::Column::Purpose.eq(purpose))
        .filter(credential::Column::AccessExpiresAt.eq(seen_expiry))
        .filter(sea_orm::Condition::any().add(credential::Column::RefreshLeaseUntil.is_null()).add(credential::Column::RefreshLeaseUntil.lt(now)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(claimed == 1)
}

/// Stores (replaces) tokens for a tenant, environment and purpose.
pub async fn store<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    tenant_id: Uuid,
    env: Environment,
    purpose: &str,
    tokens: &TokenSet,
    subject: &str,
) -> ServiceResult<()> {
    let now = Utc::now();
    let expires = now + Duration::seconds(tokens.expires_in.clamp(60, 86_400) as i64);
    let model = credential::ActiveModel {
        tenant_id: Set(tenant_id),
        environment: Set(env.as_str().to_owned()),
        purpose: Set(purpose.to_owned()),
        access_token: Set(seal(keyring, purpose, tenant_id, "access", &tokens.access_token)),
        refresh_token: Set(tokens.refresh_token.as_ref().map(|r| seal(keyring, purpose, tenant_id, "refresh", r))),
        access_expires_at: Set(expires),
        subject: Set(subject.to_owned()),
        refresh_lease_until: Set(None),
        refresh_state: Set(RefreshState::Active.as_str().to_owned()),
        refresh_failure_days: Set(0),
        last_refresh_failure_on: Set(None),
        updated_at: Set(now),
    };
    let exists = credential::Entity::find_by_id((tenant_id, env.as_str().to_owned(), purpose.to_owned())).one(db).await?.is_some();
    if exists {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// A usable access token, refreshed (once, across instances) when it is about to expire.
pub async fn access_token<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    provider: &dyn ConsentProvider,
    tenant_id: Uuid,
    env: Environment,
    purpose: &str,
) -> ServiceResult<SecretString> {
    access_token_at(db, keyring, provider, tenant_id, env, purpose, Utc::now()).await
}

/// [`access_token`] at a given time (tests drive the failure-day count with it).
pub async fn access_token_at<C: ConnectionTrait>(
    db: &C,
    keyring: &Keyring,
    provider: &dyn ConsentProvider,
    tenant_id: Uuid,
    env: Environment,
    purpose: &str,
    now: chrono::DateTime<Utc>,
) -> ServiceResult<SecretString> {
    let key = (tenant_id, env.as_str().to_owned(), purpose.to_owned());
    for _ in 0..100 {
        let row = credential::Entity::find_by_id(key.clone())
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("Stored credential"))?;
        if row.access_expires_at - REFRESH_MARGIN > now {
            return open(keyring, purpose, tenant_id, "access", &row.access_token);
        }
        let state = row.refresh_state()?;
        if state != RefreshState::Active {
            return Err(state.refusal().into());
        }
        let Some(refresh_sealed) = row.refresh_token.clone() else {
            return Err(AppError::conflict("The stored access has expired; the customer must sign in again.").into());
        };
        if !claim_lease(db, tenant_id, env, purpose, row.access_expires_at, now, now + LEASE).await? {
            tokio::time::sleep(StdDuration::from_millis(50)).await;
            continue;
        }
        let refresh = open(keyring, purpose, tenant_id, "refresh", &refresh_sealed)?;
        return match provider.refresh(&refresh).await {
            Ok(tokens) => {
                let tokens = TokenSet {
                    // DocuSign always rotates; keep the old one only if an answer lacks it.
                    refresh_token: tokens.refresh_token.clone().or(Some(refresh)),
                    ..tokens
                };
                // The old refresh token is spent: losing the new one would lose the credential.
                // Try twice, then say so loudly rather than hand out an access token whose
                // successor cannot be obtained.
                let mut stored = store(db, keyring, tenant_id, env, purpose, &tokens, &row.subject).await;
                if stored.is_err() {
                    stored = store(db, keyring, tenant_id, env, purpose, &tokens, &row.subject).await;
                }
                if let Err(e) = stored {
                    tracing::error!(%tenant_id, purpose, error = %e, "DocuSign rotated a refresh token that could not be stored; the credential is lost");
                    return Err(e).unexpected("storing a rotated refresh token (the credential is lost)");
                }
                Ok(tokens.access_token)
            }
            Err(e) => {
                let refused = matches!(e, ProviderError::InvalidGrant { .. } | ProviderError::CodeExpiredOrUsed);
                record_failure(db, &row, refused, e.is_transient(), now).await?;
                if refused {
                    Err(RefreshState::ReconsentRequired.refusal().into())
                } else if e.is_transient() {
                    Err(AppError::conflict("DocuSign could not be reached to renew the customer admin's stored sign-in. Nothing was changed; try again later.").into())
                } else {
                    Err(e).unexpected("refreshing the access token")
                }
            }
        };
    }
    Err(ServiceError::unexpected("timed out waiting for another instance to refresh the access token"))
}
