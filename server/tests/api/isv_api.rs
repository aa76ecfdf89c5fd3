//! The integration API (`/api/v1`) over the router: API clients created by administrators, the
//! deny-by-default gate (every endpoint × every kind of key), problem documents, tenant reads with
//! cursor paging, and access-token vending against the sandbox (cache, single flight, a refused
//! grant moving the tenant).

use std::sync::Arc;

use app::api_clients::ApiScope;
use app::policy::{API_POLICY, ApiAccess};
use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::onboarding::{GINA, Onboarding};
use crate::support::*;

/// Creates an API client as the admin through the server function; returns its key.
async fn key(t: &TestApp, admin: &str, envs: &[&str], scopes: &[ApiScope], expiry: &str) -> (String, String) {
    let mut form: Vec<(String, String)> = vec![("input[name]".into(), "Backend".into()), ("input[expires_in_days]".into(), expiry.into())];
    for e in envs {
        form.push((format!("input[env_{e}]"), "on".into()));
    }
    for s in scopes {
        form.push((format!("input[{}]", s.field()), "on".into()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.call("/api/api_clients/create", Some(admin), &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    (j["key"].as_str().unwrap().to_owned(), j["client"]["id"].as_str().unwrap().to_owned())
}

async fn api(t: &TestApp, method: &str, path: &str, key: Option<&str>) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    t.send(req.body(Body::empty()).unwrap()).await
}

fn assert_problem(r: &Reply, status: StatusCode, kind: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json", "{}", r.body);
    let p = r.json();
    assert_eq!(p["status"], status.as_u16());
    assert_eq!(p["type"], format!("/api/v1/docs#problem-{kind}"), "{}", r.body);
    assert!(!p["title"].as_str().unwrap().is_empty() && !p["detail"].as_str().unwrap().is_empty());
}

const ALL: [ApiScope; 3] = ApiScope::ALL;

async fn audit_max_id(db: &sea_orm::DatabaseConnection) -> i64 {
    use sea_orm::{EntityTrait, QueryOrder};
    server::db::entities::audit_event::Entity::find().order_by_desc(server::db::entities::audit_event::Column::Id).one(db).await.unwrap().map_or(0, |e| e.id)
}

async fn audit_actions_after(db: &sea_orm::DatabaseConnection, after: i64) -> Vec<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    server::db::entities::audit_event::Entity::find()
        .filter(server::db::entities::audit_event::Column::Id.gt(after))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn every_api_endpoint_refuses_missing_unknown_revoked_expired_out_of_scope_and_wrong_environment_keys() {
    let t = TestApp::new().await;
    let admin = t.sign_in("admin@isv.test").await;
    let tenant = t.world.tenant_a.to_string();
    let (good, _) = key(&t, &admin, &["demo"], &ALL, "").await;
    let (revoked, revoked_id) = key(&t, &admin, &["demo"], &ALL, "").await;
    assert_eq!(t.call("/api/api_clients/revoke", Some(&admin), &[("id", &revoked_id)]).await.status, StatusCode::OK);
    let (expired, expired_id) = key(&t, &admin, &["demo"], &ALL, "1").await;
    {
        use sea_orm::{EntityTrait, Set, ActiveModelTrait};
        let row = server::db::entities::api_client::Entity::find_by_id(uuid::Uuid::parse_str(&expired_id).unwrap()).one(&t.portal.db).await.unwrap().unwrap();
        let mut m: server::db::entities::api_client::ActiveModel = row.into();
        m.expires_at = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
        m.update(&t.portal.db).await.unwrap();
    }
    let (production_only, _) = key(&t, &admin, &["production"], &ALL, "").await;
    let unknown = format!("cpk_abcdefghijkl_{}", "x".repeat(43));
    let wrong_secret = format!("{}_{}", good.rsplit_once('_').unwrap().0, "y".repeat(43));
    let audit_before = audit_max_id(&t.portal.db).await;

    let mut exercised = 0;
    for (method, route, access) in API_POLICY {
        let path = route.replace("{tenant}", &tenant);
        let ApiAccess::Scope(scope) = access else {
            assert_eq!(api(&t, method, &path, None).await.status, StatusCode::OK, "{route} is public");
            continue;
        };
        exercised += 1;
        assert_problem(&api(&t, method, &path, None).await, StatusCode::UNAUTHORIZED, "missing-key");
        assert_problem(&api(&t, method, &path, Some("not-a-key")).await, StatusCode::UNAUTHORIZED, "unknown-key");
        assert_problem(&api(&t, method, &path, Some(&unknown)).await, StatusCode::UNAUTHORIZED, "unknown-key");
        assert_problem(&api(&t, method, &path, Some(&wrong_secret)).await, StatusCode::UNAUTHORIZED, "unknown-key");
        assert_problem(&api(&t, method, &path, Some(&revoked)).await, StatusCode::UNAUTHORIZED, "revoked-key");
        assert_problem(&api(&t, method, &path, Some(&expired)).await, StatusCode::UNAUTHORIZED, "expired-key");
        // A key with every scope but this one.
        let others: Vec<ApiScope> = ALL.into_iter().filter(|s| s != scope).collect();
        let (lacking, _) = key(&t, &admin, &["demo"], &others, "").await;
        assert_problem(&api(&t, method, &path, Some(&lacking)).await, StatusCode::FORBIDDEN, "missing-scope");
        // The tenant lives in demo; a production-only key may not touch it.
        if route.contains("{tenant}") {
            assert_problem(&api(&t, method, &path, Some(&production_only)).await, StatusCode::FORBIDDEN, "wrong-environment");
        } else {
            assert_problem(&api(&t, method, &format!("{path}?environment=demo"), Some(&production_only)).await, StatusCode::FORBIDDEN, "wrong-environment");
        }
        // The right key passes the gate (the access token needs consent first: a 409 naming it).
        let ok = api(&t, method, &path, Some(&good)).await;
        if route.ends_with("access-token") {
            assert_problem(&ok, StatusCode::CONFLICT, "tenant-not-ready");
            assert!(ok.json()["remediation"]["actions"][0]["href"].as_str().unwrap().ends_with(&format!("/tenants/{tenant}")));
        } else if route.ends_with("consent-checks") {
            assert_problem(&ok, StatusCode::BAD_REQUEST, "bad-request");
            // With a body: no DocuSign environment is configured in this app, a conflict naming it.
            let r = consent_check(&t, &good, t.world.tenant_a, &json!({ "user": uuid::Uuid::new_v4() }).to_string()).await;
            assert_problem(&r, StatusCode::CONFLICT, "conflict");
        } else {
            assert_eq!(ok.status, StatusCode::OK, "{route}: {}", ok.body);
        }
    }
    assert_eq!(exercised, 4, "every keyed endpoint was tried");
    // Each use of the revoked key is audited; nothing else changed state.
    let actions = audit_actions_after(&t.portal.db, audit_before).await;
    assert!(actions.iter().all(|a| a == "api_client.revoked_key_used" || a == "api_client.created"), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "api_client.revoked_key_used").count(), exercised);
    assert_eq!(api(&t, "GET", "/api/v1/nothing-here", Some(&good)).await.status, StatusCode::NOT_FOUND);
    assert_problem(&api(&t, "GET", "/api/v1/nothing-here", Some(&good)).await, StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn a_staff_session_is_not_an_api_key() {
    let t = TestApp::new().await;
    let admin = t.sign_in("admin@isv.test").await;
    let r = t.get("/api/v1/tenants", Some(&admin)).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "missing-key");
}

#[tokio::test]
async fn only_administrators_manage_api_clients_and_the_key_is_shown_once_and_stored_hashed() {
    let t = TestApp::new().await;
    let admin = t.sign_in("admin@isv.test").await;
    let (k, id) = key(&t, &admin, &["demo"], &[ApiScope::TenantsRead], "30").await;
    assert!(k.starts_with("cpk_"));
    let list = t.call("/api/api_clients/list", Some(&admin), &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains(&k) && !list.body.contains(k.rsplit_once('_').unwrap().1), "the list never shows the secret");
    assert_eq!(list.json()[0]["id"], id.as_str());
    assert!(list.json()[0]["expires_at"].is_string());
    {
        use sea_orm::EntityTrait;
        let rows = server::db::entities::api_client::Entity::find().all(&t.portal.db).await.unwrap();
        assert!(rows.iter().all(|r| !r.secret_hash.contains(k.rsplit_once('_').unwrap().1)));
    }
    for who in ["config@isv.test", "am-a@isv.test"] {
        let c = t.sign_in(who).await;
        for (path, form) in [("/api/api_clients/list", vec![]), ("/api/api_clients/create", vec![("input[name]", "x"), ("input[env_demo]", "on"), ("input[scope_tenants_read]", "on")]), ("/api/api_clients/revoke", vec![("id", id.as_str())])] {
            assert_eq!(t.call(path, Some(&c), &form).await.status, StatusCode::FORBIDDEN, "{who} {path}");
        }
        assert_eq!(t.get("/settings/api", Some(&c)).await.status, StatusCode::FORBIDDEN, "{who} sees the page's refusal");
    }
    // Bad input: named fields, nothing created.
    let r = t.call("/api/api_clients/create", Some(&admin), &[("input[name]", ""), ("input[expires_in_days]", "9999")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for field in ["name", "environments", "scopes", "expires_in_days"] {
        assert!(r.json()["fields"][field].is_array(), "{field}: {}", r.body);
    }
    assert_eq!(t.call("/api/api_clients/list", Some(&admin), &[]).await.json().as_array().unwrap().len(), 1);
    // The key works, then is revoked and stops at once.
    assert_eq!(api(&t, "GET", "/api/v1/tenants", Some(&k)).await.status, StatusCode::OK);
    t.call("/api/api_clients/revoke", Some(&admin), &[("id", &id)]).await;
    assert_eq!(api(&t, "GET", "/api/v1/tenants", Some(&k)).await.status, StatusCode::UNAUTHORIZED);
    let list = t.call("/api/api_clients/list", Some(&admin), &[]).await.json();
    assert_eq!(list[0]["status"], "revoked");
    assert!(list[0]["last_used_at"].is_string(), "last use is shown");
}

on_both_databases! {
    async fn tenants_page_by_cursor_without_loss_or_repeat_and_filter_by_environment_state_and_time(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let admin = t.sign_in("admin@isv.test").await;
        let actor = server::audit::Actor::system("test");
        for i in 0..23 {
            server::tenants::create(&t.portal.db, &actor, None, tenant_input(&format!("extra-{i:02}"), None)).await.unwrap();
        }
        let mut production = tenant_input("prod-one", None);
        production.environment = app::environment::Environment::Production;
        server::tenants::create(&t.portal.db, &actor, None, production).await.unwrap();
        let (demo_key, _) = key(&t, &admin, &["demo"], &[ApiScope::TenantsRead], "").await;
        let (both_key, _) = key(&t, &admin, &["demo", "production"], &[ApiScope::TenantsRead], "").await;

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor { Some(c) => format!("/api/v1/tenants?limit=10&cursor={c}"), None => "/api/v1/tenants?limit=10".into() };
            let page = api(&t, "GET", &path, Some(&demo_key)).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let j = page.json();
            // A tenant created while paging, sorted before the cursor, must not shift the pages.
            if cursor.is_none() {
                server::tenants::create(&t.portal.db, &actor, None, tenant_input("created-mid-way", None)).await.unwrap();
            }
            seen.extend(j["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            match j["next_cursor"].as_str() { Some(c) => cursor = Some(c.to_owned()), None => break }
        }
        let unique: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "no tenant twice");
        assert!(seen.len() == 25 || seen.len() == 26, "every demo tenant once (the one created mid-way may land after the cursor): {}", seen.len());

        let all = api(&t, "GET", "/api/v1/tenants?limit=200", Some(&both_key)).await.json();
        assert_eq!(all["items"].as_array().unwrap().len(), 27);
        let prod = api(&t, "GET", "/api/v1/tenants?environment=production", Some(&both_key)).await.json();
        assert_eq!(prod["items"].as_array().unwrap().len(), 1);
        assert_eq!(prod["items"][0]["slug"], "prod-one");
        let a = api(&t, "GET", "/api/v1/tenants/acme", Some(&demo_key)).await.json();
        assert_eq!(a["consent"]["state"], "not_started");
        assert_eq!(a["consent"]["ready"], false);
        assert!(a["remediation"]["text"].as_str().unwrap().contains("invite"));
        assert_eq!(a["remediation"]["actions"][0]["kind"], "send_invite");
        let none = api(&t, "GET", "/api/v1/tenants?state=verified", Some(&demo_key)).await.json();
        assert_eq!(none["items"], json!([]));
        let future = api(&t, "GET", "/api/v1/tenants?updated_since=2999-01-01T00:00:00Z", Some(&demo_key)).await.json();
        assert_eq!(future["items"], json!([]));
        for bad in ["environment=staging", "state=happy", "updated_since=yesterday", "limit=0", "limit=201", "limit=x", "cursor=!!!"] {
            let r = api(&t, "GET", &format!("/api/v1/tenants?{bad}"), Some(&demo_key)).await;
            assert_problem(&r, StatusCode::BAD_REQUEST, "bad-request");
        }
        assert_problem(&api(&t, "GET", "/api/v1/tenants/no-such-tenant", Some(&demo_key)).await, StatusCode::NOT_FOUND, "not-found");
    }
}

#[tokio::test]
async fn the_per_key_rate_limit_answers_429_with_retry_after() {
    let mut config = test_config();
    config.api_rate_limit_per_minute = 5;
    let t = TestApp::with(Backend::Sqlite, config).await;
    let admin = t.sign_in("admin@isv.test").await;
    let (k, _) = key(&t, &admin, &["demo"], &[ApiScope::TenantsRead], "").await;
    for _ in 0..5 {
        assert_eq!(api(&t, "GET", "/api/v1/tenants", Some(&k)).await.status, StatusCode::OK);
    }
    let r = api(&t, "GET", "/api/v1/tenants", Some(&k)).await;
    assert_problem(&r, StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    assert!(r.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another key has its own budget.
    let (other, _) = key(&t, &admin, &["demo"], &[ApiScope::TenantsRead], "").await;
    assert_eq!(api(&t, "GET", "/api/v1/tenants", Some(&other)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_describes_every_keyed_endpoint_and_the_reference_page_lists_them() {
    let t = TestApp::new().await;
    let doc = api(&t, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let d = doc.json();
    assert!(d["openapi"].as_str().unwrap().starts_with("3.1"), "{}", d["openapi"]);
    let page = api(&t, "GET", "/api/v1/docs", None).await;
    for (method, route, access) in API_POLICY {
        if matches!(access, ApiAccess::Public) {
            continue;
        }
        let op = &d["paths"][*route][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {route} is described");
        assert!(op["security"].to_string().contains(match access { ApiAccess::Scope(s) => s.as_str(), _ => unreachable!() }));
        assert!(page.body.contains(&format!("{method} {route}")), "{method} {route} on the reference page");
    }
    for (slug, _) in server::isv_api::openapi::PROBLEMS {
        assert!(page.body.contains(&format!("id=\"problem-{slug}\"")));
    }
}

/// A verified tenant (Gina's individual consent) and an API key that may issue tokens.
async fn verified_with_key(backend: Backend) -> (Onboarding, uuid::Uuid, String) {
    let o = Onboarding::new(backend).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, "f941ebb9-c656-4ead-bd63-fa7beda083e5").await;
    let admin = o.app.sign_in("admin@isv.test").await;
    let (k, _) = key(&o.app, &admin, &["demo"], &ALL, "").await;
    (o, tenant, k)
}

async fn jwt_grants(o: &Onboarding) -> u64 {
    o.counts().await.get("POST /oauth/token jwt_bearer").copied().unwrap_or(0)
}

on_both_databases! {
    async fn fifty_concurrent_token_requests_on_two_instances_make_one_grant_and_later_ones_use_the_cache(backend) {
        let (o, tenant, k) = verified_with_key(backend).await;
        let before = jwt_grants(&o).await;
        // Two portal instances on one database: each has its own memory cache, and only the
        // lease in the database keeps them to one grant.
        let second = {
            let portal = Arc::new(server::state::Portal::new(o.app.portal.db.clone(), o.app.portal.config.clone()).unwrap());
            server::http::build_router(portal, server::http::leptos_options(std::path::Path::new("target/site"), "127.0.0.1:0".parse().unwrap()))
        };
        let instances = [Arc::new(o.app.router.clone()), Arc::new(second)];
        let path = format!("/api/v1/tenants/{tenant}/access-token");
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (app, path, k) = (instances[i % 2].clone(), path.clone(), k.clone());
            tasks.push(tokio::spawn(async move {
                use tower::ServiceExt;
                use http_body_util::BodyExt;
                let req = Request::post(&path).header(header::AUTHORIZATION, format!("Bearer {k}")).body(Body::empty()).unwrap();
                let res = (*app).clone().oneshot(req).await.unwrap();
                let status = res.status();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                (status, serde_json::from_slice::<Value>(&body).unwrap())
            }));
        }
        let mut tokens = std::collections::BTreeSet::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["account_id"], "f941ebb9-c656-4ead-bd63-fa7beda083e5");
            assert!(body["base_uri"].as_str().unwrap().starts_with("http"));
            assert!(body["expires_in"].as_i64().unwrap() > 300);
            tokens.insert(body["access_token"].as_str().unwrap().to_owned());
        }
        assert_eq!(jwt_grants(&o).await - before, 1, "one JWT grant for fifty requests across two instances");
        assert_eq!(tokens.len(), 1, "everyone got the same token");
        let again = api(&o.app, "POST", &path, Some(&k)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(jwt_grants(&o).await - before, 1, "the cache answers");
        assert_eq!(again.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        // Sealed at rest: the stored credential does not hold the token.
        use sea_orm::EntityTrait;
        let rows = server::db::entities::credential::Entity::find().all(&o.app.portal.db).await.unwrap();
        let token = tokens.into_iter().next().unwrap();
        assert!(rows.iter().all(|r| !r.access_token.contains(&token)));
    }
}

on_both_databases! {
    async fn a_refused_grant_answers_409_with_the_remediation_and_moves_the_tenant_to_revoked(backend) {
        let (o, tenant, k) = verified_with_key(backend).await;
        // The ISV listens for lost consent.
        server::webhooks::endpoints::create(
            &o.app.portal.db,
            &o.app.portal.keyring,
            true,
            &server::audit::Actor::system("test"),
            None,
            app::webhooks::api::NewEndpointInput {
                environment: app::environment::Environment::Demo,
                url: "https://hooks.isv.example/docusign".into(),
                event_types: vec![app::webhooks::WebhookEventType::ConsentRevoked],
            },
        )
        .await
        .unwrap();
        let logs = capture_logs();
        let path = format!("/api/v1/tenants/{tenant}/access-token");
        let first = api(&o.app, "POST", &path, Some(&k)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let token = first.json()["access_token"].as_str().unwrap().to_owned();
        // Consent withdrawn in DocuSign, and the cached token expired.
        let gina = server::sandbox::default_fixture().user_by_email(GINA).unwrap().id.clone();
        o.control(reqwest::Method::POST, "/control/consents/revoke", json!({ "user_id": gina })).await;
        o.app.portal.api_tokens.forget(tenant, app::environment::Environment::Demo);
        {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            use sea_orm::sea_query::Expr;
            server::db::entities::credential::Entity::update_many()
                .col_expr(server::db::entities::credential::Column::AccessExpiresAt, Expr::value(chrono::Utc::now()))
                .filter(server::db::entities::credential::Column::Purpose.eq("api"))
                .exec(&o.app.portal.db).await.unwrap();
        }
        let refused = api(&o.app, "POST", &path, Some(&k)).await;
        assert_problem(&refused, StatusCode::CONFLICT, "tenant-not-ready");
        let p = refused.json();
        assert!(p["remediation"]["text"].as_str().unwrap().contains("invite"), "{p}");
        assert_eq!(o.consent(tenant).await["status"]["state"], "revoked");
        // Exactly one webhook event says so.
        {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let events = server::db::entities::webhook_event::Entity::find()
                .filter(server::db::entities::webhook_event::Column::TenantId.eq(tenant))
                .filter(server::db::entities::webhook_event::Column::EventType.eq("tenant.consent.revoked"))
                .all(&o.app.portal.db).await.unwrap();
            assert_eq!(events.len(), 1, "one tenant.consent.revoked event");
            assert!(!events[0].payload.contains(&token), "no token in the event");
        }
        let t = api(&o.app, "GET", &format!("/api/v1/tenants/{tenant}"), Some(&k)).await.json();
        assert_eq!(t["consent"]["state"], "revoked");
        assert_eq!(t["consent"]["ready"], false);
        // Later requests are refused from the state, without asking DocuSign again.
        let grants = jwt_grants(&o).await;
        assert_eq!(api(&o.app, "POST", &path, Some(&k)).await.status, StatusCode::CONFLICT);
        assert_eq!(jwt_grants(&o).await, grants);
        assert!(!logs.text().contains(&token), "the token never reaches the logs");
        let audit = o.app.call("/api/audit/log", Some(&o.staff), &[]).await.body;
        assert!(!audit.contains(&token), "nor the audit log");
        assert!(!audit.contains(&k) && !audit.contains(k.rsplit_once('_').unwrap().1), "nor the key");
    }
}

async fn consent_check(app: &TestApp, key: &str, tenant: uuid::Uuid, body: &str) -> Reply {
    let req = Request::post(format!("/api/v1/tenants/{tenant}/consent-checks"))
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(req).await
}

on_both_databases! {
    async fn a_consent_check_tells_a_consented_user_from_one_who_must_consent_and_the_link_lets_them(backend) {
        let (o, tenant, k) = verified_with_key(backend).await;
        let id_of = |email: &str| server::sandbox::default_fixture().user_by_email(email).unwrap().id.clone();
        let gina = consent_check(&o.app, &k, tenant, &json!({ "user": id_of(GINA) }).to_string()).await;
        assert_eq!(gina.status, StatusCode::OK, "{}", gina.body);
        assert_eq!(gina.json()["result"], "consented");
        assert!(gina.json()["consent_url"].is_null());

        let mia_id = id_of(crate::onboarding::MIA);
        let mia = consent_check(&o.app, &k, tenant, &json!({ "user": mia_id }).to_string()).await.json();
        assert_eq!(mia["result"], "consent_required", "{mia}");
        let url = mia["consent_url"].as_str().unwrap().to_owned();
        assert!(url.contains("response_type=code") && url.contains("state=uc."), "{url}");
        // Mia opens the link, consents at DocuSign, and lands on the portal without a session.
        let back = o.at_docusign(&url, crate::onboarding::MIA, true).await;
        let landing = o.app.get(back.strip_prefix(ORIGIN).unwrap(), None).await;
        assert_eq!(landing.status, StatusCode::OK, "{}", landing.body);
        assert!(landing.body.contains("Consent granted") && !landing.body.contains("code="), "{}", landing.body);
        let again = consent_check(&o.app, &k, tenant, &json!({ "user": mia_id }).to_string()).await.json();
        assert_eq!(again["result"], "consented", "{again}");
        // A link's state the portal did not sign is not a consent landing.
        let forged = back.replace("state=uc.", "state=uc.0");
        assert_ne!(o.app.get(forged.strip_prefix(ORIGIN).unwrap(), None).await.status, StatusCode::OK);

        let unknown = consent_check(&o.app, &k, tenant, &json!({ "user": uuid::Uuid::new_v4() }).to_string()).await.json();
        assert_eq!(unknown["result"], "unknown_user", "{unknown}");
        // An individually consented tenant has no directory: e-mails need the GUID instead.
        assert_problem(&consent_check(&o.app, &k, tenant, &json!({ "user": GINA }).to_string()).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        for bad in ["", "{}", "{\"user\": \"\"}", "{\"user\": \"not a user\"}", "[1]"] {
            let r = consent_check(&o.app, &k, tenant, bad).await;
            assert!(matches!(r.status, StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY), "{bad}: {}", r.status);
            assert_eq!(r.headers.get(header::CONTENT_TYPE).unwrap(), "application/problem+json");
        }
    }
}

#[tokio::test]
async fn on_organization_consent_a_consent_check_finds_users_by_email_in_the_directory() {
    use crate::onboarding::{ACME_SALES, ADA, BOB};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_b;
    let b = o.redeem(&o.invite(tenant).await).await;
    o.round_trip(&b, "sign_in", ADA).await;
    o.round_trip(&b, "organization", ADA).await;
    assert_eq!(o.app.call("/api/wizard/name_system_user", Some(&b.cookie), &[("input[user]", BOB)]).await.status, StatusCode::OK);
    assert_eq!(o.choose_account(&b, ACME_SALES).await.status, StatusCode::OK);
    assert_eq!(o.verify(&b).await["outcome"], "verified");
    let admin = o.app.sign_in("admin@isv.test").await;
    let (k, _) = key(&o.app, &admin, &["demo"], &ALL, "").await;
    let bob = consent_check(&o.app, &k, tenant, &json!({ "user": BOB }).to_string()).await.json();
    assert_eq!(bob["result"], "consented", "{bob}");
    assert_eq!(bob["user_id"], server::sandbox::default_fixture().user_by_email(BOB).unwrap().id.as_str());
    let outsider = consent_check(&o.app, &k, tenant, &json!({ "user": GINA }).to_string()).await.json();
    assert_eq!(outsider["result"], "unknown_user", "{outsider}");
}
