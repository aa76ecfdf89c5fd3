//! API clients of the ISV's backend: creation (the key is returned once; only the SHA-256 of its
//! secret is kept), listing, revocation, and authenticating a presented key.
//!
//! A key reads `cpk_<key id>_<secret>`: the key id (12 random characters) is public and finds
//! the row; the secret (32 CSPRNG bytes, base64url) is compared by hash in constant time. A hash
//! without a salt or a slow function is right here, unlike for passwords: the secret has 256 bits
//! of entropy, so there is nothing to guess.

use app::api_clients::ApiScope;
use app::api_clients::api::{ApiClientStatus, ApiClientView, CreatedApiClient, NewApiClientInput};
use app::environment::Environment;
use app::error::AppError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionSession};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::db::entities::api_client;
use crate::error::ServiceResult;

/// The prefix every key starts with (so secret scanners and people can recognise one).
pub const KEY_PREFIX: &str = "cpk_";

/// `last_used_at` is written at most this often per key (a write per request would make every
/// API call a database write).
pub const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// Who is calling the REST API: an authenticated, unrevoked, unexpired client.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub client_id: Uuid,
    pub name: String,
    pub key_id: String,
    pub environments: Vec<Environment>,
    pub scopes: Vec<ApiScope>,
}

impl ApiCaller {
    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        Actor { id: None, label: format!("API client {} ({})", self.name, self.key_id) }
    }

    /// Whether the client may act in `env`.
    pub fn may_use(&self, env: Environment) -> bool {
        self.environments.contains(&env)
    }
}

/// Why a presented key was refused. Each is answered 401 without saying more than the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Not a key of this portal (malformed, unknown id, wrong secret).
    Unknown,
    Revoked,
    Expired,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A new key id: 12 characters of lowercase letters and digits (no `_`, so the key splits
/// unambiguously).
fn new_key_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char).collect()
}

/// Splits a presented key into its id and secret; `None` if it is not shaped like a key.
fn split_key(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.strip_prefix(KEY_PREFIX)?.split_once('_')?;
    let well_formed = id.len() == 12 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) && secret.len() >= 32 && secret.len() <= 64;
    well_formed.then_some((id, secret))
}

/// The status of a row at `now`.
fn status(row: &api_client::Model, now: DateTime<Utc>) -> ApiClientStatus {
    if row.revoked_at.is_some() {
        ApiClientStatus::Revoked
    } else if row.expires_at.is_some_and(|e| e <= now) {
        ApiClientStatus::Expired
    } else {
        ApiClientStatus::Active
    }
}

fn view(row: api_client::Model, now: DateTime<Utc>) -> ServiceResult<ApiClientView> {
    Ok(ApiClientView {
        id: row.id,
        status: status(&row, now),
        environments: row.environments()?,
        scopes: row.scopes()?,
        name: row.name,
        key_id: row.key_id,
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
    })
}

/// Every client, newest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> ServiceResult<Vec<ApiClientView>> {
    let now = Utc::now();
    api_client::Entity::find()
        .order_by_desc(api_client::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| view(r, now))
        .collect()
}

/// Creates a client and returns its key once; audited (without the key).
pub async fn create<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    input: NewApiClientInput,
) -> ServiceResult<CreatedApiClient> {
    input.check()?;
    let now = Utc::now();
    let key_id = new_key_id();
    let secret = random(32);
    let environments = input.environments();
    let scopes = input.scopes();
    let row = api_client::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(input.name.trim().to_owned()),
        key_id: Set(key_id.clone()),
        secret_hash: Set(hash(&secret)),
        environments: Set(environments.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ")),
        scopes: Set(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        expires_at: Set(input.expiry().map(|d| now + Duration::days(i64::from(d)))),
        revoked_at: Set(None),
        last_used_at: Set(None),
    };
    let txn = crate::db::begin(db).await?;
    let row = row.insert(&txn).await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "api_client.created",
            before: None,
            after: Some(json!({ "client": row.id, "name": row.name, "key_id": key_id, "environments": row.environments, "scopes": row.scopes, "expires_at": row.expires_at })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedApiClient { client: view(row, now)?, key: format!("{KEY_PREFIX}{key_id}_{secret}") })
}

/// Revokes a client (its key stops working at once); audited. Revoking twice changes nothing.
pub async fn revoke<C: ConnectionTrait + sea_orm::TransactionTrait>(db: &C, actor: &Actor, request_id: Option<&str>, id: Uuid) -> ServiceResult<()> {
    let txn = crate::db::begin(db).await?;
    let row = api_client::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("API client"))?;
    if row.revoked_at.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let mut model: api_client::ActiveModel = row.clone().into();
    model.revoked_at = Set(Some(now));
    model.update(&txn).await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "api_client.revoked",
            before: Some(json!({ "client": row.id, "name": row.name, "key_id": row.key_id })),
            after: Some(json!({ "revoked_at": now })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Authenticates a presented key at `now`. A revoked key's use is audited; a good key's last
/// use is recorded (at most once per [`LAST_USED_GRANULARITY`]).
pub async fn authenticate<C: ConnectionTrait>(db: &C, presented: &str, request_id: Option<&str>, now: DateTime<Utc>) -> ServiceResult<Result<ApiCaller, KeyRefusal>> {
    let Some((key_id, secret)) = split_key(presented) else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    let Some(row) = api_client::Entity::find().filter(api_client::Column::KeyId.eq(key_id)).one(db).await? else {
        return Ok(Err(KeyRefusal::Unknown));
    };
    if !bool::from(hash(secret).as_bytes().ct_eq(row.secret_hash.as_bytes())) {
        return Ok(Err(KeyRefusal::Unknown));
    }
    match status(&row, now) {
        ApiClientStatus::Revoked => {
            audit::record(
                db,
                Event {
                    actor: &Actor { id: None, label: format!("API client {} ({})", row.name, row.key_id) },
                    tenant_id: None,
                    action: "api_client.revoked_key_used",
                    before: None,
                    after: Some(json!({ "client": row.id, "key_id": row.key_id })),
                    request_id,
                },
            )
            .await?;
            return Ok(Err(KeyRefusal::Revoked));
        }
        ApiClientStatus::Expired => return Ok(Err(KeyRefusal::Expired)),
        ApiClientStatus::Active => {}
    }
    if row.last_used_at.is_none_or(|t| t + LAST_USED_GRANULARITY <= now) {
        // Conditional, so concurrent requests write it once.
        api_client::Entity::update_many()
            .col_expr(api_client::Column::LastUsedAt, Expr::value(now))
            .filter(api_client::Column::Id.eq(row.id))
            .filter(sea_orm::Condition::any().add(api_client::Column::LastUsedAt.is_null()).add(api_client::Column::LastUsedAt.lte(now - LAST_USED_GRANULARITY)))
            .exec(db)
            .await?;
    }
    Ok(Ok(ApiCaller { client_id: row.id, environments: row.environments()?, scopes: row.scopes()?, name: row.name, key_id: row.key_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_splits_into_its_public_id_and_secret_and_nothing_else_does() {
        let secret = random(32);
        let key = format!("{KEY_PREFIX}{}_{secret}", new_key_id());
        let (id, s) = split_key(&key).expect("a key");
        assert_eq!((id.len(), s), (12, secret.as_str()));
        for bad in ["", "cpk_", "Bearer x", "cpk_short_secretsecretsecretsecretsecretsecret", "cpk_ABCDEFGHIJKL_secretsecretsecretsecretsecretsecret", "cpk_abcdefghijkl_tooshort"] {
            assert!(split_key(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_stored_hash_does_not_contain_the_secret() {
        let secret = random(32);
        assert!(!hash(&secret).contains(&secret));
        assert_eq!(hash(&secret).len(), 64);
    }
}
