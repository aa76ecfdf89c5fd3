//! The portal's DocuSign provider client: the only code in the portal that speaks DocuSign.
//!
//! Everything it needs comes from [`ProviderSettings`] (account server, Admin API base,
//! integration key, secret, private key, redirect URI, base URI allowlist, timeout), so the same
//! code talks to DocuSign demo or production, the built-in sandbox (`server::sandbox`, reached
//! only over HTTP and never imported here) or any other faithful fake. Account `base_uri`s come
//! from userinfo, never from configuration.
//!
//! What it covers:
//! - account server ([`oauth`]): PKCE S256 pair, `state`, authorization URL (individual and
//!   organization admin consent), authorization code, refresh and JWT bearer grants, userinfo;
//! - eSignature REST v2.1 ([`esign`]): account, settings, Connect, Connect log and failure log;
//! - Admin API ([`admin`]): organizations, reserved domains, profile by e-mail;
//! - the call policy ([`policy`], [`budget`]): bounded retries and per-account budgets;
//! - the provider seam (`provider.rs`): `ConsentProvider` and `OrganizationDirectory` (see
//!   [`crate::providers`]) for [`DocuSignClient`], which is how onboarding reaches it.
//!
//! Every failure is a [`ProviderError`], classified from the HTTP status and DocuSign's error
//! bodies ([`error`]); every API success is an [`Api`] carrying the rate-limit headers.
//!
//! Where the portal matches DocuSign's text. Each match is a documented value (section of
//! `shared/reference/docusign-api.md`); nothing matches a description, a message or any text only
//! the sandbox sends. Whatever is not listed falls through to a general classification that keeps
//! DocuSign's words as evidence and still names the next action.
//!
//! | what is matched | where | source |
//! |---|---|---|
//! | OAuth redirect `error`: `access_denied`, `invalid_request`, `unauthorized_client`, `unsupported_response_type`, `invalid_scope`, `server_error`, `temporarily_unavailable` | `onboarding::callback::error_redirect` | §1 "Redirect back to the app"; RFC 6749 §4.1.2.1. `error_description` and `error_uri` are shown, never parsed; any other code: "did not grant consent" with the step's retry |
//! | token `error`: `consent_required` | `error::token_error` | §2.6 |
//! | token `invalid_grant` descriptions: `user_not_found`, `invalid_subject`, `issuer_not_found`, `no_valid_keys_or_signatures`, `expired_grant`, `expired_client_token` | `error::token_error` | §2.6 (the only descriptions matched: §2.6 documents them as codes); others: `InvalidGrant` |
//! | eSignature `errorCode`: `USER_LACKS_MEMBERSHIP` | [`error`] (`classify`) | §4 |
//! | over-limit `errorCode`s (hourly, burst, envelope polling and update limits), and status 429 | [`error`] (`LIMIT_CODES`) | §4, §8 |
//! | status 401 on userinfo, eSignature and the Admin API: `InvalidToken`; 5xx: `Unavailable` | [`error`] (`classify`) | §4 ("auth failures come back as 401") |
//! | headers `X-RateLimit-Limit/-Remaining/-Reset`, `X-BurstLimit-Limit/-Remaining` | [`limits::RateLimitInfo`] | §8 |
//! | header `Retry-After`; without it, `X-RateLimit-Reset` when `X-RateLimit-Remaining` is 0 | [`error`] (`rate_limited`) | §8 (M: honoured on 429; the reset header is documented) |
//! | userinfo `is_default` (boolean), `organization` present only for organization accounts | [`oauth`] | §3 |
//! | reserved domain `status`: `active`, `pending` (others shown as they come) | [`admin::ReservedDomain::is_active`], `checks::rules::claimed_domains`, `onboarding::prerequisites::assess` | §7 |
//! | organizations answer with `mode=org_admin` (DocuSign's default): an empty list means the token's user administers no organization | `onboarding::prerequisites` | §7 |
//! | settings `…Metadata.rights`: `editable`, `read_only` (any other: not editable) | `checks::rules::settings` | §5 |
//! | Connect fields `configurationType` `custom`, `allowEnvelopePublish`, `deliveryMode` `SIM`, `includeHMAC`, `eventData` | `checks::rules::connect_configuration` | §6 |
//! | Connect header `X-DocuSign-Signature-N` | `connect_listener` | §6 |
//! | `ConnectLogs.logs` / `.failures`, each `ConnectLog`'s `connectId`, `configUrl`, `created`, `envelopeId`, `status`, `error` (read as text; `created` parsed when it is RFC 3339 or zone-less, else shown as sent) | [`esign::ConnectLogEntry`], `checks::rules::connect_delivery` | §6 related endpoints; field list and descriptions in the sandbox README's "Connect logs and failures" |
//!
//! Left to the general classification on purpose: every other `errorCode` (for instance the
//! codes DocuSign answers for missing rights, which the reference does not list) becomes
//! [`ProviderError::Api`], and the caller's text says who can act (an account or organization
//! administrator) with DocuSign's words beside it.
//!
//! Security decisions (rows of `shared/reference/security.md`):
//! - O1/O2: PKCE S256 only (verifier of 32 CSPRNG bytes), `state` of 32 CSPRNG bytes; the
//!   authorization URL carries only the challenge and the state.
//! - O3/O6: `redirect_uri` is the configured one, byte-identical in both requests; the token
//!   request goes only to the configured account server. One client per environment.
//! - O11: JWT assertions are RS256, `exp - iat = 3600`; the key is parsed once at start and
//!   never leaves the process. RSA keys must have at least 2048 bits (DocuSign generates 2048-bit
//!   keys; ASVS 11.2.3's 3072 is a documented deviation).
//! - O12/S4: no token, code, verifier, assertion, key or secret appears in a log line, a URL
//!   (other than the authorization URL's challenge and state), an error's `Display`/`Debug`, or
//!   a `Debug` of [`TokenSet`], [`Pkce`] or [`ProviderSettings`]; they live in `SecretString`s.
//!   Logs are `debug` lines with method, host and path only.
//! - O13: endpoints must be `https` except on loopback hosts ([`ProviderSettings::validate`]).
//! - O14: a `base_uri` must be a bare origin on the allowlist; otherwise
//!   [`ProviderError::UntrustedBaseUri`] and nothing is sent. Redirects are never followed;
//!   every request has a connect and a total timeout. The client does not retry: callers decide
//!   with [`ProviderError::is_transient`] and the rate-limit info.
//! - Why the token endpoint is called with reqwest rather than `oauth2`'s token requests: see
//!   the [`oauth`] module.

pub mod admin;
pub mod budget;
pub mod error;
pub mod esign;
pub mod limits;
pub mod oauth;
pub mod policy;
mod provider;
pub mod settings;
pub mod transport;

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use url::Url;

pub use admin::{Organization, OrganizationAccount, ProfileMembership, ReservedDomain, UserProfile};
pub use error::ProviderError;
pub use esign::ConnectLogEntry;
pub use oauth::{AuthorizeRequest, OrgRef, Pkce, TokenSet, UserAccount, UserInfo};
pub use settings::ProviderSettings;
pub use limits::RateLimitInfo;
pub use transport::Api;

/// A DocuSign client for one environment. Cheap to clone (an `Arc` inside); share one per
/// environment.
#[derive(Clone)]
pub struct DocuSignClient {
    inner: Arc<Inner>,
}

struct Inner {
    settings: ProviderSettings,
    http: reqwest::Client,
    auth_url: Url,
    token_url: Url,
    userinfo_url: Url,
    audience: String,
    signing_key: jsonwebtoken::EncodingKey,
    /// JWT-grant access tokens by (user, scopes), kept until [`JWT_CACHE_MARGIN`] before they
    /// expire; each entry has its own lock so concurrent callers wait for one grant.
    jwt_cache: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<Option<CachedToken>>>>>,
}

/// A cached JWT-grant answer and when to stop using it.
struct CachedToken {
    tokens: TokenSet,
    use_until: std::time::Instant,
}

/// A cached JWT access token is replaced this long before DocuSign's stated expiry.
pub const JWT_CACHE_MARGIN: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl std::fmt::Debug for DocuSignClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocuSignClient").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

fn endpoint(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    u.set_path(path);
    u.set_query(None);
    u
}

impl DocuSignClient {
    /// Validates the settings ([`ProviderSettings::validate`]), parses the private key and
    /// builds the HTTP client (no redirects, connect and total timeouts of `settings.timeout`).
    pub fn new(settings: ProviderSettings) -> Result<Self, ProviderError> {
        settings.validate().map_err(|detail| ProviderError::InvalidSettings { detail })?;
        let signing_key = jsonwebtoken::EncodingKey::from_rsa_pem(settings.private_key_pem.expose_secret().trim().as_bytes())
            .map_err(|_| ProviderError::InvalidSettings { detail: "the private key cannot sign RS256".into() })?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("consent-portal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ProviderError::InvalidSettings { detail: "the HTTP client could not be built".into() })?;
        let base = &settings.account_server;
        Ok(DocuSignClient {
            inner: Arc::new(Inner {
                auth_url: endpoint(base, "/oauth/auth"),
                token_url: endpoint(base, "/oauth/token"),
                userinfo_url: endpoint(base, "/oauth/userinfo"),
                audience: settings.jwt_audience(),
                http,
                signing_key,
                settings,
                jwt_cache: Default::default(),
            }),
        })
    }

    /// A JWT-grant access token for `user_id`, from this instance's cache while it has more than
    /// [`JWT_CACHE_MARGIN`] left (DocuSign's JWT tokens last an hour and have no refresh token),
    /// else from one new grant however many callers ask at once. For checks and fixes; proving
    /// consent still holds (verification) uses [`DocuSignClient::jwt_grant`] directly.
    pub async fn jwt_token(&self, user_id: &str, scopes: &[&str]) -> Result<TokenSet, ProviderError> {
        let key = format!("{user_id}|{}", scopes.join(" "));
        let slot = {
            let mut cache = self.inner.jwt_cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() > 10_000 {
                cache.retain(|_, slot| slot.try_lock().map(|s| s.as_ref().is_some_and(|c| c.use_until > std::time::Instant::now())).unwrap_or(true));
            }
            cache.entry(key).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let now = std::time::Instant::now();
        if let Some(cached) = slot.as_ref().filter(|c| c.use_until > now) {
            return Ok(cached.tokens.clone());
        }
        let tokens = self.jwt_grant(user_id, scopes).await?;
        let lifetime = std::time::Duration::from_secs(if tokens.expires_in == 0 { 3600 } else { tokens.expires_in });
        *slot = Some(CachedToken { tokens: tokens.clone(), use_until: now + lifetime.saturating_sub(JWT_CACHE_MARGIN) });
        Ok(tokens)
    }

    /// Forgets the cached JWT tokens of `user_id` (after DocuSign refused one: consent withdrawn).
    pub fn forget_jwt(&self, user_id: &str) {
        let prefix = format!("{user_id}|");
        self.inner.jwt_cache.lock().unwrap_or_else(|e| e.into_inner()).retain(|k, _| !k.starts_with(&prefix));
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &ProviderSettings {
        &self.inner.settings
    }
}
