//! Every page renders its data once: each resource is created and fetched once per request, so
//! the data Leptos embeds in the server-rendered HTML for hydration
//! (`__RESOLVED_RESOURCES[n] = "…";`, written by `hydration_context`'s `SsrSharedContext`) holds
//! each payload at most once. A guard that re-creates its children when it re-renders makes every
//! page query and ship its data several times (it did: three copies of the tenant list).

use http::StatusCode;

use crate::on_both_databases;
use crate::support::{TestApp, fresh_db, test_config};

/// The serialized resource payloads in a page, in order: the string literal after each
/// `__RESOLVED_RESOURCES[n] = ` (Rust `Debug` quoting, so `\"` and `\\` are the escapes that
/// matter for finding its end).
fn resolved_resources(html: &str) -> Vec<(usize, String)> {
    const MARKER: &str = "__RESOLVED_RESOURCES[";
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(MARKER) {
        rest = &rest[at + MARKER.len()..];
        let Some(close) = rest.find(']') else { break };
        let Ok(id) = rest[..close].parse::<usize>() else { continue };
        rest = &rest[close + 1..];
        let Some(open) = rest.find('"') else { break };
        assert!(rest[..open].trim() == "=", "unexpected text after the resource id: {:?}", &rest[..open.min(40)]);
        let body = &rest[open + 1..];
        let mut escaped = false;
        let mut end = None;
        for (i, c) in body.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("a closed payload string");
        out.push((id, body[..end].to_owned()));
        rest = &body[end + 1..];
    }
    // The synchronous initial chunk (`__RESOLVED_RESOURCES=[…]`) must not carry data either way
    // these pages are rendered; if it ever does, this test has to learn to read it.
    if let Some(at) = html.find("__RESOLVED_RESOURCES=[") {
        let tail = &html[at + "__RESOLVED_RESOURCES=[".len()..];
        assert!(tail.starts_with("];"), "resources in the initial chunk: {}", &tail[..tail.len().min(200)]);
    }
    out
}

/// A payload as the JSON value it encodes (undoing the `Debug` quoting of the string literal).
fn payload_json(payload: &str) -> serde_json::Value {
    let mut text = String::with_capacity(payload.len());
    let mut chars = payload.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => text.push('\n'),
            Some('r') => text.push('\r'),
            Some('t') => text.push('\t'),
            Some('0') => text.push('\0'),
            Some('u') => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                text.push(char::from_u32(u32::from_str_radix(&code, 16).expect("hex")).expect("a char"));
            }
            Some(other) => text.push(other),
            None => panic!("a dangling escape in {payload}"),
        }
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("a payload that is not JSON ({e}): {text}"))
}

/// How many objects in `value` (at any depth) are the record of `id`: an `"id"` equal to it and
/// the field `key` equal to `label` (an audit event's snapshot of the record carries no `"id"`).
fn records_of(value: &serde_json::Value, id: &str, key: &str, label: &str) -> usize {
    match value {
        serde_json::Value::Object(map) => {
            // Ids are strings (UUIDs) or numbers (audit events).
            let this_id = map.get("id").map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
            let here = this_id.as_deref() == Some(id) && map.get(key).and_then(|v| v.as_str()) == Some(label);
            usize::from(here) + map.values().map(|v| records_of(v, id, key, label)).sum::<usize>()
        }
        serde_json::Value::Array(items) => items.iter().map(|v| records_of(v, id, key, label)).sum(),
        _ => 0,
    }
}

#[tokio::test]
async fn every_page_embeds_each_resource_payload_at_most_once() {
    let t = TestApp::new().await;
    let config = t.sign_in("config@isv.test").await;
    let admin = t.sign_in("admin@isv.test").await;
    let a = t.world.tenant_a;
    let tenant_a = (a.to_string(), "display_name", "Tenant acme");
    let manager_b = (t.world.manager_b.to_string(), "email", "am-b@isv.test");
    let created = server::audit::for_tenant(&t.portal.db, a).await.unwrap().into_iter().find(|e| e.action == "tenant.created").unwrap();
    let tenant_a_created = (created.id.to_string(), "action", "tenant.created");
    // An invite's audit event: the consent panel once listed its own copy of the consent and
    // invite events beside the timeline's, so the tenant page carried this record twice.
    server::onboarding::invites::issue(&t.portal.db, &server::audit::Actor::system("test"), None, a, &t.portal.config.public_url, chrono::Duration::hours(1))
        .await
        .unwrap();
    let issued = server::audit::for_tenant(&t.portal.db, a).await.unwrap().into_iter().find(|e| e.action == "invite.issued").unwrap();
    let tenant_a_invited = (issued.id.to_string(), "action", "invite.issued");
    let hook = server::webhooks::endpoints::create(
        &t.portal.db,
        &t.portal.keyring,
        false,
        &server::audit::Actor::system("test"),
        None,
        app::webhooks::api::NewEndpointInput {
            environment: app::environment::Environment::Demo,
            url: "https://hooks.example.com/render-once".into(),
            event_types: vec![app::webhooks::WebhookEventType::ConsentRevoked],
        },
    )
    .await
    .unwrap();
    let endpoint = (hook.id.to_string(), "url", "https://hooks.example.com/render-once");

    // (page, session, the record only the page's own data carries, what the page must show)
    let pages = [
        ("/tenants".to_owned(), &config, &tenant_a, "Tenant globex"),
        (format!("/tenants/{a}"), &config, &tenant_a, "consent-panel"),
        // The timeline's payload: the tenant's first audit event, once.
        (format!("/tenants/{a}"), &config, &tenant_a_created, "Tenant created"),
        (format!("/tenants/{a}"), &config, &tenant_a_invited, "consent-history"),
        (format!("/tenants/{a}?timeline=other"), &config, &tenant_a_created, "Tenant created"),
        (format!("/tenants/{a}/edit"), &config, &tenant_a, "Save changes"),
        ("/tenants/new".to_owned(), &config, &manager_b, "Create tenant"),
        ("/staff".to_owned(), &admin, &manager_b, "Add a staff member"),
        (format!("/audit?tenant={a}"), &config, &tenant_a_created, "Audit log"),
        ("/overview".to_owned(), &config, &tenant_a_created, "Recent activity"),
        (format!("/settings/webhooks?endpoint={}", hook.id), &admin, &endpoint, "Add an endpoint"),
    ];

    let mut failures = Vec::new();
    for (path, cookie, (id, key, label), shown) in &pages {
        let page = t.get(path, Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains(shown), "{path} does not show {shown:?}");
        let resources = resolved_resources(&page.body);
        assert!(!resources.is_empty(), "{path}: no resource data found in the page");

        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for (_, payload) in &resources {
            *counts.entry(payload.as_str()).or_default() += 1;
        }
        for (payload, n) in &counts {
            if *n > 1 {
                let short: String = payload.chars().take(80).collect();
                failures.push(format!("{path}: a payload embedded {n} times ({} bytes each): {short}…", payload.len()));
            }
        }
        let copies: usize = resources.iter().map(|(_, p)| records_of(&payload_json(p), id, key, label)).sum();
        assert!(copies >= 1, "{path}: the record of {label:?} is not in the page's data");
        if copies > 1 {
            failures.push(format!("{path}: the record of {label:?} is in the resource data {copies} times"));
        }
        eprintln!(
            "{path}: {} bytes of HTML, {} resource payloads ({} distinct), the record of {label:?} {copies} time(s)",
            page.body.len(),
            resources.len(),
            counts.len()
        );
    }
    assert!(failures.is_empty(), "pages embed their data more than once:\n{}", failures.join("\n"));
}

on_both_databases! {
    /// The tenant page's panels (tenant, consent, setup check, overrides, timeline) are server
    /// functions of their own and each must know the viewer may see the tenant; rendering the page
    /// calls them side by side, and they share one read of the tenant's row (it was five).
    async fn the_tenant_page_reads_the_tenants_row_once_for_all_its_panels(backend) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let reads = Arc::new(AtomicUsize::new(0));
        let mut db = fresh_db(backend).await;
        let counter = reads.clone();
        db.set_metric_callback(move |info| {
            let sql = info.statement.sql.as_str();
            if sql.starts_with("SELECT") && sql.contains(r#"FROM "tenants" "#) && sql.contains(r#"WHERE "tenants"."id" ="#) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let t = TestApp::over(db, test_config()).await;
        // An account manager: the one role whose access depends on the row itself.
        let cookie = t.sign_in("am-a@isv.test").await;
        reads.store(0, Ordering::SeqCst);
        let page = t.get(&format!("/tenants/{}", t.world.tenant_a), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-testid=\"audit-events\"") && page.body.contains("data-testid=\"consent-history\""), "every panel rendered");
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read of the tenant's row for the whole page");

        // Each request decides afresh: another manager's tenant is not found, read once too.
        reads.store(0, Ordering::SeqCst);
        let other = t.get(&format!("/tenants/{}", t.world.tenant_b), Some(&cookie)).await;
        assert!(!other.body.contains("data-testid=\"consent-history\"") && other.body.contains("Not found"), "a tenant of another manager shows none of its panels");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }
}

on_both_databases! {
    /// Each statement is a round trip (and, on SQLite, two thread hand-offs), so the tenant page's
    /// cost follows its count: the session, the tenant's row with its manager's e-mail, the
    /// consent record (state, system user and latest receipt together), the newest invites, the
    /// overrides in force and the timeline (all its sources in one union). A change that adds a
    /// statement to the page changes this number on purpose.
    async fn the_tenant_page_runs_six_statements(backend) {
        use std::sync::{Arc, Mutex};
        let statements = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut db = fresh_db(backend).await;
        let seen = statements.clone();
        db.set_metric_callback(move |info| seen.lock().unwrap().push(info.statement.sql.clone()));
        let t = TestApp::over(db, test_config()).await;
        let cookie = t.sign_in("am-a@isv.test").await;
        statements.lock().unwrap().clear();
        let page = t.get(&format!("/tenants/{}", t.world.tenant_a), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-testid=\"audit-events\"") && page.body.contains("data-testid=\"consent-history\""), "every panel rendered");
        let ran = statements.lock().unwrap().clone();
        assert_eq!(ran.len(), 6, "the tenant page ran:\n{}", ran.join("\n"));
    }
}
