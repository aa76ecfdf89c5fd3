//! The sandbox's in-memory world: what the fixture seeded plus everything that happened since
//! (consents, pending sign-ins, codes, tokens, counters, faults, Connect deliveries).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use rand::RngCore as _;
use serde::Serialize;

use super::clock::Clock;
use super::faults::Fault;
use super::fixture::{Account, Fixture, Organization, User};
use super::limits::Window;

/// Authorization codes live this long (reference section 1: two minutes).
pub const CODE_TTL: i64 = 120;
/// Access tokens from the authorization code and refresh grants: 8 hours.
pub const CODE_GRANT_TOKEN_TTL: i64 = 8 * 3600;
/// Access tokens from the JWT grant: 1 hour, whatever the assertion's `exp` says.
pub const JWT_TOKEN_TTL: i64 = 3600;
/// Refresh tokens: about 30 days.
pub const REFRESH_TTL: i64 = 30 * 24 * 3600;
/// A sign-in started at `/oauth/auth` must finish within this time.
pub const PENDING_TTL: i64 = 15 * 60;
/// How long the account server remembers a browser's sign-in (its session cookie): a later
/// `/oauth/auth` without `prompt=login` goes straight to consent, as DocuSign's does.
pub const SIGN_IN_TTL: i64 = 30 * 60;
/// The account server's session cookie.
pub const SIGN_IN_COOKIE: &str = "docusign_sandbox_sign_in";

/// Where each host of the sandbox is served.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// e.g. `http://127.0.0.1:4010`.
    pub account_server: String,
    /// e.g. `127.0.0.1:4010`: the JWT `aud`.
    pub account_host: String,
    /// e.g. `http://127.0.0.1:4011/management`.
    pub admin_api: String,
    /// Logical base URI name → bound URL (`http://127.0.0.1:4012`).
    pub base_uris: BTreeMap<String, String>,
}

/// State shared by every listener.
pub struct Shared {
    pub hosts: Hosts,
    /// The fixture after the start-time overrides; `reset` returns to it.
    pub fixture: Fixture,
    pub clock: Clock,
    pub world: Mutex<World>,
    /// Used for Connect deliveries.
    pub http: reqwest::Client,
}

pub type AppState = Arc<Shared>;

impl Shared {
    /// Locks the world. A poisoned lock only means a handler panicked; the data is still usable.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An account as the sandbox holds it.
#[derive(Debug, Clone)]
pub struct AccountState {
    pub seed: Account,
    pub settings: BTreeMap<String, serde_json::Value>,
    pub read_only: BTreeSet<String>,
    pub connect: Vec<serde_json::Map<String, serde_json::Value>>,
    pub hmac_keys: Vec<String>,
}

/// Who granted a consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    /// Individual consent of one user.
    User(String),
    /// Organization admin consent: covers users whose e-mail domain is an active claimed domain.
    Organization(String),
}

/// A consent granted to an integration key.
#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub grantee: Grantee,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
    /// For admin consent: the admin who granted it.
    pub granted_by: Option<String>,
    pub granted_at: i64,
}

/// A sign-in in progress, keyed by a random id carried in the pages' hidden field.
#[derive(Debug, Clone)]
pub struct PendingAuth {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub admin_consent_scopes: Option<Vec<String>>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub user_id: Option<String>,
    pub created_at: i64,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: BTreeSet<String>,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// An access or refresh token.
#[derive(Debug, Clone)]
pub struct Token {
    pub user_id: String,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
    pub expires_at: i64,
}

/// One attempt to publish a Connect message.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub at: i64,
    pub account_id: String,
    pub connect_id: String,
    pub url: String,
    pub event: String,
    /// How many `X-DocuSign-Signature-N` headers were sent.
    pub signatures: usize,
    /// The listener's status code, when it answered.
    pub status: Option<u16>,
    /// True when the listener answered 2xx.
    pub ok: bool,
    pub error: Option<String>,
}

/// One entry of the account's Connect log or failure log (`ConnectLog`, reference §6 and the
/// README's "Connect logs and failures"): what DocuSign tells an account administrator about
/// one delivery attempt.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectLogEntry {
    /// `logId` or `failureId`.
    pub id: String,
    /// When the attempt was made (sandbox clock, to the millisecond: attempts in the same second
    /// keep their order).
    pub at: chrono::DateTime<chrono::Utc>,
    /// The account's GUID.
    pub account_id: String,
    pub connect_id: String,
    /// The configuration's `urlToPublishTo` at the time.
    pub config_url: String,
    pub envelope_id: String,
    /// The envelope status the message reported (`Completed`, `Sent`, …).
    pub status: String,
    /// The sender's e-mail and name.
    pub email: String,
    pub user_name: String,
    /// Why the attempt failed; `None` when the listener acknowledged it.
    pub error: Option<String>,
}

/// Everything mutable.
#[derive(Debug, Default)]
pub struct World {
    pub users: Vec<User>,
    pub accounts: Vec<AccountState>,
    pub orgs: Vec<Organization>,
    pub consents: Vec<Consent>,
    pub pending: HashMap<String, PendingAuth>,
    /// Browsers signed in to the account server: session cookie value -> (user id, expiry).
    pub sign_ins: HashMap<String, (String, i64)>,
    pub codes: HashMap<String, AuthCode>,
    pub access: HashMap<String, Token>,
    pub refresh: HashMap<String, Token>,
    pub counts: BTreeMap<String, u64>,
    pub faults: Vec<Fault>,
    pub windows: HashMap<String, Window>,
    pub deliveries: Vec<Delivery>,
    /// The Connect log (attempts of configurations with `enableLog` on), oldest first.
    pub connect_logs: Vec<ConnectLogEntry>,
    /// The Connect failure log (attempts the listener did not acknowledge), oldest first.
    pub connect_failures: Vec<ConnectLogEntry>,
    pub next_log_id: u64,
    pub next_connect_id: u64,
}

impl World {
    /// The world as the fixture describes it.
    pub fn from_fixture(f: &Fixture, now: i64) -> World {
        let mut next_connect_id = 1000;
        let accounts = f
            .accounts
            .iter()
            .map(|a| {
                let mut settings = f.default_settings.clone();
                settings.extend(a.settings.clone());
                let read_only = f.default_read_only.iter().chain(&a.read_only).cloned().collect();
                for c in &a.connect {
                    if let Some(id) = c.get("connectId").and_then(|v| v.as_str()).and_then(|s| s.parse::<u64>().ok()) {
                        next_connect_id = next_connect_id.max(id);
                    }
                }
                AccountState {
                    seed: a.clone(),
                    settings,
                    read_only,
                    connect: a.connect.clone(),
                    hmac_keys: a.hmac_keys.clone(),
                }
            })
            .collect();
        let consents = f
            .consents
            .iter()
            .filter_map(|c| {
                let grantee = match (&c.user, &c.organization) {
                    (Some(u), _) => Grantee::User(u.to_ascii_lowercase()),
                    (None, Some(o)) => Grantee::Organization(o.to_ascii_lowercase()),
                    (None, None) => return None,
                };
                Some(Consent {
                    grantee,
                    client_id: f.integration.key.clone(),
                    scopes: c.scopes.iter().cloned().collect(),
                    granted_by: None,
                    granted_at: now,
                })
            })
            .collect();
        World {
            users: f.users.clone(),
            accounts,
            orgs: f.organizations.clone(),
            consents,
            next_connect_id,
            ..World::default()
        }
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id))
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }

    /// The account with this GUID or external (numeric) id.
    pub fn account(&self, id: &str) -> Option<&AccountState> {
        self.accounts
            .iter()
            .find(|a| a.seed.id.eq_ignore_ascii_case(id) || (!a.seed.external_id.is_empty() && a.seed.external_id == id))
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut AccountState> {
        self.accounts
            .iter_mut()
            .find(|a| a.seed.id.eq_ignore_ascii_case(id) || (!a.seed.external_id.is_empty() && a.seed.external_id == id))
    }

    /// The organization an account belongs to, if any.
    pub fn org_of_account(&self, account_id: &str) -> Option<&Organization> {
        self.orgs.iter().find(|o| o.accounts.iter().any(|a| a.eq_ignore_ascii_case(account_id)))
    }

    /// Organizations in which the user is an admin and which have an active claimed domain:
    /// the ones for which this user may grant admin consent.
    pub fn admin_consent_orgs(&self, user_id: &str) -> Vec<String> {
        self.orgs
            .iter()
            .filter(|o| o.admins.iter().any(|a| a.eq_ignore_ascii_case(user_id)))
            .filter(|o| o.reserved_domains.iter().any(|d| d.status == "active"))
            .map(|o| o.id.to_ascii_lowercase())
            .collect()
    }

    /// Does the organization's admin consent cover this user (e-mail domain claimed and active)?
    pub fn org_covers(&self, org_id: &str, user: &User) -> bool {
        let domain = user.email_domain();
        self.orgs.iter().filter(|o| o.id.eq_ignore_ascii_case(org_id)).any(|o| {
            o.reserved_domains.iter().any(|d| d.status == "active" && d.host_name.eq_ignore_ascii_case(&domain))
        })
    }

    /// Every scope the user has consented to for this key, individually or through an org.
    pub fn consented_scopes(&self, user_id: &str, client_id: &str) -> BTreeSet<String> {
        let Some(user) = self.user(user_id) else { return BTreeSet::new() };
        self.consents
            .iter()
            .filter(|c| c.client_id == client_id)
            .filter(|c| match &c.grantee {
                Grantee::User(u) => u.eq_ignore_ascii_case(&user.id),
                Grantee::Organization(o) => self.org_covers(o, user),
            })
            .flat_map(|c| c.scopes.iter().cloned())
            .collect()
    }

    /// Records a consent, merging scopes with an existing one of the same grantee.
    pub fn grant(&mut self, grantee: Grantee, client_id: &str, scopes: &[String], by: Option<String>, now: i64) {
        if let Some(c) = self.consents.iter_mut().find(|c| c.grantee == grantee && c.client_id == client_id) {
            c.scopes.extend(scopes.iter().cloned());
            c.granted_at = now;
            if by.is_some() {
                c.granted_by = by;
            }
            return;
        }
        self.consents.push(Consent {
            grantee,
            client_id: client_id.to_owned(),
            scopes: scopes.iter().cloned().collect(),
            granted_by: by,
            granted_at: now,
        });
    }

    /// Removes consents matching `pred`, then every refresh token no longer covered by consent
    /// (revocation stops refresh tokens at once; access tokens live until they expire).
    pub fn revoke(&mut self, pred: impl Fn(&Consent) -> bool) -> usize {
        let before = self.consents.len();
        self.consents.retain(|c| !pred(c));
        let removed = before - self.consents.len();
        let keep: Vec<(String, bool)> = self
            .refresh
            .iter()
            .map(|(k, t)| {
                let have = self.consented_scopes(&t.user_id, &t.client_id);
                (k.clone(), t.scopes.iter().all(|s| s == "openid" || have.contains(s)))
            })
            .collect();
        for (k, ok) in keep {
            if !ok {
                self.refresh.remove(&k);
            }
        }
        removed
    }

    /// Drops expired codes, tokens and sign-ins so a long-running sandbox does not grow.
    pub fn sweep(&mut self, now: i64) {
        self.codes.retain(|_, c| c.expires_at > now - 3600);
        self.access.retain(|_, t| t.expires_at > now);
        self.refresh.retain(|_, t| t.expires_at > now);
        self.pending.retain(|_, p| p.created_at + PENDING_TTL > now);
        self.sign_ins.retain(|_, (_, expires_at)| *expires_at > now);
    }

    /// Adds one to a request counter.
    pub fn count(&mut self, label: String) {
        *self.counts.entry(label).or_default() += 1;
    }
}

/// A fresh random opaque string (32 random bytes, base64url): codes, tokens, request ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
