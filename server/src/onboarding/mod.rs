//! Consent onboarding, server side: the consent state machine and its records, invites, the OAuth
//! transactions of the wizard (authorization code + PKCE, state bound to the browser session),
//! the system user, verification by JWT grant, and kept credentials.

pub mod callback;
pub mod credentials;
pub mod invites;
pub mod records;
pub mod state;
pub mod verify;
pub mod wizard;

use app::environment::Environment;
use sea_orm::DatabaseConnection;

use crate::config::IsvEnvironment;
use crate::crypto::Keyring;
use crate::providers::docusign::DocuSignClient;

/// What onboarding work needs for one environment.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    pub keyring: &'a Keyring,
    pub client: &'a DocuSignClient,
    pub isv: &'a IsvEnvironment,
    pub env: Environment,
    /// Per-account request budgets (shared by every check of this portal instance).
    pub budgets: &'a crate::checks::budget::AccountBudgets,
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
