//! The tenant page's timeline: every source merged newest first with readable actors, the kind
//! filter, keyset paging that loses and repeats nothing (also across ties and while entries are
//! added), account-manager scoping, and hostile text escaped on the server-rendered page.

use app::auth::{Role, StaffPrincipal};
use app::onboarding::model::ConsentState;
use app::tenants::timeline::{TimelineKind, TimelinePage, TimelineQuery, TimelineSource};
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use server::db::entities::{audit_event, check_run, connect_delivery, invite, webhook_event};
use uuid::Uuid;

use crate::on_both_databases;
use crate::support::{TestApp, test_config};

fn viewer(id: Uuid, role: Role) -> StaffPrincipal {
    StaffPrincipal { id, email: "viewer@isv.test".into(), role }
}

/// An audit event at a chosen time (the service stamps `now`; the timeline orders by time).
async fn audit_at(db: &DatabaseConnection, tenant: Uuid, at: DateTime<Utc>, actor: &str, action: &str, before: Option<serde_json::Value>, after: Option<serde_json::Value>) {
    audit_event::ActiveModel {
        occurred_at: Set(at),
        actor_id: Set(None),
        actor_label: Set(actor.into()),
        tenant_id: Set(Some(tenant)),
        action: Set(action.into()),
        before: Set(before),
        after: Set(after),
        request_id: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn run_at(db: &DatabaseConnection, tenant: Uuid, at: DateTime<Utc>, trigger: &str, overall: &str) -> Uuid {
    let id = Uuid::new_v4();
    check_run::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        trigger: Set(trigger.into()),
        requested_by: Set("config@isv.test".into()),
        started_at: Set(at),
        finished_at: Set(Some(at + Duration::seconds(3))),
        overall: Set(Some(overall.into())),
    }
    .insert(db)
    .await
    .unwrap();
    id
}

async fn webhook_at(db: &DatabaseConnection, tenant: Uuid, at: DateTime<Utc>) {
    webhook_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_type: Set("tenant.consent.revoked".into()),
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        payload: Set("{}".into()),
        created_at: Set(at),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn invite_expired_at(db: &DatabaseConnection, tenant: Uuid, at: DateTime<Utc>) {
    invite::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant),
        token_hash: Set(Uuid::new_v4().simple().to_string()),
        created_by: Set("config@isv.test".into()),
        created_at: Set(at - Duration::days(7)),
        expires_at: Set(at),
        used_at: Set(None),
        revoked_at: Set(None),
        link_requested_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn connect_at(db: &DatabaseConnection, tenant: Uuid, accepted: DateTime<Utc>, refused: DateTime<Utc>, event: &str) {
    connect_delivery::ActiveModel {
        tenant_id: Set(tenant),
        last_verified_at: Set(Some(accepted)),
        last_event: Set(Some(event.into())),
        last_envelope_id: Set(Some("env-1".into())),
        verified_count: Set(4),
        rejected_count: Set(2),
        last_rejected_at: Set(Some(refused)),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn timeline(t: &TestApp, who: &StaffPrincipal, tenant: Uuid, query: &TimelineQuery, size: u64) -> TimelinePage {
    let tenant = server::scope::visible(&t.portal.db, who, tenant).await.unwrap();
    server::timeline::page(&t.portal.db, &tenant, query, size, Utc::now()).await.unwrap()
}

/// Every page from the newest to the last, joined.
async fn every_page(t: &TestApp, who: &StaffPrincipal, tenant: Uuid, kind: Option<TimelineKind>, size: u64) -> Vec<(TimelineSource, String)> {
    let mut query = TimelineQuery { kind, older: None };
    let mut seen = Vec::new();
    loop {
        let page = timeline(t, who, tenant, &query, size).await;
        assert!(page.entries.len() as u64 <= size);
        seen.extend(page.entries.iter().map(|e| (e.source, e.id.clone())));
        match page.older {
            Some(o) => query.older = Some(o),
            None => return seen,
        }
    }
}

on_both_databases! {
    async fn entries_from_every_source_appear_newest_first_with_readable_actors(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let a = t.world.tenant_a;
        let base = Utc::now() - Duration::days(1);
        let at = |minutes: i64| base + Duration::minutes(minutes);
        invite_expired_at(db, a, at(1)).await;
        audit_at(db, a, at(2), "customer admin (invite)", "invite.redeemed", None, Some(serde_json::json!({ "invite_id": "x" }))).await;
        audit_at(db, a, at(3), "config@isv.test", "consent.state_changed",
            Some(serde_json::json!({ "state": "consented", "reason": null })), Some(serde_json::json!({ "state": "verified", "reason": null }))).await;
        let run = run_at(db, a, at(4), "scheduled", "fail").await;
        audit_at(db, a, at(5), "scheduled check", "setup.check_changed",
            Some(serde_json::json!({ "check": "account_settings", "status": "pass" })), Some(serde_json::json!({ "check": "account_settings", "status": "fail", "run": run }))).await;
        audit_at(db, a, at(6), "config@isv.test", "setup.fix_applied",
            Some(serde_json::json!({ "check": "account_settings", "status": "fail", "fix": "apply_settings" })), Some(serde_json::json!({ "applied": {} }))).await;
        connect_at(db, a, at(8), at(7), "envelope-completed").await;
        webhook_at(db, a, at(9)).await;
        audit_at(db, a, at(10), "API client ERP (key_1)", "api.token_granted", None, None).await;
        // Another tenant's history never shows.
        audit_at(db, t.world.tenant_b, at(11), "config@isv.test", "consent.state_changed", None, None).await;
        webhook_at(db, t.world.tenant_b, at(11)).await;

        let admin = viewer(t.world.admin, Role::Admin);
        let page = timeline(&t, &admin, a, &TimelineQuery::default(), 100).await;
        let transition = format!("Consent: {} → {}", ConsentState::Consented.label(), ConsentState::Verified.label());
        let got: Vec<(TimelineKind, &str, &str)> = page.entries.iter().map(|e| (e.kind, e.summary.as_str(), e.actor.as_str())).collect();
        let want = [
            (TimelineKind::Other, "Tenant created", "test"),
            (TimelineKind::Other, "api token granted", "API client ERP (key_1)"),
            (TimelineKind::Webhooks, "Webhook event tenant.consent.revoked: Consent revoked", "Consent Portal (outgoing webhook)"),
            (TimelineKind::Connect, "Connect delivery received: envelope-completed", "DocuSign (Connect)"),
            (TimelineKind::Connect, "Connect delivery refused (not signed by DocuSign for this account)", "unverified sender (Connect)"),
            (TimelineKind::Fixes, "Fix applied to “Account settings”: Apply recommended settings", "config@isv.test"),
            (TimelineKind::Checks, "Check “Account settings”: Pass → Fail", "scheduled check"),
            (TimelineKind::Checks, "Setup check run: failures", "scheduled check"),
            (TimelineKind::Consent, transition.as_str(), "config@isv.test"),
            (TimelineKind::Invites, "Invite redeemed", "customer admin"),
            (TimelineKind::Invites, "Invite expired unused", "Consent Portal (link expired)"),
        ];
        assert_eq!(got, want, "{:#?}", page.entries);
        assert!(page.entries.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
        assert_eq!(page.older, None);
        let consent = page.entries.iter().find(|e| e.kind == TimelineKind::Consent).unwrap();
        assert_eq!(consent.detail, ["state: consented → verified"], "the detail is before → after");
        // The sources are read in one union whose columns each source fills differently: every
        // one reads back as its own row said.
        let detail = |summary: &str| page.entries.iter().find(|e| e.summary == summary).map(|e| e.detail.clone()).unwrap();
        let minute = |m: i64| at(m).format("%Y-%m-%d %H:%M").to_string();
        assert_eq!(detail("Invite expired unused"), [format!("issued {} UTC by config@isv.test", (at(1) - Duration::days(7)).format("%Y-%m-%d %H:%M"))]);
        assert_eq!(detail("Setup check run: failures"), ["environment: demo".to_owned(), format!("finished {} UTC", (at(4) + Duration::seconds(3)).format("%Y-%m-%d %H:%M:%S"))]);
        assert_eq!(detail("Connect delivery received: envelope-completed"), ["envelope env-1", "4 accepted in all"]);
        assert_eq!(detail("Connect delivery refused (not signed by DocuSign for this account)"), ["2 refused in all"]);
        assert_eq!(detail("Webhook event tenant.consent.revoked: Consent revoked"), ["environment: demo"]);
        let redeemed = page.entries.iter().find(|e| e.summary == "Invite redeemed").unwrap();
        assert_eq!(redeemed.action.as_deref(), Some("invite.redeemed"));
        assert_eq!(redeemed.at.format("%Y-%m-%d %H:%M").to_string(), minute(2));
        let connect = page.entries.iter().find(|e| e.source == TimelineSource::Connect && e.id == "1").unwrap();
        assert_eq!(connect.at.format("%Y-%m-%d %H:%M").to_string(), minute(8), "the accepted delivery is dated when it was accepted");
    }
}

on_both_databases! {
    async fn the_kind_filter_returns_only_entries_of_that_kind_and_all_of_them(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let a = t.world.tenant_a;
        let base = Utc::now() - Duration::hours(5);
        for i in 0..3 {
            let at = base + Duration::minutes(i * 10);
            invite_expired_at(db, a, at).await;
            audit_at(db, a, at, "config@isv.test", "invite.issued", None, None).await;
            audit_at(db, a, at, "config@isv.test", "consent.state_changed", None, None).await;
            run_at(db, a, at, "manual", "pass").await;
            audit_at(db, a, at, "config@isv.test", "setup.check_changed", None, Some(serde_json::json!({ "check": "account_settings", "status": "pass" }))).await;
            audit_at(db, a, at, "config@isv.test", "setup.fix_applied", None, None).await;
            webhook_at(db, a, at).await;
        }
        connect_at(db, a, base, base, "envelope-sent").await;

        let admin = viewer(t.world.admin, Role::Admin);
        let all = timeline(&t, &admin, a, &TimelineQuery::default(), 100).await.entries;
        let expected = |k: TimelineKind| all.iter().filter(|e| e.kind == k).map(|e| (e.source, e.id.clone())).collect::<Vec<_>>();
        for kind in TimelineKind::ALL {
            let only = timeline(&t, &admin, a, &TimelineQuery { kind: Some(kind), older: None }, 100).await.entries;
            assert!(only.iter().all(|e| e.kind == kind), "{kind:?}: {only:#?}");
            assert_eq!(only.iter().map(|e| (e.source, e.id.clone())).collect::<Vec<_>>(), expected(kind), "{kind:?}: the same entries as in the full timeline");
        }
        let count = |k: TimelineKind| all.iter().filter(|e| e.kind == k).count();
        assert_eq!(
            [TimelineKind::Invites, TimelineKind::Consent, TimelineKind::Checks, TimelineKind::Fixes, TimelineKind::Webhooks, TimelineKind::Connect, TimelineKind::Other].map(count),
            [6, 3, 6, 3, 3, 2, 1],
            "invites: issued + expired; checks: runs + changes; other: the seed's tenant.created"
        );
    }
}

on_both_databases! {
    async fn paging_by_cursor_loses_and_repeats_nothing_even_across_ties_and_new_entries(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let a = t.world.tenant_a;
        let tie = Utc::now() - Duration::hours(2);
        // Many entries of several sources at one instant, so page boundaries fall inside ties.
        for i in 0..25 {
            audit_at(db, a, tie, "config@isv.test", if i % 2 == 0 { "consent.verified" } else { "setup.check_changed" }, None, None).await;
        }
        for i in 0..8 {
            run_at(db, a, tie, "manual", "pass").await;
            webhook_at(db, a, tie).await;
            invite_expired_at(db, a, tie).await;
            audit_at(db, a, tie - Duration::minutes(i + 1), "config@isv.test", "tenant.updated", None, None).await;
        }
        connect_at(db, a, tie, tie, "envelope-sent").await;

        let admin = viewer(t.world.admin, Role::Admin);
        for kind in [None, Some(TimelineKind::Checks), Some(TimelineKind::Other)] {
            let whole: Vec<_> = timeline(&t, &admin, a, &TimelineQuery { kind, older: None }, 1_000).await.entries.into_iter().map(|e| (e.source, e.id)).collect();
            for size in [1, 7, 10] {
                let paged = every_page(&t, &admin, a, kind, size).await;
                assert_eq!(paged, whole, "{kind:?}, pages of {size}: the same entries in the same order");
            }
        }

        // An entry added after the first page is newer than the cursor: later pages are unshifted.
        let first = timeline(&t, &admin, a, &TimelineQuery::default(), 10).await;
        audit_at(db, a, Utc::now(), "config@isv.test", "tenant.updated", None, None).await;
        let mut rest = Vec::new();
        let mut query = TimelineQuery { kind: None, older: first.older.clone() };
        loop {
            let page = timeline(&t, &admin, a, &query, 10).await;
            rest.extend(page.entries.iter().map(|e| (e.source, e.id.clone())));
            match page.older {
                Some(o) => query.older = Some(o),
                None => break,
            }
        }
        let mut seen: Vec<_> = first.entries.iter().map(|e| (e.source, e.id.clone())).chain(rest).collect();
        let total = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), total, "no entry twice");
        let now_all = timeline(&t, &admin, a, &TimelineQuery::default(), 1_000).await.entries.len();
        assert_eq!(total + 1, now_all, "every entry once, except the one added after the first page");
    }
}

on_both_databases! {
    async fn an_account_manager_reads_only_their_own_tenants_timeline(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let w = &t.world;
        let mine = viewer(w.manager_a, Role::AccountManager);
        let other = viewer(w.manager_b, Role::AccountManager);
        let q = TimelineQuery::default();
        let own = server::scope::visible(&t.portal.db, &mine, w.tenant_a).await.unwrap();
        assert!(server::timeline::page(&t.portal.db, &own, &q, 10, Utc::now()).await.is_ok());
        for (who, tenant) in [(&other, w.tenant_a), (&mine, w.tenant_b), (&mine, Uuid::new_v4())] {
            let err = server::scope::visible(&t.portal.db, who, tenant).await.unwrap_err().into_app("test");
            assert_eq!(err.status_code(), StatusCode::NOT_FOUND.as_u16(), "{err:?}");
        }
    }
}

#[tokio::test]
async fn another_managers_tenant_timeline_is_not_found_over_http() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("am-b@isv.test").await;
    let reply = t.call("/api/tenants/timeline", Some(&cookie), &[("id", &t.world.tenant_a.to_string()), ("query[kind]", "other")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(!reply.body.contains("Tenant created") && !reply.body.contains("acme"), "{}", reply.body);
}

#[tokio::test]
async fn a_damaged_cursor_is_refused_not_guessed() {
    let t = TestApp::new().await;
    let admin = viewer(t.world.admin, Role::Admin);
    for bad in ["nonsense", "1.audit.not-a-number", "1.run.42"] {
        let q = TimelineQuery { kind: None, older: Some(bad.into()) };
        let tenant = server::scope::visible(&t.portal.db, &admin, t.world.tenant_a).await.unwrap();
        let err = server::timeline::page(&t.portal.db, &tenant, &q, 10, Utc::now()).await.unwrap_err().into_app("test");
        assert_eq!(err.field_messages("older").len(), 1, "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn the_tenant_page_renders_the_timeline_with_hostile_text_escaped() {
    let t = TestApp::new().await;
    let db = &t.portal.db;
    let a = t.world.tenant_a;
    let cookie = t.sign_in("config@isv.test").await;
    let hostile = r#"<script>alert(1)</script><img src=x onerror=alert(2)>"#;
    let at = Utc::now() - Duration::minutes(5);
    audit_at(db, a, at, hostile, "tenant.updated", Some(serde_json::json!({ "display_name": "Tenant acme" })), Some(serde_json::json!({ "display_name": hostile }))).await;
    connect_at(db, a, at, at - Duration::minutes(1), hostile).await;

    let page = t.get(&format!("/tenants/{a}"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-testid=\"audit-events\""), "the timeline keeps the audit list's test id");
    assert!(page.body.contains("Full audit log"));
    assert!(!page.body.contains("<script>alert(1)") && !page.body.contains("<img src=x"), "stored text injects markup");
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "shown as text");
}

#[tokio::test]
async fn the_kind_chips_and_older_link_work_as_plain_links_without_javascript() {
    let t = TestApp::new().await;
    let db = &t.portal.db;
    let a = t.world.tenant_a;
    let cookie = t.sign_in("config@isv.test").await;
    let base = Utc::now() - Duration::days(2);
    for i in 0..105 {
        audit_at(db, a, base + Duration::minutes(i), "config@isv.test", "setup.check_changed", None, Some(serde_json::json!({ "check": "account_settings", "status": "pass", "n": i }))).await;
    }
    webhook_at(db, a, base).await;

    let page = t.get(&format!("/tenants/{a}?timeline=checks"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("href=\"/tenants/{a}?timeline=webhooks\"")), "a chip per kind");
    let chosen = page.body.find("aria-current=\"true\" data-testid=\"timeline-checks\"").or_else(|| page.body.find("data-testid=\"timeline-checks\" aria-current=\"true\""));
    assert!(chosen.is_some() || page.body.contains(&format!("href=\"/tenants/{a}?timeline=checks\" aria-current=\"true\"")), "the chosen chip is marked");
    assert!(!page.body.contains("Webhook event"), "only the chosen kind");
    assert_eq!(page.body.matches("class=\"kind-checks\"").count(), 100, "one page of 100");
    let at = [format!("href=\"/tenants/{a}?timeline=checks&amp;older="), format!("href=\"/tenants/{a}?timeline=checks&older=")]
        .iter()
        .find_map(|marker| page.body.find(marker.as_str()))
        .expect("an older-entries link that keeps the kind");
    let href_start = at + "href=\"".len();
    let href_end = href_start + page.body[href_start..].find('"').unwrap();
    let older = page.body[href_start..href_end].replace("&amp;", "&");

    let next = t.get(&older, Some(&cookie)).await;
    assert_eq!(next.status, StatusCode::OK);
    assert_eq!(next.body.matches("class=\"kind-checks\"").count(), 5, "the rest");
    assert!(next.body.contains("Newest entries"));
}

/// The browser encodes a query whose fields are all empty as nothing at all (serde_qs skips
/// `None`s), so the server function must read a missing query as "all kinds, newest first".
#[tokio::test]
async fn a_call_without_a_query_as_the_browser_sends_it_reads_the_newest_of_every_kind() {
    let t = crate::support::TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    let r = t.call("/api/tenants/timeline", Some(&staff), &[("id", &t.world.tenant_a.to_string())]).await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("tenant.created") || r.body.contains("Tenant created"), "{}", r.body);
}
