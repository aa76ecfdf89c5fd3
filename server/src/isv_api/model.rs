//! What the REST API answers: the wire types, with their OpenAPI schemas. Every field is the
//! portal's own record; nothing here is copied from a DocuSign answer without being checked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A tenant: its consent, system user, account and latest setup check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// `demo` or `production`.
    #[schema(example = "production")]
    pub environment: String,
    pub consent: ApiConsent,
    /// The user the integration acts as (JWT grant), once pinned.
    pub system_user: Option<ApiSystemUser>,
    /// The account and the base URI to call, once pinned.
    pub account: Option<ApiAccount>,
    /// The latest setup-check run.
    pub setup_check: Option<ApiSetupCheck>,
    /// For a tenant that is not ready: what is wrong and what staff do about it.
    pub remediation: Option<ApiRemediation>,
    /// When the tenant's record or consent state last changed.
    pub updated_at: DateTime<Utc>,
}

/// Where the tenant's consent stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiConsent {
    /// One of `not_started`, `invited`, `in_progress`, `consented`, `verified`, `needs_attention`, `revoked`.
    #[schema(example = "verified")]
    pub state: String,
    /// For `needs_attention`: why (e.g. `consent_revoked`, `not_a_member`, `base_uri_changed`).
    pub reason: Option<String>,
    /// True only when the integration can act now (`verified`).
    pub ready: bool,
    /// Since when the tenant is in this state.
    pub since: Option<DateTime<Utc>>,
    /// `organization` or `individual`, once consent was granted.
    pub mode: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The DocuSign organization, for organization consent.
    pub organization_id: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    /// When a JWT grant and a call on the account last succeeded.
    pub last_verified_at: Option<DateTime<Utc>>,
}

/// The DocuSign user the integration acts as.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiSystemUser {
    /// The user's GUID (the JWT grant's `sub`).
    pub user_id: String,
    pub email: String,
    pub name: String,
}

/// The DocuSign account to act in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiAccount {
    pub account_id: String,
    pub account_name: String,
    /// Where to send eSignature calls: `{base_uri}/restapi/v2.1/accounts/{account_id}/…`.
    #[schema(example = "https://demo.docusign.net")]
    pub base_uri: String,
}

/// The latest setup-check run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiSetupCheck {
    /// `pass`, `warn`, `fail`, `error`, `skipped` or `abandoned`; absent while the run is going.
    pub overall: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The checks that did not pass (`warn`, `fail` or `error`).
    pub failing: Vec<String>,
}

/// What is wrong with a tenant that is not ready, and the staff action that fixes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiRemediation {
    pub text: String,
    pub actions: Vec<ApiAction>,
}

/// An action staff can take in the portal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiAction {
    /// `send_invite` (create an invite link for the customer's administrator) or `verify`.
    pub kind: String,
    /// The portal page where staff take it.
    pub href: String,
}

/// One page of tenants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTenantPage {
    pub items: Vec<ApiTenant>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A DocuSign environment (documentation of the `environment` parameter).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiEnvironment {
    Demo,
    Production,
}

/// A consent state (documentation of the `state` parameter).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiConsentState {
    NotStarted,
    Invited,
    InProgress,
    Consented,
    Verified,
    NeedsAttention,
    Revoked,
}

/// Filters and paging of `GET /tenants`. Read as text and checked by the handler, so a bad
/// value is a problem document naming it rather than a bare 400.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantListParams {
    /// `demo` or `production` (default: every environment the key may use).
    #[param(value_type = Option<ApiEnvironment>)]
    pub environment: Option<String>,
    /// A consent state, e.g. `verified` or `needs_attention`.
    #[param(value_type = Option<ApiConsentState>)]
    pub state: Option<String>,
    /// Only tenants whose record or consent state changed at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_since: Option<String>,
    /// From the previous page's `next_cursor`.
    #[param(pattern = "^[A-Za-z0-9_-]{22}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

/// A DocuSign access token for the tenant's system user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiAccessToken {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    /// Seconds until `expires_at`.
    pub expires_in: i64,
    /// The system user the token acts as.
    pub user_id: String,
    pub account_id: String,
    pub base_uri: String,
}
