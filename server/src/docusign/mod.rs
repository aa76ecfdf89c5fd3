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
//! - eSignature REST v2.1 ([`esign`]): account, settings, Connect;
//! - Admin API ([`admin`]): organizations, reserved domains, profile by e-mail.
//!
//! Every failure is a [`ProviderError`], classified from the HTTP status and DocuSign's error
//! bodies ([`error`]); every API success is an [`Api`] carrying the rate-limit headers.
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
pub mod error;
pub mod esign;
pub mod oauth;
pub mod settings;
pub mod transport;

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use url::Url;

pub use admin::{Organization, OrganizationAccount, ProfileMembership, ReservedDomain, UserProfile};
pub use error::ProviderError;
pub use oauth::{AuthorizeRequest, OrgRef, Pkce, TokenSet, UserAccount, UserInfo};
pub use settings::ProviderSettings;
pub use transport::{Api, RateLimitInfo};

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
}

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
            }),
        })
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &ProviderSettings {
        &self.inner.settings
    }
}
