//! DocuSign access tokens the integration API handed out, kept in this instance's memory by
//! tenant and environment (the sealed copy in the database is `isv_api::tokens`' business). A
//! token is handed out only while it has [`MARGIN`] left to live.

use app::environment::Environment;
use chrono::{DateTime, Duration, Utc};
use dashmap::DashMap;
use secrecy::SecretString;
use uuid::Uuid;

/// A token is handed out only while it has at least this long to live, so a caller never gets
/// one that expires mid-request.
pub const MARGIN: Duration = Duration::minutes(5);

/// This instance's tokens, by tenant and environment.
#[derive(Default)]
pub struct TokenCache {
    entries: DashMap<(Uuid, Environment), Cached>,
}

/// One handed-out token and the system user it acts as.
#[derive(Clone)]
pub struct Cached {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
}

impl TokenCache {
    /// The token of `tenant` in `env` if it acts for `user_id` and has [`MARGIN`] left at `now`.
    pub fn fresh(&self, tenant: Uuid, env: Environment, user_id: &str, now: DateTime<Utc>) -> Option<Cached> {
        let hit = self.entries.get(&(tenant, env))?;
        (hit.user_id == user_id && hit.expires_at - MARGIN > now).then(|| hit.clone())
    }

    /// Keeps a token (replacing the tenant's previous one).
    pub fn put(&self, tenant: Uuid, env: Environment, cached: Cached) {
        self.entries.insert((tenant, env), cached);
    }

    /// Forgets a tenant's token (its consent is gone).
    pub fn forget(&self, tenant: Uuid, env: Environment) {
        self.entries.remove(&(tenant, env));
    }
}
