//! Start-up in one place, in order: configuration (loaded by the caller) → keyring → database and
//! migrations → the keyring checked against the database → one provider client per configured
//! environment → router → background workers (scheduler, webhook delivery, retention) → serve until a signal.
//! `serve` and `demo` both come through here.

use std::sync::Arc;

use anyhow::Context;
use app::environment::Environment;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::crypto::Keyring;
use crate::providers::docusign::{DocuSignClient, ProviderSettings};
use crate::rate_limit::{RedeemLimiter, SignInLimiter};
use crate::state::Portal;
use crate::{db, http};

/// Why the portal cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("docusign.{env}: {message}")]
    Provider { env: &'static str, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

impl Portal {
    /// A backend over `db` with `config`; refuses to start without encryption keys or with an
    /// invalid DocuSign environment (key unparseable or under 2048 bits, plain http, …).
    pub fn new(db: DatabaseConnection, config: Arc<Config>) -> Result<Self, StartError> {
        let keyring = Keyring::parse(config.encryption_keys.as_ref())?;
        let mut providers = Vec::new();
        for env in Environment::ALL {
            let Some(isv) = config.docusign.get(env) else { continue };
            let mut settings = ProviderSettings::new(
                isv.account_server.clone(),
                isv.admin_api.clone(),
                isv.integration_key.clone(),
                isv.client_secret.clone(),
                isv.private_key()?,
                isv.redirect_uri.clone(),
            );
            settings.allowed_base_uri_hosts = isv.allowed_base_uri_hosts.clone();
            settings.validate().map_err(|message| StartError::Provider { env: env.as_str(), message })?;
            let client = DocuSignClient::new(settings).map_err(|e| StartError::Provider { env: env.as_str(), message: e.to_string() })?;
            providers.push((env, client));
        }
        let api_limiter = crate::rate_limit::ApiLimiter::new(config.api_rate_limit_per_minute);
        let counts_age = std::time::Duration::from_secs(config.list_counts_seconds.into());
        Ok(Portal {
            db,
            config,
            keyring,
            providers,
            sign_in_limiter: SignInLimiter::default(),
            redeem_limiter: RedeemLimiter::default(),
            budgets: Default::default(),
            api_limiter,
            api_tokens: Default::default(),
            list_counts: crate::list_counts::Aggregates::new(counts_age),
            overviews: crate::list_counts::Aggregates::new(counts_age),
        })
    }
}

/// Connects, migrates and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let db = db::connect_and_migrate(&config.database_url()).await.context("connecting to the database")?;
    let portal = Arc::new(Portal::new(db, config.clone())?);
    crate::crypto::verify_against_database(&portal.db, &portal.keyring).await?;
    let options = http::leptos_options(&config.site_root, config.listen);
    match crate::assets::drop_stale(&config.site_root.join("pkg")) {
        Ok(0) | Err(_) => {}
        Ok(n) => tracing::warn!(dropped = n, "precompressed assets older than the site were removed (run `consent-portal precompress` after building)"),
    }
    if !config.site_root.join("pkg").exists() {
        tracing::warn!(site_root = %config.site_root.display(), "no built site here: pages will not hydrate (run `cargo leptos build`)");
    }
    if config.scheduler_tick_seconds > 0 {
        let settings = crate::checks::scheduler::SchedulerSettings {
            interval: chrono::Duration::hours(i64::from(config.check_interval_hours)),
            tick: std::time::Duration::from_secs(u64::from(config.scheduler_tick_seconds)),
            batch: 4 * u64::from(config.scheduler_concurrency),
            concurrency: config.scheduler_concurrency as usize,
            lease: chrono::Duration::minutes(10),
            owner: format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "portal".into()), std::process::id()),
        };
        crate::checks::scheduler::spawn(portal.clone(), settings);
    }
    if config.webhooks.worker_tick_seconds > 0 {
        let settings = crate::webhooks::worker::WorkerSettings::from_config(&config.webhooks);
        let worker = crate::webhooks::worker::Worker::new(portal.db.clone(), portal.keyring.clone(), settings)?;
        crate::webhooks::worker::spawn(worker);
    }
    crate::retention::spawn(portal.clone(), std::time::Duration::from_secs(3600));
    let router = http::build_router(portal, options);
    let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(url = %config.public_url, "consent portal listening");
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
