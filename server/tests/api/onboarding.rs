//! Consent onboarding end to end against the DocuSign sandbox over real HTTP: the portal's router
//! in-process plays the server, the test plays the customer admin's browser (following
//! redirects by hand, submitting the sandbox's sign-in and consent forms).

use std::collections::HashMap;

use app::environment::Environment;
use http::{StatusCode, header};
use secrecy::SecretString;
use serde_json::{Value, json};
use server::config::{Config, IsvEnvironment};
use server::sandbox::{Sandbox, SandboxConfig};

use crate::on_both_databases;
use crate::support::*;

pub const MIA: &str = "mia@initech.example";
pub const ADA: &str = "ada.admin@acme.example";
pub const BOB: &str = "bob.builder@acme.example";
pub const GINA: &str = "gina@globex.example";
pub const INITECH_EU: &str = "b1a5decb-c675-4548-9317-41c1c26313d5";
pub const ACME_SALES: &str = "2dc3c088-c34c-4525-8fee-7ec91a045ce8";

/// The portal (in-process) wired to a sandbox (real HTTP) for both environments.
pub struct Onboarding {
    pub app: TestApp,
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub staff: String,
}

/// What the admin's browser holds: the invite session cookie.
pub struct Browser {
    pub cookie: String,
}

fn isv(sandbox: &Sandbox, env: Environment) -> IsvEnvironment {
    IsvEnvironment {
        account_server: sandbox.account_server_url().parse().unwrap(),
        admin_api: sandbox.admin_api_url().parse().unwrap(),
        integration_key: sandbox.integration_key().to_owned(),
        client_secret: SecretString::from(sandbox.client_secret().to_owned()),
        private_key_pem: Some(SecretString::from(sandbox.test_private_key_pem().expect("fixture test key").to_owned())),
        private_key_file: None,
        redirect_uri: format!("{ORIGIN}/oauth/callback/{}", env.as_str()).parse().unwrap(),
        scopes: vec!["signature".into(), "impersonation".into()],
        admin_scopes: vec!["organization_read".into(), "domain_read".into(), "user_read".into()],
        keep_refresh_tokens: true,
        allowed_base_uri_hosts: vec!["127.0.0.1".into()],
        setup: {
            let mut profile = server::checks::SetupProfile::default();
            profile.connect.listener_url_template = LISTENER_TEMPLATE.into();
            profile
        },
        connect_hmac_keys: HMAC_KEYS.iter().map(|k| SecretString::from((*k).to_owned())).collect(),
    }
}

/// Where the tests' setup profile expects Connect to publish.
pub const LISTENER_TEMPLATE: &str = "https://portal.example.com/connect/{tenant}";
/// The ISV's Connect HMAC keys in the tests (two: rotation).
pub const HMAC_KEYS: [&str; 2] = ["first-connect-key", "second-connect-key"];

/// A configuration wired to `sandbox`.
pub fn config_for(sandbox: &Sandbox) -> Config {
    let mut config = test_config();
    config.docusign.demo = Some(isv(sandbox, Environment::Demo));
    config.docusign.production = Some(isv(sandbox, Environment::Production));
    config
}

/// The sandbox for these suites: in vary mode when the test binary says so (`tests/vary`).
pub async fn sandbox() -> Sandbox {
    let mut cfg = if crate::SANDBOX_VARY { SandboxConfig::for_tests().varied() } else { SandboxConfig::for_tests() };
    cfg.registered_redirect_uris = vec![format!("{ORIGIN}/oauth/callback/demo"), format!("{ORIGIN}/oauth/callback/production")];
    Sandbox::start(cfg).await.expect("sandbox")
}

fn request_id_in(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("a request_id field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn query_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).expect("absolute redirect");
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

impl Onboarding {
    pub async fn new(backend: Backend) -> Onboarding {
        let sandbox = sandbox().await;
        let app = TestApp::with(backend, config_for(&sandbox)).await;
        let staff = app.sign_in("config@isv.test").await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Onboarding { app, sandbox, http, staff }
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.sandbox.control_url().unwrap().trim_end_matches("/control"));
        let r = self.http.request(method, url).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// Request counts per endpoint in the sandbox.
    pub async fn counts(&self) -> HashMap<String, u64> {
        let url = format!("{}/requests", self.sandbox.control_url().unwrap());
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }

    pub async fn token_exchanges(&self) -> u64 {
        self.counts().await.get("POST /oauth/token authorization_code").copied().unwrap_or(0)
    }

    /// Staff issue an invite for `tenant` and return the token in its link.
    pub async fn invite(&self, tenant: uuid::Uuid) -> String {
        let r = self.app.call("/api/onboarding/create_invite", Some(&self.staff), &[("tenant_id", &tenant.to_string())]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
    }

    /// The customer admin opens the link and presses Start.
    pub async fn redeem(&self, token: &str) -> Browser {
        let r = self.app.call("/api/onboarding/redeem_invite", None, &[("token", token)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        Browser { cookie: cookie_from(&r.headers).expect("invite session cookie") }
    }

    /// Presses a wizard button (`sign_in`, `individual`, `organization`): the DocuSign URL.
    pub async fn start(&self, b: &Browser, purpose: &str) -> String {
        let r = self.app.call("/oauth/start", Some(&b.cookie), &[("purpose", purpose)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.headers.get(header::LOCATION).unwrap().to_str().unwrap().to_owned()
    }

    /// At DocuSign: sign in as `email` and Allow (or Deny); returns the redirect back.
    pub async fn at_docusign(&self, authorize_url: &str, email: &str, allow: bool) -> String {
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        let rid = request_id_in(&page.text().await.unwrap());
        let url = |p: &str| format!("{}{p}", self.sandbox.account_server_url());
        let r = self.http.post(url("/oauth/auth/signin")).form(&[("request_id", rid.as_str()), ("user", email), ("email", ""), ("password", "")]).send().await.unwrap();
        let r = if r.status() == reqwest::StatusCode::OK {
            let html = r.text().await.unwrap();
            let decision = if allow { "allow" } else { "deny" };
            self.http.post(url("/oauth/auth/consent")).form(&[("request_id", request_id_in(&html).as_str()), ("decision", decision)]).send().await.unwrap()
        } else {
            r
        };
        assert!(r.status().is_redirection(), "expected a redirect back, got {}", r.status());
        r.headers().get("location").unwrap().to_str().unwrap().to_owned()
    }

    /// The browser follows DocuSign's redirect to the portal's callback; returns where the portal sends it.
    pub async fn back_to_portal(&self, b: &Browser, location: &str) -> String {
        let path = location.strip_prefix(ORIGIN).expect("a redirect to the portal");
        let r = self.app.get(path, Some(&b.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.headers.get(header::LOCATION).unwrap().to_str().unwrap().to_owned()
    }

    /// One full round trip. A sign-in whose accounts belong to an organization continues at
    /// DocuSign with the admin's read consent, which the admin allows.
    pub async fn round_trip(&self, b: &Browser, purpose: &str, email: &str) {
        let url = self.start(b, purpose).await;
        let back = self.at_docusign(&url, email, true).await;
        let mut next = self.back_to_portal(b, &back).await;
        if purpose == "sign_in" && next != "/wizard" {
            let back = self.at_docusign(&next, email, true).await;
            next = self.back_to_portal(b, &back).await;
        }
        assert_eq!(next, "/wizard");
    }

    pub async fn wizard(&self, b: &Browser) -> Value {
        let r = self.app.call("/api/wizard/status", Some(&b.cookie), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()
    }

    pub async fn choose_account(&self, b: &Browser, account: &str) -> Reply {
        self.app.call("/api/wizard/choose_account", Some(&b.cookie), &[("account_id", account)]).await
    }

    /// Chooses `account` with "Use it anyway" ticked (accepted even where the user is only a member).
    pub async fn choose_account_anyway(&self, b: &Browser, account: &str) -> Reply {
        self.app.call("/api/wizard/choose_account", Some(&b.cookie), &[("account_id", account), ("use_member_account", "on")]).await
    }

    pub async fn verify(&self, b: &Browser) -> Value {
        let r = self.app.call("/api/wizard/verify", Some(&b.cookie), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()
    }

    pub async fn consent(&self, tenant: uuid::Uuid) -> Value {
        let r = self.app.call("/api/onboarding/tenant_consent", Some(&self.staff), &[("tenant_id", &tenant.to_string())]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()
    }

    /// Individual path to a verified tenant with `email`, pinning `account` (with "Use it anyway"
    /// ticked, so a member account is taken too).
    pub async fn verified_individually(&self, tenant: uuid::Uuid, email: &str, account: &str) -> Browser {
        let b = self.redeem(&self.invite(tenant).await).await;
        self.round_trip(&b, "sign_in", email).await;
        self.round_trip(&b, "individual", email).await;
        assert_eq!(self.choose_account_anyway(&b, account).await.status, StatusCode::OK);
        assert_eq!(self.verify(&b).await["outcome"], "verified");
        b
    }
}

on_both_databases! {
    async fn the_individual_path_pins_the_chosen_account_and_verifies(backend) {
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        let b = o.redeem(&o.invite(tenant).await).await;
        assert_eq!(o.wizard(&b).await["step"], "welcome");
        assert_eq!(o.consent(tenant).await["status"]["state"], "in_progress");

        o.round_trip(&b, "sign_in", MIA).await;
        let w = o.wizard(&b).await;
        assert_eq!(w["step"], "choose_path");
        assert_eq!(w["signed_in"]["email"], MIA);
        assert_eq!(w["advice"]["recommended"], "individual");

        o.round_trip(&b, "individual", MIA).await;
        let w = o.wizard(&b).await;
        assert_eq!(w["step"], "system_user");
        assert_eq!(w["candidate"]["email"], MIA);
        assert_eq!(w["candidate"]["accounts"].as_array().unwrap().len(), 2, "mia has two accounts");
        assert_eq!(o.consent(tenant).await["status"]["state"], "consented");

        // Each account says her role in it, as DocuSign reports it (isAdmin).
        let mut roles: Vec<(&str, &str)> = w["candidate"]["accounts"].as_array().unwrap().iter().map(|a| (a["account_name"].as_str().unwrap(), a["role"].as_str().unwrap())).collect();
        roles.sort();
        assert_eq!(roles, [("Initech EU", "member"), ("Initech US", "admin")]);
        let page = o.app.get("/wizard", Some(&b.cookie)).await;
        assert!(page.body.contains("administrator") && page.body.contains("member only"), "the account choice shows each role");
        let shown = visible_text(&page.body).to_lowercase();
        assert_eq!(shown.matches("consent granted").count(), 1, "the good news is said once: {shown}");
        assert!(page.body.contains("Next, choose the account"), "and what comes next");

        // She picks her second account, which lives on another base URI and where she is only a
        // member: the portal warns first and pins nothing.
        let eu = w["candidate"]["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == INITECH_EU).unwrap().clone();
        let warned = o.choose_account(&b, INITECH_EU).await;
        assert_eq!(warned.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", warned.body);
        assert!(warned.body.contains("member, not an administrator") && warned.body.contains("Use it anyway"), "{}", warned.body);
        assert!(o.consent(tenant).await["system_user"].is_null(), "nothing pinned before she accepts");
        assert_eq!(o.choose_account_anyway(&b, INITECH_EU).await.status, StatusCode::OK);
        assert_eq!(o.wizard(&b).await["step"], "verify");
        let v = o.verify(&b).await;
        assert_eq!(v["outcome"], "verified", "{v}");

        let c = o.consent(tenant).await;
        assert_eq!(c["status"]["state"], "verified");
        assert_eq!(c["system_user"]["account_id"], INITECH_EU);
        assert_eq!(c["system_user"]["base_uri"], eu["base_uri"]);
        assert_eq!(c["receipt"]["mode"], "individual");
        assert_eq!(c["receipt"]["user_email"], MIA);
        assert!(c["receipt"]["verification"].as_str().unwrap().contains("JWT grant"));
        assert_eq!(o.wizard(&b).await["step"], "done");
        // One exchange per callback: sign-in and consent.
        assert_eq!(o.token_exchanges().await, 2);
    }
}

#[tokio::test]
async fn the_organization_path_lets_the_admin_name_a_system_user_in_a_claimed_domain() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_b;
    let b = o.redeem(&o.invite(tenant).await).await;
    o.round_trip(&b, "sign_in", ADA).await;
    let w = o.wizard(&b).await;
    assert_eq!(w["advice"]["recommended"], "organization", "acme.example is active and covers Ada: {}", w["organization"]);
    assert_eq!(w["organization"]["verdict"], "covered");
    o.round_trip(&b, "organization", ADA).await;
    let w = o.wizard(&b).await;
    assert_eq!(w["step"], "system_user");
    assert_eq!(w["receipt"]["mode"], "organization");
    assert!(w["candidate"].is_null(), "the admin names the system user");

    let outside = o.app.call("/api/wizard/name_system_user", Some(&b.cookie), &[("input[user]", GINA)]).await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", outside.body);
    assert!(outside.json()["fields"]["user"][0].as_str().unwrap().contains("not an active claimed domain"));

    let ok = o.app.call("/api/wizard/name_system_user", Some(&b.cookie), &[("input[user]", BOB)]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(o.wizard(&b).await["candidate"]["email"], BOB);
    assert_eq!(o.choose_account(&b, ACME_SALES).await.status, StatusCode::OK);
    assert_eq!(o.verify(&b).await["outcome"], "verified");
    let c = o.consent(tenant).await;
    assert_eq!(c["status"]["state"], "verified");
    assert_eq!(c["system_user"]["email"], BOB);
    assert!(c["receipt"]["organization_id"].is_string());
}

#[tokio::test]
async fn denying_consent_changes_nothing_and_exchanges_no_code() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    o.round_trip(&b, "sign_in", GINA).await;
    let url = o.start(&b, "individual").await;
    let back = o.at_docusign(&url, GINA, false).await;
    assert_eq!(query_of(&back)["error"], "access_denied");
    o.back_to_portal(&b, &back).await;
    let w = o.wizard(&b).await;
    // `access_denied` does not say who refused: the wizard says what happened without blaming
    // the admin, and names the next step.
    assert_eq!(w["notice"]["title"], "DocuSign did not grant consent.");
    assert!(w["notice"]["message"].as_str().unwrap().contains("Grant individual consent"), "{}", w["notice"]);
    assert_eq!(w["step"], "choose_path");
    assert_eq!(o.consent(o.app.world.tenant_a).await["status"]["state"], "in_progress");
    assert_eq!(o.token_exchanges().await, 1, "only the sign-in's code was exchanged");
}

#[tokio::test]
async fn a_code_that_waited_past_two_minutes_is_reported_as_expired() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    o.round_trip(&b, "sign_in", GINA).await;
    let url = o.start(&b, "individual").await;
    let back = o.at_docusign(&url, GINA, true).await;
    o.control(reqwest::Method::POST, "/control/clock/advance", json!({ "seconds": 130 })).await;
    o.back_to_portal(&b, &back).await;
    let w = o.wizard(&b).await;
    assert_eq!(w["notice"]["title"], "DocuSign says the sign-in code expired.");
    assert_eq!(o.consent(o.app.world.tenant_a).await["status"]["state"], "in_progress");
}

#[tokio::test]
async fn a_replayed_callback_is_refused_without_a_second_exchange() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = o.at_docusign(&url, GINA, true).await;
    o.back_to_portal(&b, &back).await;
    assert_eq!(o.token_exchanges().await, 1);
    o.back_to_portal(&b, &back).await;
    assert_eq!(o.wizard(&b).await["notice"]["title"], "This sign-in was already completed.");
    assert_eq!(o.token_exchanges().await, 1);
}

#[tokio::test]
async fn concurrent_identical_callbacks_exchange_the_code_once() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = o.at_docusign(&url, GINA, true).await;
    let path = back.strip_prefix(ORIGIN).unwrap().to_owned();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let router = o.app.router.clone();
            let req = http::Request::get(&path).header(header::COOKIE, &b.cookie).body(axum::body::Body::empty()).unwrap();
            tokio::spawn(async move { tower::ServiceExt::oneshot(router, req).await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
    }
    assert_eq!(o.token_exchanges().await, 1);
}

#[tokio::test]
async fn a_callback_in_another_browser_session_is_refused_and_the_owner_can_still_finish() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let owner = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&owner, "sign_in").await;
    let back = o.at_docusign(&url, GINA, true).await;
    let other = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    o.back_to_portal(&other, &back).await;
    assert_eq!(o.wizard(&other).await["notice"]["title"], "This sign-in was started in another browser session.");
    assert_eq!(o.token_exchanges().await, 0);
    o.back_to_portal(&owner, &back).await;
    assert_eq!(o.wizard(&owner).await["step"], "choose_path");
    assert_eq!(o.token_exchanges().await, 1);
}

#[tokio::test]
async fn a_callback_on_the_other_environments_redirect_uri_is_refused() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = o.at_docusign(&url, GINA, true).await;
    assert!(back.contains("/oauth/callback/demo?"));
    let wrong = back.replace("/oauth/callback/demo?", "/oauth/callback/production?");
    o.back_to_portal(&b, &wrong).await;
    assert_eq!(o.wizard(&b).await["notice"]["title"], "This answer came back to the wrong environment.");
    assert_eq!(o.token_exchanges().await, 0);
}

#[tokio::test]
async fn a_start_or_callback_without_an_invite_session_is_refused() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let start = o.app.call("/oauth/start", None, &[("purpose", "sign_in")]).await;
    assert_eq!(start.status, StatusCode::UNAUTHORIZED);
    let staff_start = o.app.call("/oauth/start", Some(&o.staff), &[("purpose", "sign_in")]).await;
    assert_eq!(staff_start.status, StatusCode::UNAUTHORIZED, "staff sessions are not invite sessions");
    let cb = o.app.get("/oauth/callback/demo?code=x&state=y", None).await;
    assert_eq!(cb.status, StatusCode::UNAUTHORIZED);
    assert!(!cb.body.contains("code=x"));
}

#[tokio::test]
async fn revoked_consent_is_detected_by_verification_and_the_state_becomes_revoked() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, "f941ebb9-c656-4ead-bd63-fa7beda083e5").await;
    let gina = server::sandbox::default_fixture().user_by_email(GINA).unwrap().id.clone();
    o.control(reqwest::Method::POST, "/control/consents/revoke", json!({ "user_id": gina })).await;
    let r = o.app.call("/api/onboarding/staff_verify", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["outcome"], "consent_revoked");
    let c = o.consent(tenant).await;
    assert_eq!(c["status"]["state"], "revoked");
    assert_eq!(c["last_verification"]["outcome"], "consent_revoked");
}

#[tokio::test]
async fn an_unreachable_provider_changes_nothing() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, "f941ebb9-c656-4ead-bd63-fa7beda083e5").await;
    let before = o.consent(tenant).await;
    let events_before = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    o.control(reqwest::Method::POST, "/control/faults", json!({ "scope": "all", "fail_5xx_ratio": 1.0 })).await;
    let r = o.app.call("/api/onboarding/staff_verify", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["outcome"], "provider_unreachable");
    let after = o.consent(tenant).await;
    assert_eq!(after["status"], before["status"]);
    let events_after = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    let changes = |events: &[app::audit::AuditEventView]| events.iter().filter(|e| e.action == "consent.state_changed").count();
    assert_eq!(changes(&events_after), changes(&events_before), "an unreachable provider changes no consent state");
    assert_eq!(after["last_verification"], before["last_verification"]);
}

#[tokio::test]
async fn a_system_user_removed_from_the_account_or_a_moved_account_needs_attention() {
    use sea_orm::{ConnectionTrait, Statement};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, MIA, INITECH_EU).await;
    let db = &o.app.portal.db;
    // The pinned account is one the user is not (any longer) a member of.
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE system_users SET account_id = $1 WHERE tenant_id = $2",
        [ACME_SALES.into(), tenant.into()],
    ))
    .await
    .unwrap();
    let tenant_s = tenant.to_string();
    let verify_form = [("tenant_id", tenant_s.as_str())];
    let v = o.app.call("/api/onboarding/staff_verify", Some(&o.staff), &verify_form).await.json();
    assert_eq!(v["outcome"], "not_a_member");
    let c = o.consent(tenant).await;
    assert_eq!(c["status"]["state"], "needs_attention");
    assert_eq!(c["status"]["reason"], "not_a_member");
    // The account answers elsewhere than where it was pinned.
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE system_users SET account_id = $1, base_uri = $2 WHERE tenant_id = $3",
        [INITECH_EU.into(), "http://127.0.0.1:9".into(), tenant.into()],
    ))
    .await
    .unwrap();
    let v = o.app.call("/api/onboarding/staff_verify", Some(&o.staff), &verify_form).await.json();
    assert_eq!(v["outcome"], "base_uri_changed");
}

#[tokio::test]
async fn opening_an_invite_link_consumes_nothing_and_bad_links_say_why() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let token = o.invite(tenant).await;
    for _ in 0..3 {
        let page = o.app.get(&format!("/onboard/{token}"), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Tenant acme"));
    }
    o.redeem(&token).await;
    let again = o.app.call("/api/onboarding/redeem_invite", None, &[("token", &token)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already used"));
    let unknown = o.app.get("/onboard/not-a-real-token", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("This invite link is not valid"));
    let first = o.invite(tenant).await;
    let _second = o.invite(tenant).await;
    let revoked = o.app.get(&format!("/onboard/{first}"), None).await;
    assert_eq!(revoked.status, StatusCode::CONFLICT);
    assert!(revoked.body.contains("withdrawn"));
    let c = o.consent(tenant).await;
    let statuses: Vec<&str> = c["invites"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["pending", "revoked", "used"]);
    assert!(!c.to_string().contains(&first), "invite tokens are never shown again");
}

on_both_databases! {
    async fn ten_concurrent_redemptions_of_one_invite_succeed_exactly_once(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let issued = server::onboarding::invites::issue(
            &db, &server::audit::Actor::system("t"), None, w.tenant_a, &ORIGIN.parse().unwrap(), chrono::Duration::days(7),
        ).await.unwrap();
        let token = issued.link.rsplit('/').next().unwrap().to_owned();
        let life = server::sessions::Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let tasks: Vec<_> = (0..10).map(|_| {
            let (db, token) = (db.clone(), token.clone());
            tokio::spawn(async move { server::onboarding::invites::redeem(&db, None, &token, life).await })
        }).collect();
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() { ok += 1; }
        }
        assert_eq!(ok, 1);
    }
}

on_both_databases! {
    async fn an_expired_invite_cannot_be_redeemed(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let issued = server::onboarding::invites::issue(
            &db, &server::audit::Actor::system("t"), None, w.tenant_a, &ORIGIN.parse().unwrap(), chrono::Duration::seconds(-1),
        ).await.unwrap();
        let token = issued.link.rsplit('/').next().unwrap();
        let life = server::sessions::Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let err = server::onboarding::invites::redeem(&db, None, token, life).await.unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }
}

on_both_databases! {
    async fn the_consent_panel_lists_the_newest_invites_with_the_pending_one_and_points_to_the_timeline_for_older(backend) {
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        o.invite(tenant).await;
        let c = o.consent(tenant).await;
        assert_eq!(c["invites"].as_array().unwrap().len(), 1);
        assert_eq!(c["older_invites"], false);
        let html = o.app.get(&format!("/tenants/{tenant}"), Some(&o.staff)).await.body;
        assert!(!html.contains("data-testid=\"older-invites\""), "nothing older to point to");

        let shown = server::onboarding::records::INVITES_SHOWN as usize;
        for _ in 0..shown + 1 {
            o.invite(tenant).await;
        }
        let c = o.consent(tenant).await;
        let invites = c["invites"].as_array().unwrap();
        assert_eq!(invites.len(), shown, "the panel is bounded however many invites were issued");
        assert_eq!(c["older_invites"], true);
        assert_eq!(invites[0]["status"], "pending", "the one invite staff can act on comes first: {invites:?}");
        assert!(invites[1..].iter().all(|i| i["status"] == "revoked"), "{invites:?}");
        let html = o.app.get(&format!("/tenants/{tenant}"), Some(&o.staff)).await.body;
        assert!(html.contains("data-testid=\"older-invites\""), "{html}");
    }
}

on_both_databases! {
    async fn fifty_concurrent_readers_of_an_expiring_token_cause_one_refresh(backend) {
        use sea_orm::{ConnectionTrait, Statement};
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        o.verified_individually(tenant, GINA, "f941ebb9-c656-4ead-bd63-fa7beda083e5").await;
        let db = o.app.portal.db.clone();
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE credentials SET access_expires_at = $1",
            [(chrono::Utc::now() - chrono::Duration::minutes(1)).into()],
        )).await.unwrap();
        let portal = o.app.portal.clone();
        let tasks: Vec<_> = (0..50).map(|_| {
            let portal = portal.clone();
            tokio::spawn(async move {
                let d = portal.deps(Environment::Demo).unwrap();
                server::onboarding::credentials::access_token(d.db, d.keyring, d.client, tenant, Environment::Demo, server::onboarding::credentials::CONSENT).await
            })
        }).collect();
        let mut tokens = std::collections::HashSet::new();
        for t in tasks {
            let token = t.await.unwrap().expect("a token");
            tokens.insert(secrecy::ExposeSecret::expose_secret(&token).to_owned());
        }
        assert_eq!(tokens.len(), 1, "everyone gets the same new token");
        assert_eq!(o.counts().await.get("POST /oauth/token refresh_token").copied().unwrap_or(0), 1);
    }
}

#[tokio::test]
async fn the_portal_refuses_to_start_without_an_encryption_key_or_with_a_weak_isv_key() {
    let sandbox = sandbox().await;
    let db = fresh_db(Backend::Sqlite).await;

    let mut no_key = config_for(&sandbox);
    no_key.encryption_keys = None;
    let err = server::state::Portal::new(db.clone(), std::sync::Arc::new(no_key)).err().expect("refused");
    assert!(err.to_string().contains("PORTAL_ENCRYPTION_KEYS"), "{err}");

    let mut weak = config_for(&sandbox);
    let short = {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap().to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    };
    weak.docusign.demo.as_mut().unwrap().private_key_pem = Some(SecretString::from(short));
    let err = server::state::Portal::new(db.clone(), std::sync::Arc::new(weak)).err().expect("refused");
    assert!(err.to_string().contains("docusign.demo"), "{err}");
    assert!(!err.to_string().contains("PRIVATE KEY"), "the key never appears in the message");

    let mut garbage = config_for(&sandbox);
    garbage.docusign.production.as_mut().unwrap().private_key_pem = Some(SecretString::from("not a key".to_owned()));
    assert!(server::state::Portal::new(db, std::sync::Arc::new(garbage)).is_err());
}

#[tokio::test]
async fn no_secret_reaches_the_pages_or_answers_of_the_wizard_and_the_staff() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let b = o.verified_individually(tenant, MIA, INITECH_EU).await;
    let wizard_page = o.app.get("/wizard", Some(&b.cookie)).await;
    let staff_page = o.app.get(&format!("/tenants/{tenant}"), Some(&o.staff)).await;
    let consent = o.consent(tenant).await.to_string();
    let status = o.wizard(&b).await.to_string();
    let secret = o.sandbox.client_secret().to_owned();
    for text in [&wizard_page.body, &staff_page.body, &consent, &status] {
        assert!(!text.contains(&secret), "the client secret leaked");
        assert!(!text.contains("PRIVATE KEY"), "a key leaked");
        assert!(!text.contains("access_token") && !text.contains("refresh_token"), "a token field leaked");
    }
    // Stored tokens are encrypted: no row holds a bearer token in the clear.
    use sea_orm::{EntityTrait};
    let rows = server::db::entities::credential::Entity::find().all(&o.app.portal.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].access_token.starts_with("v1."));
    assert!(rows[0].refresh_token.as_deref().unwrap().starts_with("v1."));
}

#[tokio::test]
async fn a_callback_with_a_missing_wrong_or_expired_state_or_a_wrong_issuer_exchanges_no_code() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = url::Url::parse(&o.at_docusign(&url, GINA, true).await).unwrap();
    let with_query = |pairs: Vec<(String, String)>| {
        let mut u = back.clone();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    };
    let original: Vec<(String, String)> = back.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let without_state: Vec<_> = original.iter().filter(|(k, _)| k != "state").cloned().collect();
    let wrong_state: Vec<_> =
        original.iter().map(|(k, v)| if k == "state" { (k.clone(), "x".repeat(43)) } else { (k.clone(), v.clone()) }).collect();
    let mut wrong_issuer = original.clone();
    wrong_issuer.push(("iss".into(), "https://account.evil.example".into()));
    for (case, pairs) in [("missing state", without_state), ("wrong state", wrong_state), ("wrong iss", wrong_issuer)] {
        assert_eq!(o.back_to_portal(&b, &with_query(pairs)).await, "/wizard", "{case}");
        assert_eq!(o.token_exchanges().await, 0, "{case}: no code may be exchanged");
        assert!(o.wizard(&b).await["notice"].is_object(), "{case}: the wizard says what happened");
    }
    // The real state, after its transaction expired.
    use sea_orm::ConnectionTrait;
    o.app.portal.db.execute_unprepared("UPDATE oauth_transactions SET expires_at = '2000-01-01 00:00:00+00:00'").await.unwrap();
    assert_eq!(o.back_to_portal(&b, back.as_str()).await, "/wizard");
    assert_eq!(o.token_exchanges().await, 0, "expired: no code may be exchanged");
}

#[tokio::test]
async fn a_refused_organization_consent_is_explained_without_matching_docusigns_wording() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    // Uma administers an organization whose only claimed domain is still pending: the sandbox
    // refuses her organization consent, in words of its own.
    o.round_trip(&b, "sign_in", crate::fixture::UMA).await;
    let url = o.start(&b, "organization").await;
    let back = o.at_docusign(&url, crate::fixture::UMA, true).await;
    let said = query_of(&back);
    assert_eq!(said["error"], "access_denied");
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard", "DocuSign's words never reach a URL");
    let w = o.wizard(&b).await;
    assert_eq!(w["notice"]["title"], "DocuSign did not grant consent.");
    let message = w["notice"]["message"].as_str().unwrap();
    assert!(!message.contains("declined"), "{message}");
    assert!(message.contains("Domains in DocuSign Admin") && message.contains("“Grant individual consent”"), "{message}");
    assert!(
        w["notice"]["evidence"].as_array().unwrap().contains(&json!(format!("DocuSign's description: {}", said["error_description"]))),
        "DocuSign's own words as evidence: {}",
        w["notice"]
    );
    assert_eq!(w["step"], "choose_path", "the same screen offers individual consent");
    assert_eq!(o.token_exchanges().await, 2, "only the sign-in's and the read consent's codes were exchanged");
}

/// Every form of error redirect, answered to a real transaction of the organization path: what
/// the wizard says, what it shows as DocuSign's words, and that nothing changed.
#[tokio::test]
async fn every_error_redirect_form_is_classified_by_its_error_code_and_changes_nothing() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let b = o.redeem(&o.invite(tenant).await).await;
    o.round_trip(&b, "sign_in", ADA).await;
    let db = &o.app.portal.db;
    let grants = || server::db::entities::consent_grant::Entity::find().count(db);
    let events = || server::db::entities::audit_event::Entity::find().count(db);
    let (grants_before, events_before) = (grants().await.unwrap(), events().await.unwrap());
    let state_before = o.consent(tenant).await["status"].clone();

    const HOSTILE: &str = "<script>alert(1)</script><b>Refused</b> & \"quoted\"";
    /// One error redirect, what the wizard's title says, and words its message and evidence hold.
    struct Form(&'static str, Option<&'static str>, Option<&'static str>, &'static str, &'static [&'static str], &'static [&'static str]);
    // Form(error, error_description, error_uri, title, words in the message, words in the evidence)
    let cases = [
        Form("access_denied", None, None, "DocuSign did not grant consent.", &["Cancel or Deny", "Domains in DocuSign Admin"], &["DocuSign's error code: access_denied"]),
        Form("access_denied", Some("The user canceled the request."), None, "DocuSign did not grant consent.", &["Nothing was changed"], &["DocuSign's description: The user canceled the request."]),
        Form("access_denied", Some("Not allowed."), Some("https://developers.docusign.com/platform/auth"), "DocuSign did not grant consent.", &["Nothing was changed"], &["DocuSign's reference: https://developers.docusign.com/platform/auth"]),
        Form("invalid_scope", Some("scope not enabled"), None, "DocuSign refused the request our portal sent.", &["tell the person who invited you"], &["DocuSign's error code: invalid_scope"]),
        Form("server_error", None, None, "DocuSign could not complete this right now.", &["Wait a few minutes", "“Grant organization consent”"], &["DocuSign's error code: server_error"]),
        Form("temporarily_unavailable", Some("Try later"), None, "DocuSign could not complete this right now.", &["Wait a few minutes"], &["DocuSign's description: Try later"]),
        Form("unauthorized_client", None, None, "DocuSign refused the request our portal sent.", &["not at your account"], &["DocuSign's error code: unauthorized_client"]),
        Form("brand_new_code", Some("Something new"), None, "DocuSign did not grant consent.", &["does not know", "“Grant individual consent”"], &["DocuSign's error code: brand_new_code"]),
        Form("access_denied", Some(HOSTILE), None, "DocuSign did not grant consent.", &["Nothing was changed"], &[HOSTILE]),
    ];
    for Form(error, description, error_uri, title, in_message, in_evidence) in cases {
        let authorize = url::Url::parse(&o.start(&b, "organization").await).unwrap();
        let q: HashMap<String, String> = authorize.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let mut back = url::Url::parse(&q["redirect_uri"]).unwrap();
        back.query_pairs_mut().append_pair("state", &q["state"]).append_pair("error", error);
        if let Some(d) = description {
            back.query_pairs_mut().append_pair("error_description", d);
        }
        if let Some(u) = error_uri {
            back.query_pairs_mut().append_pair("error_uri", u);
        }
        let case = format!("{error} / {description:?} / {error_uri:?}");
        assert_eq!(o.back_to_portal(&b, back.as_str()).await, "/wizard", "{case}: a clean address, nothing of DocuSign's in it");
        let notice = o.wizard(&b).await["notice"].clone();
        assert_eq!(notice["kind"], "error", "{case}");
        assert_eq!(notice["title"], title, "{case}");
        let message = notice["message"].as_str().unwrap();
        assert!(!message.to_lowercase().contains("declined"), "{case}: {message}");
        for words in in_message {
            assert!(message.contains(words), "{case}: {words:?} in {message}");
        }
        let evidence = serde_json::to_string(&notice["evidence"]).unwrap();
        for words in in_evidence {
            assert!(notice["evidence"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().contains(words)), "{case}: {words:?} in {evidence}");
        }
        // Nothing changed: no code exchanged, no grant, no audit event, the same consent state.
        assert_eq!(o.token_exchanges().await, 2, "{case}: only the sign-in's and the read consent's codes were exchanged");
        assert_eq!(grants().await.unwrap(), grants_before, "{case}");
        assert_eq!(events().await.unwrap(), events_before, "{case}");
        assert_eq!(o.consent(tenant).await["status"], state_before, "{case}");
    }
    // The page renders DocuSign's hostile words as text.
    let page = o.app.get("/wizard", Some(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert(1)</script>") && !page.body.contains("<b>Refused</b>"), "escaped");
    assert!(page.body.contains("&lt;b&gt;Refused&lt;/b&gt;") || page.body.contains("&lt;b>Refused&lt;/b>"), "shown as text");
}

/// A callback that cannot be accepted (a replay, here) names only controls the admin's screen
/// has: after a completed sign-in that is the consent step's buttons, not “Sign in with DocuSign”.
#[tokio::test]
async fn a_replayed_sign_in_names_a_control_on_the_screen_it_returns_to() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = o.at_docusign(&url, GINA, true).await;
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard");
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard");
    let w = o.wizard(&b).await;
    assert_eq!(w["notice"]["title"], "This sign-in was already completed.");
    assert_eq!(w["step"], "choose_path");
    let message = w["notice"]["message"].as_str().unwrap();
    let named = app::onboarding::model::quoted_controls(message);
    assert_eq!(named, ["Grant organization consent", "Grant individual consent"], "{message}");
    let page = o.app.get("/wizard", Some(&b.cookie)).await;
    for name in named {
        assert!(page.body.contains(&format!(">{name}</button>")), "the page has a button “{name}”");
    }
}

#[tokio::test]
async fn back_after_start_resumes_the_wizard_in_the_same_browser_only() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let token = o.invite(o.app.world.tenant_a).await;
    let b = o.redeem(&token).await;
    let page = o.app.get(&format!("/onboard/{token}"), Some(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.headers.get(header::LOCATION).unwrap(), "/wizard", "the same browser is sent to its wizard");
    let stranger = o.app.get(&format!("/onboard/{token}"), None).await;
    assert_eq!(stranger.status, StatusCode::CONFLICT);
    assert!(stranger.body.contains("already used"), "another browser still hears the link is spent");
    let redeem_again = o.app.call("/api/onboarding/redeem_invite", Some(&b.cookie), &[("token", &token)]).await;
    assert_eq!(redeem_again.status, StatusCode::CONFLICT, "resuming consumes nothing and redeems nothing");
}

/// The organization screen as the wizard shows it after signing in as `email` (an organization
/// member: the sign-in continues with their read consent).
async fn organization_screen(o: &Onboarding, b: &Browser, email: &str) -> Value {
    o.round_trip(b, "sign_in", email).await;
    let w = o.wizard(b).await;
    assert_eq!(w["step"], "choose_path");
    w
}

async fn grants(o: &Onboarding) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    server::db::entities::consent_grant::Entity::find().count(&o.app.portal.db).await.unwrap()
}

#[tokio::test]
async fn an_org_admin_whose_only_domain_is_pending_sees_the_txt_record_before_any_consent_and_check_again_reads_it_anew() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let w = organization_screen(&o, &b, crate::fixture::UMA).await;
    let org = &w["organization"];
    assert_eq!(org["verdict"], "pending_only", "{org}");
    assert_eq!(org["pending"], json!([{ "host": "umbrella.example", "value": "docusign=9f8e7d6c5b4a39281706f5e4d3c2b1a0" }]));
    assert_eq!(org["organizations"], json!(["Umbrella Holdings"]));
    assert_eq!(org["can_check_again"], true);
    assert!(org["next_steps"].to_string().contains("“Check again”"), "{org}");
    assert_eq!(w["advice"]["recommended"], "individual", "a pending domain covers nobody");
    assert_eq!(w["advice"]["reasons"][0], org["headline"]);
    assert_eq!(grants(&o).await, 0, "no consent was attempted");
    {
        use sea_orm::EntityTrait;
        let rows = server::db::entities::wizard_progress::Entity::find().all(&o.app.portal.db).await.unwrap();
        let sealed = rows.iter().find_map(|r| r.directory_token.clone()).expect("the read token is kept for Check again");
        assert!(sealed.starts_with("v1."), "kept sealed, never in the clear");
        assert!(!w.to_string().contains(&sealed) && !w.to_string().contains("directory_token"), "the wizard never shows it");
    }
    let counts = o.counts().await;
    // Either spelling of the Admin API's base path (the sandbox hands out `/Management` in vary mode).
    let reads: u64 = counts
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("GET /management/v2/organizations/{organizationId}/reserved_domains"))
        .map(|(_, n)| *n)
        .sum();
    assert_eq!(reads, 1, "{counts:?}");
    // The page shows the record, escaped, with the screen's controls.
    let page = o.app.get("/wizard", Some(&b.cookie)).await;
    assert!(page.body.contains("docusign=9f8e7d6c5b4a39281706f5e4d3c2b1a0") && page.body.contains(">Check again</button>"), "{}", page.body.len());

    // The admin publishes the record and DocuSign activates the domain: "Check again" sees it.
    o.control(reqwest::Method::PUT, &format!("/control/organizations/{}/reserved_domains/umbrella.example", crate::fixture::UMBRELLA_ORG), json!({ "status": "active" })).await;
    let r = o.app.call("/api/wizard/check_organization", Some(&b.cookie), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let w = o.wizard(&b).await;
    assert_eq!(w["organization"]["verdict"], "covered", "{}", w["organization"]);
    assert_eq!(w["advice"]["recommended"], "organization");
    assert_eq!(o.token_exchanges().await, 2, "check again needs no new sign-in");
}

#[tokio::test]
async fn an_org_admin_without_a_claimed_domain_is_told_to_claim_one_and_offered_individual_consent() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let w = organization_screen(&o, &b, "sol@soylent.example").await;
    let org = &w["organization"];
    assert_eq!(org["verdict"], "no_claimed_domain", "{org}");
    assert_eq!(org["active_domains"], json!([]));
    assert_eq!(org["pending"], json!([]));
    assert!(org["next_steps"].to_string().contains("Claim your e-mail domain (soylent.example)"), "{org}");
    assert!(org["next_steps"].to_string().contains("“Grant individual consent”"), "{org}");
    assert_eq!(w["advice"]["recommended"], "individual");
    assert_eq!(grants(&o).await, 0);
}

#[tokio::test]
async fn an_active_domain_that_does_not_cover_the_intended_system_user_is_not_recommended_and_one_that_does_is() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let w = organization_screen(&o, &b, ADA).await;
    assert_eq!(w["organization"]["verdict"], "covered", "Ada's own domain is active: {}", w["organization"]);
    assert_eq!(w["organization"]["active_domains"], json!(["acme.example"]));
    assert_eq!(w["organization"]["other_domains"], json!([{ "host": "acme-old.example", "status": "deactivated" }]));

    let name = |email: &'static str| {
        let o = &o;
        let b = &b;
        async move { o.app.call("/api/wizard/intended_system_user", Some(&b.cookie), &[("input[email]", email)]).await }
    };
    let r = name("integration@stark.example").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let w = o.wizard(&b).await;
    let org = &w["organization"];
    assert_eq!(org["verdict"], "not_covered", "{org}");
    assert!(org["headline"].as_str().unwrap().contains("stark.example is not a claimed domain"), "{org}");
    assert_eq!(w["advice"]["recommended"], "individual");
    let r = name("docusign@acme-old.example").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(o.wizard(&b).await["organization"]["headline"].as_str().unwrap().contains("acme-old.example is deactivated"));

    // Bad input gets a specific message and changes nothing.
    let bad = name("not an e-mail").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.json()["fields"]["email"][0].as_str().unwrap().contains("e-mail address"), "{}", bad.body);
    assert_eq!(o.wizard(&b).await["organization"]["intended_email"], "docusign@acme-old.example");

    let r = name(BOB).await;
    assert_eq!(r.status, StatusCode::OK);
    let w = o.wizard(&b).await;
    assert_eq!(w["organization"]["verdict"], "covered");
    assert_eq!(w["advice"]["recommended"], "organization");
    assert_eq!(grants(&o).await, 0, "judging coverage grants nothing");
}

#[tokio::test]
async fn a_member_who_administers_no_organization_and_an_admin_who_refuses_the_read_are_each_told_why_and_offered_individual_consent() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let w = organization_screen(&o, &b, crate::fixture::NORA).await;
    assert_eq!(w["organization"]["verdict"], "not_an_admin", "{}", w["organization"]);
    assert_eq!(w["advice"]["recommended"], "individual");

    let b = o.redeem(&o.invite(o.app.world.tenant_b).await).await;
    let url = o.start(&b, "sign_in").await;
    let back = o.at_docusign(&url, ADA, true).await;
    let read = o.back_to_portal(&b, &back).await;
    assert!(read.starts_with(&o.sandbox.account_server_url()), "signing in continues with the read consent: {read}");
    assert!(query_of(&read)["scope"].contains("organization_read"), "{read}");
    let back = o.at_docusign(&read, ADA, false).await;
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard");
    let w = o.wizard(&b).await;
    assert_eq!(w["step"], "choose_path", "signed in all the same");
    assert_eq!(w["notice"]["title"], "DocuSign did not let the portal read your organization.");
    let org = &w["organization"];
    assert_eq!(org["verdict"], "not_read", "{org}");
    assert_eq!(org["can_check_again"], false);
    assert!(org["next_steps"].to_string().contains("“Let the portal read your organization”"), "{org}");
    assert_eq!(w["advice"]["recommended"], "individual");
    // "Check again" without a read token names the control that asks DocuSign again.
    let r = o.app.call("/api/wizard/check_organization", Some(&b.cookie), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Let the portal read your organization"), "{}", r.body);
    // Asking again works.
    let url = o.start(&b, "organization_read").await;
    let back = o.at_docusign(&url, ADA, true).await;
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard");
    assert_eq!(o.wizard(&b).await["organization"]["verdict"], "covered");
}

#[tokio::test]
async fn individual_consent_by_an_org_admin_who_allowed_the_read_carries_the_read_scopes_and_a_user_without_an_organization_is_asked_for_none() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    organization_screen(&o, &b, crate::fixture::UMA).await;
    let url = o.start(&b, "individual").await;
    assert_eq!(query_of(&url)["scope"], "signature impersonation extended organization_read domain_read");
    let back = o.at_docusign(&url, crate::fixture::UMA, true).await;
    assert_eq!(o.back_to_portal(&b, &back).await, "/wizard");
    let c = o.consent(o.app.world.tenant_a).await;
    assert_eq!(c["receipt"]["scopes"], "signature impersonation extended organization_read domain_read", "the receipt records what was asked");

    let b = o.redeem(&o.invite(o.app.world.tenant_b).await).await;
    o.round_trip(&b, "sign_in", GINA).await;
    assert!(o.wizard(&b).await["organization"].is_null(), "no organization, no organization screen");
    let url = o.start(&b, "individual").await;
    assert_eq!(query_of(&url)["scope"], "signature impersonation extended");
}

async fn link_requests_audited(o: &Onboarding) -> Vec<server::db::entities::audit_event::Model> {
    use sea_orm::EntityTrait;
    server::db::entities::audit_event::Entity::find()
        .all(&o.app.portal.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "invite.link_requested")
        .collect()
}

on_both_databases! {
    async fn a_spent_link_lets_the_customer_ask_for_a_fresh_one_audited_shown_to_staff_and_answered_by_a_new_invite(backend) {
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        let token = o.invite(tenant).await;
        o.redeem(&token).await;
        // The session ends (idle, or the customer left): the link's page is the way back in.
        let page = o.app.get(&format!("/onboard/{token}"), None).await;
        assert_eq!(page.status, StatusCode::CONFLICT);
        assert!(page.body.contains("already used") && page.body.contains(">Ask for a new link</button>"), "{}", page.body);
        assert!(o.consent(tenant).await["link_request"].is_null(), "nothing asked yet");

        let asked = o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        let events = link_requests_audited(&o).await;
        assert_eq!(events.len(), 1, "the request is audited once");
        assert_eq!(events[0].tenant_id, Some(tenant));
        let row = serde_json::to_string(&(&events[0].after, &events[0].actor_label, &events[0].before)).unwrap();
        assert!(!row.contains(&token), "the audit row never holds the link");

        let c = o.consent(tenant).await;
        assert!(c["link_request"].is_string(), "staff see the open request: {c}");
        let staff_page = o.app.get(&format!("/tenants/{tenant}"), Some(&o.staff)).await;
        assert!(staff_page.body.contains("The customer asked for a new invite link"), "the tenant page says so");
        let list = o.app.get("/tenants", Some(&o.staff)).await;
        assert_eq!(list.body.matches("data-testid=\"link-requested\"").count(), 1, "the list marks that tenant's row, and only it");
        let again_page = o.app.get(&format!("/onboard/{token}"), None).await;
        assert!(again_page.body.contains("A fresh link was asked for") && !again_page.body.contains(">Ask for a new link</button>"), "{}", again_page.body);

        // A newer invite answers the request; the new link still works, so asking with it is refused.
        let fresh = o.invite(tenant).await;
        assert!(o.consent(tenant).await["link_request"].is_null(), "issuing a new invite answers the request");
        assert!(!o.app.get("/tenants", Some(&o.staff)).await.body.contains("data-testid=\"link-requested\""), "and clears the list's mark");
        let refused = o.app.call("/api/onboarding/request_invite_link", None, &[("token", &fresh)]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("press Start"), "{}", refused.body);
        assert_eq!(link_requests_audited(&o).await.len(), 1, "a refused request records nothing");
    }
}

on_both_databases! {
    async fn a_fresh_link_may_be_asked_for_once_an_hour_per_link(backend) {
        use server::onboarding::invites::{LINK_REQUEST_INTERVAL, request_link};
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        let token = o.invite(tenant).await;
        o.redeem(&token).await;
        assert_eq!(o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await.status, StatusCode::OK);
        let second = o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await;
        assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS, "{}", second.body);
        let retry: u64 = second.headers.get(header::RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
        assert!(retry > 3_000 && retry <= 3_600, "about an hour: {retry}");
        assert_eq!(link_requests_audited(&o).await.len(), 1, "the refused request is not recorded");
        // Just inside the hour: still refused; once it has passed: allowed again.
        let now = chrono::Utc::now();
        let early = request_link(&o.app.portal.db, None, &token, now + LINK_REQUEST_INTERVAL - chrono::Duration::minutes(1)).await;
        assert!(matches!(early, Err(server::error::ServiceError::App(app::error::AppError::RateLimited { .. }))), "{early:?}");
        request_link(&o.app.portal.db, None, &token, now + LINK_REQUEST_INTERVAL + chrono::Duration::seconds(1)).await.expect("an hour later");
        assert_eq!(link_requests_audited(&o).await.len(), 2);
    }
}

#[tokio::test]
async fn an_expired_link_offers_a_fresh_one_and_an_unknown_link_reveals_nothing_and_is_throttled() {
    use sea_orm::{ConnectionTrait, Statement};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let token = o.invite(tenant).await;
    let db = &o.app.portal.db;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE invites SET expires_at = $1 WHERE tenant_id = $2",
        [(chrono::Utc::now() - chrono::Duration::hours(1)).into(), tenant.into()],
    ))
    .await
    .unwrap();
    let page = o.app.get(&format!("/onboard/{token}"), None).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("expired") && page.body.contains(">Ask for a new link</button>"), "{}", page.body);
    assert_eq!(o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await.status, StatusCode::OK);

    // A made-up link: the same answer as any unknown link, nothing recorded, and guessing is throttled.
    for _ in 0..5 {
        let r = o.app.call("/api/onboarding/request_invite_link", None, &[("token", "made-up-link")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(!r.body.contains("Tenant acme"), "nothing about any tenant");
    }
    let throttled = o.app.call("/api/onboarding/request_invite_link", None, &[("token", "made-up-link")]).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(link_requests_audited(&o).await.len(), 1);
}

#[tokio::test]
async fn a_closed_onboarding_takes_no_link_request() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let token = o.invite(tenant).await;
    o.redeem(&token).await;
    let archived = o.app.call("/api/tenants/archive", Some(&o.staff), &[("id", &tenant.to_string())]).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.body);
    let r = o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("closed by the ISV"), "{}", r.body);
    assert!(link_requests_audited(&o).await.is_empty());
}

/// The page without its scripts (the data embedded for hydration repeats what the page shows).
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("</script>").map_or("", |end| &rest[start + end + "</script>".len()..]);
    }
    out.push_str(rest);
    out
}

/// An ended wizard session was a dead end ("open your invite link again", which then said
/// "already used"): its page now names the controls that lead back in, and each is where it says.
#[tokio::test]
async fn an_ended_wizard_session_names_the_way_back_in_and_each_control_it_names_exists() {
    use app::onboarding::model::{SESSION_ENDED, controls, quoted_controls};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let ended = o.app.get("/wizard", None).await;
    assert!(ended.body.contains("Your session has ended") && ended.body.contains(SESSION_ENDED), "{}", ended.body);
    let start = o.app.call("/oauth/start", None, &[("purpose", "sign_in")]).await;
    assert_eq!(start.status, StatusCode::UNAUTHORIZED);
    assert!(start.body.contains(SESSION_ENDED), "{}", start.body);
    assert_eq!(quoted_controls(SESSION_ENDED), [controls::START, controls::ASK_FOR_LINK]);
    // "Start" on a link that still works; "Ask for a new link" on one that was used.
    let token = o.invite(tenant).await;
    let fresh = o.app.get(&format!("/onboard/{token}"), None).await;
    assert!(fresh.body.contains(&format!(">{}</button>", controls::START)), "{}", fresh.body);
    o.redeem(&token).await;
    let spent = o.app.get(&format!("/onboard/{token}"), None).await;
    assert!(spent.body.contains(&format!(">{}</button>", controls::ASK_FOR_LINK)), "{}", spent.body);
}
