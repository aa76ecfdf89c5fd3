//! The sandbox's seed data: users, organizations, accounts, the registered integration key and
//! the limits, read from TOML or JSON. The default fixture is `default-fixture.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Everything the sandbox starts from. `POST /control/reset` returns to exactly this.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    /// Vary mode: change everything the DocuSign reference leaves open (see the README's
    /// "Vary mode"). `--vary` and `SandboxConfig::varied` set it too.
    #[serde(default)]
    pub vary: bool,
    /// Named scenarios, for people and tooling; the sandbox itself does not interpret them.
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    /// The ISV's integration key as registered on the account server.
    pub integration: Integration,
    /// Per-account API limits.
    #[serde(default)]
    pub limits: Limits,
    /// Settings every account starts with (typed string fields), overridden per account.
    #[serde(default)]
    pub default_settings: BTreeMap<String, serde_json::Value>,
    /// Settings an account admin may not change (`rights: read_only`).
    #[serde(default)]
    pub default_read_only: Vec<String>,
    /// `options` reported in a setting's metadata.
    #[serde(default)]
    pub setting_options: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Consents that exist before anyone signs in (e.g. for benchmarks).
    #[serde(default)]
    pub consents: Vec<SeedConsent>,
}

/// A named situation the fixture sets up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// E-mail addresses of the users to sign in with.
    #[serde(default)]
    pub users: Vec<String>,
    /// Account ids involved.
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// The registered integration key (OAuth client).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Integration {
    pub key: String,
    pub secret: String,
    /// Redirect URIs registered on the key; `/oauth/auth` requires an exact match.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// RSA public keys (PEM) registered on the key; a JWT assertion must verify with one of them.
    #[serde(default)]
    pub public_keys: Vec<String>,
    /// The private half of a fixed test key, so tests can sign assertions. Test use only.
    #[serde(default)]
    pub test_private_key: Option<String>,
}

/// Per-account API limits (reference section 8).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    pub hourly: u32,
    pub burst: u32,
    pub burst_window_seconds: i64,
    /// Status of an over-limit answer: 429 (default) or 400 (DocuSign's historical status).
    pub exceeded_status: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { hourly: 3000, burst: 200, burst_window_seconds: 30, exceeded_status: 429 }
    }
}

/// A DocuSign user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// The user GUID (`sub`).
    pub id: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// As userinfo reports it, e.g. `2015-08-13T22:03:03.45`.
    #[serde(default = "default_created")]
    pub created: String,
    #[serde(default)]
    pub memberships: Vec<Membership>,
}

fn default_created() -> String {
    "2020-01-01T00:00:00.0".to_owned()
}

impl User {
    /// `given_name family_name`.
    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// The membership of `account_id`, if the user has one.
    pub fn membership(&self, account_id: &str) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.account.eq_ignore_ascii_case(account_id))
    }

    /// The part after `@`, lowercased.
    pub fn email_domain(&self) -> String {
        self.email.rsplit('@').next().unwrap_or_default().to_ascii_lowercase()
    }
}

/// A user's membership of an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Membership {
    pub account: String,
    /// An eSignature account administrator (may change settings and Connect).
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_default: bool,
}

/// A DocuSign organization (Admin API).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// User ids of the organization administrators.
    #[serde(default)]
    pub admins: Vec<String>,
    /// Account ids linked to the organization.
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub reserved_domains: Vec<ReservedDomain>,
}

/// A claimed (reserved) domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReservedDomain {
    pub id: String,
    pub host_name: String,
    /// `unknown`, `pending`, `active`, `deactivated` or `rejected`.
    pub status: String,
    #[serde(default)]
    pub txt_token: String,
}

/// Valid values of [`ReservedDomain::status`].
pub const DOMAIN_STATUSES: [&str; 5] = ["unknown", "pending", "active", "deactivated", "rejected"];

/// An eSignature account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub external_id: String,
    /// Logical base URI name (e.g. `na1`); mapped to a bound URL at start.
    pub base_uri: String,
    #[serde(default = "default_plan")]
    pub plan_name: String,
    /// Overrides of [`Fixture::default_settings`].
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Extra settings an admin may not change.
    #[serde(default)]
    pub read_only: Vec<String>,
    /// Connect HMAC keys of the account (Connect → Connect Keys in eSignature Admin).
    #[serde(default)]
    pub hmac_keys: Vec<String>,
    /// Connect configurations (`connectCustomConfiguration` objects, field names as on the wire).
    #[serde(default)]
    pub connect: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn default_plan() -> String {
    "Developer Plan".to_owned()
}

/// A consent present from the start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedConsent {
    /// A user id (individual consent) ...
    #[serde(default)]
    pub user: Option<String>,
    /// ... or an organization id (admin consent).
    #[serde(default)]
    pub organization: Option<String>,
    pub scopes: Vec<String>,
}

const DEFAULT_FIXTURE: &str = include_str!("default-fixture.toml");

/// The built-in fixture (`default-fixture.toml`) with every named scenario.
pub fn default_fixture() -> Fixture {
    Fixture::from_toml_str(DEFAULT_FIXTURE).expect("the built-in fixture parses")
}

impl Fixture {
    /// Parses a TOML fixture.
    pub fn from_toml_str(text: &str) -> anyhow::Result<Fixture> {
        let fixture: Fixture = toml::from_str(text).context("parsing the TOML fixture")?;
        fixture.validate()?;
        Ok(fixture)
    }

    /// Parses a JSON fixture.
    pub fn from_json_str(text: &str) -> anyhow::Result<Fixture> {
        let fixture: Fixture = serde_json::from_str(text).context("parsing the JSON fixture")?;
        fixture.validate()?;
        Ok(fixture)
    }

    /// Reads a fixture file; `.json` is JSON, anything else TOML.
    pub fn load(path: &Path) -> anyhow::Result<Fixture> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the fixture {}", path.display()))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            Fixture::from_json_str(&text)
        } else {
            Fixture::from_toml_str(&text)
        }
    }

    /// The user with this e-mail address (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The distinct logical base URI names, sorted (the order ports are assigned in).
    pub fn base_uri_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.accounts.iter().map(|a| a.base_uri.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Rejects references to missing users or accounts, so a typo fails at start, not mid-test.
    fn validate(&self) -> anyhow::Result<()> {
        let account_ids: Vec<&str> = self.accounts.iter().map(|a| a.id.as_str()).collect();
        let user_ids: Vec<&str> = self.users.iter().map(|u| u.id.as_str()).collect();
        for user in &self.users {
            for m in &user.memberships {
                anyhow::ensure!(
                    account_ids.contains(&m.account.as_str()),
                    "user {} is a member of unknown account {}",
                    user.email,
                    m.account
                );
            }
        }
        for org in &self.organizations {
            for a in &org.accounts {
                anyhow::ensure!(account_ids.contains(&a.as_str()), "org {} lists unknown account {a}", org.name);
            }
            for a in &org.admins {
                anyhow::ensure!(user_ids.contains(&a.as_str()), "org {} lists unknown admin {a}", org.name);
            }
            for d in &org.reserved_domains {
                anyhow::ensure!(
                    DOMAIN_STATUSES.contains(&d.status.as_str()),
                    "domain {} has unknown status {}",
                    d.host_name,
                    d.status
                );
            }
        }
        anyhow::ensure!(
            self.limits.exceeded_status == 400 || self.limits.exceeded_status == 429,
            "limits.exceeded_status must be 400 or 429"
        );
        Ok(())
    }
}
