//! The DocuSign sandbox, driven over HTTP with a plain client (no portal code): every endpoint's
//! happy path and documented errors, the browser forms, the control API.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use rand::RngCore as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::sandbox::{Fixture, Sandbox, SandboxConfig, default_fixture};
use sha2::{Digest as _, Sha256};

use crate::fixture::{ADA, BOB, NORA, GINA, MIA, UMA, HANK, ACME_SALES, GLOBEX, INITECH_US, INITECH_EU, HOOLI, ACME_ORG, UMBRELLA_ORG, REDIRECT, user_id};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct Env {
    sb: Sandbox,
    http: reqwest::Client,
}

async fn start_with(config: SandboxConfig) -> Env {
    let sb = Sandbox::start(config).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Env { sb, http }
}

async fn start() -> Env {
    start_with(SandboxConfig::for_tests()).await
}


fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.account_server_url())
    }

    fn base(&self, name: &str) -> String {
        self.sb.base_uris()[name].clone()
    }

    async fn authorize(&self, params: &[(&str, &str)]) -> reqwest::Response {
        self.http.get(self.url("/oauth/auth")).query(params).send().await.unwrap()
    }

    /// The standard request: code flow, the sandbox key, the registered redirect URI.
    async fn authorize_std(&self, scope: &str, challenge: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        self.authorize_std_in(None, scope, challenge, extra).await
    }

    /// [`Self::authorize_std`] from a browser that sends `cookie`.
    async fn authorize_std_in(&self, cookie: Option<&str>, scope: &str, challenge: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut params = vec![
            ("response_type", "code"),
            ("scope", scope),
            ("client_id", self.sb.integration_key()),
            ("redirect_uri", REDIRECT),
            ("state", "st-123"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let mut req = self.http.get(self.url("/oauth/auth")).query(&params);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    async fn sign_in(&self, request_id: &str, email: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/auth/signin"))
            .form(&[("request_id", request_id), ("user", email), ("email", ""), ("password", "")])
            .send()
            .await
            .unwrap()
    }

    async fn decide(&self, request_id: &str, decision: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/auth/consent"))
            .form(&[("request_id", request_id), ("decision", decision)])
            .send()
            .await
            .unwrap()
    }

    /// Auth → sign-in → (consent Allow) → the redirect's query parameters.
    async fn consent_flow(&self, email: &str, scope: &str, challenge: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let page = self.authorize_std(scope, challenge, extra).await;
        assert_eq!(page.status(), StatusCode::OK);
        let rid = request_id(&page.text().await.unwrap());
        let r = self.sign_in(&rid, email).await;
        let r = if r.status() == StatusCode::OK {
            let html = r.text().await.unwrap();
            assert!(html.contains("Allow"), "consent page expected: {html}");
            self.decide(&request_id(&html), "allow").await
        } else {
            r
        };
        redirect_params(&r)
    }

    async fn code_for(&self, email: &str, scope: &str) -> (String, String) {
        let (verifier, challenge) = pkce();
        let p = self.consent_flow(email, scope, &challenge, &[]).await;
        assert_eq!(p.get("state").map(String::as_str), Some("st-123"));
        (p["code"].clone(), verifier)
    }

    async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(self.sb.integration_key(), Some(self.sb.client_secret()))
            .form(&[("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier)])
            .send()
            .await
            .unwrap()
    }

    async fn tokens_for(&self, email: &str, scope: &str) -> Value {
        let (code, verifier) = self.code_for(email, scope).await;
        let r = self.exchange(&code, &verifier).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    fn assertion(&self, claims: Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.sb.test_private_key_pem().unwrap().as_bytes()).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
    }

    async fn now(&self) -> i64 {
        self.get_json(&self.url("/control/clock"), None).await["now"].as_i64().unwrap()
    }

    async fn claims(&self, email: &str, scope: &str) -> Value {
        let now = self.now().await;
        json!({
            "iss": self.sb.integration_key(),
            "sub": user_id(email),
            "aud": self.sb.account_server_host(),
            "iat": now,
            "exp": now + 3600,
            "scope": scope,
        })
    }

    async fn jwt_grant(&self, assertion: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
            .send()
            .await
            .unwrap()
    }

    async fn jwt_token(&self, email: &str, scope: &str) -> String {
        let a = self.assertion(self.claims(email, scope).await);
        let r = self.jwt_grant(&a).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self.http.post(self.url(&format!("/control{path}"))).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "control {path}");
        r.json().await.unwrap()
    }

    async fn control_put(&self, path: &str, body: Value) -> Value {
        let r = self.http.put(self.url(&format!("/control{path}"))).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "control {path}");
        r.json().await.unwrap()
    }

    async fn advance(&self, seconds: i64) {
        self.control("/clock/advance", json!({ "seconds": seconds })).await;
    }

    async fn get(&self, url: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    async fn get_json(&self, url: &str, token: Option<&str>) -> Value {
        let r = self.get(url, token).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {url}");
        r.json().await.unwrap()
    }

    fn account_url(&self, base: &str, account: &str, rest: &str) -> String {
        format!("{}/restapi/v2.1/accounts/{account}{rest}", self.base(base))
    }
}

fn request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("hidden request_id") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn redirect_params(r: &reqwest::Response) -> HashMap<String, String> {
    assert_eq!(r.status(), StatusCode::FOUND, "expected a 302 back to the application");
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

async fn body(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn invalid_grant(description: &str) -> Value {
    json!({ "error": "invalid_grant", "error_description": description })
}

fn invalid_token_body() -> Value {
    json!({"errorCode": "AUTHORIZATION_INVALID_TOKEN", "message": "The access token provided is expired, revoked or malformed."})
}

// ------------------------------------------------------------------ /oauth/auth

#[tokio::test]
async fn authorize_with_an_unknown_client_id_shows_an_error_page_and_does_not_redirect() {
    let env = start().await;
    let r = env
        .authorize(&[("response_type", "code"), ("scope", "signature"), ("client_id", "nope"), ("redirect_uri", REDIRECT)])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("Invalid client_id"));
}

#[tokio::test]
async fn authorize_requires_an_exactly_registered_redirect_uri() {
    let env = start().await;
    for uri in [format!("{REDIRECT}/"), "http://127.0.0.1:3000/oauth/CALLBACK".to_owned(), "https://evil.example/cb".to_owned()] {
        let r = env
            .authorize(&[("response_type", "code"), ("scope", "signature"), ("client_id", env.sb.integration_key()), ("redirect_uri", &uri)])
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(r.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn authorize_errors_after_a_valid_redirect_uri_go_back_with_error_and_state() {
    let env = start().await;
    let key = env.sb.integration_key().to_owned();
    let (_, challenge) = pkce();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("response_type", "token"), ("scope", "signature")], "unsupported_response_type"),
        (vec![("response_type", "code")], "invalid_request"),
        (vec![("response_type", "code"), ("scope", "signature bogus")], "invalid_scope"),
        (vec![("response_type", "code"), ("scope", "signature"), ("code_challenge", &challenge), ("code_challenge_method", "plain")], "invalid_request"),
        (vec![("response_type", "code"), ("scope", "signature"), ("code_challenge", "short"), ("code_challenge_method", "S256")], "invalid_request"),
        (vec![("response_type", "code"), ("scope", "signature"), ("admin_consent_scope", "signature impersonation")], "invalid_request"),
    ];
    for (mut params, error) in cases {
        params.extend([("client_id", key.as_str()), ("redirect_uri", REDIRECT), ("state", "s1")]);
        let p = redirect_params(&env.authorize(&params).await);
        assert_eq!(p.get("error").map(String::as_str), Some(error), "{params:?}");
        assert_eq!(p.get("state").map(String::as_str), Some("s1"));
        assert!(p.contains_key("error_description"));
        assert!(!p.contains_key("code"));
    }
}

#[tokio::test]
async fn the_sign_in_page_is_self_contained_and_keeps_the_request_server_side() {
    let env = start().await;
    let (_, challenge) = pkce();
    let r = env.authorize_std("signature impersonation", &challenge, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=\""));
    assert!(!html.contains(&challenge), "the challenge stays server-side");
    assert!(html.contains("action=\"/oauth/auth/signin\""));
    assert!(html.contains(ADA));
    assert_eq!(request_id(&html).len(), 43);
}

#[tokio::test]
async fn signing_in_with_an_unknown_email_shows_the_page_again_with_an_error() {
    let env = start().await;
    let (_, challenge) = pkce();
    let rid = request_id(&env.authorize_std("signature", &challenge, &[]).await.text().await.unwrap());
    let r = env
        .http
        .post(env.url("/oauth/auth/signin"))
        .form(&[("request_id", rid.as_str()), ("email", "<b>nobody@nowhere.example</b>")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("No DocuSign user"));
    assert!(!html.contains("<b>nobody"));
    let r = env.sign_in("not-a-request", ADA).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn typing_an_email_signs_in_like_picking_the_user() {
    let env = start().await;
    let (_, challenge) = pkce();
    let rid = request_id(&env.authorize_std("signature", &challenge, &[]).await.text().await.unwrap());
    let r = env
        .http
        .post(env.url("/oauth/auth/signin"))
        .form(&[("request_id", rid.as_str()), ("email", "GINA@globex.example"), ("password", "x")])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Signed in as Gina Globex"));
    assert!(html.contains("<code>signature</code>"));
}

#[tokio::test]
async fn denying_consent_redirects_with_access_denied_and_the_state() {
    let env = start().await;
    let (_, challenge) = pkce();
    let rid = request_id(&env.authorize_std("signature impersonation", &challenge, &[]).await.text().await.unwrap());
    let html = env.sign_in(&rid, GINA).await.text().await.unwrap();
    let p = redirect_params(&env.decide(&request_id(&html), "deny").await);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st-123");
    assert!(!p.contains_key("code"));
    let consents = env.get_json(&env.url("/control/consents"), None).await;
    assert_eq!(consents["consents"], json!([]));
}

#[tokio::test]
async fn a_user_who_already_consented_goes_straight_back_with_a_code() {
    let env = start().await;
    env.code_for(GINA, "signature impersonation").await;
    let (_, challenge) = pkce();
    let rid = request_id(&env.authorize_std("signature", &challenge, &[]).await.text().await.unwrap());
    let p = redirect_params(&env.sign_in(&rid, GINA).await);
    assert!(p.contains_key("code"));
    assert_eq!(p["state"], "st-123");
}

#[tokio::test]
async fn a_browser_signed_in_to_the_account_server_goes_straight_to_consent_unless_prompt_login_asks_again() {
    let env = start().await;
    let (_, challenge) = pkce();
    let rid = request_id(&env.authorize_std("signature", &challenge, &[("prompt", "login")]).await.text().await.unwrap());
    let signed_in = env.sign_in(&rid, GINA).await;
    let set_cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Path=/oauth/auth"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // The same browser asks again without prompt=login: DocuSign's consent page, as Gina.
    let again = async |extra: &[(&str, &str)]| {
        env.authorize_std_in(Some(&cookie), "signature impersonation", &challenge, extra).await.text().await.unwrap()
    };
    let page = again(&[]).await;
    assert!(page.contains("Allow") && page.contains(GINA) && !page.contains("action=\"/oauth/auth/signin\""), "{page}");
    let p = redirect_params(&env.decide(&request_id(&page), "allow").await);
    assert!(p.contains_key("code"));

    // prompt=login, another browser and a session past its lifetime all ask for the sign-in.
    assert!(again(&[("prompt", "login")]).await.contains("action=\"/oauth/auth/signin\""));
    let stranger = env.authorize_std("signature impersonation", &challenge, &[]).await.text().await.unwrap();
    assert!(stranger.contains("action=\"/oauth/auth/signin\""));
    env.advance(31 * 60).await; // the sign-in is remembered for 30 minutes
    assert!(again(&[]).await.contains("action=\"/oauth/auth/signin\""));
}

// ------------------------------------------------------------------ /oauth/token: code grant

#[tokio::test]
async fn the_round_trip_authorize_token_userinfo_settings_connect_works_with_a_plain_client() {
    let env = start().await;
    let tokens = env.tokens_for(BOB, "signature impersonation").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 28800);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 43);
    assert!(tokens.get("id_token").is_none());
    let access = tokens["access_token"].as_str().unwrap();

    let info = env.get_json(&env.url("/oauth/userinfo"), Some(access)).await;
    assert_eq!(info["sub"], user_id(BOB));
    let account = &info["accounts"][0];
    assert_eq!(account["account_id"], ACME_SALES);
    let base_uri = account["base_uri"].as_str().unwrap();
    assert_eq!(base_uri, env.base("na1"));

    let settings_url = format!("{base_uri}/restapi/v2.1/accounts/{ACME_SALES}/settings");
    let settings = env.get_json(&settings_url, Some(access)).await;
    assert_eq!(settings["envelopeIntegrationEnabled"], "true");
    assert_eq!(settings["envelopeIntegrationEnabledMetadata"]["rights"], "editable");

    let connect_url = format!("{base_uri}/restapi/v2.1/accounts/{ACME_SALES}/connect");
    let created = env
        .http
        .post(&connect_url)
        .bearer_auth(access)
        .json(&json!({"configurationType": "custom", "name": "portal", "urlToPublishTo": "https://portal.example/connect",
                      "allUsers": "true", "allowEnvelopePublish": "true", "includeHMAC": "true", "deliveryMode": "SIM"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let list = env.get_json(&connect_url, Some(access)).await;
    assert_eq!(list["totalRecords"], "1");
    assert_eq!(list["configurations"][0]["urlToPublishTo"], "https://portal.example/connect");
}

#[tokio::test]
async fn an_authorization_code_works_only_once() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, "signature").await;
    assert_eq!(env.exchange(&code, &verifier).await.status(), StatusCode::OK);
    let (status, b) = body(env.exchange(&code, &verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, invalid_grant("expired_client_token"));
}

#[tokio::test]
async fn an_authorization_code_expires_after_two_minutes() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, "signature").await;
    env.advance(121).await;
    let (status, b) = body(env.exchange(&code, &verifier).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, invalid_grant("expired_client_token"));

    let (code, verifier) = env.code_for(GINA, "signature").await;
    env.advance(110).await;
    assert_eq!(env.exchange(&code, &verifier).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_or_missing_pkce_verifier_is_an_invalid_grant() {
    let env = start().await;
    let (code, _) = env.code_for(GINA, "signature").await;
    let (status, b) = body(env.exchange(&code, "wrong-verifier-wrong-verifier-wrong-verifier").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, invalid_grant("invalid_code_verifier"));
    let (code, _) = env.code_for(GINA, "signature").await;
    let r = env
        .http
        .post(env.url("/oauth/token"))
        .basic_auth(env.sb.integration_key(), Some(env.sb.client_secret()))
        .form(&[("grant_type", "authorization_code"), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await.1, invalid_grant("invalid_code_verifier"));
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_as_expired_client_token() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, "signature").await;
    let r = env
        .http
        .post(env.url("/oauth/token"))
        .basic_auth(env.sb.integration_key(), Some(env.sb.integration_key()))
        .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", verifier.as_str())])
        .send()
        .await
        .unwrap();
    let (status, b) = body(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, invalid_grant("expired_client_token"));
}

#[tokio::test]
async fn a_redirect_uri_that_differs_from_the_authorization_request_is_refused() {
    let env = start().await;
    let (code, verifier) = env.code_for(GINA, "signature").await;
    let r = env
        .http
        .post(env.url("/oauth/token"))
        .basic_auth(env.sb.integration_key(), Some(env.sb.client_secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
            ("redirect_uri", "http://localhost:3000/oauth/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await.1, invalid_grant("redirect_uri_mismatch"));
}

#[tokio::test]
async fn an_unknown_grant_type_is_an_invalid_grant() {
    let env = start().await;
    let r = env.http.post(env.url("/oauth/token")).form(&[("grant_type", "password")]).send().await.unwrap();
    let (status, b) = body(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, invalid_grant("unsupported_grant_type"));
}

#[tokio::test]
async fn a_code_grant_access_token_expires_after_eight_hours() {
    let env = start().await;
    let tokens = env.tokens_for(GINA, "signature").await;
    let access = tokens["access_token"].as_str().unwrap();
    env.advance(8 * 3600 - 10).await;
    assert_eq!(env.get(&env.url("/oauth/userinfo"), Some(access)).await.status(), StatusCode::OK);
    env.advance(11).await;
    assert_eq!(env.get(&env.url("/oauth/userinfo"), Some(access)).await.status(), StatusCode::UNAUTHORIZED);
}

// ------------------------------------------------------------------ refresh and revocation

async fn refresh(env: &Env, token: &str) -> reqwest::Response {
    env.http
        .post(env.url("/oauth/token"))
        .basic_auth(env.sb.integration_key(), Some(env.sb.client_secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refresh_token_rotates_and_the_old_one_stops_working() {
    let env = start().await;
    let tokens = env.tokens_for(GINA, "signature extended").await;
    let old = tokens["refresh_token"].as_str().unwrap();
    let (status, fresh) = body(refresh(&env, old).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fresh["expires_in"], 28800);
    assert_ne!(fresh["refresh_token"], tokens["refresh_token"]);
    assert_ne!(fresh["access_token"], tokens["access_token"]);
    let (status, b) = body(refresh(&env, old).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, json!({"error": "invalid_grant"}));
    assert_eq!(refresh(&env, fresh["refresh_token"].as_str().unwrap()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoking_consent_stops_refresh_tokens_at_once_and_access_tokens_at_expiry() {
    let env = start().await;
    let tokens = env.tokens_for(GINA, "signature impersonation").await;
    let access = tokens["access_token"].as_str().unwrap();
    let jwt_access = env.jwt_token(GINA, "signature impersonation").await;
    let revoked = env.control("/consents/revoke", json!({ "user_id": user_id(GINA) })).await;
    assert_eq!(revoked["revoked"], 1);

    assert_eq!(body(refresh(&env, tokens["refresh_token"].as_str().unwrap()).await).await.1, json!({"error": "invalid_grant"}));
    let a = env.assertion(env.claims(GINA, "signature impersonation").await);
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));

    let settings = env.account_url("na2", GLOBEX, "/settings");
    assert_eq!(env.get(&settings, Some(access)).await.status(), StatusCode::OK);
    assert_eq!(env.get(&settings, Some(&jwt_access)).await.status(), StatusCode::OK);
    env.advance(3601).await;
    let (status, b) = body(env.get(&settings, Some(&jwt_access)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b, invalid_token_body());
    assert_eq!(env.get(&settings, Some(access)).await.status(), StatusCode::OK);
    env.advance(8 * 3600).await;
    assert_eq!(body(env.get(&settings, Some(access)).await).await.1, invalid_token_body());
}

// ------------------------------------------------------------------ JWT grant

#[tokio::test]
async fn the_jwt_grant_needs_consent_and_works_after_it() {
    let env = start().await;
    let a = env.assertion(env.claims(GINA, "signature impersonation").await);
    let (status, b) = body(env.jwt_grant(&a).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, json!({"error": "consent_required"}));

    // Consent without impersonation is not enough for the JWT grant.
    env.code_for(GINA, "signature").await;
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));

    env.code_for(GINA, "signature impersonation").await;
    let (status, b) = body(env.jwt_grant(&a).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 3600);
    assert!(b.get("refresh_token").is_none());
    let info = env.get_json(&env.url("/oauth/userinfo"), b["access_token"].as_str()).await;
    assert_eq!(info["email"], GINA);

    // Scopes beyond the consent still need consent.
    let a = env.assertion(env.claims(GINA, "signature impersonation organization_read").await);
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));
}

#[tokio::test]
async fn jwt_assertion_errors_are_invalid_grant_with_the_documented_description() {
    let env = start().await;
    env.control("/consents/grant", json!({"user_id": user_id(GINA), "scopes": ["signature", "impersonation"]})).await;
    let good = env.claims(GINA, "signature impersonation").await;
    assert_eq!(env.jwt_grant(&env.assertion(good.clone())).await.status(), StatusCode::OK);
    let host = env.sb.account_server_host();
    let now = good["iat"].as_i64().unwrap();
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let cases = vec![
        ("unknown iss", with("iss", json!("00000000-0000-0000-0000-000000000000")), "issuer_not_found"),
        ("aud with scheme", with("aud", json!(format!("https://{host}"))), "no_valid_keys_or_signatures"),
        ("aud with trailing slash", with("aud", json!(format!("{host}/"))), "no_valid_keys_or_signatures"),
        ("aud of another environment", with("aud", json!("account.docusign.com")), "issuer_not_found"),
        ("missing exp", without("exp"), "no_valid_keys_or_signatures"),
        ("expired", with("exp", json!(now - 10)), "expired_grant"),
        ("iat in the future", with("iat", json!(now + 600)), "no_valid_keys_or_signatures"),
        ("nbf in the future", with("nbf", json!(now + 600)), "no_valid_keys_or_signatures"),
        ("unknown sub", with("sub", json!("11111111-1111-1111-1111-111111111111")), "user_not_found"),
        ("email as sub", with("sub", json!(GINA)), "user_not_found"),
    ];
    for (name, claims, description) in cases {
        let (status, b) = body(env.jwt_grant(&env.assertion(claims)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(b, invalid_grant(description), "{name}");
    }
    // A signature that does not verify with the registered key.
    let mut tampered: Vec<char> = env.assertion(good.clone()).chars().collect();
    let i = tampered.len() - 20;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert_eq!(body(env.jwt_grant(&tampered).await).await.1, invalid_grant("no_valid_keys_or_signatures"));
    let hs = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &good, &jsonwebtoken::EncodingKey::from_secret(b"x")).unwrap();
    assert_eq!(body(env.jwt_grant(&hs).await).await.1, invalid_grant("no_valid_keys_or_signatures"));
    assert_eq!(body(env.jwt_grant("not-a-jwt").await).await.1, invalid_grant("no_valid_keys_or_signatures"));
}

#[tokio::test]
async fn a_public_key_supplied_at_start_replaces_the_fixture_key() {
    let fixture = default_fixture();
    let other_public = fixture.integration.public_keys[0].clone();
    let env = start_with(SandboxConfig {
        public_key_pem: Some(other_public),
        registered_redirect_uris: vec!["http://127.0.0.1:9999/cb".into()],
        integration_key: Some("11112222-3333-4444-5555-666677778888".into()),
        ..SandboxConfig::for_tests()
    })
    .await;
    assert!(env.sb.test_private_key_pem().is_none());
    assert_eq!(env.sb.integration_key(), "11112222-3333-4444-5555-666677778888");
    assert!(env.sb.redirect_uris().iter().any(|u| u == "http://127.0.0.1:9999/cb"));
    let bad = Sandbox::start(SandboxConfig { public_key_pem: Some("not a pem".into()), ..SandboxConfig::for_tests() }).await;
    assert!(bad.is_err());
}

// ------------------------------------------------------------------ admin consent

#[tokio::test]
async fn org_admin_consent_covers_every_user_of_the_claimed_domain_and_only_them() {
    let env = start().await;
    let (verifier, challenge) = pkce();
    let p = env.consent_flow(ADA, "openid", &challenge, &[("admin_consent_scope", "signature impersonation")]).await;
    let (status, tokens) = body(env.exchange(&p["code"], &verifier).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(tokens["id_token"].as_str().is_some(), "openid adds an id_token");

    for email in [BOB, NORA, ADA] {
        let a = env.assertion(env.claims(email, "signature impersonation").await);
        assert_eq!(env.jwt_grant(&a).await.status(), StatusCode::OK, "{email}");
    }
    let a = env.assertion(env.claims(GINA, "signature impersonation").await);
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));

    env.control("/consents/revoke", json!({ "organization_id": ACME_ORG })).await;
    let a = env.assertion(env.claims(BOB, "signature impersonation").await);
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));
}

#[tokio::test]
async fn admin_consent_is_refused_while_the_domain_is_pending_and_works_once_active() {
    let env = start().await;
    let (_, challenge) = pkce();
    let p = env.consent_flow(UMA, "openid", &challenge, &[("admin_consent_scope", "signature impersonation")]).await;
    assert_eq!(p["error"], "access_denied");
    assert!(!p["error_description"].is_empty(), "a description, whose wording nothing may depend on");
    assert_eq!(p["state"], "st-123");

    let d = env.control_put(&format!("/organizations/{UMBRELLA_ORG}/reserved_domains/umbrella.example"), json!({"status": "active"})).await;
    assert_eq!(d["status"], "active");
    let p = env.consent_flow(UMA, "openid", &challenge, &[("admin_consent_scope", "signature impersonation")]).await;
    assert!(p.contains_key("code"));
    let a = env.assertion(env.claims(UMA, "signature impersonation").await);
    assert_eq!(env.jwt_grant(&a).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_consent_is_refused_for_a_user_who_is_not_an_org_admin() {
    let env = start().await;
    let (_, challenge) = pkce();
    for email in [BOB, GINA] {
        let p = env.consent_flow(email, "openid", &challenge, &[("admin_consent_scope", "signature impersonation")]).await;
        assert_eq!(p["error"], "access_denied", "{email}");
    }
}

// ------------------------------------------------------------------ userinfo

#[tokio::test]
async fn userinfo_lists_accounts_with_a_boolean_is_default_and_organization_only_for_org_accounts() {
    let env = start().await;
    let mia = env.tokens_for(MIA, "signature").await;
    let info = env.get_json(&env.url("/oauth/userinfo"), mia["access_token"].as_str()).await;
    assert_eq!(info["name"], "Mia Multi");
    assert_eq!(info["given_name"], "Mia");
    assert_eq!(info["family_name"], "Multi");
    assert!(info["created"].is_string());
    let accounts = info["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["account_id"], INITECH_US);
    assert_eq!(accounts[0]["is_default"], json!(true));
    assert_eq!(accounts[0]["account_name"], "Initech US");
    assert_eq!(accounts[1]["is_default"], json!(false));
    assert_ne!(accounts[0]["base_uri"], accounts[1]["base_uri"], "different base URIs");
    assert!(accounts.iter().all(|a| a.get("organization").is_none()));

    let ada = env.tokens_for(ADA, "signature").await;
    let info = env.get_json(&env.url("/oauth/userinfo"), ada["access_token"].as_str()).await;
    let org = &info["accounts"][0]["organization"];
    assert_eq!(org["organization_id"], ACME_ORG);
    assert_eq!(org["links"][0]["rel"], "self");
    assert_eq!(org["links"][0]["href"], format!("{}/organizations/{ACME_ORG}", env.sb.account_server_url()));
}

#[tokio::test]
async fn userinfo_without_a_valid_token_is_401() {
    let env = start().await;
    assert_eq!(env.get(&env.url("/oauth/userinfo"), None).await.status(), StatusCode::UNAUTHORIZED);
    let (status, b) = body(env.get(&env.url("/oauth/userinfo"), Some("garbage")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"], "invalid_token");
}

// ------------------------------------------------------------------ eSignature

#[tokio::test]
async fn esign_without_a_valid_token_is_authorization_invalid_token() {
    let env = start().await;
    let url = env.account_url("na1", ACME_SALES, "/settings");
    for token in [None, Some("garbage")] {
        let (status, b) = body(env.get(&url, token).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(b, invalid_token_body());
    }
}

#[tokio::test]
async fn a_user_who_is_not_a_member_gets_user_lacks_membership() {
    let env = start().await;
    env.control("/consents/grant", json!({"organization_id": ACME_ORG, "scopes": ["signature", "impersonation"]})).await;
    let token = env.jwt_token(NORA, "signature impersonation").await;
    let expected = json!({"errorCode": "USER_LACKS_MEMBERSHIP", "message": "The UserID does not have a valid membership in this Account."});
    for url in [env.account_url("na1", ACME_SALES, ""), env.account_url("na1", ACME_SALES, "/settings"), env.account_url("na1", "00000000-0000-0000-0000-000000000000", "")] {
        let (status, b) = body(env.get(&url, Some(&token)).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert_eq!(b, expected);
    }
}

#[tokio::test]
async fn users_get_says_whether_the_user_administers_the_account() {
    let env = start().await;
    let token = env.tokens_for(MIA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let mia = user_id(MIA);
    let (status, us) = body(env.get(&env.account_url("na1", INITECH_US, &format!("/users/{mia}")), Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((us["userId"].as_str(), us["email"].as_str(), us["isAdmin"].as_str()), (Some(mia.as_str()), Some(MIA), Some("True")), "{us}");
    let (_, eu) = body(env.get(&env.account_url("eu", INITECH_EU, &format!("/users/{mia}")), Some(&token)).await).await;
    assert_eq!(eu["isAdmin"], "False", "a member only: {eu}");
    assert_eq!(eu["permissionProfileName"], "DocuSign Sender");
    // Someone who is not a member of the account.
    let (status, b) = body(env.get(&env.account_url("na1", INITECH_US, &format!("/users/{}", user_id(GINA))), Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["errorCode"], "INVALID_USERID");
}

#[tokio::test]
async fn calling_an_account_on_another_base_uri_gets_invalid_userid() {
    let env = start().await;
    let token = env.tokens_for(MIA, "signature").await["access_token"].as_str().unwrap().to_owned();
    assert_eq!(env.get(&env.account_url("eu", INITECH_EU, ""), Some(&token)).await.status(), StatusCode::OK);
    let (status, b) = body(env.get(&env.account_url("na1", INITECH_EU, ""), Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, json!({"errorCode": "INVALID_USERID", "message": "Invalid UserId."}));
}

#[tokio::test]
async fn a_token_without_the_signature_scope_cannot_call_esignature() {
    let env = start().await;
    let token = env.tokens_for(GINA, "openid").await["access_token"].as_str().unwrap().to_owned();
    let (status, b) = body(env.get(&env.account_url("na2", GLOBEX, ""), Some(&token)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b, invalid_token_body());
}

#[tokio::test]
async fn get_account_embeds_settings_only_when_asked() {
    let env = start().await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let a = env.get_json(&env.account_url("na2", GLOBEX, ""), Some(&token)).await;
    assert_eq!(a["accountIdGuid"], GLOBEX);
    assert_eq!(a["accountName"], "Globex");
    assert_eq!(a["externalAccountId"], "10000003");
    assert_eq!(a["useDisplayAppliance"], json!(false));
    assert!(a.get("accountSettings").is_none());
    let a = env.get_json(&env.account_url("na2", GLOBEX, "?include_account_settings=true"), Some(&token)).await;
    assert_eq!(a["accountSettings"]["allowOrganizations"], "false");
    assert_eq!(a["accountSettings"]["usesAPIMetadata"]["rights"], "read_only");
}

#[tokio::test]
async fn settings_put_is_partial_admin_only_and_answers_200_with_no_body() {
    let env = start().await;
    let token = env.tokens_for(HANK, "signature").await["access_token"].as_str().unwrap().to_owned();
    let url = env.account_url("na2", HOOLI, "/settings");
    let before = env.get_json(&url, Some(&token)).await;
    assert_eq!(before["envelopeIntegrationEnabled"], "false");
    assert_eq!(before["envelopeIntegrationAllowedMetadata"]["options"], json!(["not_allowed", "full"]));
    let r = env.http.put(&url).bearer_auth(&token).json(&json!({"envelopeIntegrationEnabled": "true"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().is_empty());
    let after = env.get_json(&url, Some(&token)).await;
    assert_eq!(after["envelopeIntegrationEnabled"], "true");
    assert_eq!(after["inSessionEnabled"], "false", "untouched settings stay");

    let r = env.http.put(&url).bearer_auth(&token).json(&json!({"usesAPI": "false", "inSessionEnabled": "true"})).send().await.unwrap();
    let (status, b) = body(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["errorCode"], "USER_LACKS_PERMISSIONS");
    assert_eq!(env.get_json(&url, Some(&token)).await["inSessionEnabled"], "false", "a refused PUT changes nothing");

    let r = env.http.put(&url).bearer_auth(&token).body("not json").send().await.unwrap();
    assert_eq!(body(r).await.1["errorCode"], "INVALID_REQUEST_BODY");

    // Mia is a member but not an admin of Initech EU.
    let mia = env.tokens_for(MIA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let eu = env.account_url("eu", INITECH_EU, "/settings");
    assert_eq!(env.get(&eu, Some(&mia)).await.status(), StatusCode::OK);
    let r = env.http.put(&eu).bearer_auth(&mia).json(&json!({"inSessionEnabled": "false"})).send().await.unwrap();
    let (status, b) = body(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b, json!({"errorCode": "USER_LACKS_PERMISSIONS", "message": "This user lacks sufficient permissions to access this resource."}));
}

#[tokio::test]
async fn connect_crud_uses_the_reference_wrappers_and_status_codes() {
    let env = start().await;
    let token = env.tokens_for(BOB, "signature").await["access_token"].as_str().unwrap().to_owned();
    let url = env.account_url("na1", ACME_SALES, "/connect");
    let empty = env.get_json(&url, Some(&token)).await;
    assert_eq!(empty, json!({"configurations": [], "totalRecords": "0"}));

    let r = env.http.post(&url).bearer_auth(&token).json(&json!({"name": "portal", "urlToPublishTo": "https://portal.example/connect"})).send().await.unwrap();
    let (status, created) = body(r).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["connectId"].as_str().unwrap().to_owned();
    assert_eq!(created["allowEnvelopePublish"], "false", "publishing is off by default");
    assert_eq!(created["configurationType"], "custom");

    let one = env.get_json(&format!("{url}/{id}"), Some(&token)).await;
    assert_eq!(one["totalRecords"], "1");
    assert_eq!(one["configurations"][0]["connectId"], id.as_str());

    let r = env
        .http
        .put(&url)
        .bearer_auth(&token)
        .json(&json!({"connectId": id, "allowEnvelopePublish": "true", "includeHMAC": "true"}))
        .send()
        .await
        .unwrap();
    let (status, updated) = body(r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["allowEnvelopePublish"], "true");
    assert_eq!(updated["name"], "portal");

    let r = env.http.put(&url).bearer_auth(&token).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(body(r).await.1["errorCode"], "INVALID_REQUEST_PARAMETER");

    let r = env.http.delete(format!("{url}/{id}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().is_empty());
    let (status, b) = body(env.get(&format!("{url}/{id}"), Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["errorCode"], "INVALID_REQUEST_PARAMETER");
}

#[tokio::test]
async fn connect_needs_an_admin_connect_enabled_and_an_https_url() {
    let env = start().await;
    let hank = env.tokens_for(HANK, "signature").await["access_token"].as_str().unwrap().to_owned();
    let url = env.account_url("na2", HOOLI, "/connect");
    let (status, b) = body(env.get(&url, Some(&hank)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["errorCode"], "ACCOUNT_LACKS_PERMISSIONS");

    let settings = env.account_url("na2", HOOLI, "/settings");
    env.http.put(&settings).bearer_auth(&hank).json(&json!({"envelopeIntegrationEnabled": "true"})).send().await.unwrap();
    let r = env.http.post(&url).bearer_auth(&hank).json(&json!({"name": "p", "urlToPublishTo": "http://listener.example/"})).send().await.unwrap();
    let (status, b) = body(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["errorCode"], "INVALID_REQUEST_PARAMETER");
    let r = env.http.post(&url).bearer_auth(&hank).json(&json!({"name": "p", "urlToPublishTo": "https://listener.example/"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let mia = env.tokens_for(MIA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let (_, b) = body(env.get(&env.account_url("eu", INITECH_EU, "/connect"), Some(&mia)).await).await;
    assert_eq!(b["errorCode"], "USER_LACKS_PERMISSIONS");
}

// ------------------------------------------------------------------ Connect delivery

/// A listener that records what it receives and answers `status`.
async fn listener(status: u16) -> (String, tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, Vec<u8>)>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/connect",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body.to_vec()));
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/connect"), rx)
}

#[tokio::test]
async fn a_published_connect_event_is_signed_with_hmac_of_the_raw_body() {
    let env = start().await;
    let (listener_url, mut rx) = listener(200).await;
    let token = env.tokens_for(BOB, "signature").await["access_token"].as_str().unwrap().to_owned();
    let r = env
        .http
        .post(env.account_url("na1", ACME_SALES, "/connect"))
        .bearer_auth(&token)
        .json(&json!({"name": "portal", "urlToPublishTo": listener_url, "allowEnvelopePublish": "true", "includeHMAC": "true",
                      "deliveryMode": "SIM", "eventData": {"version": "restv2.1", "format": "json"}}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["connectId"].as_str().unwrap().to_owned();
    let d = env.control("/connect/publish", json!({"account_id": ACME_SALES, "connect_id": id})).await;
    assert_eq!(d["ok"], true);
    assert_eq!(d["status"], 200);
    assert_eq!(d["signatures"], 1);

    let (headers, raw) = rx.recv().await.unwrap();
    let expected = server::sandbox::connect_signature("acme-connect-hmac-key-1", &raw);
    assert_eq!(headers["x-docusign-signature-1"].to_str().unwrap(), expected);
    assert_eq!(headers["x-authorization-digest"], "HMACSHA256");
    assert_eq!(headers["x-docusign-accountid"], ACME_SALES);
    let event: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(event["event"], "envelope-completed");
    assert_eq!(event["apiVersion"], "v2.1");
    assert_eq!(event["data"]["accountId"], ACME_SALES);
    assert_eq!(event["configurationId"], id.parse::<i64>().unwrap());
}

#[tokio::test]
async fn connect_deliveries_record_failures_and_unsigned_configurations() {
    let env = start().await;
    // Stark's configuration does not include HMAC: no signature header.
    let stark = "8b9f1cff-95c0-429c-91ea-64279298b810";
    let (url, mut rx) = listener(500).await;
    env.control_put(&format!("/accounts/{stark}/settings"), json!({"settings": {"allowConnectHttpListenerConfigs": "true"}})).await;
    let token = env.tokens_for("sam@stark.example", "signature").await["access_token"].as_str().unwrap().to_owned();
    let r = env.http.put(env.account_url("na1", stark, "/connect")).bearer_auth(&token).json(&json!({"connectId": "2001", "urlToPublishTo": url})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d = env.control("/connect/publish", json!({"account_id": stark, "connect_id": "2001"})).await;
    assert_eq!(d["signatures"], 0);
    assert_eq!(d["status"], 500);
    assert_eq!(d["ok"], false);
    let (headers, _) = rx.recv().await.unwrap();
    assert!(headers.get("x-docusign-signature-1").is_none());

    // A listener that is not there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/connect", closed.local_addr().unwrap());
    drop(closed);
    env.http.put(env.account_url("na1", stark, "/connect")).bearer_auth(&token).json(&json!({"connectId": "2001", "urlToPublishTo": dead})).send().await.unwrap();
    let d = env.control("/connect/publish", json!({"account_id": stark, "connect_id": "2001"})).await;
    assert_eq!(d["ok"], false);
    assert!(d["status"].is_null());
    assert!(d["error"].is_string());
    let all = env.get_json(&env.url("/control/connect/deliveries"), None).await;
    assert_eq!(all["deliveries"].as_array().unwrap().len(), 2);

    let r = env.http.post(env.url("/control/connect/publish")).json(&json!({"account_id": stark, "connect_id": "999"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A configuration of Acme Sales publishing to `url`, with `enableLog` as given; its connectId.
async fn acme_configuration(env: &Env, token: &str, url: &str, enable_log: &str) -> String {
    let r = env
        .http
        .post(env.account_url("na1", ACME_SALES, "/connect"))
        .bearer_auth(token)
        .json(&json!({"name": "logged", "urlToPublishTo": url, "allowEnvelopePublish": "true", "includeHMAC": "true", "enableLog": enable_log}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["connectId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_connect_log_lists_logged_attempts_and_the_failure_log_every_undelivered_message_newest_first() {
    let env = start().await;
    let (url, _rx) = listener(200).await;
    let token = env.tokens_for(BOB, "signature").await["access_token"].as_str().unwrap().to_owned();
    let logged = acme_configuration(&env, &token, &url, "true").await;
    let logs_url = env.account_url("na1", ACME_SALES, "/connect/logs");
    let failures_url = env.account_url("na1", ACME_SALES, "/connect/failures");
    assert_eq!(env.get_json(&logs_url, Some(&token)).await, json!({"logs": [], "totalRecords": "0"}));

    assert_eq!(env.control("/connect/publish", json!({"account_id": ACME_SALES, "connect_id": logged})).await["ok"], true);
    let logs = env.get_json(&logs_url, Some(&token)).await;
    assert_eq!(logs["totalRecords"], "1");
    let entry = &logs["logs"][0];
    assert_eq!((entry["connectId"].as_str(), entry["configUrl"].as_str(), entry["accountId"].as_str()), (Some(logged.as_str()), Some(url.as_str()), Some(ACME_SALES)));
    assert_eq!((entry["status"].as_str(), entry["error"].as_str()), (Some("Completed"), Some("")));
    assert!(entry["envelopeId"].is_string() && entry["logId"].is_string());
    assert!(chrono::DateTime::parse_from_rfc3339(entry["created"].as_str().unwrap()).is_ok(), "{entry}");
    assert_eq!(env.get_json(&failures_url, Some(&token)).await["failures"], json!([]));

    // A delivery fault: the listener seems to answer 503. Logged, and in the failure log.
    env.control("/faults", json!({"scope": "connect", "fail_5xx_ratio": 1.0, "remaining": 1})).await;
    let d = env.control("/connect/publish", json!({"account_id": ACME_SALES, "connect_id": logged})).await;
    assert_eq!((d["ok"].as_bool(), d["status"].as_u64()), (Some(false), Some(503)));
    let logs = env.get_json(&logs_url, Some(&token)).await;
    assert_eq!(logs["totalRecords"], "2");
    assert!(logs["logs"][0]["error"].as_str().unwrap().contains("503"), "newest first: {logs}");
    let failures = env.get_json(&failures_url, Some(&token)).await;
    assert_eq!(failures["totalRecords"], "1");
    let failure = &failures["failures"][0];
    assert_eq!(failure["connectId"].as_str(), Some(logged.as_str()));
    assert!(failure["failureId"].is_string() && failure["error"].as_str().unwrap().contains("503"), "{failure}");
    assert_eq!(failure["envelopeId"], logs["logs"][0]["envelopeId"]);

    // Without enableLog an attempt is not logged, but a failure still is.
    let (refusing, _rx) = listener(401).await;
    let unlogged = acme_configuration(&env, &token, &refusing, "false").await;
    assert_eq!(env.control("/connect/publish", json!({"account_id": ACME_SALES, "connect_id": unlogged})).await["status"], 401);
    assert_eq!(env.get_json(&logs_url, Some(&token)).await["totalRecords"], "2");
    let failures = env.get_json(&failures_url, Some(&token)).await;
    assert_eq!(failures["failures"][0]["connectId"].as_str(), Some(unlogged.as_str()));
    // A date range that ends before the attempts: nothing.
    let early = env.get_json(&format!("{logs_url}?to_date=2020-01-01T00:00:00Z"), Some(&token)).await;
    assert_eq!(early["totalRecords"], "0");
    let bad = env.get(&format!("{logs_url}?from_date=yesterday"), Some(&token)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn vary_mode_changes_what_the_reference_leaves_open_and_keeps_what_it_documents() {
    let env = start_with(SandboxConfig::for_tests().varied()).await;
    // Tokens: JWT-shaped, long, with dots; expires_in a string; token_type in lower case.
    let mia = env.tokens_for(MIA, "signature").await;
    let access = mia["access_token"].as_str().unwrap();
    assert!(access.starts_with("eyJ") && access.matches('.').count() == 2 && access.len() > 500, "{access}");
    assert_ne!(access.len(), mia["refresh_token"].as_str().unwrap().len());
    assert_eq!((mia["expires_in"].as_str(), mia["token_type"].as_str()), (Some("28800"), Some("bearer")));
    assert!(mia["varyUnknownField"].is_object(), "unknown fields: {mia}");

    // userinfo: the default account is not listed first, is_default is a string, base_uri ends in /.
    let raw = env.get(&env.url("/oauth/userinfo"), Some(access)).await.text().await.unwrap();
    let info: Value = serde_json::from_str(&raw).unwrap();
    let accounts = info["accounts"].as_array().unwrap();
    assert_eq!((accounts[0]["is_default"].as_str(), accounts[1]["is_default"].as_str()), (Some("false"), Some("true")), "{info}");
    assert_eq!(accounts[1]["account_id"], INITECH_US);
    assert!(accounts.iter().all(|a| a["base_uri"].as_str().unwrap().ends_with('/')));
    let keys = ["sub", "name", "given_name", "family_name", "created", "email", "accounts"];
    let positions: Vec<usize> = keys.iter().map(|k| raw.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).any(|w| w[0] > w[1]), "keys are not in the plain order: {raw}");

    // Errors: documented codes kept, undocumented codes and every wording changed.
    let (status, b) = body(env.get(&env.account_url("na1", INITECH_US, "/settings"), Some("nope")).await).await;
    assert_eq!((status, b["errorCode"].as_str()), (StatusCode::UNAUTHORIZED, Some("AUTHORIZATION_INVALID_TOKEN")));
    assert_ne!(b["message"], invalid_token_body()["message"]);
    let (_, b) = body(env.get(&env.account_url("eu", INITECH_EU, "/connect"), Some(access)).await).await;
    assert!(b["errorCode"].is_string() && b["errorCode"] != "USER_LACKS_PERMISSIONS", "{b}");
    let r = env.http.post(env.url("/oauth/token")).form(&[("grant_type", "authorization_code"), ("code", "x")]).send().await.unwrap();
    assert_eq!(body(r).await.1["error_description"], "expired_client_token", "documented descriptions are kept");

    // The Admin API's base path as the spec spells it; over-limit answers 400 without Retry-After.
    assert!(env.sb.admin_api_url().ends_with("/Management"));
    env.control("/rate_limit/exhaust", json!({"account_id": INITECH_US})).await;
    let r = env.get(&env.account_url("na1", INITECH_US, "/settings"), Some(access)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("retry-after").is_none() && r.headers().get("x-ratelimit-reset").is_some());
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "HOURLY_APIINVOCATION_LIMIT_EXCEEDED");
}

// ------------------------------------------------------------------ Admin API

#[tokio::test]
async fn the_admin_api_lists_organizations_and_reserved_domains_with_the_documented_fields() {
    let env = start().await;
    env.control("/consents/grant", json!({"user_id": user_id(ADA), "scopes": ["signature", "impersonation", "organization_read", "domain_read"]})).await;
    let token = env.jwt_token(ADA, "signature impersonation organization_read domain_read").await;
    let admin = env.sb.admin_api_url();
    let orgs = env.get_json(&format!("{admin}/v2/organizations"), Some(&token)).await;
    let org = &orgs["organizations"][0];
    assert_eq!(orgs["organizations"].as_array().unwrap().len(), 1);
    assert_eq!(org["id"], ACME_ORG);
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["accounts"][0]["id"], ACME_SALES);
    assert_eq!(org["accounts"][0]["external_account_id"], 10000001);

    let domains = env.get_json(&format!("{admin}/v2/organizations/{ACME_ORG}/reserved_domains"), Some(&token)).await;
    let d = &domains["reserved_domains"][0];
    assert_eq!(d["host_name"], "acme.example");
    assert_eq!(d["status"], "active");
    assert!(d["txt_token"].as_str().unwrap().starts_with("docusign="));
    assert!(d["id"].is_string());
    assert!(d.get("domain_name").is_none());
    assert_eq!(domains["reserved_domains"][1]["status"], "deactivated");

    // Bob is no org admin: org_admin mode lists nothing, account_membership lists Acme.
    env.control("/consents/grant", json!({"user_id": user_id(BOB), "scopes": ["signature", "impersonation", "organization_read", "domain_read"]})).await;
    let bob = env.jwt_token(BOB, "signature impersonation organization_read domain_read").await;
    assert_eq!(env.get_json(&format!("{admin}/v2/organizations"), Some(&bob)).await, json!({"organizations": []}));
    let m = env.get_json(&format!("{admin}/v2/organizations?mode=account_membership"), Some(&bob)).await;
    assert_eq!(m["organizations"][0]["id"], ACME_ORG);
    let (status, _) = body(env.get(&format!("{admin}/v2/organizations/{ACME_ORG}/reserved_domains"), Some(&bob)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_admin_api_requires_a_token_and_its_scopes() {
    let env = start().await;
    let admin = env.sb.admin_api_url();
    let (status, b) = body(env.get(&format!("{admin}/v2/organizations"), Some("garbage")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"], "invalid_token");
    let token = env.tokens_for(ADA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let (status, b) = body(env.get(&format!("{admin}/v2/organizations"), Some(&token)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b["error"], "insufficient_scope");
    let (status, _) = body(env.get(&format!("{admin}/v2/organizations/{ACME_ORG}/reserved_domains"), Some(&token)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// ------------------------------------------------------------------ rate limits

#[tokio::test]
async fn every_esign_response_carries_the_rate_limit_headers() {
    let env = start().await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let now = env.now().await;
    let r = env.get(&env.account_url("na2", GLOBEX, ""), Some(&token)).await;
    let h = r.headers();
    assert_eq!(h["x-ratelimit-limit"], "3000");
    assert_eq!(h["x-ratelimit-remaining"], "2999");
    let reset: i64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert_eq!(reset % 3600, 0, "resets at the top of the hour");
    assert!(reset > now && reset <= now + 3600);
    assert_eq!(h["x-burstlimit-limit"], "200");
    assert_eq!(h["x-burstlimit-remaining"], "199");
    let r = env.get(&env.account_url("na2", GLOBEX, "/settings"), Some(&token)).await;
    assert_eq!(r.headers()["x-ratelimit-remaining"], "2998");
}

#[tokio::test]
async fn the_burst_limit_answers_429_with_the_documented_body_and_retry_after() {
    let mut fixture: Fixture = default_fixture();
    fixture.limits.burst = 3;
    let env = start_with(SandboxConfig { fixture, ..SandboxConfig::for_tests() }).await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let url = env.account_url("na2", GLOBEX, "");
    // Start near the beginning of a 30-second window so the requests fall in the same one.
    let now = env.now().await;
    env.advance(30 - now.rem_euclid(30)).await;
    for _ in 0..3 {
        assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::OK);
    }
    let r = env.get(&url, Some(&token)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["x-burstlimit-remaining"], "0");
    let retry: i64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry));
    assert_eq!(body(r).await.1["errorCode"], "BURST_APIINVOCATION_LIMIT_EXCEEDED");
    env.advance(30).await;
    assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_hourly_limit_answers_with_the_configured_status_until_the_top_of_the_hour() {
    let mut fixture: Fixture = default_fixture();
    fixture.limits.exceeded_status = 400;
    let env = start_with(SandboxConfig { fixture, ..SandboxConfig::for_tests() }).await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    env.control("/rate_limit/exhaust", json!({"account_id": GLOBEX})).await;
    let r = env.get(&env.account_url("na2", GLOBEX, ""), Some(&token)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        body(r).await.1,
        json!({"errorCode": "HOURLY_APIINVOCATION_LIMIT_EXCEEDED", "message": "The maximum number of hourly API invocations has been exceeded."})
    );
    env.advance(3600).await;
    assert_eq!(env.get(&env.account_url("na2", GLOBEX, ""), Some(&token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_hourly_allowance_used_up_just_before_the_top_of_the_hour_stays_used_up() {
    let env = start().await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    // Ten seconds before the top of the hour, as a test running at hh:59:50 would be.
    let now = env.now().await;
    env.advance(3600 - now.rem_euclid(3600) - 10).await;
    env.control("/rate_limit/exhaust", json!({"account_id": GLOBEX})).await;
    // Twenty seconds on, the wall clock's hour has turned; the allowance must still be spent.
    env.advance(20).await;
    let r = env.get(&env.account_url("na2", GLOBEX, ""), Some(&token)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body(r).await.1["errorCode"], "HOURLY_APIINVOCATION_LIMIT_EXCEEDED");
}

// ------------------------------------------------------------------ control API

#[tokio::test]
async fn request_counts_show_exactly_one_token_exchange() {
    let env = start().await;
    let tokens = env.tokens_for(GINA, "signature").await;
    env.get(&env.url("/oauth/userinfo"), tokens["access_token"].as_str()).await;
    let counts = env.get_json(&env.url("/control/requests"), None).await;
    assert_eq!(counts["POST /oauth/token authorization_code"], 1);
    assert_eq!(counts["POST /oauth/token"], 1);
    assert_eq!(counts["GET /oauth/userinfo"], 1);
    assert_eq!(counts["GET /oauth/auth"], 1);
    assert!(counts.get("POST /oauth/token jwt_bearer").is_none());
    let r = env.http.delete(env.url("/control/requests")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(env.get_json(&env.url("/control/requests"), None).await, json!({}));
}

#[tokio::test]
async fn faults_can_fail_corrupt_hang_or_rate_limit_and_then_clear() {
    let env = start().await;
    let token = env.tokens_for(GINA, "signature").await["access_token"].as_str().unwrap().to_owned();
    let url = env.account_url("na2", GLOBEX, "");

    env.control("/faults", json!({"scope": "esign", "fail_5xx_ratio": 1.0, "remaining": 1})).await;
    assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::OK, "the rule was used up");

    env.control("/faults", json!({"scope": "oauth", "endpoint": "GET /oauth/userinfo", "malformed_json": true})).await;
    let r = env.get(&env.url("/oauth/userinfo"), Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());
    assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::OK, "other endpoints are untouched");

    env.control("/faults", json!({"scope": "all", "rate_limit_exhausted": true})).await;
    let (status, b) = body(env.get(&url, Some(&token)).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(b["errorCode"], "HOURLY_APIINVOCATION_LIMIT_EXCEEDED");
    env.http.delete(env.url("/control/faults")).send().await.unwrap();

    env.control("/faults", json!({"scope": "admin", "timeout": true})).await;
    let quick = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let err = quick.get(format!("{}/v2/organizations", env.sb.admin_api_url())).bearer_auth(&token).send().await.unwrap_err();
    assert!(err.is_timeout());

    env.control("/faults", json!({"scope": "esign", "latency_ms": 50})).await;
    let started = std::time::Instant::now();
    assert_eq!(env.get(&url, Some(&token)).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(50));

    env.http.delete(env.url("/control/faults")).send().await.unwrap();
    assert_eq!(env.get_json(&env.url("/control/faults"), None).await, json!({"faults": []}));
    let r = env.http.post(env.url("/control/faults")).json(&json!({"fail_5xx_ratio": 2.0})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reset_returns_to_the_fixture() {
    let env = start().await;
    env.code_for(GINA, "signature impersonation").await;
    env.control_put(&format!("/organizations/{UMBRELLA_ORG}/reserved_domains/umbrella.example"), json!({"status": "active"})).await;
    env.advance(1000).await;
    env.control("/reset", json!({})).await;
    assert_eq!(env.get_json(&env.url("/control/consents"), None).await, json!({"consents": []}));
    assert_eq!(env.get_json(&env.url("/control/clock"), None).await["offset_seconds"], 0);
    let (_, challenge) = pkce();
    let p = env.consent_flow(UMA, "openid", &challenge, &[("admin_consent_scope", "signature")]).await;
    assert_eq!(p["error"], "access_denied", "the domain is pending again");
}

#[tokio::test]
async fn the_control_api_is_off_unless_enabled() {
    let env = start_with(SandboxConfig::default()).await;
    assert!(env.sb.control_url().is_none());
    let r = env.http.post(env.url("/control/reset")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_hosts_are_separate_origins() {
    let env = start().await;
    let mut origins = vec![env.sb.account_server_url(), env.sb.admin_api_url().trim_end_matches("/management").to_owned()];
    origins.extend(env.sb.base_uris().into_values());
    let count = origins.len();
    origins.sort();
    origins.dedup();
    assert_eq!(origins.len(), count);
    assert_eq!(env.sb.base_uris().len(), 3);
    assert!(!env.sb.account_server_host().contains("://"));
    // eSignature is not served on the account server.
    let r = env.http.get(format!("{}/restapi/v2.1/accounts/{GLOBEX}", env.sb.account_server_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_default_fixture_names_every_scenario_of_the_issue() {
    let f = default_fixture();
    let names: Vec<&str> = f.scenarios.iter().map(|s| s.name.as_str()).collect();
    for n in [
        "org-admin-consent",
        "no-organization",
        "two-accounts",
        "pending-domain",
        "settings-missing",
        "connect-no-hmac",
        "connect-wrong-url",
        "not-a-member",
        "org-no-domain",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    for s in &f.scenarios {
        for u in &s.users {
            assert!(f.user_by_email(u).is_some(), "{u}");
        }
    }
    assert!(f.default_read_only.contains(&"usesAPI".to_owned()), "top-level keys before the first table");
    let json = serde_json::to_string(&f).unwrap();
    assert_eq!(Fixture::from_json_str(&json).unwrap().users.len(), f.users.len());
    assert!(Fixture::from_toml_str("[integration]\nkey='k'\nsecret='s'\n[[users]]\nid='u'\nemail='a@b'\ngiven_name='A'\nfamily_name='B'\nmemberships=[{account='missing'}]").is_err());
}

#[tokio::test]
async fn ports_follow_a_given_base_address_in_the_documented_order() {
    // Below Linux's ephemeral range (32768+), so other tests' sandboxes cannot take these ports
    // between our probe and our bind; try further ranges if one is in use.
    let mut started = None;
    for attempt in 0..50u16 {
        let port = 20_000 + (std::process::id() as u16 % 500) * 10 + attempt * 7;
        let config = SandboxConfig { bind: Some(([127, 0, 0, 1], port).into()), ..SandboxConfig::for_tests() };
        if let Ok(sb) = Sandbox::start(config).await {
            started = Some((port, sb));
            break;
        }
    }
    let (port, sb) = started.expect("a free range of five ports");
    let env = Env { sb, http: reqwest::Client::new() };
    assert_eq!(env.sb.account_server_host(), format!("127.0.0.1:{port}"));
    assert_eq!(env.sb.admin_api_url(), format!("http://127.0.0.1:{}/management", port + 1));
    let bases = env.sb.base_uris();
    assert_eq!(bases["eu"], format!("http://127.0.0.1:{}", port + 2));
    assert_eq!(bases["na1"], format!("http://127.0.0.1:{}", port + 3));
    assert_eq!(bases["na2"], format!("http://127.0.0.1:{}", port + 4));
    assert_eq!(env.sb.control_url(), Some(format!("http://127.0.0.1:{port}/control")));
}

// ------------------------------------------------------------------ Admin API: profile by e-mail

#[tokio::test]
async fn the_admin_api_finds_a_docusign_profile_by_email_for_users_the_organization_knows() {
    let env = start().await;
    env.control("/consents/grant", json!({"user_id": user_id(ADA), "scopes": ["signature", "impersonation", "user_read"]})).await;
    let token = env.jwt_token(ADA, "signature impersonation user_read").await;
    let url = |email: &str| format!("{}/v2.1/organizations/{ACME_ORG}/users/dsprofile?email={email}", env.sb.admin_api_url());

    let r = env.get(&url("Bob.Builder@ACME.example"), Some(&token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-ratelimit-remaining"));
    let b: Value = r.json().await.unwrap();
    let users = b["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    let u = &users[0];
    assert_eq!(u["id"], user_id(BOB));
    assert_eq!(u["site_id"], 1);
    assert_eq!(u["user_name"], "Bob Builder");
    assert_eq!(u["first_name"], "Bob");
    assert_eq!(u["last_name"], "Builder");
    assert_eq!(u["user_status"], "active");
    assert_eq!(u["default_account_id"], ACME_SALES);
    assert_eq!(u["is_organization_admin"], false);
    assert!(u.get("email").is_none(), "DocuSign puts the e-mail on each membership");
    let m = &u["memberships"][0];
    assert_eq!(m["email"], BOB);
    assert_eq!(m["account_id"], ACME_SALES);
    assert_eq!(m["account_name"], "Acme Sales");
    assert_eq!(m["is_admin"], true);
    assert_eq!(m["is_external_account"], false);

    let ada = env.get_json(&url(ADA), Some(&token)).await;
    assert_eq!(ada["users"][0]["is_organization_admin"], true);
    // Nora: claimed domain and a member of Acme Labs.
    assert_eq!(env.get_json(&url(NORA), Some(&token)).await["users"][0]["id"], user_id(NORA));
    // Not the organization's users, or nobody at all: an empty list.
    for email in [GINA, MIA, "nobody@acme.example"] {
        assert_eq!(env.get_json(&url(email), Some(&token)).await, json!({"users": []}), "{email}");
    }
    let (status, b) = body(env.get(&format!("{}/v2.1/organizations/{ACME_ORG}/users/dsprofile", env.sb.admin_api_url()), Some(&token)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"], "invalid_request");
    let counts = env.get_json(&env.url("/control/requests"), None).await;
    assert!(counts["GET /management/v2.1/organizations/{organizationId}/users/dsprofile"].as_u64().unwrap() >= 6);
}

#[tokio::test]
async fn the_profile_lookup_needs_a_token_the_user_read_scope_and_an_org_admin() {
    let env = start().await;
    let url = |org: &str| format!("{}/v2.1/organizations/{org}/users/dsprofile?email={BOB}", env.sb.admin_api_url());
    let (status, b) = body(env.get(&url(ACME_ORG), Some("garbage")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"], "invalid_token");

    env.control("/consents/grant", json!({"user_id": user_id(ADA), "scopes": ["signature", "impersonation", "organization_read", "user_read"]})).await;
    let no_user_read = env.jwt_token(ADA, "signature impersonation organization_read").await;
    let (status, b) = body(env.get(&url(ACME_ORG), Some(&no_user_read)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b["error"], "insufficient_scope");

    let ada = env.jwt_token(ADA, "signature impersonation user_read").await;
    let (status, b) = body(env.get(&url("00000000-0000-0000-0000-000000000000"), Some(&ada)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(b["error"], "not_found");

    env.control("/consents/grant", json!({"user_id": user_id(BOB), "scopes": ["signature", "impersonation", "user_read"]})).await;
    let bob = env.jwt_token(BOB, "signature impersonation user_read").await;
    let (status, b) = body(env.get(&url(ACME_ORG), Some(&bob)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b["error"], "forbidden");
}

#[tokio::test]
async fn org_admin_consent_with_admin_api_scopes_reaches_them_through_the_jwt_grant_for_covered_users() {
    let env = start().await;
    let scopes = "signature impersonation organization_read domain_read user_read";
    let (verifier, challenge) = pkce();
    let p = env.consent_flow(ADA, "openid", &challenge, &[("admin_consent_scope", scopes)]).await;
    let (status, tokens) = body(env.exchange(&p["code"], &verifier).await).await;
    assert_eq!(status, StatusCode::OK);
    // The admin's own code-grant token carries `openid` only.
    let admin = env.sb.admin_api_url();
    let (status, b) = body(env.get(&format!("{admin}/v2/organizations"), tokens["access_token"].as_str()).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b["error"], "insufficient_scope");

    // Ada (acme.example is an active claimed domain) gets every admin_consent_scope via JWT.
    let ada = env.jwt_token(ADA, scopes).await;
    assert_eq!(env.get_json(&format!("{admin}/v2/organizations"), Some(&ada)).await["organizations"][0]["id"], ACME_ORG);
    let domains = env.get_json(&format!("{admin}/v2/organizations/{ACME_ORG}/reserved_domains"), Some(&ada)).await;
    assert_eq!(domains["reserved_domains"][0]["host_name"], "acme.example");
    let users = env.get_json(&format!("{admin}/v2.1/organizations/{ACME_ORG}/users/dsprofile?email={BOB}"), Some(&ada)).await;
    assert_eq!(users["users"][0]["id"], user_id(BOB));
    // So does Bob, another covered user; Gina is not covered.
    let a = env.assertion(env.claims(BOB, scopes).await);
    assert_eq!(env.jwt_grant(&a).await.status(), StatusCode::OK);
    let a = env.assertion(env.claims(GINA, scopes).await);
    assert_eq!(body(env.jwt_grant(&a).await).await.1, json!({"error": "consent_required"}));
}
