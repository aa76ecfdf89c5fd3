//! The Admin API (reference section 7) on the configured `admin_api` base: organizations,
//! reserved (claimed) domains, and a user's DocuSign profile by e-mail. These need a user token
//! with Admin scopes (`organization_read`, `domain_read`, `user_read`), which the portal gets
//! through the JWT grant after organization admin consent.

use reqwest::Method;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::DocuSignClient;
use super::error::{ProviderError, Surface};
use super::limits::RateLimitInfo;
use super::transport::{Api, describe, execute, parse};

/// The Admin API scopes that read an organization and its reserved domains (`GET
/// /v2/organizations` needs `organization_read`, `GET …/reserved_domains` needs `domain_read`;
/// reference §7).
pub const DIRECTORY_READ_SCOPES: [&str; 2] = ["organization_read", "domain_read"];

/// An `OrganizationResponse` (the fields the portal uses; others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Organization GUID.
    pub id: String,
    /// Organization name.
    #[serde(default)]
    pub name: String,
    /// Description, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The organization's default account GUID, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_account_id: Option<String>,
    /// The eSignature accounts linked to the organization.
    #[serde(default)]
    pub accounts: Vec<OrganizationAccount>,
    /// Reserved domains, when the list answer embeds them.
    #[serde(default)]
    pub reserved_domains: Vec<ReservedDomain>,
}

/// An account of an [`Organization`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationAccount {
    /// Account GUID.
    pub id: String,
    /// Account name.
    #[serde(default)]
    pub name: String,
    /// The account number shown in the DocuSign UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_account_id: Option<i64>,
}

/// A `DomainResponse`: a reserved (claimed) domain of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedDomain {
    /// Domain GUID.
    pub id: String,
    /// `unknown`, `pending`, `active`, `deactivated` or `rejected`; only `active` domains make
    /// organization admin consent cover their users.
    #[serde(default)]
    pub status: String,
    /// The domain (`example.com`); there is no `domain_name` field.
    #[serde(default)]
    pub host_name: String,
    /// The DNS TXT record value to publish to prove ownership, when pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txt_token: Option<String>,
}

impl ReservedDomain {
    /// True when the domain is claimed and verified (`status == "active"`).
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("active")
    }
}

/// A `UserDrilldownResponse`: a user's DocuSign profile (Admin API v2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    /// User GUID (the JWT `sub` for this user).
    pub id: String,
    /// The user's e-mail. DocuSign puts it on each membership; the client fills this from the
    /// first membership when the profile has no top-level `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `active`, `closed`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_status: Option<String>,
    /// Whether the user administers the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_organization_admin: Option<bool>,
    /// The user's default account GUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_account_id: Option<String>,
    /// The user's account memberships.
    #[serde(default)]
    pub memberships: Vec<ProfileMembership>,
}

/// A `MembershipResponse` of a [`UserProfile`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileMembership {
    /// Account GUID.
    #[serde(default)]
    pub account_id: String,
    /// Account name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The user's e-mail in this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Membership status (`active`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Whether the user is an admin of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
}

#[derive(Deserialize)]
struct OrganizationsResponse {
    #[serde(default)]
    organizations: Vec<Organization>,
}

#[derive(Deserialize)]
struct DomainsResponse {
    #[serde(default)]
    reserved_domains: Vec<ReservedDomain>,
}

#[derive(Deserialize)]
struct UsersResponse {
    #[serde(default)]
    users: Vec<UserProfile>,
}

impl DocuSignClient {
    /// `{admin_api}/{segments…}`, each segment percent-encoded.
    fn admin_url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        if segments.iter().any(|s| s.trim().is_empty()) {
            return Err(ProviderError::InvalidRequest { detail: "an Admin API path segment is empty".into() });
        }
        let mut url = self.inner.settings.admin_api.clone();
        url.path_segments_mut()
            .map_err(|_| ProviderError::InvalidSettings { detail: "admin_api cannot be a base URL".into() })?
            .pop_if_empty()
            .extend(segments.iter().map(|s| s.trim()));
        Ok(url)
    }

    async fn admin_get<T: serde::de::DeserializeOwned>(&self, url: Url, token: &SecretString) -> Result<Api<T>, ProviderError> {
        let what = describe(&Method::GET, &url);
        let req = self.inner.http.get(url).bearer_auth(token.expose_secret()).header(ACCEPT, "application/json");
        let answer = execute(&self.inner.http, req, Surface::Admin, self.inner.settings.timeout).await?;
        let value = parse(&answer.body, &what)?;
        Ok(Api { value, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `GET {admin}/v2/organizations` (scope `organization_read`): the organizations the
    /// token's user administers (`mode=org_admin`, DocuSign's default).
    pub async fn organizations(&self, token: &SecretString) -> Result<Api<Vec<Organization>>, ProviderError> {
        let url = self.admin_url(&["v2", "organizations"])?;
        let r: Api<OrganizationsResponse> = self.admin_get(url, token).await?;
        Ok(Api { value: r.value.organizations, limits: r.limits })
    }

    /// `GET {admin}/v2/organizations?mode=account_membership` (scope `organization_read`): the
    /// organizations that contain an account the token's user belongs to.
    pub async fn organizations_by_membership(&self, token: &SecretString) -> Result<Api<Vec<Organization>>, ProviderError> {
        let mut url = self.admin_url(&["v2", "organizations"])?;
        url.query_pairs_mut().append_pair("mode", "account_membership");
        let r: Api<OrganizationsResponse> = self.admin_get(url, token).await?;
        Ok(Api { value: r.value.organizations, limits: r.limits })
    }

    /// `GET {admin}/v2/organizations/{org_id}/reserved_domains` (scope `domain_read`; the
    /// token's user must administer the organization).
    pub async fn reserved_domains(
        &self,
        token: &SecretString,
        org_id: &str,
    ) -> Result<Api<Vec<ReservedDomain>>, ProviderError> {
        let url = self.admin_url(&["v2", "organizations", org_id, "reserved_domains"])?;
        let r: Api<DomainsResponse> = self.admin_get(url, token).await?;
        Ok(Api { value: r.value.reserved_domains, limits: r.limits })
    }

    /// `GET {admin}/v2.1/organizations/{org_id}/users/dsprofile?email=…` (scope `user_read`):
    /// the DocuSign profile(s) with this e-mail that the organization knows; an empty list when
    /// there is none.
    pub async fn user_profile_by_email(
        &self,
        token: &SecretString,
        org_id: &str,
        email: &str,
    ) -> Result<Api<Vec<UserProfile>>, ProviderError> {
        let email = email.trim();
        if email.is_empty() || !email.contains('@') {
            return Err(ProviderError::InvalidRequest { detail: "the e-mail address is not valid".into() });
        }
        let mut url = self.admin_url(&["v2.1", "organizations", org_id, "users", "dsprofile"])?;
        url.query_pairs_mut().append_pair("email", email);
        let r: Api<UsersResponse> = self.admin_get(url, token).await?;
        let users = r
            .value
            .users
            .into_iter()
            .map(|mut u| {
                if u.email.is_none() {
                    u.email = u.memberships.iter().find_map(|m| m.email.clone());
                }
                u
            })
            .collect();
        Ok(Api { value: users, limits: r.limits })
    }
}
