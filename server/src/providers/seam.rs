//! The seam between the consent flow and an identity provider: the two traits onboarding is
//! written against ([`ConsentProvider`], [`OrganizationDirectory`]), what an authorization request
//! asks for ([`AuthorizationRequest`]), and the provider-neutral parts of an OAuth round trip the
//! portal keeps itself (the PKCE pair and the `state`).
//!
//! Both traits are object safe (`async_trait`) and `Send + Sync`, so `Deps` holds them as
//! `&dyn …` and every future that uses them stays `Send` (the scheduler spawns them).

use oauth2::{CsrfToken, PkceCodeChallenge};
use secrecy::SecretString;
use url::Url;

use super::{AccountBudgets, Organization, Pkce, ProviderError, ReservedDomain, TokenSet, UserInfo, UserProfile};

/// What an authorization URL asks the provider for. The provider decides how each is spelled
/// on the wire (DocuSign: `scope`, `admin_consent_scope`, `prompt=login`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRequest {
    /// Identify the person at the browser (`openid`), asking for their credentials again; no
    /// consent to any API.
    SignIn,
    /// The person consents for themselves to `scopes`.
    IndividualConsent {
        /// The scopes asked for.
        scopes: Vec<String>,
    },
    /// An organization administrator consents to `scopes` for every user the organization
    /// covers.
    OrganizationConsent {
        /// The scopes granted to every covered user.
        scopes: Vec<String>,
    },
}

/// The calls the consent flow makes on an identity provider: the authorization round trip
/// (URL, issuer, code exchange, userinfo), app tokens for a user who consented (fresh for
/// verification, cached for checks), refresh of kept tokens, and the proof of consent on an
/// account. One value per provider and environment.
///
/// Every failure is a classified [`ProviderError`]; callers decide on retries with
/// [`ProviderError::is_transient`]. Except for [`ConsentProvider::verify_account`], which applies
/// the provider's own call policy, no method retries.
#[async_trait::async_trait]
pub trait ConsentProvider: Send + Sync {
    /// The URL to send the browser to for `request`, carrying the single-use `state` and the
    /// PKCE S256 challenge. Fails with `InvalidRequest` (nothing built) on empty scopes, an
    /// empty state or a malformed challenge.
    fn authorization_url(&self, request: &AuthorizationRequest, state: &str, pkce_challenge: &str) -> Result<Url, ProviderError>;

    /// The issuer a callback's `iss` must name, without a trailing `/`.
    fn expected_issuer(&self) -> &str;

    /// Exchanges an authorization code (with its PKCE verifier) for tokens, once.
    async fn exchange_code(&self, code: &str, pkce_verifier: &SecretString) -> Result<TokenSet, ProviderError>;

    /// Who the access token's user is, with their accounts.
    async fn userinfo(&self, access_token: &SecretString) -> Result<UserInfo, ProviderError>;

    /// A new app token acting as `user_id` for `scopes`, never from a cache: the proof that
    /// consent still holds (verification, naming a system user).
    async fn app_token(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError>;

    /// An app token acting as `user_id` for `scopes`, from the provider's cache while it is
    /// fresh enough (checks and fixes).
    async fn cached_app_token(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError>;

    /// Forgets every cached app token of `user_id` (after the provider refused one).
    fn forget_app_tokens(&self, user_id: &str);

    /// Exchanges a kept refresh token for new tokens (the answer may rotate the refresh token).
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ProviderError>;

    /// Whether an account address from userinfo may be called (the base-URI guard); `Err`
    /// with `UntrustedBaseUri` when not.
    fn check_base_uri(&self, base_uri: &str) -> Result<(), ProviderError>;

    /// One call on `account_id` at `base_uri` with `access_token`: the last step of
    /// verification. Spends from `budgets` and retries transient failures under the provider's
    /// call policy.
    async fn verify_account(&self, budgets: &AccountBudgets, base_uri: &str, account_id: &str, access_token: &SecretString) -> Result<(), ProviderError>;

    /// The role of `user_id` in `account_id` (administrator or member), read with
    /// `access_token`: what decides whether the portal can change the account's settings as that
    /// user. Spends from `budgets` under the provider's call policy.
    async fn account_role(
        &self,
        budgets: &AccountBudgets,
        base_uri: &str,
        account_id: &str,
        user_id: &str,
        access_token: &SecretString,
    ) -> Result<app::onboarding::model::AccountRole, ProviderError>;
}

/// What an administrator's organization holds, read with an app token carrying the directory
/// scopes of organization consent: its organizations, its claimed domains and its users.
#[async_trait::async_trait]
pub trait OrganizationDirectory: Send + Sync {
    /// The organizations the token's user administers.
    async fn organizations(&self, admin_token: &SecretString) -> Result<Vec<Organization>, ProviderError>;

    /// The domains `organization_id` has claimed (each says whether it is active).
    async fn reserved_domains(&self, admin_token: &SecretString, organization_id: &str) -> Result<Vec<ReservedDomain>, ProviderError>;

    /// The organization's user with this e-mail address, if it knows one.
    async fn user_by_email(&self, admin_token: &SecretString, organization_id: &str, email: &str) -> Result<Option<UserProfile>, ProviderError>;
}

/// A PKCE S256 pair from a CSPRNG (verifier of 43 characters, O1): the verifier stays in the
/// portal's transaction, the challenge goes in the authorization URL.
pub fn new_pkce() -> Pkce {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    Pkce { verifier: SecretString::from(verifier.secret().clone()), challenge: challenge.as_str().to_owned() }
}

/// A fresh `state` value: 32 CSPRNG bytes, base64url (256 bits, O2).
pub fn new_state() -> String {
    CsrfToken::new_random_len(32).secret().clone()
}
