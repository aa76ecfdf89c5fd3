//! CSV exports over the router: RFC 4180 quoting, formula neutralisation, the list's scope and
//! filters, every page walked, and one audit event per export.

use http::StatusCode;
use sea_orm::EntityTrait;

use crate::on_both_databases;
use crate::support::{TestApp, test_config};

/// Parses an export: the header and the rows as string records.
fn parse(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a well-formed row").iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

#[tokio::test]
async fn a_tenant_export_is_rfc4180_csv_with_formula_cells_neutralised_and_is_audited() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    let actor = server::audit::Actor::system("test");
    let mut input = crate::support::tenant_input("tricky", None);
    input.display_name = "=HYPERLINK(\"http://evil.test\",\"Click\")".into();
    input.contact_email = "-admin@tricky.test".into();
    server::tenants::create(&t.portal.db, &actor, None, input).await.expect("tenant");
    let mut quoted = crate::support::tenant_input("quoted", None);
    quoted.display_name = "Quote \"Co\", Ltd\nSecond line".into();
    server::tenants::create(&t.portal.db, &actor, None, quoted).await.expect("tenant");

    let reply = t.get("/tenants/export.csv", Some(&staff)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[http::header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = reply.headers[http::header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"tenants-") && disposition.ends_with(".csv\""), "{disposition}");
    assert_eq!(reply.headers[http::header::CACHE_CONTROL], "no-store");
    assert!(reply.body.contains("\r\n"), "RFC 4180 lines end in CRLF");

    let (header, rows) = parse(&reply.body);
    assert_eq!(header, server::exports::TENANT_COLUMNS);
    assert_eq!(rows.len(), 4, "the two seeded tenants and the two added: {rows:?}");
    let name = |slug: &str| rows.iter().find(|r| r[2] == slug).unwrap_or_else(|| panic!("{slug} exported")).clone();
    let tricky = name("tricky");
    assert_eq!(tricky[1], "'=HYPERLINK(\"http://evil.test\",\"Click\")", "a formula is written as text");
    assert_eq!(tricky[4], "'-admin@tricky.test");
    assert_eq!(name("quoted")[1], "Quote \"Co\", Ltd\nSecond line", "quotes, commas and line breaks survive the round trip");
    assert_eq!(name("acme")[6], "not_started");

    // Browsers ask for it compressed: the streamed body must survive the compression layer.
    let gzipped = t
        .send(
            http::Request::get("/tenants/export.csv")
                .header(http::header::COOKIE, &staff)
                .header(http::header::ACCEPT_ENCODING, "gzip")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gzipped.headers[http::header::CONTENT_ENCODING], "gzip");
    assert_eq!(gzipped.status, StatusCode::OK);

    let events = server::db::entities::audit_event::Entity::find().all(&t.portal.db).await.unwrap();
    let exports: Vec<_> = events.iter().filter(|e| e.action == "tenants.exported").collect();
    assert_eq!(exports.len(), 2, "each export is audited once");
    let export = exports[0];
    assert_eq!(export.actor_label, "config@isv.test");
    let after = export.after.clone().unwrap();
    assert_eq!(after["rows"], 4);
    assert_eq!(after["filter"]["include_archived"], false);
}

#[tokio::test]
async fn an_account_managers_export_contains_only_their_own_tenants() {
    let t = TestApp::new().await;
    for (who, expected) in [("am-a@isv.test", vec!["acme"]), ("am-b@isv.test", vec![])] {
        let cookie = t.sign_in(who).await;
        let reply = t.get("/tenants/export.csv", Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (_, rows) = parse(&reply.body);
        let slugs: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
        assert_eq!(slugs, expected, "{who}");
        assert!(!reply.body.contains("globex"), "{who} sees no other tenant");
    }
}

#[tokio::test]
async fn only_signed_in_staff_may_export_and_anyone_else_is_sent_to_sign_in() {
    let t = TestApp::new().await;
    let reply = t.get("/tenants/export.csv?q=acme", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[http::header::LOCATION], "/login?next=/tenants/export.csv%3Fq%3Dacme");
    assert!(!reply.body.contains("acme@"), "no row leaks before sign-in");
}

on_both_databases! {
    async fn an_export_follows_the_search_and_walks_every_page_of_a_large_list(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let staff = t.sign_in("config@isv.test").await;
        // More than two export pages, with names that sort across page boundaries.
        let n = 2 * server::exports::EXPORT_PAGE as usize + 37;
        let now = chrono::Utc::now();
        let rows: Vec<server::db::entities::tenant::ActiveModel> = (0..n)
            .map(|i| server::db::entities::tenant::ActiveModel {
                id: sea_orm::Set(uuid::Uuid::new_v4()),
                display_name: sea_orm::Set(format!("Bulk {:04}", (i * 7919) % n)),
                slug: sea_orm::Set(format!("bulk-{i}")),
                environment: sea_orm::Set("demo".into()),
                contact_email: sea_orm::Set(format!("admin@bulk-{i}.test")),
                account_manager_id: sea_orm::Set(None),
                notes: sea_orm::Set(String::new()),
                archived_at: sea_orm::Set(None),
                created_at: sea_orm::Set(now),
                updated_at: sea_orm::Set(now),
            })
            .collect();
        for chunk in rows.chunks(200) {
            server::db::entities::tenant::Entity::insert_many(chunk.to_vec()).exec(&t.portal.db).await.unwrap();
        }

        let all = t.get("/tenants/export.csv", Some(&staff)).await;
        let (_, rows) = parse(&all.body);
        assert_eq!(rows.len(), n + 2, "every tenant once");
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids.len(), n + 2, "no tenant twice");
        let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name, as the list");

        let searched = t.get("/tenants/export.csv?q=BULK-1", Some(&staff)).await;
        let (_, rows) = parse(&searched.body);
        let expected = (0..n).filter(|i| format!("bulk-{i}").starts_with("bulk-1")).count();
        assert_eq!(rows.len(), expected, "the search narrows the export like the list");
    }
}

/// A consent receipt for `tenant` granted by `name` <`email`>.
async fn grant(t: &TestApp, tenant: uuid::Uuid, email: &str, name: &str, mode: &str) {
    use sea_orm::{ActiveModelTrait, Set};
    server::db::entities::consent_grant::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        mode: Set(mode.into()),
        user_sub: Set(uuid::Uuid::new_v4().to_string()),
        user_email: Set(email.into()),
        user_name: Set(name.into()),
        scopes: Set("signature impersonation".into()),
        organization_id: Set((mode == "organization").then(|| "org-1".to_owned())),
        granted_at: Set(chrono::Utc::now()),
        verified_at: Set(Some(chrono::Utc::now())),
        verification: Set(Some("JWT grant for the system user succeeded".into())),
    }
    .insert(&t.portal.db)
    .await
    .unwrap();
}

on_both_databases! {
    async fn consent_receipts_export_who_granted_how_and_when_scoped_like_the_list_and_audited(backend) {
        let t = TestApp::with(backend, test_config()).await;
        grant(&t, t.world.tenant_a, "ada@acme.test", "=cmd|' /C calc'!A0", "organization").await;
        grant(&t, t.world.tenant_a, "bob@acme.test", "Bob", "individual").await;
        grant(&t, t.world.tenant_b, "gina@globex.test", "Gina", "individual").await;
        let staff = t.sign_in("config@isv.test").await;
        let reply = t.get("/tenants/receipts.csv", Some(&staff)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.headers[http::header::CONTENT_DISPOSITION].to_str().unwrap().contains("consent-receipts-"));
        let (header, rows) = parse(&reply.body);
        assert_eq!(header, server::exports::RECEIPT_COLUMNS);
        assert_eq!(rows.len(), 3, "{rows:?}");
        let ada = rows.iter().find(|r| r[5] == "ada@acme.test").expect("ada's receipt");
        assert_eq!((ada[2].as_str(), ada[4].as_str(), ada[8].as_str(), ada[9].as_str()), ("acme", "organization", "signature impersonation", "org-1"));
        assert_eq!(ada[6], "'=cmd|' /C calc'!A0", "a formula is written as text");
        assert!(ada[12].contains("JWT grant"));
        // The list's filters apply: only globex's receipt.
        let (_, filtered) = parse(&t.get("/tenants/receipts.csv?q=globex", Some(&staff)).await.body);
        assert_eq!(filtered.iter().map(|r| r[5].as_str()).collect::<Vec<_>>(), ["gina@globex.test"]);
        // An account manager gets only their tenants' receipts.
        let am = t.sign_in("am-a@isv.test").await;
        let mine = t.get("/tenants/receipts.csv", Some(&am)).await.body;
        assert!(!mine.contains("globex"), "{mine}");
        assert_eq!(parse(&mine).1.len(), 2);
        let bad = t.get("/tenants/receipts.csv?state=happy", Some(&staff)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let events = server::db::entities::audit_event::Entity::find().all(&t.portal.db).await.unwrap();
        let exports: Vec<_> = events.iter().filter(|e| e.action == "receipts.exported").collect();
        assert_eq!(exports.len(), 3, "each export audited once, the refused one not at all");
        assert_eq!(exports[0].after.clone().unwrap()["rows"], 3);
    }
}
