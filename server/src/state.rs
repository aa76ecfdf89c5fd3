//! The application state: one `Portal` value holding the database, the settings, the keyring, the
//! provider clients and the throttles, built once at start-up (see `startup`) and shared by the
//! router, the server functions (through the ports in `ports/`) and the background workers.
//! [`Deps`] is the slice of it that work on one DocuSign environment needs.

use std::sync::Arc;

use app::environment::Environment;
use app::error::{AppError, AppResult};
use sea_orm::DatabaseConnection;

use crate::config::{Config, IsvEnvironment};
use crate::crypto::Keyring;
use crate::providers::docusign::DocuSignClient;
use crate::providers::{ConsentProvider, OrganizationDirectory};
use crate::providers::docusign::budget::AccountBudgets;
use crate::rate_limit::{RedeemLimiter, SignInLimiter};
use crate::sessions::Lifetimes;

/// The portal's backend.
pub struct Portal {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keyring: Keyring,
    /// One DocuSign client per configured environment.
    pub providers: Vec<(Environment, DocuSignClient)>,
    pub sign_in_limiter: SignInLimiter,
    /// Throttles failed invite redemptions per address and per link.
    pub redeem_limiter: RedeemLimiter,
    /// What each DocuSign account still allows us (from its rate-limit headers).
    pub budgets: Arc<AccountBudgets>,
    /// Requests per minute per API key of the integration API.
    pub api_limiter: crate::rate_limit::ApiLimiter,
    /// DocuSign access tokens handed out by the integration API, in this instance's memory.
    pub api_tokens: crate::token_cache::TokenCache,
    /// The tenant list's total and filter counts, by viewer scope and filter (`list_counts`).
    pub list_counts: crate::list_counts::Aggregates<crate::tenants::ListCounts>,
    /// The overview, by viewer scope (`list_counts`).
    pub overviews: crate::list_counts::Aggregates<app::tenants::api::Overview>,
}

impl Portal {
    /// The onboarding dependencies of an environment, if it is configured.
    pub fn deps(&self, env: Environment) -> Option<Deps<'_>> {
        let client = self.providers.iter().find(|(e, _)| *e == env).map(|(_, c)| c)?;
        let isv = self.config.docusign.get(env)?;
        Some(Deps { db: &self.db, keyring: &self.keyring, provider: client, directory: client, client, isv, env, budgets: &self.budgets })
    }

    /// The onboarding dependencies, or a conflict naming the missing environment.
    pub fn require_deps(&self, env: Environment) -> AppResult<Deps<'_>> {
        self.deps(env)
            .ok_or_else(|| AppError::conflict(format!("The DocuSign {} environment is not configured on this portal.", env.as_str())))
    }

    /// The origins of the configured account servers (for the page CSP's `form-action`).
    pub fn account_server_origins(&self) -> Vec<String> {
        self.providers.iter().map(|(_, c)| c.settings().account_server.origin().ascii_serialization()).collect()
    }

    /// Session lifetimes from the configuration.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: chrono::Duration::minutes(i64::from(self.config.session_idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.config.session_absolute_hours)),
        }
    }
}

/// What work on one DocuSign environment needs: the database, the keyring, the environment's
/// identity provider (through the seam, see [`crate::providers`]) and ISV settings, and the
/// shared per-account budgets. Onboarding, checks and the workers all take it.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    pub keyring: &'a Keyring,
    /// The environment's identity provider, as the consent flow uses it.
    pub provider: &'a dyn ConsentProvider,
    /// The environment's organization directory (organization consent's system user).
    pub directory: &'a dyn OrganizationDirectory,
    /// The concrete DocuSign client, for the DocuSign-only eSignature calls of the setup checks
    /// (settings, Connect). Onboarding does not use it.
    pub client: &'a DocuSignClient,
    pub isv: &'a IsvEnvironment,
    pub env: Environment,
    /// Per-account request budgets (shared by every check of this portal instance).
    pub budgets: &'a AccountBudgets,
}

impl Deps<'_> {
    /// The eSignature scopes the system user must have consented to.
    pub fn esign_scopes(&self) -> Vec<&str> {
        self.isv.scopes.iter().map(String::as_str).collect()
    }

    /// The scopes of individual consent (with `extended` when refresh tokens are kept).
    pub fn individual_scopes(&self) -> Vec<String> {
        let mut scopes = self.isv.scopes.clone();
        if self.isv.keep_refresh_tokens && !scopes.iter().any(|s| s == "extended") {
            scopes.push("extended".into());
        }
        scopes
    }

    /// The scopes organization admin consent grants to every covered user.
    pub fn admin_consent_scopes(&self) -> Vec<String> {
        let mut scopes = self.isv.scopes.clone();
        for s in &self.isv.admin_scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        scopes
    }
}
