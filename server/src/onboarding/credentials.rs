//! Kept credentials: the consenting user's tokens, AES-256-GCM encrypted and bound to tenant and
//! purpose. Reading an access token near its expiry refreshes it single-flight across every
//! portal instance: a lease column is claimed with a conditional UPDATE, one caller refreshes,
//! the others wait and read the result. The new refresh token is stored before the new access
//! token is handed out (DocuSign rotates refresh tokens).

use std::time::Duration as StdDuration;

use app::error::AppError;
use app::tenants::api::Environment;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::crypto::{Binding, Keyring};
use crate::db::entities::credential;
use crate::docusign::{DocuSignClient, ProviderError, TokenSet};
use crate::error::{ServiceError, ServiceResult};

/// The consenting user's code-grant tokens.
pub const CONSENT: &str = "consent";

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
    keyring.open(Binding { purpose: &p, tenant_id: t }, sealed).map_err(|e| ServiceError::Other(e.to_string()))
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
    client: &DocuSignClient,
    tenant_id: Uuid,
    env: Environment,
    purpose: &str,
) -> ServiceResult<SecretString> {
    let key = (tenant_id, env.as_str().to_owned(), purpose.to_owned());
    for _ in 0..100 {
        let row = credential::Entity::find_by_id(key.clone())
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("Stored credential"))?;
        let now = Utc::now();
        if row.access_expires_at - REFRESH_MARGIN > now {
            return open(keyring, purpose, tenant_id, "access", &row.access_token);
        }
        let Some(refresh_sealed) = row.refresh_token.clone() else {
            return Err(AppError::Conflict { message: "The stored access has expired; the customer must sign in again.".into() }.into());
        };
        // Claim the lease only if nobody holds a live one and nobody refreshed meanwhile.
        let claimed = credential::Entity::update_many()
            .col_expr(credential::Column::RefreshLeaseUntil, Expr::value(now + LEASE))
            .filter(credential::Column::TenantId.eq(tenant_id))
            .filter(credential::Column::Environment.eq(env.as_str()))
            .filter(credential::Column::Purpose.eq(purpose))
            .filter(credential::Column::AccessExpiresAt.eq(row.access_expires_at))
            .filter(
                sea_orm::Condition::any()
                    .add(credential::Column::RefreshLeaseUntil.is_null())
                    .add(credential::Column::RefreshLeaseUntil.lt(now)),
            )
            .exec(db)
            .await?
            .rows_affected;
        if claimed != 1 {
            tokio::time::sleep(StdDuration::from_millis(50)).await;
            continue;
        }
        let refresh = open(keyring, purpose, tenant_id, "refresh", &refresh_sealed)?;
        return match client.refresh(&refresh).await {
            Ok(tokens) => {
                let tokens = TokenSet {
                    // DocuSign always rotates; keep the old one only if an answer lacks it.
                    refresh_token: tokens.refresh_token.clone().or(Some(refresh)),
                    ..tokens
                };
                store(db, keyring, tenant_id, env, purpose, &tokens, &row.subject).await?;
                Ok(tokens.access_token)
            }
            Err(e) => {
                credential::Entity::update_many()
                    .col_expr(credential::Column::RefreshLeaseUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
                    .filter(credential::Column::TenantId.eq(tenant_id))
                    .filter(credential::Column::Environment.eq(env.as_str()))
                    .filter(credential::Column::Purpose.eq(purpose))
                    .exec(db)
                    .await?;
                Err(match e {
                    ProviderError::InvalidGrant { .. } | ProviderError::CodeExpiredOrUsed => AppError::Conflict {
                        message: "DocuSign no longer accepts the stored access (consent withdrawn?); the customer must sign in again.".into(),
                    }
                    .into(),
                    other => ServiceError::Other(format!("refreshing the access token: {other}")),
                })
            }
        };
    }
    Err(ServiceError::Other("timed out waiting for another instance to refresh the access token".into()))
}
