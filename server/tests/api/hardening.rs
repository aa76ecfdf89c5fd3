//! Defects found by probing the running portal, each pinned by the test that failed before its
//! fix: the render hang, stored HTML injection, throttles a stranger could turn against others,
//! Connect messages bound to their tenant, secrets in logs, lifecycle gaps, headers on early
//! refusals, bounded audit rows, the keyring check and the append-only audit table.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, StatusCode, header};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::onboarding::{GINA, HMAC_KEYS, Onboarding};
use crate::support::*;
use crate::on_both_databases;

/// A form POST to a server function from a given client address.
fn form_from(path: &str, form: &[(&str, &str)], ip: [u8; 4]) -> Request<Body> {
    let body = serde_urlencoded::to_string(form).unwrap();
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from(body))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((IpAddr::from(ip), 40_000))));
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn building_another_router_while_pages_render_never_stalls_a_page() {
    // Route-list generation suppresses resource loading process-wide (leptos issue #4773): a
    // page whose resource was first polled meanwhile parked forever. Every router now reuses the
    // list generated once per process.
    let t = Arc::new(TestApp::new().await);
    let cookie = t.sign_in("config@isv.test").await;
    let builder = {
        let portal = t.portal.clone();
        tokio::task::spawn_blocking(move || {
            for _ in 0..40 {
                let options = server::http::leptos_options(std::path::Path::new("target/site"), "127.0.0.1:0".parse().unwrap());
                drop(server::http::build_router(portal.clone(), options));
            }
        })
    };
    let mut pages = Vec::new();
    for i in 0..40 {
        let t = t.clone();
        let cookie = cookie.clone();
        let path = if i % 2 == 0 { format!("/tenants/{}", t.world.tenant_a) } else { "/tenants".to_owned() };
        pages.push(tokio::spawn(async move { tokio::time::timeout(Duration::from_secs(20), t.get(&path, Some(&cookie))).await }));
    }
    for page in pages {
        let reply = page.await.unwrap().expect("a page rendered within 20 s");
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("</html>") && reply.body.contains("Tenant acme"), "the page is complete: {}", reply.body);
    }
    builder.await.unwrap();
}

#[tokio::test]
async fn hostile_text_is_escaped_on_every_page_that_shows_it() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    let hostile = r#"</textarea><meta http-equiv="refresh" content="1;url=https://evil.example"><script>alert(1)</script>"#;
    let mut input = tenant_input("hostile", None);
    input.display_name = hostile.chars().take(120).collect();
    input.notes = hostile.into();
    let id = server::tenants::create(&t.portal.db, &server::audit::Actor::system("test"), None, input).await.unwrap();
    for path in [format!("/tenants/{id}"), format!("/tenants/{id}/edit"), "/tenants".to_owned()] {
        let page = t.get(&path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains("<meta http-equiv=\"refresh\""), "{path} lets stored text inject markup");
        assert!(!page.body.contains("<script>alert(1)"), "{path} lets stored text inject a script");
    }
    let edit = t.get(&format!("/tenants/{id}/edit"), Some(&cookie)).await;
    assert!(edit.body.contains("&lt;/textarea&gt;&lt;meta"), "the notes are shown, escaped, in the textarea");
}

#[tokio::test]
async fn one_client_failing_invite_redemptions_does_not_block_other_customers() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    let token = t.invite_token(Some(&staff), t.world.tenant_a).await;
    let attacker = [198, 51, 100, 7];
    let mut throttled = false;
    for i in 0..40 {
        let r = t.send(form_from("/api/onboarding/redeem_invite", &[("token", &format!("guess-{i}"))], attacker)).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.get(header::RETRY_AFTER).is_some());
            throttled = true;
            break;
        }
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    assert!(throttled, "a guesser is throttled");
    let customer = t.send(form_from("/api/onboarding/redeem_invite", &[("token", &token)], [203, 0, 113, 9])).await;
    assert_eq!(customer.status, StatusCode::OK, "another customer still onboards: {}", customer.body);
}

#[tokio::test]
async fn a_stranger_cannot_lock_a_staff_member_out_and_good_sign_ins_never_lock() {
    let t = TestApp::new().await;
    let stranger = [198, 51, 100, 8];
    for _ in 0..10 {
        t.send(form_from("/api/auth/sign_in", &[("email", "admin@isv.test"), ("password", "wrong-password-x")], stranger)).await;
    }
    let blocked = t.send(form_from("/api/auth/sign_in", &[("email", "admin@isv.test"), ("password", PASSWORD)], stranger)).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "the stranger's address is throttled for that account");
    for _ in 0..8 {
        let own = t.send(form_from("/api/auth/sign_in", &[("email", "admin@isv.test"), ("password", PASSWORD)], [10, 0, 0, 2])).await;
        assert_eq!(own.status, StatusCode::OK, "the owner signs in from their own address, again and again: {}", own.body);
        let cookies: Vec<&str> = own.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(cookies.iter().any(|c| c.starts_with("cp_device=") && c.contains("HttpOnly")), "a known-device cookie: {cookies:?}");
    }
}

#[tokio::test]
async fn failed_sign_ins_with_huge_input_store_nothing_unbounded() {
    let t = TestApp::new().await;
    let huge = format!("{}@x.test", "a".repeat(60_000));
    let r = t.call("/api/auth/sign_in", None, &[("email", &huge), ("password", "whatever-password")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = format!("{}@x.test", "b".repeat(200));
    t.call("/api/auth/sign_in", None, &[("email", &long), ("password", "whatever-password")]).await;
    let rows = server::db::entities::audit_event::Entity::find().all(&t.portal.db).await.unwrap();
    for row in rows {
        let size = serde_json::to_string(&row.after).unwrap().len() + row.actor_label.len() + row.action.len();
        assert!(size < 2_000, "an audit row of {size} bytes: {}", row.action);
    }
}

#[tokio::test]
async fn refusals_before_the_app_still_carry_the_security_headers() {
    let t = TestApp::new().await;
    let huge = "x".repeat(server::http::BODY_LIMIT_BYTES + 1);
    let req = Request::post("/api/tenants/create")
        .header(header::CONTENT_LENGTH, huge.len())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(huge))
        .unwrap();
    let reply = t.send(req).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert!(reply.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
}

#[tokio::test]
async fn a_request_that_times_out_still_carries_the_security_headers() {
    let figment = server::config::Config::figment(None)
        .merge(figment::providers::Serialized::default("public_url", ORIGIN))
        .merge(figment::providers::Serialized::default("encryption_keys", server::crypto::Keyring::generate_spec(1)))
        .merge(figment::providers::Serialized::default("request_timeout_seconds", 1));
    let t = TestApp::with(Backend::Sqlite, server::config::Config::from_figment(figment).unwrap()).await;
    let req = Request::post(format!("/connect/{}", t.world.tenant_a)).body(Body::new(NeverArrives)).unwrap();
    let reply = t.send(req).await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(reply.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert!(reply.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
}

/// A request body that never finishes arriving (a slow or stalled client).
struct NeverArrives;

impl http_body::Body for NeverArrives {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_connect_message_may_be_larger_than_a_form_but_not_unbounded() {
    let t = TestApp::new().await;
    let big = vec![b' '; server::http::BODY_LIMIT_BYTES * 4];
    let req = Request::post(format!("/connect/{}", t.world.tenant_a)).header(header::CONTENT_LENGTH, big.len()).body(Body::from(big)).unwrap();
    // No Connect key is configured in this app: 503 (DocuSign retries), not 413.
    assert_eq!(t.send(req).await.status, StatusCode::SERVICE_UNAVAILABLE, "read and refused for its signature, not its size");
    let huge = server::http::connect::CONNECT_BODY_LIMIT_BYTES + 1;
    let req = Request::post(format!("/connect/{}", t.world.tenant_a)).header(header::CONTENT_LENGTH, huge).body(Body::from(vec![b' '; huge])).unwrap();
    assert_eq!(t.send(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

fn connect_post(tenant: &str, body: &[u8], key: &str) -> Request<Body> {
    Request::post(format!("/connect/{tenant}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-docusign-signature-1", server::sandbox::connect_signature(key, body))
        .body(Body::from(body.to_vec()))
        .unwrap()
}

#[tokio::test]
async fn connect_messages_count_only_for_their_own_account_once_and_while_recent() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, crate::checks::GLOBEX).await;
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let message = |account: &str, envelope: &str, generated: &str| {
        json!({ "event": "envelope-sent", "generatedDateTime": generated, "data": { "accountId": account, "envelopeId": envelope } }).to_string().into_bytes()
    };
    let ours = message(crate::checks::GLOBEX, "e-1", &now);
    assert_eq!(o.app.send(connect_post(&tenant.to_string(), &ours, HMAC_KEYS[0])).await.status, StatusCode::OK);
    assert_eq!(o.app.send(connect_post(&tenant.to_string(), &ours, HMAC_KEYS[0])).await.status, StatusCode::OK, "a replay is acknowledged");
    let other_account = message("0b0b0b0b-0000-4000-8000-000000000000", "e-2", &now);
    let wrong = o.app.send(connect_post(&tenant.to_string(), &other_account, HMAC_KEYS[0])).await;
    let unknown = o.app.send(connect_post(&uuid::Uuid::new_v4().to_string(), &ours, HMAC_KEYS[0])).await;
    let not_a_uuid = o.app.send(connect_post("not-a-tenant", &ours, HMAC_KEYS[0])).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "another account's message, though signed with the ISV's key");
    assert_eq!((unknown.status, unknown.body.clone()), (wrong.status, wrong.body.clone()), "unknown tenants are answered alike");
    assert_eq!(not_a_uuid.status, wrong.status);
    let stale = message(crate::checks::GLOBEX, "e-3", "2020-01-01T00:00:00.000Z");
    assert_eq!(o.app.send(connect_post(&tenant.to_string(), &stale, HMAC_KEYS[0])).await.status, StatusCode::UNAUTHORIZED, "too old");
    let row = server::db::entities::connect_delivery::Entity::find_by_id(tenant).one(&o.app.portal.db).await.unwrap().unwrap();
    assert_eq!((row.verified_count, row.rejected_count), (1, 2), "one message counted once; two refused");
}

#[tokio::test]
async fn no_secret_of_the_onboarding_flow_reaches_the_logs_even_at_trace() {
    // Every level, everything but the sandbox (which plays DocuSign and is not the portal).
    let capture = crate::support::capture_logs();

    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let token = o.invite(tenant).await;
    assert_eq!(o.app.get(&format!("/onboard/{token}"), None).await.status, StatusCode::OK);
    let browser = o.redeem(&token).await;
    let mut codes = Vec::new();
    for purpose in ["sign_in", "individual"] {
        let url = o.start(&browser, purpose).await;
        let back = o.at_docusign(&url, GINA, true).await;
        let parsed = url::Url::parse(&back).unwrap();
        codes.extend(parsed.query_pairs().filter(|(k, _)| k == "code" || k == "state").map(|(_, v)| v.into_owned()));
        assert_eq!(o.back_to_portal(&browser, &back).await, "/wizard");
    }
    assert_eq!(o.choose_account(&browser, crate::checks::GLOBEX).await.status, StatusCode::OK);
    assert_eq!(o.verify(&browser).await["outcome"], "verified");
    // The spent link's page and its request for a fresh link carry the token too.
    assert_eq!(o.app.get(&format!("/onboard/{token}"), None).await.status, StatusCode::CONFLICT);
    assert_eq!(o.app.call("/api/onboarding/request_invite_link", None, &[("token", &token)]).await.status, StatusCode::OK);
    let logs = capture.text();
    drop(capture);
    assert!(logs.len() > 1_000, "the capture saw the flow ({} bytes)", logs.len());
    let session = browser.cookie.split('=').nth(1).unwrap().to_owned();
    let staff_session = o.staff.split('=').nth(1).unwrap().to_owned();
    assert!(codes.len() >= 4, "codes and states seen: {codes:?}");
    for (what, secret) in [("invite token", token.as_str()), ("invite session", &session), ("staff session", &staff_session)]
        .into_iter()
        .chain(codes.iter().map(|c| ("code or state", c.as_str())))
    {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
    for marker in ["PRIVATE KEY", "Bearer ", "access_token\":\"", "refresh_token\":\"", "code_verifier="] {
        assert!(!logs.contains(marker), "`{marker}` appears in the logs");
    }
}

#[tokio::test]
async fn archiving_a_tenant_voids_its_links_and_ends_its_wizard_sessions() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let early = o.redeem(&o.invite(tenant).await).await;
    let pending = o.invite(tenant).await;
    let archive = o.app.call("/api/tenants/archive", Some(&o.staff), &[("id", &tenant.to_string())]).await;
    assert_eq!(archive.status, StatusCode::OK, "{}", archive.body);
    let r = o.app.call("/api/onboarding/redeem_invite", None, &[("token", &pending)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(o.app.call("/api/wizard/status", Some(&early.cookie), &[]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn customer_admins_and_staff_can_end_wizard_sessions_and_admins_end_staff_sessions() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let own = o.redeem(&o.invite(tenant).await).await;
    assert!(o.app.call("/api/wizard/leave", Some(&own.cookie), &[]).await.status.is_success());
    assert_eq!(o.app.call("/api/wizard/status", Some(&own.cookie), &[]).await.status, StatusCode::UNAUTHORIZED, "the customer left");

    let other = o.redeem(&o.invite(tenant).await).await;
    let ended = o.app.call("/api/onboarding/end_customer_sessions", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
    assert_eq!((ended.status, ended.json()), (StatusCode::OK, json!(1)));
    assert_eq!(o.app.call("/api/wizard/status", Some(&other.cookie), &[]).await.status, StatusCode::UNAUTHORIZED, "staff ended it");

    let admin = o.app.sign_in("admin@isv.test").await;
    let manager = o.app.sign_in("am-a@isv.test").await;
    let not_admin = o.app.call("/api/staff/end_sessions", Some(&o.staff), &[("id", &o.app.world.manager_a.to_string())]).await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    let r = o.app.call("/api/staff/end_sessions", Some(&admin), &[("id", &o.app.world.manager_a.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(o.app.call("/api/tenants/list", Some(&manager), &[("include_archived", "false")]).await.status, StatusCode::UNAUTHORIZED);
}

on_both_databases! {
    async fn the_retention_job_deletes_only_what_has_ended(backend) {
        use server::db::entities::session;
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let life = server::sessions::Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let _live = server::sessions::create_staff_session(&db, w.admin, life).await.unwrap();
        let _old = server::sessions::create_staff_session(&db, w.config_staff, life).await.unwrap();
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::days(30);
        // Keep the admin's session alive at `later`.
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            match backend { Backend::Sqlite => "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE staff_id = ?", Backend::Postgres => "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE staff_id = $3" },
            [later.into(), (later + chrono::Duration::hours(1)).into(), w.admin.into()],
        ))
        .await
        .unwrap();
        let purged = server::retention::purge(&db, server::config::Retention::default(), life, later).await.unwrap();
        assert_eq!(purged.sessions, 1);
        assert_eq!(session::Entity::find().count(&db).await.unwrap(), 1, "the live session stays");
        let again = server::retention::purge(&db, server::config::Retention::default(), life, later).await.unwrap();
        assert_eq!(again, server::retention::Purged::default(), "a second pass finds nothing");
    }
}

on_both_databases! {
    async fn start_up_refuses_a_key_that_is_not_the_one_the_database_was_written_with(backend) {
        let db = fresh_db(backend).await;
        let first = server::crypto::Keyring::parse(Some(&server::crypto::Keyring::generate_spec(1).into())).unwrap();
        server::crypto::verify_against_database(&db, &first).await.expect("a new database records the key");
        server::crypto::verify_against_database(&db, &first).await.expect("the same key again");
        let wrong = server::crypto::Keyring::parse(Some(&server::crypto::Keyring::generate_spec(1).into())).unwrap();
        let err = server::crypto::verify_against_database(&db, &wrong).await.unwrap_err().to_string();
        assert!(err.contains("version 1") && err.contains("PORTAL_ENCRYPTION_KEYS"), "{err}");
    }
}

#[tokio::test]
async fn truncating_the_audit_table_is_refused_on_postgres() {
    let db = fresh_db(Backend::Postgres).await;
    seed(&db).await;
    let before = server::db::entities::audit_event::Entity::find().count(&db).await.unwrap();
    assert!(db.execute_unprepared("TRUNCATE audit_events").await.is_err(), "TRUNCATE must fail");
    assert_eq!(server::db::entities::audit_event::Entity::find().count(&db).await.unwrap(), before);
}

/// Every token-endpoint call the sandbox saw.
async fn token_calls(o: &Onboarding) -> u64 {
    o.counts().await.iter().filter(|(k, _)| k.contains("/oauth/token")).map(|(_, v)| *v).sum()
}

async fn expire_kept_tokens(o: &Onboarding) {
    let db = &o.app.portal.db;
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE credentials SET access_expires_at = $1",
        [(chrono::Utc::now() - chrono::Duration::minutes(1)).into()],
    ))
    .await
    .unwrap();
}

async fn kept(o: &Onboarding, tenant: uuid::Uuid) -> server::db::entities::credential::Model {
    server::db::entities::credential::Entity::find().all(&o.app.portal.db).await.unwrap().into_iter().find(|c| c.tenant_id == tenant).unwrap()
}

async fn audit_count(o: &Onboarding, action: &str) -> usize {
    server::db::entities::audit_event::Entity::find().all(&o.app.portal.db).await.unwrap().iter().filter(|e| e.action == action).count()
}

on_both_databases! {
    async fn transient_refresh_failures_count_once_a_day_and_stop_after_four_days(backend) {
        use server::onboarding::credentials::{CONSENT, access_token_at};
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        o.verified_individually(tenant, GINA, crate::checks::GLOBEX).await;
        expire_kept_tokens(&o).await;
        o.control(reqwest::Method::POST, "/control/faults", json!({ "scope": "oauth", "fail_5xx_ratio": 1.0 })).await;
        let d = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
        let day = |n: i64| chrono::Utc::now() + chrono::Duration::days(n);
        let token = |n: i64| access_token_at(d.db, d.keyring, d.client, tenant, app::environment::Environment::Demo, CONSENT, day(n));
        assert!(token(0).await.is_err());
        assert!(token(0).await.is_err(), "a second failure the same day");
        assert_eq!(kept(&o, tenant).await.refresh_failure_days, 1, "several failures on one day count once");
        for n in 1..3 {
            assert!(token(n).await.is_err());
        }
        assert_eq!((kept(&o, tenant).await.refresh_failure_days, kept(&o, tenant).await.refresh_state.as_str()), (3, "active"));
        assert!(token(3).await.is_err());
        assert_eq!(kept(&o, tenant).await.refresh_state, "exhausted", "the fourth failing day gives up");
        let calls = token_calls(&o).await;
        let refused = token(4).await.unwrap_err().into_app("t").to_string();
        assert!(refused.contains("sign in again"), "{refused}");
        assert_eq!(token_calls(&o).await, calls, "no call after giving up");
        assert_eq!(audit_count(&o, "credential.refresh_failed").await, 3);
        assert_eq!(audit_count(&o, "credential.refresh_exhausted").await, 1);
    }
}

on_both_databases! {
    async fn one_successful_refresh_resets_the_failure_days(backend) {
        use server::onboarding::credentials::{CONSENT, access_token_at};
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        o.verified_individually(tenant, GINA, crate::checks::GLOBEX).await;
        expire_kept_tokens(&o).await;
        o.control(reqwest::Method::POST, "/control/faults", json!({ "scope": "oauth", "fail_5xx_ratio": 1.0, "remaining": 1 })).await;
        let d = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
        let now = chrono::Utc::now();
        assert!(access_token_at(d.db, d.keyring, d.client, tenant, app::environment::Environment::Demo, CONSENT, now).await.is_err());
        assert_eq!(kept(&o, tenant).await.refresh_failure_days, 1);
        assert!(access_token_at(d.db, d.keyring, d.client, tenant, app::environment::Environment::Demo, CONSENT, now).await.is_ok());
        let row = kept(&o, tenant).await;
        assert_eq!((row.refresh_failure_days, row.refresh_state.as_str(), row.last_refresh_failure_on), (0, "active", None));
    }
}

on_both_databases! {
    async fn an_invalid_grant_on_refresh_needs_reconsent_and_stops_every_call(backend) {
        use server::onboarding::credentials::{CONSENT, access_token, store};
        let o = Onboarding::new(backend).await;
        let tenant = o.app.world.tenant_a;
        o.verified_individually(tenant, GINA, crate::checks::GLOBEX).await;
        let d = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
        let subject = kept(&o, tenant).await.subject;
        // A refresh token DocuSign does not (or no longer) know, with the access token expiring.
        let stale = server::providers::docusign::TokenSet {
            access_token: "stale-access".to_owned().into(),
            refresh_token: Some("not-a-refresh-token-docusign-knows".to_owned().into()),
            expires_in: 0,
            scope: None,
            id_token: None,
        };
        store(d.db, d.keyring, tenant, app::environment::Environment::Demo, CONSENT, &stale, &subject).await.unwrap();
        let err = access_token(d.db, d.keyring, d.client, tenant, app::environment::Environment::Demo, CONSENT).await.unwrap_err();
        assert!(err.into_app("t").to_string().contains("no longer accepts"));
        assert_eq!(kept(&o, tenant).await.refresh_state, "reconsent_required");
        assert_eq!(audit_count(&o, "credential.reconsent_required").await, 1);
        let calls = token_calls(&o).await;
        assert!(access_token(d.db, d.keyring, d.client, tenant, app::environment::Environment::Demo, CONSENT).await.is_err());
        assert_eq!(token_calls(&o).await, calls, "no further refresh is sent");
        assert_eq!(audit_count(&o, "credential.reconsent_required").await, 1, "audited once");
    }
}

#[tokio::test]
async fn a_fix_names_the_identity_it_acted_as_and_the_wizard_never_borrows_another() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let admin = o.verified_individually(tenant, crate::checks::HANK, crate::checks::HOOLI).await;
    let (run, results) = crate::checks::run_checks(&o, tenant).await;
    assert_eq!(results["account_settings"]["status"], "fail");
    // Staff: as the system user, and the audit event says so.
    let r = o.app.call("/api/checks/apply_fix", Some(&o.staff), &[("tenant_id", &tenant.to_string()), ("run_id", &run), ("check_id", "account_settings")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let events = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    let applied = events.iter().find(|e| e.action == "setup.fix_applied").unwrap();
    let acted_as = applied.after.as_ref().unwrap()["acted_as"].as_str().unwrap().to_owned();
    assert!(acted_as.contains(crate::checks::HANK) && acted_as.contains("system user"), "{acted_as}");

    // The wizard: a session where nobody signed in with DocuSign may not borrow the kept sign-in.
    let fresh = o.redeem(&o.invite(tenant).await).await;
    let started = o.app.call("/api/wizard/check_start", Some(&fresh.cookie), &[]).await.json();
    let run = started["run_id"].as_str().unwrap().to_owned();
    for check in ["account_settings", "connect_configuration"] {
        o.app.call("/api/wizard/check_run_one", Some(&fresh.cookie), &[("run_id", &run), ("check_id", check)]).await;
    }
    let refused = o.app.call("/api/wizard/check_apply_fix", Some(&fresh.cookie), &[("run_id", &run), ("check_id", "connect_configuration")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("Sign in with DocuSign again"), "{}", refused.body);
    drop(admin);
}

#[tokio::test]
async fn jwt_access_tokens_are_reused_until_near_expiry_one_grant_for_many_callers() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, crate::checks::GLOBEX).await;
    let user = server::sandbox::default_fixture().user_by_email(GINA).unwrap().id.clone();
    let grants = || async { o.counts().await.get("POST /oauth/token jwt_bearer").copied().unwrap_or(0) };
    let before = grants().await;
    let client = o.app.portal.deps(app::environment::Environment::Demo).unwrap().client.clone();
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let (client, user) = (client.clone(), user.clone());
            tokio::spawn(async move { client.jwt_token(&user, &["signature", "impersonation"]).await.map(|t| secrecy::ExposeSecret::expose_secret(&t.access_token).to_owned()) })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for call in calls {
        tokens.insert(call.await.unwrap().expect("a token"));
    }
    assert_eq!(tokens.len(), 1, "everyone gets the same token");
    assert_eq!(grants().await - before, 1, "50 callers, one JWT grant");
    // A run of every check: only verification (which must prove consent now) asks for a new
    // JWT; the settings and Connect checks reuse the cached one.
    let (_, results) = crate::checks::run_checks(&o, tenant).await;
    assert_eq!(results.len(), server::checks::CheckId::ALL.len(), "the checks ran");
    assert_eq!(grants().await - before, 2, "one grant for the callers, one for verification");
    client.forget_jwt(&user);
    client.jwt_token(&user, &["signature", "impersonation"]).await.unwrap();
    assert_eq!(grants().await - before, 3, "after forgetting, a new grant");
}
