//! API clients of the ISV's backend: administrators create them (the key is shown once), see
//! when each was last used, and revoke them. The REST API itself (`/api/v1`) lives on the server.

pub mod api;
pub mod views;

use serde::{Deserialize, Serialize};

/// What an API client may do, by its wire name in a key's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApiScope {
    /// Read tenants: consent state, system user, account, base URI, latest setup check.
    #[serde(rename = "tenants:read")]
    TenantsRead,
    /// Obtain DocuSign access tokens for a tenant's system user.
    #[serde(rename = "tokens:issue")]
    TokensIssue,
    /// Probe whether an individual user of a tenant has consented.
    #[serde(rename = "consent:check")]
    ConsentCheck,
}

impl ApiScope {
    /// Every scope, in the order forms show them.
    pub const ALL: [ApiScope; 3] = [ApiScope::TenantsRead, ApiScope::TokensIssue, ApiScope::ConsentCheck];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::TenantsRead => "tenants:read",
            ApiScope::TokensIssue => "tokens:issue",
            ApiScope::ConsentCheck => "consent:check",
        }
    }

    /// What it allows, for people.
    pub fn label(self) -> &'static str {
        match self {
            ApiScope::TenantsRead => "Read tenants (consent state, system user, account, base URI)",
            ApiScope::TokensIssue => "Issue DocuSign access tokens for a tenant's system user",
            ApiScope::ConsentCheck => "Check whether an individual user has consented",
        }
    }

    /// The form field of its checkbox.
    pub fn field(self) -> &'static str {
        match self {
            ApiScope::TenantsRead => "scope_tenants_read",
            ApiScope::TokensIssue => "scope_tokens_issue",
            ApiScope::ConsentCheck => "scope_consent_check",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|s| s.as_str() == value)
    }
}
