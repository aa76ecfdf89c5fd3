//! The tenant list's setup-check, failing-check and account-manager filters and their counts, on
//! SQLite and PostgreSQL: each option lists exactly its tenants (by their latest run only), every
//! count equals what its filter lists, the counts follow the other filters, account managers count
//! only their own tenants, and the export refuses an unknown value by name.

use app::auth::Role;
use app::checks::{CheckId, CheckStatus};
use app::tenants::api::{CheckFilter, TenantQuery};
use http::StatusCode;
use uuid::Uuid;

use crate::on_both_databases;
use crate::overrides::{seed_run, viewer};
use crate::support::{TestApp, roll_back_and_reapply, slugs, tenant_input, test_config};

fn sla() -> server::config::OnboardingSla {
    server::config::OnboardingSla::default()
}

/// A scheduled run of `tenant` in `demo` that started now and has not finished; its id.
async fn seed_running_run(db: &sea_orm::DatabaseConnection, tenant: Uuid) -> Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let id = Uuid::new_v4();
    server::db::entities::check_run::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        trigger: Set("scheduled".into()),
        requested_by: Set("scheduler".into()),
        started_at: Set(chrono::Utc::now()),
        finished_at: Set(None),
        overall: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    id
}

on_both_databases! {
    async fn each_setup_check_failing_check_and_manager_option_lists_exactly_what_its_count_says(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let actor = server::audit::Actor::system("test");
        let add = |slug: &'static str, manager: Option<Uuid>| {
            let actor = actor.clone();
            async move { server::tenants::create(db, &actor, None, tenant_input(slug, manager)).await.unwrap() }
        };
        let failing = add("failing-co", Some(w.manager_a)).await;
        let warned = add("warned-co", Some(w.manager_b)).await;
        let healed = add("healed-co", None).await;
        let running = add("running-co", None).await;
        // acme (manager A) and globex (nobody) never ran.
        seed_run(db, failing, 60, &[(CheckId::AccountSettings, CheckStatus::Fail), (CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
        seed_run(db, warned, 60, &[(CheckId::ConnectDelivery, CheckStatus::Warn)]).await;
        // Failed once, passes now: only the latest run counts.
        seed_run(db, healed, 120, &[(CheckId::ConnectConfiguration, CheckStatus::Fail)]).await;
        seed_run(db, healed, 30, &[]).await;
        seed_running_run(db, running).await;

        let admin = viewer(w.admin, Role::Admin);
        let page = server::tenants::page(db, &admin, &TenantQuery::default(), &sla()).await.unwrap();
        assert_eq!(
            page.check_counts,
            [(CheckFilter::Fail, 1), (CheckFilter::Warn, 1), (CheckFilter::Pass, 1), (CheckFilter::Running, 1), (CheckFilter::NeverRun, 2)]
        );
        assert_eq!(page.check_counts.iter().map(|(_, n)| n).sum::<u64>(), page.total, "every tenant counted once");
        for (filter, n) in &page.check_counts {
            let listed = slugs(db, &admin, TenantQuery { check: Some(*filter), ..Default::default() }).await;
            assert_eq!(listed.len() as u64, *n, "{filter:?}: {listed:?}");
        }
        assert_eq!(slugs(db, &admin, TenantQuery { check: Some(CheckFilter::Running), ..Default::default() }).await, ["running-co"]);
        assert_eq!(slugs(db, &admin, TenantQuery { check: Some(CheckFilter::NeverRun), ..Default::default() }).await, ["acme", "globex"]);
        assert!(slugs(db, &admin, TenantQuery { check: Some(CheckFilter::Error), ..Default::default() }).await.is_empty());

        assert_eq!(page.failing_counts, [(CheckId::AccountSettings, 1), (CheckId::ConnectDelivery, 1)], "a warning is not a failure; an old run's failure does not count");
        for (check, n) in &page.failing_counts {
            let listed = slugs(db, &admin, TenantQuery { failing: Some(*check), ..Default::default() }).await;
            assert_eq!(listed, ["failing-co"], "{check:?}");
            assert_eq!(listed.len() as u64, *n);
        }
        assert!(slugs(db, &admin, TenantQuery { failing: Some(CheckId::ConnectConfiguration), ..Default::default() }).await.is_empty());

        let by_manager: Vec<(Option<Uuid>, u64)> = page.manager_counts.iter().map(|(id, _, n)| (*id, *n)).collect();
        assert_eq!(by_manager, [(Some(w.manager_a), 2), (Some(w.manager_b), 1), (None, 3)]);
        assert_eq!(page.manager_counts[0].1.as_deref(), Some("am-a@isv.test"));
        for (id, _, n) in page.manager_counts.iter().filter(|(id, _, _)| id.is_some()) {
            assert_eq!(slugs(db, &admin, TenantQuery { manager: *id, ..Default::default() }).await.len() as u64, *n);
        }

        // Each group's counts follow the other filters, never their own.
        let narrowed = server::tenants::page(db, &admin, &TenantQuery { manager: Some(w.manager_a), check: Some(CheckFilter::Fail), ..Default::default() }, &sla()).await.unwrap();
        assert_eq!(narrowed.total, 1);
        assert_eq!(narrowed.check_counts, [(CheckFilter::Fail, 1), (CheckFilter::NeverRun, 1)], "manager A's tenants, any check status");
        let managers: Vec<(Option<Uuid>, u64)> = narrowed.manager_counts.iter().map(|(id, _, n)| (*id, *n)).collect();
        assert_eq!(managers, [(Some(w.manager_a), 1)], "failing tenants, any manager");
        assert_eq!(narrowed.failing_counts, [(CheckId::AccountSettings, 1), (CheckId::ConnectDelivery, 1)]);

        // An account manager counts only their own tenants, in every group.
        let am = viewer(w.manager_b, Role::AccountManager);
        let mine = server::tenants::page(db, &am, &TenantQuery::default(), &sla()).await.unwrap();
        assert_eq!(mine.check_counts, [(CheckFilter::Warn, 1)]);
        assert!(mine.failing_counts.is_empty());
        let managers: Vec<(Option<Uuid>, u64)> = mine.manager_counts.iter().map(|(id, _, n)| (*id, *n)).collect();
        assert_eq!(managers, [(Some(w.manager_b), 1)]);
        assert!(slugs(db, &am, TenantQuery { failing: Some(CheckId::AccountSettings), ..Default::default() }).await.is_empty());
    }
}

#[tokio::test]
async fn the_export_follows_the_check_filters_and_refuses_unknown_values_by_name() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    seed_run(&t.portal.db, t.world.tenant_b, 10, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
    let reply = t.get("/tenants/export.csv?check=fail&failing=connect_delivery", Some(&staff)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let lines: Vec<&str> = reply.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", reply.body);
    assert!(lines[1].contains("globex"), "{}", reply.body);
    let bad = t.get("/tenants/export.csv?check=broken", Some(&staff)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("`broken` is not a setup-check status"), "{}", bad.body);
    let bad = t.get("/tenants/export.csv?failing=everything", Some(&staff)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("`everything` is not a setup check"), "{}", bad.body);
}

#[tokio::test]
async fn the_list_page_renders_the_filter_chips_with_counts_and_the_override_badge() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    seed_run(&t.portal.db, t.world.tenant_b, 10, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
    let r = t
        .call(
            "/api/overrides/create",
            Some(&staff),
            &[("tenant_id", &t.world.tenant_b.to_string()), ("input[subject]", "connect_delivery"), ("input[justification]", "Production-only listener, checked on a call."), ("input[expires_in_days]", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = t.get("/tenants?check=fail", Some(&staff)).await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in ["data-testid=\"check-fail\"", "data-testid=\"failing-connect_delivery\"", "data-testid=\"override-badge\"", "data-testid=\"overridden\"", "overridden: "] {
        assert!(page.body.contains(needle), "{needle} missing");
    }
    let overview = t.get("/overview", Some(&staff)).await;
    assert!(overview.body.contains("/tenants?env=demo&amp;overridden=1") || overview.body.contains("/tenants?env=demo&overridden=1"), "the overview links its override count to the filtered list");
}

#[tokio::test]
async fn with_kept_counts_a_new_tenant_is_listed_at_once_while_the_counts_trail_it_until_they_are_recomputed() {
    let mut config = test_config();
    config.list_counts_seconds = 60;
    let t = TestApp::with(crate::support::Backend::Sqlite, config).await;
    let staff = t.sign_in("config@isv.test").await;
    let page = || async {
        let r = t.call("/api/tenants/page", Some(&staff), &[("query[include_archived]", "false")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()
    };
    let first = page().await;
    assert_eq!(first["total"], 2);
    server::tenants::create(&t.portal.db, &server::audit::Actor::system("test"), None, tenant_input("initech", None)).await.unwrap();
    let second = page().await;
    assert_eq!(second["items"].as_array().unwrap().len(), 3, "the rows are read on every request");
    assert_eq!(second["total"], 2, "the counts are the kept ones");
    // Another filter is another entry: computed now.
    let r = t.call("/api/tenants/page", Some(&staff), &[("query[include_archived]", "true")]).await;
    assert_eq!(r.json()["total"], 3);
}

/// The latest run of `tenant` in `demo` as the table the list reads names it, and as derived from
/// the runs themselves (newest start, id breaking ties): `(run id, overall)` each.
async fn latest_both_ways(db: &sea_orm::DatabaseConnection, tenant: Uuid) -> (Option<(Uuid, Option<String>)>, Option<(Uuid, Option<String>)>) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use server::db::entities::{check_run, latest_check_run};
    let kept = latest_check_run::Entity::find_by_id((tenant, "demo".to_owned())).one(db).await.unwrap().map(|l| (l.run_id, l.overall));
    let derived = check_run::Entity::find()
        .filter(check_run::Column::TenantId.eq(tenant))
        .filter(check_run::Column::Environment.eq("demo"))
        .order_by_desc(check_run::Column::StartedAt)
        .order_by_desc(check_run::Column::Id)
        .one(db)
        .await
        .unwrap()
        .map(|r| (r.id, r.overall));
    (kept, derived)
}

on_both_databases! {
    async fn the_latest_run_the_list_reads_follows_every_write_to_the_runs(backend) {
        use sea_orm::EntityTrait;
        use server::db::entities::{check_run, latest_check_run, tenant};
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let id = w.tenant_b;
        let agree = |step: &'static str| async move {
            let (kept, derived) = latest_both_ways(db, id).await;
            assert_eq!(kept, derived, "{step}");
            kept
        };
        assert_eq!(agree("never run").await, None);

        let failed = seed_run(db, id, 120, &[(CheckId::AccountSettings, CheckStatus::Fail)]).await;
        assert_eq!(agree("a first run").await, Some((failed, Some("fail".into()))));
        // A run that started earlier but is written later does not displace the newer one.
        seed_run(db, id, 600, &[]).await;
        assert_eq!(agree("an older run written late").await.unwrap().0, failed);

        // A scheduled run that starts, and a worker that dies: the running run is the latest until
        // the scheduler closes it as abandoned (a raw UPDATE, not the run service).
        let running = seed_running_run(db, id).await;
        assert_eq!(agree("a running run").await, Some((running, None)));
        let admin = viewer(w.admin, Role::Admin);
        assert_eq!(slugs(db, &admin, TenantQuery { check: Some(CheckFilter::Running), ..Default::default() }).await, ["globex"]);
        server::checks::scheduler::close_abandoned(db, id, "demo", chrono::Utc::now()).await.unwrap();
        assert_eq!(agree("closed as abandoned").await, Some((running, Some("abandoned".into()))));
        assert_eq!(slugs(db, &admin, TenantQuery { check: Some(CheckFilter::Abandoned), ..Default::default() }).await, ["globex"]);

        // Deleting the latest run falls back to the one before it; retention never deletes it.
        check_run::Entity::delete_by_id(running).exec(db).await.unwrap();
        assert_eq!(agree("the latest run deleted").await.unwrap().0, failed);
        assert_eq!(slugs(db, &admin, TenantQuery { failing: Some(CheckId::AccountSettings), ..Default::default() }).await, ["globex"]);
        let life = server::sessions::Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let later = chrono::Utc::now() + chrono::Duration::days(400);
        assert_eq!(server::retention::purge(db, server::config::Retention::default(), life, later).await.unwrap().check_runs, 1);
        assert_eq!(agree("old runs purged").await.unwrap().0, failed);

        // A deleted tenant leaves no latest run behind.
        tenant::Entity::delete_by_id(id).exec(db).await.unwrap();
        assert_eq!(agree("tenant deleted").await, None);
        assert_eq!(latest_check_run::Entity::find().all(db).await.unwrap(), [], "no row of a deleted tenant remains");
    }
}

on_both_databases! {
    async fn the_migration_fills_the_latest_runs_from_the_runs_already_recorded(backend) {
        use migrations::MigratorTrait;
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        seed_run(db, w.tenant_a, 300, &[]).await;
        let newest = seed_run(db, w.tenant_a, 60, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
        seed_run(db, w.tenant_b, 30, &[]).await;
        let before = (latest_both_ways(db, w.tenant_a).await, latest_both_ways(db, w.tenant_b).await);
        // Back to just before the migration that made the table, whatever came after it.
        let all = migrations::Migrator::migrations();
        let at = all.iter().position(|m| m.name() == "m20261207_000016_latest_check_runs").expect("the migration exists");
        roll_back_and_reapply(db, Some((all.len() - at) as u32), "latest_check_runs").await;
        let after = (latest_both_ways(db, w.tenant_a).await, latest_both_ways(db, w.tenant_b).await);
        assert_eq!(after, before);
        assert_eq!(after.0.0.unwrap(), (newest, Some("fail".into())));
    }
}

on_both_databases! {
    async fn the_overview_counts_each_failing_check_per_environment_as_the_list_filters_it(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let actor = server::audit::Actor::system("test");
        let failing = server::tenants::create(db, &actor, None, tenant_input("failing-co", Some(w.manager_a))).await.unwrap();
        let warned = server::tenants::create(db, &actor, None, tenant_input("warned-co", None)).await.unwrap();
        seed_run(db, failing, 60, &[(CheckId::AccountSettings, CheckStatus::Fail), (CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
        seed_run(db, warned, 60, &[(CheckId::ConnectDelivery, CheckStatus::Warn)]).await;
        seed_run(db, w.tenant_b, 120, &[(CheckId::ClaimedDomains, CheckStatus::Fail)]).await;
        seed_run(db, w.tenant_b, 30, &[]).await;

        let admin = viewer(w.admin, Role::Admin);
        let o = server::tenants::overview(db, &admin, &sla()).await.unwrap();
        let demo = o.environments.iter().find(|e| e.environment == app::environment::Environment::Demo).unwrap();
        assert_eq!(demo.failing.len(), CheckId::ALL.len(), "every check, zero included");
        let nonzero: Vec<(CheckId, u64)> = demo.failing.iter().copied().filter(|(_, n)| *n > 0).collect();
        assert_eq!(nonzero, [(CheckId::AccountSettings, 1), (CheckId::ConnectDelivery, 1)], "a warning or an old run's failure is not counted");
        for (check, n) in &demo.failing {
            let listed = slugs(db, &admin, TenantQuery { environment: Some(app::environment::Environment::Demo), failing: Some(*check), ..Default::default() }).await;
            assert_eq!(listed.len() as u64, *n, "{check:?}: the number links to exactly these tenants: {listed:?}");
        }
        let production = o.environments.iter().find(|e| e.environment == app::environment::Environment::Production).unwrap();
        assert!(production.failing.iter().all(|(_, n)| *n == 0));

        // An account manager counts only their own tenants.
        let b = server::tenants::overview(db, &viewer(w.manager_b, Role::AccountManager), &sla()).await.unwrap();
        assert!(b.environments.iter().all(|e| e.failing.iter().all(|(_, n)| *n == 0)), "manager b has no failing tenant");

        // The page links each number to the list filtered to those tenants.
        let staff = t.sign_in("config@isv.test").await;
        let page = t.get("/overview", Some(&staff)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("href=\"/tenants?env=demo&amp;failing=account_settings\""), "{}", page.body);
        assert!(page.body.contains("Account settings: 1 tenant"));
        assert!(page.body.contains("data-testid=\"failing-checks-production\""));
    }
}
