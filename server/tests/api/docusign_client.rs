//! The portal's DocuSign client (`server::providers::docusign`) against the sandbox over real HTTP: the
//! authorization URL, the three grants, userinfo, eSignature, the Admin API, the error
//! classification, the SSRF guard, and that no secret leaks into Debug, Display or logs.
//!
//! The sandbox is only the thing on the other end of the wire; the client under test is
//! configured from the sandbox's URLs like it would be from real DocuSign's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};
use server::providers::docusign::{AuthorizeRequest, DocuSignClient, ProviderError, ProviderSettings, TokenSet};
use server::sandbox::{Fixture, Sandbox, SandboxConfig, default_fixture};
use sha2::{Digest as _, Sha256};

use crate::fixture::{ADA, BOB, NORA, GINA, MIA, ACME_SALES, GLOBEX, ACME_ORG, REDIRECT, user_id};
use url::Url;

const ADMIN_SCOPES: &str = "signature impersonation organization_read domain_read user_read";


fn fixture_private_key() -> String {
    default_fixture().integration.test_private_key.clone().unwrap().trim().to_owned()
}

/// Settings for real DocuSign demo, with the fixture's test key (offline tests).
fn demo_settings() -> ProviderSettings {
    ProviderSettings::new(
        Url::parse("https://account-d.docusign.com").unwrap(),
        Url::parse("https://api-d.docusign.net/management").unwrap(),
        "ce64bc43-35e1-403c-b55a-682e3488ba80",
        SecretString::from("the-client-secret-value"),
        SecretString::from(fixture_private_key()),
        Url::parse("https://portal.example.com/oauth/callback/demo").unwrap(),
    )
}

struct Env {
    sb: Sandbox,
    ds: DocuSignClient,
    /// A plain client playing the browser (no redirects).
    browser: reqwest::Client,
}

fn settings_for(sb: &Sandbox, timeout: Duration) -> ProviderSettings {
    let mut s = ProviderSettings::new(
        Url::parse(&sb.account_server_url()).unwrap(),
        Url::parse(&sb.admin_api_url()).unwrap(),
        sb.integration_key(),
        SecretString::from(sb.client_secret()),
        SecretString::from(sb.test_private_key_pem().unwrap()),
        Url::parse(REDIRECT).unwrap(),
    );
    s.allowed_base_uri_hosts.push("127.0.0.1".into());
    s.timeout = timeout;
    s
}

async fn start_with(config: SandboxConfig, timeout: Duration) -> Env {
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let ds = DocuSignClient::new(settings_for(&sb, timeout)).expect("valid settings");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Env { sb, ds, browser }
}

async fn start() -> Env {
    start_with(SandboxConfig::for_tests(), Duration::from_secs(5)).await
}

fn request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("hidden request_id") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

impl Env {
    fn control_url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.control_url().unwrap())
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self.browser.post(self.control_url(path)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "control {path}");
        r.json().await.unwrap()
    }

    async fn counts(&self) -> Value {
        self.browser.get(self.control_url("/requests")).send().await.unwrap().json().await.unwrap()
    }

    fn base(&self, name: &str) -> String {
        self.sb.base_uris()[name].clone()
    }

    /// Opens `authorize_url` like a browser, signs in as `email`, allows consent when asked,
    /// and returns the query of the redirect back to the portal.
    async fn browse(&self, authorize_url: &Url, email: &str) -> HashMap<String, String> {
        let page = self.browser.get(authorize_url.as_str()).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the sign-in page");
        let rid = request_id(&page.text().await.unwrap());
        let r = self
            .browser
            .post(format!("{}/oauth/auth/signin", self.sb.account_server_url()))
            .form(&[("request_id", rid.as_str()), ("user", email), ("email", ""), ("password", "")])
            .send()
            .await
            .unwrap();
        let r = if r.status() == StatusCode::OK {
            let html = r.text().await.unwrap();
            self.browser
                .post(format!("{}/oauth/auth/consent", self.sb.account_server_url()))
                .form(&[("request_id", request_id(&html).as_str()), ("decision", "allow")])
                .send()
                .await
                .unwrap()
        } else {
            r
        };
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = r.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        Url::parse(location).unwrap().query_pairs().into_owned().collect()
    }

    /// The portal's side of a consent: PKCE + state, the authorization URL, the browser, the
    /// callback's code (state checked). Returns (code, verifier).
    async fn code_for(&self, email: &str, scopes: &[&str], admin: Option<&str>) -> (String, SecretString) {
        let pkce = DocuSignClient::new_pkce();
        let state = DocuSignClient::new_state();
        let url = self
            .ds
            .authorize_url(&AuthorizeRequest {
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                admin_consent_scopes: admin.map(|a| a.split(' ').map(str::to_owned).collect()),
                state: state.clone(),
                code_challenge: pkce.challenge.clone(),
                prompt_login: false,
            })
            .unwrap();
        let p = self.browse(&url, email).await;
        assert_eq!(p.get("state"), Some(&state));
        (p.get("code").unwrap_or_else(|| panic!("a code, got {p:?}")).clone(), pkce.verifier)
    }

    async fn tokens_for(&self, email: &str, scopes: &[&str]) -> TokenSet {
        let (code, verifier) = self.code_for(email, scopes, None).await;
        self.ds.exchange_code(&code, &verifier).await.unwrap()
    }

    async fn grant(&self, email: &str, scopes: &str) {
        let scopes: Vec<&str> = scopes.split(' ').collect();
        self.control("/consents/grant", json!({"user_id": user_id(email), "scopes": scopes})).await;
    }

    async fn fault(&self, rule: Value) {
        self.control("/faults", rule).await;
    }

    async fn clear_faults(&self) {
        self.browser.delete(self.control_url("/faults")).send().await.unwrap();
    }
}

// ------------------------------------------------------------------ authorization URL

#[test]
fn the_authorize_url_has_pkce_s256_the_exact_redirect_uri_the_state_and_the_scopes() {
    let ds = DocuSignClient::new(demo_settings()).unwrap();
    let pkce = DocuSignClient::new_pkce();
    let state = DocuSignClient::new_state();
    let url = ds
        .authorize_url(&AuthorizeRequest {
            scopes: vec!["signature".into(), "impersonation".into()],
            admin_consent_scopes: None,
            state: state.clone(),
            code_challenge: pkce.challenge.clone(),
            prompt_login: false,
        })
        .unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("account-d.docusign.com"));
    assert_eq!(url.path(), "/oauth/auth");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "ce64bc43-35e1-403c-b55a-682e3488ba80");
    assert_eq!(q["redirect_uri"], "https://portal.example.com/oauth/callback/demo");
    assert_eq!(q["state"], state);
    assert_eq!(q["scope"], "signature impersonation");
    assert_eq!(q["code_challenge_method"], "S256");
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(pkce.verifier.expose_secret().as_bytes()));
    assert_eq!(q["code_challenge"], expected);
    assert!(!q["code_challenge"].contains('='));
    assert!(!q.contains_key("admin_consent_scope"));
    assert!(!q.contains_key("prompt"));
    assert!(!url.as_str().contains(pkce.verifier.expose_secret()), "the verifier never goes in the URL");
    assert!(!url.as_str().contains("the-client-secret-value"));
}

#[test]
fn the_authorize_url_asks_for_admin_consent_scopes_and_prompt_login_when_told_to() {
    let ds = DocuSignClient::new(demo_settings()).unwrap();
    let url = ds
        .authorize_url(&AuthorizeRequest {
            scopes: vec!["openid".into()],
            admin_consent_scopes: Some(ADMIN_SCOPES.split(' ').map(str::to_owned).collect()),
            state: "s".repeat(43),
            code_challenge: DocuSignClient::new_pkce().challenge,
            prompt_login: true,
        })
        .unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid");
    assert_eq!(q["admin_consent_scope"], ADMIN_SCOPES);
    assert_eq!(q["prompt"], "login");
}

#[test]
fn the_authorize_url_refuses_a_challenge_that_is_not_s256_and_an_empty_state_or_scope() {
    let ds = DocuSignClient::new(demo_settings()).unwrap();
    let good = AuthorizeRequest {
        scopes: vec!["signature".into()],
        admin_consent_scopes: None,
        state: DocuSignClient::new_state(),
        code_challenge: DocuSignClient::new_pkce().challenge,
        prompt_login: false,
    };
    assert!(ds.authorize_url(&good).is_ok());
    for bad in [
        AuthorizeRequest { code_challenge: "plain-verifier".into(), ..good.clone() },
        AuthorizeRequest { code_challenge: format!("{}=", &good.code_challenge[..42]), ..good.clone() },
        AuthorizeRequest { state: " ".into(), ..good.clone() },
        AuthorizeRequest { scopes: vec![], ..good.clone() },
    ] {
        assert!(matches!(ds.authorize_url(&bad), Err(ProviderError::InvalidRequest { .. })), "{bad:?}");
    }
}

#[test]
fn pkce_verifiers_and_states_are_long_random_and_distinct() {
    let a = DocuSignClient::new_pkce();
    let b = DocuSignClient::new_pkce();
    assert!(a.verifier.expose_secret().len() >= 43);
    assert_ne!(a.verifier.expose_secret(), b.verifier.expose_secret());
    assert_eq!(
        a.challenge,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(a.verifier.expose_secret().as_bytes()))
    );
    let s = DocuSignClient::new_state();
    assert!(s.len() >= 43, "at least 256 bits of base64url");
    assert_ne!(s, DocuSignClient::new_state());
}

// ------------------------------------------------------------------ code grant, userinfo, refresh

#[tokio::test]
async fn a_code_from_the_consent_pages_exchanges_for_tokens_userinfo_lists_accounts_and_refresh_rotates() {
    let env = start().await;
    let tokens = env.tokens_for(BOB, &["signature", "extended"]).await;
    assert_eq!(tokens.expires_in, 28800);
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    assert!(tokens.id_token.is_none());

    let info = env.ds.userinfo(&tokens.access_token).await.unwrap();
    assert_eq!(info.sub, user_id(BOB));
    assert_eq!(info.email, BOB);
    assert_eq!(info.name, "Bob Builder");
    assert_eq!(info.given_name, "Bob");
    assert_eq!(info.family_name, "Builder");
    let acct = info.account(ACME_SALES).expect("Acme Sales");
    assert!(acct.is_default);
    assert_eq!(acct.account_name, "Acme Sales");
    assert_eq!(acct.base_uri, env.base("na1"));
    assert_eq!(acct.organization.as_ref().unwrap().organization_id, ACME_ORG);
    assert_eq!(info.default_account().unwrap().account_id, ACME_SALES);

    let mia = env.tokens_for(MIA, &["signature"]).await;
    let info = env.ds.userinfo(&mia.access_token).await.unwrap();
    assert_eq!(info.accounts.len(), 2);
    assert!(info.accounts.iter().all(|a| a.organization.is_none()));
    let as_json = serde_json::to_value(&info).unwrap();
    let back: server::providers::docusign::UserInfo = serde_json::from_value(as_json).unwrap();
    assert_eq!(back, info);

    let rotated = env.ds.refresh(&refresh).await.unwrap();
    let new_refresh = rotated.refresh_token.clone().expect("a new refresh token");
    assert_ne!(new_refresh.expose_secret(), refresh.expose_secret());
    assert_ne!(rotated.access_token.expose_secret(), tokens.access_token.expose_secret());
    assert_eq!(env.ds.userinfo(&rotated.access_token).await.unwrap().sub, user_id(BOB));
    let err = env.ds.refresh(&refresh).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidGrant { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(env.ds.refresh(&new_refresh).await.is_ok());
}

#[test]
fn userinfo_parses_a_minimal_body_and_tolerates_string_booleans() {
    let info: server::providers::docusign::UserInfo = serde_json::from_value(json!({
        "sub": "u1",
        "accounts": [{"account_id": "a1", "is_default": "true", "base_uri": "https://na3.docusign.net"}, {"account_id": "a2"}]
    }))
    .unwrap();
    assert!(info.accounts[0].is_default);
    assert!(!info.accounts[1].is_default);
    assert_eq!(info.email, "");
    assert!(info.created.is_none());
}

#[tokio::test]
async fn exchanging_a_code_twice_is_code_expired_or_used() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, &["signature"], None).await;
    env.ds.exchange_code(&code, &verifier).await.unwrap();
    let err = env.ds.exchange_code(&code, &verifier).await.unwrap_err();
    assert_eq!(err, ProviderError::CodeExpiredOrUsed);
    assert_eq!(env.counts().await["POST /oauth/token authorization_code"], 2);
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_an_invalid_grant() {
    let env = start().await;
    let (code, _) = env.code_for(GINA, &["signature"], None).await;
    let other = DocuSignClient::new_pkce().verifier;
    let err = env.ds.exchange_code(&code, &other).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidGrant { .. }), "{err:?}");
}

#[tokio::test]
async fn a_code_exchanged_after_130_seconds_is_code_expired_or_used() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, &["signature"], None).await;
    env.control("/clock/advance", json!({"seconds": 130})).await;
    assert_eq!(env.ds.exchange_code(&code, &verifier).await.unwrap_err(), ProviderError::CodeExpiredOrUsed);
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_like_an_expired_code() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, &["signature"], None).await;
    let mut s = settings_for(&env.sb, Duration::from_secs(5));
    s.client_secret = secret("not-the-secret");
    let wrong = DocuSignClient::new(s).unwrap();
    assert_eq!(wrong.exchange_code(&code, &verifier).await.unwrap_err(), ProviderError::CodeExpiredOrUsed);
}

// ------------------------------------------------------------------ JWT grant

#[tokio::test]
async fn the_jwt_grant_needs_consent_then_returns_an_hour_long_token_without_refresh() {
    let env = start().await;
    let bob = user_id(BOB);
    let err = env.ds.jwt_grant(&bob, &["signature", "impersonation"]).await.unwrap_err();
    assert_eq!(err, ProviderError::ConsentRequired);
    assert!(!err.is_transient());

    env.code_for(BOB, &["signature", "impersonation"], None).await;
    let t = env.ds.jwt_grant(&bob, &["signature", "impersonation"]).await.unwrap();
    assert_eq!(t.expires_in, 3600);
    assert!(t.refresh_token.is_none());
    assert_eq!(env.ds.userinfo(&t.access_token).await.unwrap().sub, bob);
}

#[tokio::test]
async fn the_jwt_grant_for_an_unknown_user_is_user_not_found() {
    let env = start().await;
    let err = env.ds.jwt_grant("00000000-0000-0000-0000-000000000000", &["signature", "impersonation"]).await.unwrap_err();
    assert_eq!(err, ProviderError::UserNotFound);
    let err = env.ds.jwt_grant(BOB, &["signature", "impersonation"]).await.unwrap_err();
    assert_eq!(err, ProviderError::UserNotFound, "an e-mail is not a user id");
}

#[tokio::test]
async fn the_jwt_grant_signed_with_another_key_is_key_mismatch() {
    let env = start().await;
    env.grant(BOB, "signature impersonation").await;
    let other = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let pem = other.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let mut s = settings_for(&env.sb, Duration::from_secs(5));
    s.private_key_pem = SecretString::from(pem);
    let wrong = DocuSignClient::new(s).unwrap();
    assert_eq!(wrong.jwt_grant(&user_id(BOB), &["signature", "impersonation"]).await.unwrap_err(), ProviderError::KeyMismatch);
    assert!(env.ds.jwt_grant(&user_id(BOB), &["signature", "impersonation"]).await.is_ok());
}

#[tokio::test]
async fn the_jwt_grant_with_an_unknown_integration_key_is_issuer_not_found() {
    let env = start().await;
    let mut s = settings_for(&env.sb, Duration::from_secs(5));
    s.integration_key = "11111111-2222-3333-4444-555555555555".into();
    let wrong = DocuSignClient::new(s).unwrap();
    assert_eq!(wrong.jwt_grant(&user_id(BOB), &["signature"]).await.unwrap_err(), ProviderError::IssuerNotFound);
}

#[test]
fn a_jwt_assertion_is_rs256_with_the_documented_claims_and_an_hour_of_life() {
    let ds = DocuSignClient::new(demo_settings()).unwrap();
    let a = ds.jwt_assertion("2e3a4553-fd62-428e-9eec-8aed665f9eb8", &["signature", "impersonation"], 1_700_000_000).unwrap();
    let header = jsonwebtoken::decode_header(a.expose_secret()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let public = default_fixture().integration.public_keys[0].clone();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public.trim().as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_exp = false;
    v.set_audience(&["account-d.docusign.com"]);
    let claims = jsonwebtoken::decode::<Value>(a.expose_secret(), &key, &v).unwrap().claims;
    assert_eq!(claims["iss"], "ce64bc43-35e1-403c-b55a-682e3488ba80");
    assert_eq!(claims["sub"], "2e3a4553-fd62-428e-9eec-8aed665f9eb8");
    assert_eq!(claims["aud"], "account-d.docusign.com");
    assert_eq!(claims["iat"], 1_700_000_000);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(claims["scope"], "signature impersonation");
    assert!(matches!(ds.jwt_assertion(" ", &["signature"], 0), Err(ProviderError::InvalidRequest { .. })));
}

// ------------------------------------------------------------------ eSignature

#[tokio::test]
async fn esignature_calls_work_on_the_userinfo_base_uri_and_report_the_rate_limits() {
    let env = start().await;
    let t = env.tokens_for(BOB, &["signature"]).await;
    let info = env.ds.userinfo(&t.access_token).await.unwrap();
    let base = info.account(ACME_SALES).unwrap().base_uri.clone();
    let token = &t.access_token;

    let acct = env.ds.get_account(&base, ACME_SALES, token, false).await.unwrap();
    assert_eq!(acct.value["accountName"], "Acme Sales");
    assert!(acct.value.get("accountSettings").is_none());
    assert_eq!(acct.limits.limit, Some(3000));
    assert_eq!(acct.limits.remaining, Some(2999));
    assert_eq!(acct.limits.burst_limit, Some(200));
    assert_eq!(acct.limits.burst_remaining, Some(199));
    let reset = acct.limits.reset_epoch.unwrap();
    assert_eq!(reset % 3600, 0);
    let with = env.ds.get_account(&base, ACME_SALES, token, true).await.unwrap();
    assert!(with.value["accountSettings"].is_object());
    assert_eq!(with.limits.remaining, Some(2998));

    let settings = env.ds.get_settings(&base, ACME_SALES, token).await.unwrap();
    assert_eq!(settings.value["inSessionEnabled"], "true");
    let mut partial = Map::new();
    partial.insert("inSessionEnabled".into(), json!("false"));
    let put = env.ds.put_settings(&base, ACME_SALES, token, &partial).await.unwrap();
    assert_eq!(put.limits.remaining, Some(2996));
    assert_eq!(env.ds.get_settings(&base, ACME_SALES, token).await.unwrap().value["inSessionEnabled"], "false");

    let before = env.ds.list_connect(&base, ACME_SALES, token).await.unwrap().value.len();
    let created = env
        .ds
        .create_connect(
            &base,
            ACME_SALES,
            token,
            &json!({"name": "portal", "urlToPublishTo": "https://listener.example.com/ds", "allUsers": "true",
                    "configurationType": "custom", "includeHMAC": "true", "events": ["envelope-completed"]}),
        )
        .await
        .unwrap();
    let id = created.value["connectId"].as_str().unwrap().to_owned();
    assert!(created.limits.remaining.is_some());
    let list = env.ds.list_connect(&base, ACME_SALES, token).await.unwrap();
    assert_eq!(list.value.len(), before + 1);
    let updated = env
        .ds
        .update_connect(&base, ACME_SALES, token, &json!({"connectId": id, "allowEnvelopePublish": "true"}))
        .await
        .unwrap();
    assert_eq!(updated.value["allowEnvelopePublish"], "true");
    assert_eq!(updated.value["name"], "portal");
    let err = env.ds.update_connect(&base, ACME_SALES, token, &json!({"name": "x"})).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { .. }));
    let err = env
        .ds
        .create_connect(&base, ACME_SALES, token, &json!({"name": "bad", "urlToPublishTo": "ftp://x"}))
        .await
        .unwrap_err();
    assert!(matches!(&err, ProviderError::Api { status: 400, code, .. } if code == "INVALID_REQUEST_PARAMETER"), "{err:?}");
}

#[tokio::test]
async fn a_user_who_is_not_a_member_of_the_account_gets_user_lacks_membership() {
    let env = start().await;
    env.grant(NORA, "signature impersonation").await;
    let t = env.ds.jwt_grant(&user_id(NORA), &["signature", "impersonation"]).await.unwrap();
    let err = env.ds.get_account(&env.base("na1"), ACME_SALES, &t.access_token, false).await.unwrap_err();
    assert_eq!(err, ProviderError::UserLacksMembership);
}

#[tokio::test]
async fn an_expired_or_garbage_token_is_invalid_token() {
    let env = start().await;
    let base = env.base("na2");
    let garbage = secret("garbage");
    assert_eq!(env.ds.get_account(&base, GLOBEX, &garbage, false).await.unwrap_err(), ProviderError::InvalidToken);
    assert_eq!(env.ds.userinfo(&garbage).await.unwrap_err(), ProviderError::InvalidToken);
    assert_eq!(env.ds.organizations(&garbage).await.unwrap_err(), ProviderError::InvalidToken);
    let t = env.tokens_for(GINA, &["signature"]).await;
    assert!(env.ds.get_account(&base, GLOBEX, &t.access_token, false).await.is_ok());
    env.control("/clock/advance", json!({"seconds": 8 * 3600 + 1})).await;
    assert_eq!(env.ds.get_account(&base, GLOBEX, &t.access_token, false).await.unwrap_err(), ProviderError::InvalidToken);
    assert_eq!(env.ds.userinfo(&t.access_token).await.unwrap_err(), ProviderError::InvalidToken);
}

#[tokio::test]
async fn a_base_uri_off_the_allowlist_is_refused_before_any_request_is_sent() {
    let env = start().await;
    let t = env.tokens_for(GINA, &["signature"]).await;
    let token = &t.access_token;
    env.browser.delete(env.control_url("/requests")).send().await.unwrap();

    // The sandbox's own base URI, with an allowlist that does not name loopback.
    let mut s = settings_for(&env.sb, Duration::from_secs(5));
    s.allowed_base_uri_hosts = vec![".docusign.net".into(), ".docusign.com".into()];
    let strict = DocuSignClient::new(s).unwrap();
    let base = env.base("na2");
    let err = strict.get_account(&base, GLOBEX, token, false).await.unwrap_err();
    assert!(matches!(&err, ProviderError::UntrustedBaseUri { base_uri } if *base_uri == base), "{err:?}");
    assert!(matches!(strict.get_settings(&base, GLOBEX, token).await, Err(ProviderError::UntrustedBaseUri { .. })));
    assert!(matches!(strict.put_settings(&base, GLOBEX, token, &Map::new()).await, Err(ProviderError::UntrustedBaseUri { .. })));
    assert!(matches!(strict.list_connect(&base, GLOBEX, token).await, Err(ProviderError::UntrustedBaseUri { .. })));
    assert!(matches!(strict.create_connect(&base, GLOBEX, token, &json!({})).await, Err(ProviderError::UntrustedBaseUri { .. })));
    assert!(matches!(
        strict.update_connect(&base, GLOBEX, token, &json!({"connectId": "1"})).await,
        Err(ProviderError::UntrustedBaseUri { .. })
    ));
    let counts = env.counts().await;
    assert!(counts.as_object().unwrap().keys().all(|k| !k.contains("/restapi/")), "nothing reached eSignature: {counts}");

    for evil in [
        "https://evil.example",
        "https://docusign.net.evil.example",
        "https://evildocusign.net",
        "https://docusign.net",
        "http://demo.docusign.net",
        "https://user:pw@demo.docusign.net",
        "https://demo.docusign.net/restapi",
        "https://demo.docusign.net?x=1",
        "javascript:alert(1)",
        "//demo.docusign.net",
        "",
        "https://demo.docusign.net\n",
    ] {
        let err = env.ds.check_base_uri(evil).map(|u| u.to_string());
        assert!(matches!(err, Err(ProviderError::UntrustedBaseUri { .. })), "{evil:?} gave {err:?}");
    }
    let ok = env.ds.check_base_uri("https://na3.docusign.net").unwrap();
    assert_eq!(ok.as_str(), "https://na3.docusign.net/restapi/v2.1/");
    assert!(env.ds.check_base_uri("https://demo.docusign.net/").is_ok());
}

// ------------------------------------------------------------------ faults

#[tokio::test]
async fn sandbox_5xx_and_timeouts_are_unavailable_and_transient() {
    let env = start_with(SandboxConfig::for_tests(), Duration::from_millis(500)).await;
    let t = env.tokens_for(GINA, &["signature"]).await;
    let base = env.base("na2");

    env.fault(json!({"scope": "esign", "fail_5xx_ratio": 1.0})).await;
    let err = env.ds.get_account(&base, GLOBEX, &t.access_token, false).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Unavailable { detail } if detail.contains("503")), "{err:?}");
    assert!(err.is_transient());
    env.clear_faults().await;

    env.fault(json!({"scope": "oauth", "endpoint": "POST /oauth/token", "fail_5xx_ratio": 1.0})).await;
    let err = env.ds.refresh(t.refresh_token.as_ref().unwrap()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
    env.clear_faults().await;

    for scope in ["esign", "oauth", "admin"] {
        env.fault(json!({"scope": scope, "timeout": true})).await;
        let started = Instant::now();
        let err = match scope {
            "esign" => env.ds.get_settings(&base, GLOBEX, &t.access_token).await.map(|_| ()).unwrap_err(),
            "oauth" => env.ds.userinfo(&t.access_token).await.map(|_| ()).unwrap_err(),
            _ => env.ds.organizations(&t.access_token).await.map(|_| ()).unwrap_err(),
        };
        assert!(matches!(&err, ProviderError::Unavailable { detail } if detail.contains("timed out")), "{scope}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{scope}: within the budget");
        env.clear_faults().await;
    }

    let mut s = settings_for(&env.sb, Duration::from_millis(500));
    s.account_server = Url::parse("http://127.0.0.1:9").unwrap();
    let refused = DocuSignClient::new(s).unwrap();
    let err = refused.userinfo(&t.access_token).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn malformed_json_on_a_2xx_is_malformed() {
    let env = start().await;
    let t = env.tokens_for(GINA, &["signature"]).await;
    env.fault(json!({"scope": "all", "malformed_json": true})).await;
    let err = env.ds.get_account(&env.base("na2"), GLOBEX, &t.access_token, false).await.unwrap_err();
    assert!(matches!(err, ProviderError::Malformed { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(matches!(env.ds.userinfo(&t.access_token).await, Err(ProviderError::Malformed { .. })));
    assert!(matches!(env.ds.refresh(t.refresh_token.as_ref().unwrap()).await, Err(ProviderError::Malformed { .. })));
    assert!(matches!(env.ds.organizations(&t.access_token).await, Err(ProviderError::Malformed { .. })));
}

#[tokio::test]
async fn an_exhausted_rate_limit_is_rate_limited_with_retry_after_and_reset() {
    let env = start().await;
    let t = env.tokens_for(GINA, &["signature"]).await;
    let base = env.base("na2");
    env.control("/rate_limit/exhaust", json!({"account_id": GLOBEX})).await;
    let err = env.ds.get_account(&base, GLOBEX, &t.access_token, false).await.unwrap_err();
    let ProviderError::RateLimited { retry_after_secs, reset_epoch } = err.clone() else { panic!("{err:?}") };
    assert!(retry_after_secs.is_some_and(|r| (1..=3600).contains(&r)));
    assert_eq!(reset_epoch.unwrap() % 3600, 0);
    assert!(err.is_transient());

    // DocuSign's historical answer: 400 with HOURLY_APIINVOCATION_LIMIT_EXCEEDED.
    let mut fixture: Fixture = default_fixture();
    fixture.limits.exceeded_status = 400;
    let env = start_with(SandboxConfig { fixture, ..SandboxConfig::for_tests() }, Duration::from_secs(5)).await;
    let t = env.tokens_for(GINA, &["signature"]).await;
    env.control("/rate_limit/exhaust", json!({"account_id": GLOBEX})).await;
    let err = env.ds.list_connect(&env.base("na2"), GLOBEX, &t.access_token).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { reset_epoch: Some(_), .. }), "{err:?}");
}

// ------------------------------------------------------------------ Admin API

#[tokio::test]
async fn after_org_admin_consent_a_jwt_token_with_admin_scopes_reads_organizations_domains_and_profiles() {
    let env = start().await;
    let (code, verifier) = env.code_for(ADA, &["openid"], Some(ADMIN_SCOPES)).await;
    let consent = env.ds.exchange_code(&code, &verifier).await.unwrap();
    assert!(consent.id_token.is_some(), "openid adds an id_token");
    // The admin's own code-grant token has only `openid`: the Admin API refuses it.
    let err = env.ds.organizations(&consent.access_token).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Api { status: 403, code, .. } if code == "insufficient_scope"), "{err:?}");

    let scopes: Vec<&str> = ADMIN_SCOPES.split(' ').collect();
    let admin = env.ds.jwt_grant(&user_id(ADA), &scopes).await.unwrap().access_token;
    let orgs = env.ds.organizations(&admin).await.unwrap();
    assert_eq!(orgs.value.len(), 1);
    assert_eq!(orgs.value[0].id, ACME_ORG);
    assert_eq!(orgs.value[0].name, "Acme Corp");
    assert!(orgs.value[0].accounts.iter().any(|a| a.id == ACME_SALES));
    assert!(orgs.limits.remaining.is_some());

    let domains = env.ds.reserved_domains(&admin, ACME_ORG).await.unwrap().value;
    let acme = domains.iter().find(|d| d.host_name == "acme.example").unwrap();
    assert!(acme.is_active());
    assert!(acme.txt_token.as_deref().unwrap().starts_with("docusign="));
    assert!(domains.iter().any(|d| d.status == "deactivated"));

    let bob = env.ds.user_profile_by_email(&admin, ACME_ORG, "Bob.Builder@acme.example").await.unwrap().value;
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].id, user_id(BOB));
    assert_eq!(bob[0].email.as_deref(), Some(BOB));
    assert_eq!(bob[0].first_name.as_deref(), Some("Bob"));
    assert_eq!(bob[0].memberships[0].account_id, ACME_SALES);
    assert!(env.ds.user_profile_by_email(&admin, ACME_ORG, GINA).await.unwrap().value.is_empty());
    assert!(env.ds.user_profile_by_email(&admin, ACME_ORG, "nobody@acme.example").await.unwrap().value.is_empty());
    assert!(matches!(env.ds.user_profile_by_email(&admin, ACME_ORG, "").await, Err(ProviderError::InvalidRequest { .. })));

    // A covered user who is no org admin gets the scopes but not the admin-only data.
    let bob_token = env.ds.jwt_grant(&user_id(BOB), &scopes).await.unwrap().access_token;
    assert!(env.ds.organizations(&bob_token).await.unwrap().value.is_empty());
    assert_eq!(env.ds.organizations_by_membership(&bob_token).await.unwrap().value[0].id, ACME_ORG);
    let err = env.ds.reserved_domains(&bob_token, ACME_ORG).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Api { status: 403, .. }), "{err:?}");
}

#[tokio::test]
async fn a_users_own_code_grant_token_with_the_admin_read_scopes_reads_the_organizations_they_administer_and_their_domains() {
    let env = start().await;
    let read = server::providers::docusign::admin::DIRECTORY_READ_SCOPES;
    let scopes: Vec<&str> = std::iter::once("signature").chain(read).collect();
    // Uma's own read consent (no organization consent anywhere): the pending domain and its token.
    let uma = env.tokens_for(crate::fixture::UMA, &scopes).await.access_token;
    let orgs = env.ds.organizations(&uma).await.unwrap().value;
    assert_eq!(orgs.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [crate::fixture::UMBRELLA_ORG]);
    let domains = env.ds.reserved_domains(&uma, crate::fixture::UMBRELLA_ORG).await.unwrap().value;
    assert_eq!(domains.len(), 1);
    assert_eq!((domains[0].status.as_str(), domains[0].host_name.as_str()), ("pending", "umbrella.example"));
    assert_eq!(domains[0].txt_token.as_deref(), Some("docusign=9f8e7d6c5b4a39281706f5e4d3c2b1a0"));
    // A member who administers no organization: the list of organizations is empty.
    let nora = env.tokens_for(crate::fixture::NORA, &scopes).await.access_token;
    assert!(env.ds.organizations(&nora).await.unwrap().value.is_empty());
    // The same read without `domain_read` is refused on the domains.
    let partial = env.tokens_for(ADA, &["signature", "organization_read"]).await.access_token;
    let err = env.ds.reserved_domains(&partial, ACME_ORG).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Api { status: 403, code, .. } if code == "insufficient_scope"), "{err:?}");
}

// ------------------------------------------------------------------ settings and secrets

#[test]
fn settings_validation_rejects_short_keys_garbage_pem_and_plain_http_off_loopback() {
    let good = demo_settings();
    assert_eq!(good.validate(), Ok(()));
    assert_eq!(good.jwt_audience(), "account-d.docusign.com");

    let small = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let small_pem = small.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let e = ProviderSettings { private_key_pem: SecretString::from(small_pem), ..good.clone() }.validate().unwrap_err();
    assert!(e.contains("1024"), "{e}");

    let e = ProviderSettings { private_key_pem: secret("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----"), ..good.clone() }
        .validate()
        .unwrap_err();
    assert!(e.contains("not an RSA private key"), "{e}");

    for (field, url) in [
        ("account_server", "http://account-d.docusign.com"),
        ("admin_api", "http://api-d.docusign.net/management"),
        ("redirect_uri", "http://portal.example.com/cb"),
    ] {
        let mut s = good.clone();
        let u = Url::parse(url).unwrap();
        match field {
            "account_server" => s.account_server = u,
            "admin_api" => s.admin_api = u,
            _ => s.redirect_uri = u,
        }
        let e = s.validate().unwrap_err();
        assert!(e.starts_with(field) && e.contains("https"), "{e}");
        assert!(matches!(DocuSignClient::new(s), Err(ProviderError::InvalidSettings { .. })));
    }
    for loopback in ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"] {
        let s = ProviderSettings { account_server: Url::parse(loopback).unwrap(), ..good.clone() };
        assert_eq!(s.validate(), Ok(()), "{loopback}");
    }
    let sandboxish = ProviderSettings { account_server: Url::parse("http://127.0.0.1:4010").unwrap(), ..good.clone() };
    assert_eq!(sandboxish.jwt_audience(), "127.0.0.1:4010");
    let with_path = ProviderSettings { account_server: Url::parse("https://account-d.docusign.com/oauth").unwrap(), ..good.clone() };
    assert!(with_path.validate().is_err());
    assert!(ProviderSettings { client_secret: secret(""), ..good.clone() }.validate().is_err());
    assert!(ProviderSettings { allowed_base_uri_hosts: vec![".".into()], ..good.clone() }.validate().is_err());
}

#[test]
fn debug_and_display_never_show_a_secret() {
    let settings = demo_settings();
    let pem = fixture_private_key();
    let dbg = format!("{settings:?}");
    assert!(!dbg.contains("the-client-secret-value"), "{dbg}");
    assert!(!dbg.contains("PRIVATE KEY") && !dbg.contains(&pem[40..80]), "{dbg}");
    let client = DocuSignClient::new(settings).unwrap();
    let dbg = format!("{client:?}");
    assert!(!dbg.contains("the-client-secret-value") && !dbg.contains("PRIVATE KEY"), "{dbg}");

    let tokens = TokenSet {
        access_token: secret("ACCESS-TOKEN-VALUE"),
        refresh_token: Some(secret("REFRESH-TOKEN-VALUE")),
        expires_in: 28800,
        scope: Some("signature".into()),
        id_token: Some(secret("ID-TOKEN-VALUE")),
    };
    let dbg = format!("{tokens:?}");
    assert!(!dbg.contains("TOKEN-VALUE"), "{dbg}");
    assert!(dbg.contains("28800"));

    let pkce = DocuSignClient::new_pkce();
    assert!(!format!("{pkce:?}").contains(pkce.verifier.expose_secret()));
    let assertion = client.jwt_assertion("u", &["signature"], 0).unwrap();
    assert!(!format!("{assertion:?}").contains(assertion.expose_secret()));

    let every = [
        ProviderError::ConsentRequired,
        ProviderError::UserNotFound,
        ProviderError::IssuerNotFound,
        ProviderError::KeyMismatch,
        ProviderError::ExpiredGrant,
        ProviderError::CodeExpiredOrUsed,
        ProviderError::InvalidGrant { description: Some("invalid_code_verifier".into()) },
        ProviderError::InvalidGrant { description: None },
        ProviderError::OAuth { error: "invalid_request".into(), description: None },
        ProviderError::InvalidToken,
        ProviderError::UserLacksMembership,
        ProviderError::Api { status: 400, code: "X".into(), message: "m".into() },
        ProviderError::RateLimited { retry_after_secs: Some(5), reset_epoch: Some(1) },
        ProviderError::RateLimited { retry_after_secs: None, reset_epoch: None },
        ProviderError::Unavailable { detail: "HTTP 503 from GET host/path".into() },
        ProviderError::Malformed { detail: "d".into() },
        ProviderError::UntrustedBaseUri { base_uri: "https://evil.example".into() },
        ProviderError::InvalidSettings { detail: "d".into() },
        ProviderError::InvalidRequest { detail: "d".into() },
    ];
    for e in &every {
        let shown = format!("{e} {e:?}");
        for s in ["the-client-secret-value", "PRIVATE KEY", pkce.verifier.expose_secret(), assertion.expose_secret()] {
            assert!(!shown.contains(s), "{shown}");
        }
        assert!(!e.to_string().is_empty() && e.to_string().len() < 200, "{e}");
    }
}

#[tokio::test]
async fn debug_logs_of_a_whole_flow_name_hosts_and_paths_but_no_secret() {
    let captured = crate::support::capture_logs();
    let env = start().await;
    let (code, verifier) = env.code_for(BOB, &["signature", "impersonation"], None).await;
    let tokens = env.ds.exchange_code(&code, &verifier).await.unwrap();
    let refreshed = env.ds.refresh(tokens.refresh_token.as_ref().unwrap()).await.unwrap();
    let jwt = env.ds.jwt_grant(&user_id(BOB), &["signature", "impersonation"]).await.unwrap();
    let info = env.ds.userinfo(&jwt.access_token).await.unwrap();
    let base = &info.account(ACME_SALES).unwrap().base_uri;
    env.ds.get_settings(base, ACME_SALES, &refreshed.access_token).await.unwrap();
    let _ = env.ds.exchange_code(&code, &verifier).await.unwrap_err();

    let logs = captured.text();
    assert!(logs.contains("docusign request"), "{logs}");
    assert!(logs.contains("POST 127.0.0.1:"), "{logs}");
    assert!(logs.contains("/oauth/token"), "{logs}");
    assert!(logs.contains(&format!("/restapi/v2.1/accounts/{ACME_SALES}/settings")), "{logs}");
    let secrets = [
        code.clone(),
        verifier.expose_secret().to_owned(),
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.as_ref().unwrap().expose_secret().to_owned(),
        refreshed.access_token.expose_secret().to_owned(),
        jwt.access_token.expose_secret().to_owned(),
        env.sb.client_secret().to_owned(),
        "PRIVATE KEY".to_owned(),
        "eyJ".to_owned(), // any JWT (assertion, id_token)
    ];
    for s in secrets {
        assert!(!logs.contains(&s), "a secret reached the logs: {s}");
    }
}
