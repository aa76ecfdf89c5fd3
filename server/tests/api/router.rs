//! Router-level rules: sign-in and sessions, cross-site refusal, validation answers, status codes
//! and headers, exercised in-process through the real middleware stack.

use axum::body::Body;
use http::{Request, StatusCode, header};

use crate::support::*;

#[tokio::test]
async fn sign_in_sets_a_new_httponly_session_cookie_and_rotates_the_old_one() {
    let t = TestApp::new().await;
    let first = t.sign_in("config@isv.test").await;
    let reply = t.call("/api/auth/sign_in", Some(&first), &[("email", "config@isv.test"), ("password", PASSWORD)]).await;
    let set_cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Path=/"));
    let second = cookie_from(&reply.headers).unwrap();
    assert_ne!(first, second);
    let old = t.call("/api/tenants/list", Some(&first), &[("include_archived", "false")]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the pre-sign-in id must be dead");
    let new = t.call("/api/tenants/list", Some(&second), &[("include_archived", "false")]).await;
    assert_eq!(new.status, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let t = TestApp::new().await;
    let wrong = t.call("/api/auth/sign_in", None, &[("email", "admin@isv.test"), ("password", "nope-nope-nope")]).await;
    let unknown = t.call("/api/auth/sign_in", None, &[("email", "ghost@isv.test"), ("password", "nope-nope-nope")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.body.contains("do not match an active account"));
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_account_with_retry_after() {
    let t = TestApp::new().await;
    for _ in 0..5 {
        let r = t.call("/api/auth/sign_in", None, &[("email", "admin@isv.test"), ("password", "bad-password-1")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = t.call("/api/auth/sign_in", None, &[("email", "admin@isv.test"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.get(header::RETRY_AFTER).is_some());
    // Another account from the same address is not yet throttled.
    let other = t.call("/api/auth/sign_in", None, &[("email", "config@isv.test"), ("password", PASSWORD)]).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("admin@isv.test").await;
    let out = t.call("/api/auth/sign_out", Some(&cookie), &[]).await;
    assert!(out.status.is_success() || out.status.is_redirection(), "{}", out.status);
    let replay = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "false")]).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("admin@isv.test").await;
    let form = [
        ("input[display_name]", "Evil"),
        ("input[slug]", "evil-co"),
        ("input[environment]", "demo"),
        ("input[contact_email]", "x@evil.test"),
    ];
    let evil = t.call_from("/api/tenants/create", Some(&cookie), &form, Some("https://evil.example")).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    let req = Request::post("/api/tenants/create")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header(header::COOKIE, &cookie)
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    assert_eq!(t.send(req).await.status, StatusCode::FORBIDDEN);
    let list = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "true")]).await;
    assert!(!list.body.contains("evil-co"));
}

#[tokio::test]
async fn a_null_origin_is_accepted_only_with_a_same_origin_fetch_site() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("admin@isv.test").await;
    let post = |site: Option<&'static str>| {
        let mut req = Request::post("/api/tenants/list")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "null")
            .header(header::COOKIE, &cookie);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        req.body(Body::from("include_archived=false")).unwrap()
    };
    assert_eq!(t.send(post(Some("same-origin"))).await.status, StatusCode::OK);
    assert_eq!(t.send(post(Some("cross-site"))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.send(post(None)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn server_functions_refuse_get_and_unknown_paths() {
    let t = TestApp::new().await;
    assert_eq!(t.get("/api/tenants/list", None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(t.call("/api/tenants/drop_all", None, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bad_tenant_gets_field_errors_and_a_taken_slug_is_a_field_error() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    let bad = t
        .call(
            "/api/tenants/create",
            Some(&cookie),
            &[
                ("input[display_name]", ""),
                ("input[slug]", "Bad Slug"),
                ("input[environment]", "demo"),
                ("input[contact_email]", "not-an-email"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &bad.json()["fields"];
    assert!(fields["slug"][0].as_str().unwrap().contains("lower-case"));
    assert!(fields["display_name"].is_array() && fields["contact_email"].is_array());

    let clash = t
        .call(
            "/api/tenants/create",
            Some(&cookie),
            &[
                ("input[display_name]", "Acme again"),
                ("input[slug]", "acme"),
                ("input[environment]", "demo"),
                ("input[contact_email]", "a@acme.test"),
            ],
        )
        .await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(clash.json()["fields"]["slug"][0], "This slug is already used by another tenant. Choose another.");
}

#[tokio::test]
async fn an_unknown_environment_is_bad_input_not_a_server_error() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    let reply = t
        .call(
            "/api/tenants/create",
            Some(&cookie),
            &[
                ("input[display_name]", "X"),
                ("input[slug]", "xyz"),
                ("input[environment]", "staging"),
                ("input[contact_email]", "a@x.test"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

#[tokio::test]
async fn pages_for_signed_out_visitors_redirect_to_sign_in_keeping_the_address() {
    let t = TestApp::new().await;
    let reply = t.get("/tenants", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers.get(header::LOCATION).unwrap(), "/login?next=/tenants");
    let deep = t.get("/tenants?archived=1", None).await;
    assert_eq!(deep.headers.get(header::LOCATION).unwrap(), "/login?next=/tenants%3Farchived%3D1");
    assert_eq!(t.get("/login", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_list_address_that_breaks_a_rule_says_which_rule_in_words() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    // The search box stops at 200 characters; a longer search can only come from an address.
    let page = t.get(&format!("/tenants?q={}", "a".repeat(201)), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Search for at most 200 characters."), "{}", page.body);
    assert!(!page.body.contains("highlighted fields"), "a page with no form has nothing highlighted");
}

#[tokio::test]
async fn unknown_pages_and_unknown_tenants_answer_404() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    let page = t.get("/no/such/page", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
    let tenant = t.get(&format!("/tenants/{}", uuid::Uuid::new_v4()), Some(&cookie)).await;
    assert_eq!(tenant.status, StatusCode::NOT_FOUND);
    assert!(tenant.body.contains("Tenant was not found."));
}

#[tokio::test]
async fn the_tenant_page_renders_its_audit_events_for_staff() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("am-a@isv.test").await;
    let page = t.get(&format!("/tenants/{}", t.world.tenant_a), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Tenant acme"));
    assert!(page.body.contains("Tenant created"));
    assert!(!page.body.contains(">Edit<"), "account managers get no edit control");
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_bound_csp() {
    let t = TestApp::new().await;
    let page = t.get("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let h = &page.headers;
    assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert_eq!(h.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let csp = h.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce in the CSP");
    assert!(page.body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script must carry the CSP nonce");
    assert!(h.get("x-request-id").is_some());
}

#[tokio::test]
async fn request_ids_are_generated_not_taken_from_the_client() {
    let t = TestApp::new().await;
    let req = Request::get("/healthz").header("x-request-id", "forged-by-the-client").body(Body::empty()).unwrap();
    let reply = t.send(req).await;
    assert_eq!(reply.status, StatusCode::OK);
    let id = reply.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("config@isv.test").await;
    let huge = "x".repeat(server::http::BODY_LIMIT_BYTES + 1);
    let reply = t.call("/api/tenants/create", Some(&cookie), &[("input[notes]", &huge)]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn static_assets_are_served_from_their_precompressed_copies() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(pkg.join("consent-portal.wasm"), &wasm).unwrap();
    server::assets::precompress(&pkg, 5).unwrap();
    let db = fresh_db(Backend::Sqlite).await;
    let portal = std::sync::Arc::new(server::state::Portal::new(db, std::sync::Arc::new(test_config())).unwrap());
    let router = server::http::build_router(portal, server::http::leptos_options(site.path(), "127.0.0.1:0".parse().unwrap()));
    let req = Request::get("/pkg/consent-portal.wasm").header(header::ACCEPT_ENCODING, "br, gzip").body(Body::empty()).unwrap();
    let res = tower::ServiceExt::oneshot(router.clone(), req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "br");
    let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), std::fs::read(pkg.join("consent-portal.wasm.br")).unwrap().as_slice(), "the copy made at build time, as is");
    let req = Request::get("/pkg/consent-portal.wasm").header(header::ACCEPT_ENCODING, "gzip").body(Body::empty()).unwrap();
    let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
    assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
}

#[tokio::test]
async fn a_request_that_cannot_get_a_database_connection_soon_is_answered_503_with_retry_after() {
    // The production connection settings (3 s to get a connection), not the harness's.
    let t = TestApp::over(server::db::connect_and_migrate("sqlite::memory:").await.unwrap(), test_config()).await;
    let cookie = t.sign_in("config@isv.test").await;
    // An in-memory SQLite database has one pooled connection: a long transaction holds it.
    let held = sea_orm::TransactionTrait::begin(&t.portal.db).await.unwrap();
    let started = std::time::Instant::now();
    let reply = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "false")]).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert_eq!(reply.headers.get(header::RETRY_AFTER).unwrap(), "2");
    assert!(reply.body.contains("busy"), "{}", reply.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "well before sqlx's 30 s default");
    drop(held);
    let again = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "false")]).await;
    assert_eq!(again.status, StatusCode::OK, "served again once the connection is free");
}

#[tokio::test]
async fn on_sqlite_readers_are_served_while_a_writer_holds_the_write_lock() {
    let t = TestApp::over(server::db::connect_and_migrate(&sqlite_file_url()).await.unwrap(), test_config()).await;
    let cookie = t.sign_in("config@isv.test").await;
    let held = server::db::begin(&t.portal.db).await.unwrap();
    let started = std::time::Instant::now();
    let reply = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "false")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(started.elapsed() < server::db::SQLITE_BUSY_TIMEOUT, "a read does not wait for the writer");
    drop(held);
}

#[tokio::test]
async fn on_sqlite_a_write_that_cannot_get_the_write_lock_in_time_is_answered_503_and_changes_nothing() {
    let t = TestApp::over(server::db::connect_and_migrate(&sqlite_file_url()).await.unwrap(), test_config()).await;
    let cookie = t.sign_in("config@isv.test").await;
    let held = server::db::begin(&t.portal.db).await.unwrap();
    let form = [
        ("input[display_name]", "Held Up"),
        ("input[slug]", "held-up"),
        ("input[environment]", "demo"),
        ("input[contact_email]", "x@held-up.test"),
    ];
    let reply = t.call("/api/tenants/create", Some(&cookie), &form).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert_eq!(reply.headers.get(header::RETRY_AFTER).unwrap(), "2");
    drop(held);
    let list = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "false")]).await;
    assert!(!list.body.contains("held-up"), "nothing was created: {}", list.body);
}

#[tokio::test]
async fn on_sqlite_concurrent_read_then_write_transactions_all_succeed() {
    // Each update reads the tenant and then writes it and its audit event in one transaction:
    // deferred transactions would fail with SQLITE_BUSY_SNAPSHOT once another writer committed.
    let db = server::db::connect_and_migrate(&sqlite_file_url()).await.unwrap();
    let world = seed(&db).await;
    let actor = server::audit::Actor::system("test");
    let updates = (0..24).map(|i| {
        let db = db.clone();
        let actor = actor.clone();
        let mut input = tenant_input(&format!("renamed-{i}"), None);
        input.display_name = format!("Renamed {i}");
        let id = if i % 2 == 0 { world.tenant_a } else { world.tenant_b };
        tokio::spawn(async move { server::tenants::update(&db, &actor, None, id, input).await })
    });
    let mut results = Vec::new();
    for update in updates.collect::<Vec<_>>() {
        results.push(update.await.unwrap());
    }
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err().map(|e| format!("{e}"))).collect();
    assert!(failed.is_empty(), "every update succeeds (each with its own slug): {failed:?}");
}

#[tokio::test]
async fn a_role_that_may_not_manage_staff_sees_not_allowed_and_no_add_staff_form() {
    let t = TestApp::new().await;
    let config = t.sign_in("config@isv.test").await;
    let refused = t.get("/staff", Some(&config)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Not allowed"), "{}", refused.body);
    assert!(!refused.body.contains("Add a staff member") && !refused.body.contains("Initial password"), "no form to fill in for nothing");

    let admin = t.sign_in("admin@isv.test").await;
    let page = t.get("/staff", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Add a staff member") && page.body.contains("config@isv.test"), "{}", page.body);
}

#[tokio::test]
async fn an_account_manager_is_refused_the_new_tenant_form_before_typing() {
    let t = TestApp::new().await;
    let am = t.sign_in("am-a@isv.test").await;
    let page = t.get("/tenants/new", Some(&am)).await;
    assert!(page.body.contains("Not allowed"), "{}", page.body);
    assert!(!page.body.contains("Create tenant"), "no form an account manager could not submit");
}

#[tokio::test]
async fn every_page_has_a_title_of_its_own() {
    let t = TestApp::new().await;
    let admin = t.sign_in("admin@isv.test").await;
    let a = t.world.tenant_a;
    // The customer admin's pages too: an invite link's landing page, and the wizard it opens.
    let token = t.invite_token(Some(&admin), t.world.tenant_b).await;
    let opened = t.invite_token(Some(&admin), a).await;
    let redeemed = t.call("/api/onboarding/redeem_invite", None, &[("token", &opened)]).await;
    let invitee = cookie_from(&redeemed.headers).expect("an invite session");
    let mut seen = std::collections::BTreeSet::new();
    for (path, cookie, title) in [
        ("/login".to_owned(), None, "Sign in · Consent Portal"),
        ("/tenants".to_owned(), Some(&admin), "Tenants · Consent Portal"),
        ("/tenants/new".to_owned(), Some(&admin), "New tenant · Consent Portal"),
        (format!("/tenants/{a}"), Some(&admin), "Tenant · Consent Portal"),
        (format!("/tenants/{a}/edit"), Some(&admin), "Edit tenant · Consent Portal"),
        ("/staff".to_owned(), Some(&admin), "Staff · Consent Portal"),
        ("/audit".to_owned(), Some(&admin), "Audit log · Consent Portal"),
        ("/overview".to_owned(), Some(&admin), "Overview · Consent Portal"),
        ("/settings/webhooks".to_owned(), Some(&admin), "Webhooks · Consent Portal"),
        ("/settings/api".to_owned(), Some(&admin), "API clients · Consent Portal"),
        (format!("/onboard/{token}"), None, "Your DocuSign setup · Consent Portal"),
        ("/wizard".to_owned(), Some(&invitee), "DocuSign setup wizard · Consent Portal"),
        ("/no-such-page".to_owned(), Some(&admin), "Page not found · Consent Portal"),
    ] {
        let page = t.get(&path, cookie.map(String::as_str)).await;
        let found = page.body.split("<title>").nth(1).and_then(|rest| rest.split("</title>").next()).unwrap_or_default().to_owned();
        assert_eq!(found, title, "{path}");
        assert!(seen.insert(found), "{path}: the title is another page's");
    }
}

/// Pages and server functions share `page_concurrency` places (a bulkhead): past it a request
/// waits its turn rather than being refused, and the routes beside them (`/healthz`, the
/// integration API, Connect) answer meanwhile.
#[tokio::test]
async fn past_the_page_limit_a_page_waits_its_turn_while_healthz_answers() {
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::extract::ConnectInfo;
    use futures::SinkExt;
    use tower::ServiceExt;

    let mut config = test_config();
    config.page_concurrency = 1;
    let t = TestApp::with(Backend::Sqlite, config).await;

    // A sign-in whose form has not finished arriving holds the one place. Its body is read
    // only once the request is inside: the second chunk is taken only after the first was read.
    let (mut body, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(0);
    let mut held = Request::post("/api/auth/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from_stream(rx))
        .unwrap();
    held.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let held = tokio::spawn(t.router.clone().oneshot(held));
    body.send(Ok(Bytes::from_static(b"email=admin%40isv.test"))).await.unwrap();
    body.send(Ok(Bytes::from_static(b"&password="))).await.unwrap();

    let health = tokio::time::timeout(Duration::from_secs(10), t.get("/healthz", None)).await.expect("/healthz waited for the page's place");
    assert_eq!(health.status, StatusCode::OK);

    let router = t.router.clone();
    let mut page = tokio::spawn(async move { router.oneshot(Request::get("/login").body(Body::empty()).unwrap()).await });
    assert!(tokio::time::timeout(Duration::from_millis(300), &mut page).await.is_err(), "a second page went past the limit of one");

    drop(body);
    let held = tokio::time::timeout(Duration::from_secs(10), held).await.expect("the held request finishes").unwrap().unwrap();
    assert_eq!(held.status(), StatusCode::UNPROCESSABLE_ENTITY, "the unfinished sign-in was answered (empty password)");
    let page = tokio::time::timeout(Duration::from_secs(10), page).await.expect("the waiting page got its turn").unwrap().unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}
