//! API-client DTOs, the port and its server functions (administrators only).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::ApiScope;
use crate::environment::Environment;
use crate::error::AppError;

/// The longest expiry an administrator may set, in days.
pub const MAX_EXPIRY_DAYS: u32 = 730;

/// What an administrator fills in to create an API client. Checkboxes arrive only when ticked,
/// so each is an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewApiClientInput {
    #[validate(length(min = 1, max = 80, message = "Give the client a name of at most 80 characters."))]
    pub name: String,
    #[serde(default)]
    pub env_demo: Option<String>,
    #[serde(default)]
    pub env_production: Option<String>,
    #[serde(default)]
    pub scope_tenants_read: Option<String>,
    #[serde(default)]
    pub scope_tokens_issue: Option<String>,
    #[serde(default)]
    pub scope_consent_check: Option<String>,
    /// Days until the key stops working; empty for no expiry.
    #[serde(default)]
    #[validate(custom(function = "expiry_days", message = "Enter a whole number of days from 1 to 730, or leave it empty."))]
    pub expires_in_days: String,
}

fn expiry_days(value: &str) -> Result<(), ValidationError> {
    match value.trim() {
        "" => Ok(()),
        v => match v.parse::<u32>() {
            Ok(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Ok(()),
            _ => Err(ValidationError::new("expiry")),
        },
    }
}

impl NewApiClientInput {
    /// The ticked environments.
    pub fn environments(&self) -> Vec<Environment> {
        [(Environment::Demo, &self.env_demo), (Environment::Production, &self.env_production)]
            .into_iter()
            .filter(|(_, ticked)| ticked.is_some())
            .map(|(e, _)| e)
            .collect()
    }

    /// The ticked scopes.
    pub fn scopes(&self) -> Vec<ApiScope> {
        [
            (ApiScope::TenantsRead, &self.scope_tenants_read),
            (ApiScope::TokensIssue, &self.scope_tokens_issue),
            (ApiScope::ConsentCheck, &self.scope_consent_check),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(s, _)| s)
        .collect()
    }

    /// The expiry in days, if one was given (call after `validate`).
    pub fn expiry(&self) -> Option<u32> {
        self.expires_in_days.trim().parse().ok()
    }

    /// Every rule, including the ones that span fields: at least one environment and one scope.
    pub fn check(&self) -> Result<(), AppError> {
        let mut error = match self.validate() {
            Ok(()) => None,
            Err(e) => Some(AppError::from(e)),
        };
        let mut add = |field: &str, message: &str| {
            let mut fields = match error.take() {
                Some(AppError::Validation { fields }) => fields,
                _ => Default::default(),
            };
            fields.entry(field.to_owned()).or_default().push(message.to_owned());
            error = Some(AppError::Validation { fields });
        };
        if self.environments().is_empty() {
            add("environments", "Choose at least one environment.");
        }
        if self.scopes().is_empty() {
            add("scopes", "Choose at least one scope.");
        }
        error.map_or(Ok(()), Err)
    }
}

/// Whether a key can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiClientStatus {
    Active,
    Expired,
    Revoked,
}

impl ApiClientStatus {
    pub fn label(self) -> &'static str {
        match self {
            ApiClientStatus::Active => "active",
            ApiClientStatus::Expired => "expired",
            ApiClientStatus::Revoked => "revoked",
        }
    }
}

/// An API client as administrators see it (never the secret or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClientView {
    pub id: Uuid,
    pub name: String,
    /// The key's public part (`cpk_<key id>_…`), to tell keys apart.
    pub key_id: String,
    pub environments: Vec<Environment>,
    pub scopes: Vec<ApiScope>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub status: ApiClientStatus,
}

/// A created client with its key, which is shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiClient {
    pub client: ApiClientView,
    pub key: String,
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for API clients.
    #[async_trait::async_trait]
    pub trait ApiClientsPort: Send + Sync + 'static {
        /// Every API client, newest first.
        async fn list(&self, ctx: &RequestCtx) -> Result<Vec<ApiClientView>, AppError>;
        /// Creates a client; the answer holds its key once.
        async fn create(&self, ctx: &RequestCtx, input: NewApiClientInput) -> Result<CreatedApiClient, AppError>;
        /// Revokes a client: its key stops working at once.
        async fn revoke(&self, ctx: &RequestCtx, id: Uuid) -> Result<(), AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::ApiClientsPort;

/// Every API client.
#[server(endpoint = "api_clients/list")]
pub async fn list_api_clients() -> Result<Vec<ApiClientView>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn ApiClientsPort>()?;
    respond(&ctx, port.list(&ctx).await)
}

/// Creates an API client and answers its key (once).
#[server(endpoint = "api_clients/create")]
pub async fn create_api_client(input: NewApiClientInput) -> Result<CreatedApiClient, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn ApiClientsPort>()?;
    respond(&ctx, port.create(&ctx, input).await)
}

/// Revokes an API client.
#[server(endpoint = "api_clients/revoke")]
pub async fn revoke_api_client(id: Uuid) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn ApiClientsPort>()?;
    respond(&ctx, port.revoke(&ctx, id).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewApiClientInput {
        NewApiClientInput { name: "Backend".into(), env_demo: Some("on".into()), scope_tokens_issue: Some("on".into()), ..Default::default() }
    }

    #[test]
    fn a_client_needs_a_name_an_environment_and_a_scope() {
        assert!(input().check().is_ok());
        let empty = NewApiClientInput::default().check().unwrap_err();
        for field in ["name", "environments", "scopes"] {
            assert!(!empty.field_messages(field).is_empty(), "{field} should be required");
        }
    }

    #[test]
    fn the_expiry_is_empty_or_a_bounded_number_of_days() {
        for ok in ["", " ", "1", "730"] {
            assert!(NewApiClientInput { expires_in_days: ok.into(), ..input() }.check().is_ok(), "{ok:?}");
        }
        for bad in ["0", "731", "-1", "ten", "1.5"] {
            let e = NewApiClientInput { expires_in_days: bad.into(), ..input() }.check().unwrap_err();
            assert!(!e.field_messages("expires_in_days").is_empty(), "{bad:?}");
        }
    }
}
