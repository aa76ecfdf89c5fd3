//! DocuSign behind the provider seam: [`ConsentProvider`] and [`OrganizationDirectory`] for
//! [`DocuSignClient`], each method a thin mapping onto the client's own calls (OAuth on the
//! account server, the Admin API, one eSignature call under the call policy).

use app::onboarding::model::AccountRole;
use secrecy::SecretString;
use url::Url;

use super::budget::AccountBudgets;
use super::{AuthorizeRequest, DocuSignClient, Organization, ProviderError, ReservedDomain, TokenSet, UserInfo, UserProfile, policy};
use crate::providers::{AuthorizationRequest, ConsentProvider, OrganizationDirectory};

#[async_trait::async_trait]
impl ConsentProvider for DocuSignClient {
    /// Sign-in asks for `openid` with `prompt=login`; individual consent puts the scopes in
    /// `scope`; organization admin consent asks for `openid` and puts the scopes in
    /// `admin_consent_scope`.
    fn authorization_url(&self, request: &AuthorizationRequest, state: &str, pkce_challenge: &str) -> Result<Url, ProviderError> {
        let openid = || vec!["openid".to_owned()];
        let (scopes, admin_consent_scopes, prompt_login) = match request {
            AuthorizationRequest::SignIn => (openid(), None, true),
            AuthorizationRequest::IndividualConsent { scopes } => (scopes.clone(), None, false),
            AuthorizationRequest::OrganizationConsent { scopes } => (openid(), Some(scopes.clone()), false),
        };
        self.authorize_url(&AuthorizeRequest {
            scopes,
            admin_consent_scopes,
            state: state.to_owned(),
            code_challenge: pkce_challenge.to_owned(),
            prompt_login,
        })
    }

    /// The configured account server.
    fn expected_issuer(&self) -> &str {
        self.settings().account_server.as_str().trim_end_matches('/')
    }

    async fn exchange_code(&self, code: &str, pkce_verifier: &SecretString) -> Result<TokenSet, ProviderError> {
        DocuSignClient::exchange_code(self, code, pkce_verifier).await
    }

    async fn userinfo(&self, access_token: &SecretString) -> Result<UserInfo, ProviderError> {
        DocuSignClient::userinfo(self, access_token).await
    }

    /// The JWT bearer grant.
    async fn app_token(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError> {
        self.jwt_grant(user_id, scopes).await
    }

    /// The JWT bearer grant through the client's token cache.
    async fn cached_app_token(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError> {
        self.jwt_token(user_id, scopes).await
    }

    fn forget_app_tokens(&self, user_id: &str) {
        self.forget_jwt(user_id);
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ProviderError> {
        DocuSignClient::refresh(self, refresh_token).await
    }

    fn check_base_uri(&self, base_uri: &str) -> Result<(), ProviderError> {
        DocuSignClient::check_base_uri(self, base_uri).map(drop)
    }

    /// `GET …/accounts/{account_id}/users/{user_id}` through [`policy::on_account`]: its `isAdmin`.
    async fn account_role(&self, budgets: &AccountBudgets, base_uri: &str, account_id: &str, user_id: &str, access_token: &SecretString) -> Result<AccountRole, ProviderError> {
        let call = || self.get_user(base_uri, account_id, user_id, access_token);
        policy::on_account(budgets, account_id, call).await.map(|api| super::esign::account_role(&api.value))
    }

    /// `GET /restapi/v2.1/accounts/{account_id}` through [`policy::on_account`] (the account's
    /// budget, bounded retries).
    async fn verify_account(&self, budgets: &AccountBudgets, base_uri: &str, account_id: &str, access_token: &SecretString) -> Result<(), ProviderError> {
        let call = || self.get_account(base_uri, account_id, access_token, false);
        policy::on_account(budgets, account_id, call).await.map(drop)
    }
}

#[async_trait::async_trait]
impl OrganizationDirectory for DocuSignClient {
    async fn organizations(&self, admin_token: &SecretString) -> Result<Vec<Organization>, ProviderError> {
        DocuSignClient::organizations(self, admin_token).await.map(|api| api.value)
    }

    async fn reserved_domains(&self, admin_token: &SecretString, organization_id: &str) -> Result<Vec<ReservedDomain>, ProviderError> {
        DocuSignClient::reserved_domains(self, admin_token, organization_id).await.map(|api| api.value)
    }

    /// The first DocuSign profile the organization knows with this e-mail.
    async fn user_by_email(&self, admin_token: &SecretString, organization_id: &str, email: &str) -> Result<Option<UserProfile>, ProviderError> {
        self.user_profile_by_email(admin_token, organization_id, email).await.map(|api| api.value.into_iter().next())
    }
}
