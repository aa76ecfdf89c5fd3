//! The portal's configuration: one typed struct, loaded once at start-up from an optional TOML
//! file (`PORTAL_CONFIG`) and environment variables (`PORTAL_*`, plus `DATABASE_URL`). Secrets are
//! wrapped so they never print; a missing or bad setting stops start-up with a message naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Everything the portal needs to start.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Where the HTTP server listens (`PORTAL_LISTEN`, default `127.0.0.1:3000`).
    pub listen: SocketAddr,
    /// The address people use to reach the portal (`PORTAL_PUBLIC_URL`). It decides the cookie's
    /// `Secure` flag and is the only origin accepted on state-changing requests.
    pub public_url: url::Url,
    /// Folder for the embedded SQLite database and local files (`PORTAL_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Database URL (`DATABASE_URL`): `sqlite://…` or `postgres://…`; default SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    /// Folder with the built site (`pkg/` with wasm, js, css) (`PORTAL_SITE_ROOT`).
    pub site_root: PathBuf,
    /// Minutes of inactivity after which a session ends (`PORTAL_SESSION_IDLE_MINUTES`).
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a session ends regardless of activity.
    pub session_absolute_hours: u32,
    /// `text` or `json` log lines (`PORTAL_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Keys that encrypt stored tokens, by version: `PORTAL_ENCRYPTION_KEYS="1:<base64 32 bytes>,2:…"`.
    /// New data uses the highest version; older versions stay readable (rotation). Required.
    pub encryption_keys: Option<SecretString>,
    /// How long an invite link stays valid (`PORTAL_INVITE_TTL_HOURS`, default 7 days).
    pub invite_ttl_hours: u32,
    /// Hours between two scheduled setup checks of a tenant, ±10 % (`PORTAL_CHECK_INTERVAL_HOURS`).
    pub check_interval_hours: u32,
    /// Seconds between two looks of the scheduler for due tenants; 0 turns it off.
    pub scheduler_tick_seconds: u32,
    /// Tenants the scheduler checks at once on this instance (`PORTAL_SCHEDULER_CONCURRENCY`).
    pub scheduler_concurrency: u32,
    /// Seconds a request may take before it is answered 408 (`PORTAL_REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout_seconds: u32,
    /// Pages, server-function calls and the other session routes this instance works on at once
    /// (`PORTAL_PAGE_CONCURRENCY`, default four per CPU core); more wait their turn, so a burst of
    /// heavy pages leaves worker threads for `/healthz`, the integration API and Connect. Four per
    /// core keeps the cores busy while pages wait on the database (measured on 2 cores: at two per
    /// core the tenant page lost 14 % of its throughput on PostgreSQL, at four 9 %).
    pub page_concurrency: u32,
    /// Allow a plain `http://` public URL on a non-loopback host (`PORTAL_ALLOW_INSECURE_HTTP`).
    /// Off by default: without https, cookies cannot be `Secure` and no HSTS is sent.
    pub allow_insecure_http: bool,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (`PORTAL_TRUSTED_PROXIES`,
    /// e.g. `["10.0.0.0/8", "127.0.0.1"]`). Empty by default: the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long finished records are kept before the retention job deletes them.
    pub retention: Retention,
    /// When a tenant counts as stuck in onboarding (`[onboarding_sla]`).
    pub onboarding_sla: OnboardingSla,
    /// Requests per minute each API key may send to the integration API
    /// (`PORTAL_API_RATE_LIMIT_PER_MINUTE`, default 600); beyond it, 429 with `Retry-After`.
    pub api_rate_limit_per_minute: u32,
    /// Outgoing webhooks to the ISV's backend (`[webhooks]` or `PORTAL_WEBHOOKS__…`).
    pub webhooks: WebhookSettings,
    /// Seconds the tenant list's counts and the overview may trail the data
    /// (`PORTAL_LIST_COUNTS_SECONDS`, default 5; 0 computes them on every request), or ten times
    /// what computing them took when that is longer: see `list_counts`.
    pub list_counts_seconds: u32,
    /// The ISV's DocuSign settings per environment (`[docusign.demo]`, `[docusign.production]`,
    /// or `PORTAL_DOCUSIGN__DEMO__INTEGRATION_KEY=…`). An environment left out cannot onboard.
    #[serde(default)]
    pub docusign: DocuSignEnvironments,
}

/// The ISV's DocuSign settings for each environment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocuSignEnvironments {
    pub demo: Option<IsvEnvironment>,
    pub production: Option<IsvEnvironment>,
}

impl DocuSignEnvironments {
    /// The settings of one environment, if configured.
    pub fn get(&self, env: app::environment::Environment) -> Option<&IsvEnvironment> {
        match env {
            app::environment::Environment::Demo => self.demo.as_ref(),
            app::environment::Environment::Production => self.production.as_ref(),
        }
    }
}

/// One environment's integration: where DocuSign is, the integration key and its secrets, the
/// redirect URI registered for this environment, and the scopes to ask for.
#[derive(Clone, Deserialize)]
pub struct IsvEnvironment {
    /// The account server, e.g. `https://account-d.docusign.com`.
    pub account_server: url::Url,
    /// The Admin API base, e.g. `https://api-d.docusign.net/management`.
    pub admin_api: url::Url,
    pub integration_key: String,
    pub client_secret: SecretString,
    /// RSA private key (PEM) registered on the integration key for the JWT grant; or
    /// `private_key_file` naming a file that holds it.
    pub private_key_pem: Option<SecretString>,
    pub private_key_file: Option<PathBuf>,
    /// This environment's callback, registered exactly on the integration key. Its path must be
    /// `/oauth/callback/demo` or `/oauth/callback/production`.
    pub redirect_uri: url::Url,
    /// eSignature scopes for consent (default `signature impersonation`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Admin API read scopes asked for with organization admin consent.
    #[serde(default = "default_admin_scopes")]
    pub admin_scopes: Vec<String>,
    /// Keep refresh tokens from individual consent (adds the `extended` scope).
    #[serde(default = "default_true")]
    pub keep_refresh_tokens: bool,
    /// Host suffixes an account's `base_uri` may have (default `.docusign.net`, `.docusign.com`).
    #[serde(default = "default_base_uri_hosts")]
    pub allowed_base_uri_hosts: Vec<String>,
    /// What the setup check expects of each customer account: required settings and the
    /// Connect configuration of the portal's listener (`[docusign.<env>.setup]`).
    #[serde(default)]
    pub setup: crate::checks::SetupProfile,
    /// HMAC keys of the ISV's Connect configurations; the listener accepts a message signed with
    /// any of them (so keys can be rotated).
    #[serde(default)]
    pub connect_hmac_keys: Vec<SecretString>,
}

impl std::fmt::Debug for IsvEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsvEnvironment")
            .field("account_server", &self.account_server.as_str())
            .field("admin_api", &self.admin_api.as_str())
            .field("integration_key", &self.integration_key)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl IsvEnvironment {
    /// The private key PEM, from the setting or the file.
    pub fn private_key(&self) -> Result<SecretString, ConfigError> {
        if let Some(pem) = &self.private_key_pem {
            return Ok(pem.clone());
        }
        let file = self.private_key_file.as_ref().ok_or_else(|| {
            ConfigError("docusign: set private_key_pem or private_key_file for the JWT grant".into())
        })?;
        std::fs::read_to_string(file)
            .map(SecretString::from)
            .map_err(|e| ConfigError(format!("docusign.private_key_file {}: {e}", file.display())))
    }
}

fn default_scopes() -> Vec<String> {
    vec!["signature".into(), "impersonation".into()]
}

fn default_admin_scopes() -> Vec<String> {
    vec!["organization_read".into(), "domain_read".into(), "user_read".into()]
}

fn default_true() -> bool {
    true
}

fn default_base_uri_hosts() -> Vec<String> {
    vec![".docusign.net".into(), ".docusign.com".into()]
}

/// How log lines are written.
/// Retention periods of the retention job (`[retention]` or `PORTAL_RETENTION__…`), in days.
/// Expired sessions and OAuth transactions, abandoned wizard progress and old setup-check runs are
/// deleted after these; audit events are never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Days an expired session or a used or expired OAuth transaction is kept (for forensics).
    pub expired_session_days: u32,
    /// Days wizard progress of an ended invite session is kept.
    pub wizard_progress_days: u32,
    /// Days a setup-check run is kept; the latest run of each tenant is always kept.
    pub check_run_days: u32,
    /// Days a Connect message id is remembered to refuse replays; older messages are refused.
    pub connect_replay_days: u32,
    /// Days a webhook event (with its delivery log) is kept once none of its deliveries is pending.
    pub webhook_event_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { expired_session_days: 7, wizard_progress_days: 30, check_run_days: 90, connect_replay_days: 7, webhook_event_days: 30 }
    }
}

/// The onboarding SLA (`[onboarding_sla]` or `PORTAL_ONBOARDING_SLA__…`): a tenant that stays
/// longer than this in one of these states is "stuck", listed for staff with the next action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingSla {
    /// Days a tenant may stay invited (the link not yet used) before it is stuck.
    pub invited_days: u32,
    /// Days a tenant may stay in progress (wizard started, no consent) before it is stuck.
    pub in_progress_days: u32,
    /// Hours a tenant may need attention before it is stuck.
    pub needs_attention_hours: u32,
}

impl Default for OnboardingSla {
    fn default() -> Self {
        OnboardingSla { invited_days: 7, in_progress_days: 7, needs_attention_hours: 24 }
    }
}

/// Outgoing webhooks (`[webhooks]` or `PORTAL_WEBHOOKS__…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSettings {
    /// Accept `http://` endpoint URLs on a loopback host (the demo's and the tests' local
    /// receivers). Off by default: endpoints must be https.
    pub allow_loopback_http: bool,
    /// Seconds between two looks of the delivery worker for due deliveries; 0 turns it off.
    pub worker_tick_seconds: u32,
    /// Seconds one delivery attempt may take before it counts as failed.
    pub timeout_seconds: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings { allow_loopback_http: false, worker_tick_seconds: 2, timeout_seconds: 10 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct Defaults {
    listen: SocketAddr,
    data_dir: PathBuf,
    site_root: PathBuf,
    session_idle_minutes: u32,
    session_absolute_hours: u32,
    log_format: LogFormat,
    invite_ttl_hours: u32,
    check_interval_hours: u32,
    scheduler_tick_seconds: u32,
    request_timeout_seconds: u32,
    scheduler_concurrency: u32,
    page_concurrency: u32,
    allow_insecure_http: bool,
    trusted_proxies: Vec<String>,
    retention: Retention,
    onboarding_sla: OnboardingSla,
    api_rate_limit_per_minute: u32,
    webhooks: WebhookSettings,
    list_counts_seconds: u32,
}

/// A configuration problem, worded for the person starting the portal.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads the configuration from `PORTAL_CONFIG` (if set) and the environment.
    pub fn load() -> Result<Config, ConfigError> {
        Self::load_with_data_dir("data")
    }

    /// Like [`Config::load`], with another default data folder (the demo keeps its own).
    pub fn load_with_data_dir(data_dir: &str) -> Result<Config, ConfigError> {
        let file = std::env::var_os("PORTAL_CONFIG").map(PathBuf::from);
        Self::from_figment(Self::figment_with(file.as_deref(), data_dir))
    }

    /// The layered sources: defaults, then the TOML file, then environment variables.
    pub fn figment(file: Option<&Path>) -> Figment {
        Self::figment_with(file, "data")
    }

    fn figment_with(file: Option<&Path>, data_dir: &str) -> Figment {
        let defaults = Defaults {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from(data_dir),
            site_root: std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from).unwrap_or_else(|| "target/site".into()),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            log_format: LogFormat::Text,
            invite_ttl_hours: 24 * 7,
            check_interval_hours: 24,
            scheduler_tick_seconds: 60,
            request_timeout_seconds: 60,
            scheduler_concurrency: 16,
            page_concurrency: 4 * std::thread::available_parallelism().map_or(2, |n| n.get() as u32),
            allow_insecure_http: false,
            trusted_proxies: Vec::new(),
            retention: Retention::default(),
            onboarding_sla: OnboardingSla::default(),
            api_rate_limit_per_minute: 600,
            webhooks: WebhookSettings::default(),
            list_counts_seconds: 5,
        };
        let mut figment = Figment::from(Serialized::defaults(defaults));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.merge(Env::prefixed("PORTAL_").ignore(&["config"]).split("__")).merge(Env::raw().only(&["database_url"]))
    }

    /// Extracts and checks the configuration from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let mut figment = figment;
        if figment.find_value("public_url").is_err() {
            let listen: SocketAddr = figment.extract_inner("listen").map_err(describe)?;
            figment = figment.merge(Serialized::default("public_url", format!("http://{listen}")));
        }
        let config: Config = figment.extract().map_err(describe)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !matches!(self.public_url.scheme(), "http" | "https") || self.public_url.host_str().is_none() {
            return Err(ConfigError(format!(
                "PORTAL_PUBLIC_URL must be an http(s) URL like https://portal.example.com, not `{}`",
                self.public_url
            )));
        }
        if self.public_url.scheme() == "http" && !self.allow_insecure_http && !is_loopback(&self.public_url) {
            return Err(ConfigError(format!(
                "PORTAL_PUBLIC_URL `{}` is plain http on a non-loopback host: session cookies could not be Secure and \
                 no HSTS would be sent. Use https (behind a TLS-terminating proxy), or set PORTAL_ALLOW_INSECURE_HTTP=true \
                 to accept the risk on a private network",
                self.public_url
            )));
        }
        if self.check_interval_hours == 0 {
            return Err(ConfigError("PORTAL_CHECK_INTERVAL_HOURS must be greater than zero".into()));
        }
        if self.scheduler_concurrency == 0 {
            return Err(ConfigError("PORTAL_SCHEDULER_CONCURRENCY must be greater than zero".into()));
        }
        if self.page_concurrency == 0 {
            return Err(ConfigError("PORTAL_PAGE_CONCURRENCY must be greater than zero".into()));
        }
        if self.request_timeout_seconds == 0 {
            return Err(ConfigError("PORTAL_REQUEST_TIMEOUT_SECONDS must be greater than zero".into()));
        }
        if self.invite_ttl_hours == 0 {
            return Err(ConfigError("PORTAL_INVITE_TTL_HOURS must be greater than zero".into()));
        }
        let sla = self.onboarding_sla;
        if sla.invited_days == 0 || sla.in_progress_days == 0 || sla.needs_attention_hours == 0 {
            return Err(ConfigError("onboarding_sla: invited_days, in_progress_days and needs_attention_hours must be greater than zero".into()));
        }
        for (name, env) in [("demo", &self.docusign.demo), ("production", &self.docusign.production)] {
            let Some(env) = env else { continue };
            let expected = format!("/oauth/callback/{name}");
            if env.redirect_uri.path() != expected {
                return Err(ConfigError(format!(
                    "docusign.{name}.redirect_uri must end in {expected} (one callback per environment), not `{}`",
                    env.redirect_uri
                )));
            }
            env.private_key()?;
            if let Err(problems) = env.setup.validate() {
                return Err(ConfigError(format!("docusign.{name}.setup: {}", problems.join("; "))));
            }
        }
        if self.webhooks.timeout_seconds == 0 || self.webhooks.timeout_seconds > 60 {
            return Err(ConfigError("webhooks.timeout_seconds must be between 1 and 60".into()));
        }
        if self.session_idle_minutes == 0 || self.session_absolute_hours == 0 {
            return Err(ConfigError("session lifetimes must be greater than zero".into()));
        }
        if let Some(url) = &self.database_url {
            let url = url.expose_secret();
            if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError("DATABASE_URL must start with sqlite: or postgres://".into()));
            }
        }
        Ok(())
    }

    /// The database URL to connect to (the embedded SQLite file when none is configured).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("portal.db").display()),
        }
    }

    /// The origin (`scheme://host[:port]`) state-changing requests must come from.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Whether cookies must carry `Secure` (always, except plain-http development addresses).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn describe(err: figment::Error) -> ConfigError {
    let messages: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let env = format!("PORTAL_{}", key.to_ascii_uppercase());
            format!("{}: {} (set {env} or `{key}` in the config file)", if key.is_empty() { "config" } else { &key }, e.kind)
        })
        .collect();
    ConfigError(messages.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut figment = Config::figment(None);
        for (k, v) in pairs {
            figment = figment.merge(Serialized::default(k, v));
        }
        Config::from_figment(figment)
    }

    #[test]
    fn defaults_give_a_local_sqlite_portal() {
        let config = load(&[]).unwrap();
        assert!(config.database_url().starts_with("sqlite://"));
        assert_eq!(config.public_origin(), "http://127.0.0.1:3000");
        assert!(!config.secure_cookies());
    }

    #[test]
    fn a_bad_setting_is_named_in_the_error() {
        let err = load(&[("listen", "not-an-address")]).unwrap_err().to_string();
        assert!(err.contains("listen"), "{err}");
        let err = load(&[("public_url", "ftp://x")]).unwrap_err().to_string();
        assert!(err.contains("PORTAL_PUBLIC_URL"), "{err}");
        let err = load(&[("database_url", "mysql://x")]).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn plain_http_is_refused_outside_loopback_unless_explicitly_allowed() {
        let err = load(&[("public_url", "http://portal.example.com")]).unwrap_err().to_string();
        assert!(err.contains("PORTAL_ALLOW_INSECURE_HTTP"), "{err}");
        assert!(load(&[("public_url", "http://localhost:3000")]).is_ok());
        assert!(load(&[("public_url", "http://[::1]:3000")]).is_ok());
        assert!(load(&[("public_url", "https://portal.example.com")]).unwrap().secure_cookies());
        let mut figment = Config::figment(None).merge(Serialized::default("public_url", "http://portal.internal"));
        figment = figment.merge(Serialized::default("allow_insecure_http", true));
        assert!(Config::from_figment(figment).is_ok());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let figment = Config::figment(None).merge(Serialized::default("trusted_proxies", vec!["10.0.0.0/8", "127.0.0.1/32"]));
        let config = Config::from_figment(figment).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        let figment = Config::figment(None).merge(Serialized::default("trusted_proxies", vec!["not-a-network"]));
        assert!(Config::from_figment(figment).unwrap_err().to_string().contains("trusted_proxies"));
    }

    #[test]
    fn the_database_password_never_prints() {
        let config = load(&[("database_url", "postgres://u:hunter2@db/x")]).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
