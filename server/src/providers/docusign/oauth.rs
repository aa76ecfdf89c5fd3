//! The account server: the authorization URL (with PKCE S256 and `state`), the three token
//! grants (authorization code, refresh token, JWT bearer) and `/oauth/userinfo`
//! (reference sections 1–3).
//!
//! The `oauth2` crate builds the PKCE pair, the `state` token and the authorization URL. The
//! token endpoint is called with reqwest directly, for all three grants, because:
//! - oauth2 has no JWT bearer grant, and one code path gives the three grants the same error
//!   classification;
//! - oauth2 discards the HTTP status of an error answer (a 503 with an `{"error":…}` body and a
//!   400 look the same) and the `Retry-After` / rate-limit headers, which `ProviderError`
//!   needs (`Unavailable`, `RateLimited`);
//! - oauth2 percent-encodes the client id and secret inside Basic auth (RFC 6749 §2.3.1), while
//!   DocuSign documents plain `base64(integration_key:secret)`;
//! - its typed token response drops `id_token` unless the whole client is re-typed.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::DocuSignClient;
use super::error::{ProviderError, Surface};
use super::transport::{describe, execute, parse};

/// The JWT bearer grant type.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Lifetime of a JWT assertion: DocuSign caps JWT access tokens at one hour and rejects
/// nothing shorter, so the assertion asks for exactly that (`exp - iat = 3600`, O11).
pub const ASSERTION_TTL_SECS: i64 = 3600;

/// A PKCE S256 pair (O1). Keep the verifier server-side (in the OAuth transaction); send the
/// challenge in the authorization URL.
pub struct Pkce {
    /// The code verifier: 43 base64url characters from 32 CSPRNG bytes.
    pub verifier: SecretString,
    /// `BASE64URL(SHA256(verifier))` without padding.
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce").field("verifier", &"[REDACTED]").field("challenge", &self.challenge).finish()
    }
}

/// What to put in an authorization URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// `scope`, space-joined: `signature impersonation` for individual consent, `openid` for
    /// organization admin consent.
    pub scopes: Vec<String>,
    /// `admin_consent_scope` (organization admin consent, with `scopes = ["openid"]`), e.g.
    /// `signature impersonation organization_read domain_read user_read`.
    pub admin_consent_scopes: Option<Vec<String>>,
    /// The one-time CSRF token bound to the browser session (O2); see
    /// [`DocuSignClient::new_state`].
    pub state: String,
    /// The PKCE challenge ([`Pkce::challenge`]).
    pub code_challenge: String,
    /// Adds `prompt=login` (force DocuSign to ask for credentials again).
    pub prompt_login: bool,
}

/// Tokens from the token endpoint. `Debug` redacts every token.
#[derive(Clone)]
pub struct TokenSet {
    /// The bearer access token.
    pub access_token: SecretString,
    /// The refresh token (authorization code and refresh grants; never for the JWT grant).
    /// DocuSign rotates it on every refresh: persist the new one before using the new access
    /// token (O7).
    pub refresh_token: Option<SecretString>,
    /// Lifetime of the access token in seconds, as DocuSign reported it (28 800 for the code
    /// grant, 3 600 for JWT); 0 when the answer did not say.
    pub expires_in: u64,
    /// Granted scopes (space separated) when the answer names them.
    pub scope: Option<String>,
    /// The OpenID id_token when `openid` was requested (organization admin consent).
    pub id_token: Option<SecretString>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |present: bool| if present { "[REDACTED]" } else { "None" };
        f.debug_struct("TokenSet")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &redacted(self.refresh_token.is_some()))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("id_token", &redacted(self.id_token.is_some()))
            .finish()
    }
}

/// `/oauth/userinfo` (reference section 3). Missing optional fields are tolerated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user GUID (the JWT `sub` for this user).
    pub sub: String,
    /// Full name.
    #[serde(default)]
    pub name: String,
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Last name.
    #[serde(default)]
    pub family_name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: String,
    /// When the user was created (`2015-08-13T22:03:03.45`), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Every account the user belongs to.
    #[serde(default)]
    pub accounts: Vec<UserAccount>,
}

impl UserInfo {
    /// The account with this id.
    pub fn account(&self, account_id: &str) -> Option<&UserAccount> {
        self.accounts.iter().find(|a| a.account_id.eq_ignore_ascii_case(account_id))
    }

    /// The user's default account (or the first one when none is marked default).
    pub fn default_account(&self) -> Option<&UserAccount> {
        self.accounts.iter().find(|a| a.is_default).or(self.accounts.first())
    }
}

/// One account of a [`UserInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccount {
    /// Account GUID.
    pub account_id: String,
    /// The user's default account (a JSON boolean; the string `"true"` is accepted too).
    #[serde(default, deserialize_with = "bool_or_string")]
    pub is_default: bool,
    /// Account name.
    #[serde(default)]
    pub account_name: String,
    /// Where the account's REST API lives, e.g. `https://demo.docusign.net`. Untrusted input:
    /// the client checks it against the allowlist before every call.
    #[serde(default)]
    pub base_uri: String,
    /// The organization, only for accounts that belong to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgRef>,
}

/// The organization of a [`UserAccount`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    /// Organization GUID.
    pub organization_id: String,
}

fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}

/// The token endpoint's success body.
#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    token_type: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<Value>,
    scope: Option<String>,
    id_token: Option<String>,
}

fn now_epoch() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Is `s` a PKCE S256 challenge (43 base64url characters)?
fn is_s256_challenge(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl DocuSignClient {
    /// A PKCE S256 pair from a CSPRNG (verifier of 43 characters, O1); see
    /// [`crate::providers::new_pkce`].
    pub fn new_pkce() -> Pkce {
        crate::providers::new_pkce()
    }

    /// A fresh `state` value: 32 CSPRNG bytes, base64url (256 bits, O2); see
    /// [`crate::providers::new_state`].
    pub fn new_state() -> String {
        crate::providers::new_state()
    }

    /// The authorization URL: `response_type=code`, `client_id`, `state`, `code_challenge`
    /// with `code_challenge_method=S256`, `redirect_uri` (exactly the configured one), `scope`
    /// (space-joined), then `admin_consent_scope` and `prompt=login` when asked. It carries no
    /// secret: only the challenge and the state.
    ///
    /// Fails with `InvalidRequest` (nothing built) when the scopes or the state are empty or the
    /// challenge is not a 43-character base64url S256 challenge.
    pub fn authorize_url(&self, req: &AuthorizeRequest) -> Result<Url, ProviderError> {
        let invalid = |detail: &str| ProviderError::InvalidRequest { detail: detail.to_owned() };
        if req.scopes.iter().all(|s| s.trim().is_empty()) {
            return Err(invalid("scopes are empty"));
        }
        if req.state.trim().is_empty() {
            return Err(invalid("state is empty"));
        }
        if !is_s256_challenge(&req.code_challenge) {
            return Err(invalid("code_challenge is not a PKCE S256 challenge"));
        }
        // oauth2 builds a challenge only from a verifier; the verifier stays with the caller, so
        // the S256 challenge is rebuilt from its serialized form (method fixed to S256).
        let challenge: PkceCodeChallenge =
            serde_json::from_value(json!({"code_challenge": req.code_challenge, "code_challenge_method": "S256"}))
                .map_err(|_| invalid("code_challenge"))?;
        let client = BasicClient::new(ClientId::new(self.inner.settings.integration_key.clone()))
            .set_auth_uri(AuthUrl::from_url(self.inner.auth_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(self.inner.settings.redirect_uri.clone()));
        let state = req.state.clone();
        let mut builder = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(req.scopes.iter().filter(|s| !s.trim().is_empty()).map(|s| Scope::new(s.trim().to_owned())))
            .set_pkce_challenge(challenge);
        if let Some(admin) = &req.admin_consent_scopes {
            let joined = admin.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            builder = builder.add_extra_param("admin_consent_scope", joined);
        }
        if req.prompt_login {
            builder = builder.add_extra_param("prompt", "login");
        }
        Ok(builder.url().0)
    }

    /// Authorization code grant (reference 2.1): Basic auth, `grant_type=authorization_code`,
    /// `code`, `redirect_uri` (the configured one, O3) and `code_verifier`. Sent only to the
    /// configured account server (O6).
    pub async fn exchange_code(&self, code: &str, verifier: &SecretString) -> Result<TokenSet, ProviderError> {
        if code.trim().is_empty() {
            return Err(ProviderError::InvalidRequest { detail: "the authorization code is empty".into() });
        }
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.inner.settings.redirect_uri.as_str()),
            ("code_verifier", verifier.expose_secret()),
        ];
        self.token_request(&form, true).await
    }

    /// Refresh token grant (reference 2.3): Basic auth, `grant_type=refresh_token`. DocuSign
    /// answers with a new refresh token; the presented one stops working.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ProviderError> {
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(ProviderError::InvalidRequest { detail: "the refresh token is empty".into() });
        }
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret())];
        self.token_request(&form, true).await
    }

    /// The JWT bearer assertion for `user_id` (reference 2.4): RS256, `iss` = integration key,
    /// `sub` = user GUID, `aud` = [`ProviderSettings::jwt_audience`](super::ProviderSettings::jwt_audience),
    /// `iat` = `now`, `exp` = `now + 3600`, `scope` space-joined (left out when empty).
    pub fn jwt_assertion(&self, user_id: &str, scopes: &[&str], now: i64) -> Result<SecretString, ProviderError> {
        if user_id.trim().is_empty() {
            return Err(ProviderError::InvalidRequest { detail: "the user id is empty".into() });
        }
        let mut claims = json!({
            "iss": self.inner.settings.integration_key,
            "sub": user_id.trim(),
            "aud": self.inner.audience,
            "iat": now,
            "exp": now + ASSERTION_TTL_SECS,
        });
        let scope = scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        if !scope.is_empty() {
            claims["scope"] = json!(scope);
        }
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &claims, &self.inner.signing_key)
            .map(SecretString::from)
            .map_err(|_| ProviderError::InvalidSettings { detail: "the JWT assertion could not be signed".into() })
    }

    /// JWT bearer grant: an assertion for `user_id` signed now, exchanged for an access token
    /// (1 hour, no refresh token). No client secret is sent.
    pub async fn jwt_grant(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError> {
        let assertion = self.jwt_assertion(user_id, scopes, now_epoch())?;
        let form = [("grant_type", JWT_BEARER_GRANT), ("assertion", assertion.expose_secret())];
        self.token_request(&form, false).await
    }

    /// `GET /oauth/userinfo` with the bearer token. A 401 is `InvalidToken`.
    pub async fn userinfo(&self, access_token: &SecretString) -> Result<UserInfo, ProviderError> {
        let url = self.inner.userinfo_url.clone();
        let what = describe(&reqwest::Method::GET, &url);
        let req = self.inner.http.get(url).bearer_auth(access_token.expose_secret()).header(ACCEPT, "application/json");
        let answer = execute(&self.inner.http, req, Surface::UserInfo, self.inner.settings.timeout).await?;
        let info: UserInfo = parse(&answer.body, &what)?;
        if info.sub.trim().is_empty() {
            return Err(ProviderError::Malformed { detail: format!("{what}: empty sub") });
        }
        Ok(info)
    }

    /// POSTs a form to the configured token endpoint (and nowhere else) and reads a token answer.
    async fn token_request(&self, form: &[(&str, &str)], basic_auth: bool) -> Result<TokenSet, ProviderError> {
        let url = self.inner.token_url.clone();
        let what = describe(&reqwest::Method::POST, &url);
        let mut req = self.inner.http.post(url).header(ACCEPT, "application/json").form(form);
        if basic_auth {
            let s = &self.inner.settings;
            req = req.basic_auth(&s.integration_key, Some(s.client_secret.expose_secret()));
        }
        let answer = execute(&self.inner.http, req, Surface::Token, self.inner.settings.timeout).await?;
        let raw: RawToken = parse(&answer.body, &what)?;
        let malformed = |detail: &str| ProviderError::Malformed { detail: format!("{what}: {detail}") };
        let access_token = raw.access_token.filter(|t| !t.is_empty()).ok_or_else(|| malformed("no access_token"))?;
        if let Some(t) = &raw.token_type
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(malformed("token_type is not Bearer"));
        }
        let expires_in = match raw.expires_in {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| malformed("expires_in is not a positive integer"))?,
            Some(Value::String(s)) => s.trim().parse().map_err(|_| malformed("expires_in is not a number"))?,
            Some(_) => return Err(malformed("expires_in is not a number")),
        };
        Ok(TokenSet {
            access_token: SecretString::from(access_token),
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(SecretString::from),
            expires_in,
            scope: raw.scope.filter(|s| !s.trim().is_empty()),
            id_token: raw.id_token.filter(|t| !t.is_empty()).map(SecretString::from),
        })
    }
}
