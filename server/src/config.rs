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
}

/// How log lines are written.
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
        };
        let mut figment = Figment::from(Serialized::defaults(defaults));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment.merge(Env::prefixed("PORTAL_").ignore(&["config"])).merge(Env::raw().only(&["database_url"]))
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
    fn the_database_password_never_prints() {
        let config = load(&[("database_url", "postgres://u:hunter2@db/x")]).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
