//! The audit log across tenants: account managers see only their tenants' events, filters
//! narrow it, pages are stable while events are added, and it exports as CSV like the list.

use app::audit::log::{AuditQuery, changes};
use app::auth::{Role, StaffPrincipal};
use http::StatusCode;
use uuid::Uuid;

use crate::on_both_databases;
use crate::support::{TestApp, test_config};

fn viewer(id: Uuid, role: Role) -> StaffPrincipal {
    StaffPrincipal { id, email: "viewer@isv.test".into(), role }
}

on_both_databases! {
    async fn the_audit_log_is_scoped_filtered_and_paged_without_losing_or_repeating_events(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let w = &t.world;
        let staff = server::audit::Actor { id: Some(w.config_staff), label: "config@isv.test".into() };
        // 120 events on tenant a (assigned to manager a), a few on tenant b and one staff event.
        for i in 0..120 {
            let after = serde_json::json!({ "n": i });
            server::audit::record(db, server::audit::Event { actor: &staff, tenant_id: Some(w.tenant_a), action: "tenant.updated", before: None, after: Some(after), request_id: None }).await.unwrap();
        }
        for _ in 0..3 {
            server::audit::record(db, server::audit::Event { actor: &staff, tenant_id: Some(w.tenant_b), action: "invite.issued", before: None, after: None, request_id: None }).await.unwrap();
        }
        server::audit::record(db, server::audit::Event { actor: &staff, tenant_id: None, action: "staff.created", before: None, after: None, request_id: None }).await.unwrap();

        let admin = viewer(w.admin, Role::Admin);
        let mut query = AuditQuery::default();
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = server::audit::log(db, &admin, &query, 50).await.unwrap();
            assert!(page.items.len() <= 50);
            seen.extend(page.items.iter().map(|e| e.event.id));
            pages += 1;
            if pages == 1 {
                // An event added meanwhile is newer than every page: it never shifts one.
                server::audit::record(db, server::audit::Event { actor: &staff, tenant_id: Some(w.tenant_b), action: "invite.revoked", before: None, after: None, request_id: None }).await.unwrap();
            }
            match page.next {
                Some(before) => query.before = Some(before),
                None => break,
            }
        }
        let total = server::audit::count(db, &admin, &AuditQuery::default()).await.unwrap() as usize;
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no event twice");
        assert_eq!(seen.len() + 1, total, "every event once, except the one added after the first page");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");

        // An account manager sees only their tenant's events, never another's nor staff events.
        let am = viewer(w.manager_a, Role::AccountManager);
        let theirs = server::audit::log(db, &am, &AuditQuery::default(), 500).await.unwrap();
        assert!(!theirs.items.is_empty());
        assert!(theirs.items.iter().all(|e| e.tenant_id == Some(w.tenant_a)), "only tenant a");
        assert_eq!(theirs.items[0].tenant_name.as_deref(), Some("Tenant acme"));
        let other = viewer(w.manager_b, Role::AccountManager);
        assert!(server::audit::log(db, &other, &AuditQuery::default(), 50).await.unwrap().items.is_empty());
        let asked = AuditQuery { tenant: Some(w.tenant_b), ..Default::default() };
        assert!(server::audit::log(db, &am, &asked, 50).await.unwrap().items.is_empty(), "asking for another tenant shows nothing");

        // Filters: tenant, action family, actor, dates.
        let invites = AuditQuery { action: Some("invite.".into()), ..Default::default() };
        assert_eq!(server::audit::count(db, &admin, &invites).await.unwrap(), 4);
        let by = AuditQuery { actor: Some("CONFIG@".into()), tenant: Some(w.tenant_b), ..Default::default() };
        assert_eq!(server::audit::count(db, &admin, &by).await.unwrap(), 4);
        let today = chrono::Utc::now().date_naive();
        let past = AuditQuery { to: today.pred_opt(), ..Default::default() };
        assert_eq!(server::audit::count(db, &admin, &past).await.unwrap(), 0);
        let now = AuditQuery { from: Some(today), to: Some(today), ..Default::default() };
        assert_eq!(server::audit::count(db, &admin, &now).await.unwrap() as usize, total);
    }
}

#[tokio::test]
async fn bad_audit_filters_are_refused_by_name() {
    let t = TestApp::new().await;
    let admin = viewer(t.world.admin, Role::Admin);
    let today = chrono::Utc::now().date_naive();
    for (query, field) in [
        (AuditQuery { from: Some(today), to: today.pred_opt(), ..Default::default() }, "to"),
        (AuditQuery { action: Some("DROP TABLE".into()), ..Default::default() }, "action"),
        (AuditQuery { actor: Some("x".repeat(101)), ..Default::default() }, "actor"),
    ] {
        let err = server::audit::log(&t.portal.db, &admin, &query, 50).await.unwrap_err().into_app("r");
        assert_eq!(err.status_code(), 422, "{err:?}");
        assert!(!err.field_messages(field).is_empty(), "{field}: {err:?}");
    }
    let staff = t.sign_in("config@isv.test").await;
    let reply = t.get("/audit/export.csv?from=yesterday", Some(&staff)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("`yesterday` is not a date"), "{}", reply.body);
}

#[tokio::test]
async fn the_audit_export_is_scoped_csv_with_changes_and_is_itself_audited() {
    let t = TestApp::new().await;
    let am = t.sign_in("am-a@isv.test").await;
    let reply = t.get(&format!("/audit/export.csv?tenant={}", t.world.tenant_a), Some(&am)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut reader = csv::Reader::from_reader(reply.body.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), server::exports::AUDIT_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "the tenant's creation at least");
    assert!(rows.iter().all(|r| r[2] == t.world.tenant_a.to_string()), "only tenant a");
    let created = rows.iter().find(|r| &r[5] == "tenant.created").expect("the creation");
    assert!(created[6].contains("slug: acme"), "changes read as words: {}", &created[6]);

    let other = t.sign_in("am-b@isv.test").await;
    let nothing = t.get(&format!("/audit/export.csv?tenant={}", t.world.tenant_a), Some(&other)).await;
    assert_eq!(nothing.body.lines().count(), 1, "another manager gets the header only: {}", nothing.body);

    let admin = viewer(t.world.admin, Role::Admin);
    let exports = server::audit::log(&t.portal.db, &admin, &AuditQuery { action: Some("audit.exported".into()), ..Default::default() }, 50).await.unwrap();
    assert_eq!(exports.items.len(), 2, "each export is audited");
    let after = exports.items[1].event.after.clone().unwrap();
    assert_eq!(after["filter"]["tenant"], t.world.tenant_a.to_string());
    assert!(after["rows"].as_u64().unwrap() >= 1);
    assert!(changes(None, exports.items[1].event.after.as_ref()).iter().any(|c| c.starts_with("rows: ")));
}
