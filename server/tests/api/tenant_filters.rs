//! The tenant list's consent-state filter and its counts, on SQLite and PostgreSQL: each state
//! (and each "needs attention" reason) lists exactly its tenants, every count equals what its
//! filter lists, account managers count only their own tenants, and the export follows the filter.

use app::auth::{Role, StaffPrincipal};
use app::onboarding::model::ConsentState;
use app::tenants::api::TenantQuery;
use http::StatusCode;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::on_both_databases;
use crate::support::{TestApp, slugs, test_config, tenant_input};

fn viewer(id: Uuid, role: Role) -> StaffPrincipal {
    StaffPrincipal { id, email: "viewer@isv.test".into(), role }
}

/// Puts `tenant` in `state` (with `reason`) in its environment, as the state machine stores it.
async fn set_state(db: &sea_orm::DatabaseConnection, tenant: Uuid, env: &str, state: ConsentState, reason: Option<&str>) {
    server::db::entities::consent_state::ActiveModel {
        tenant_id: Set(tenant),
        environment: Set(env.into()),
        state: Set(state.as_str().into()),
        reason: Set(reason.map(str::to_owned)),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
}

/// Pins a system user for `tenant` in the demo environment.
async fn pin_system_user(db: &sea_orm::DatabaseConnection, tenant: Uuid, email: &str, account_id: &str, account_name: &str) {
    server::db::entities::system_user::ActiveModel {
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        user_id: Set("user-guid".into()),
        email: Set(email.into()),
        name: Set("Integration".into()),
        account_id: Set(account_id.into()),
        account_name: Set(account_name.into()),
        base_uri: Set("https://demo.docusign.net".into()),
        organization_id: Set(None),
        pinned_at: Set(chrono::Utc::now()),
        verified_at: Set(None),
        last_verification: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
}

on_both_databases! {
    async fn each_consent_state_filter_lists_exactly_its_tenants_and_each_count_equals_its_list(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let w = &t.world;
        let actor = server::audit::Actor::system("test");
        let add = |slug: &'static str, manager: Option<Uuid>| {
            let actor = actor.clone();
            async move { server::tenants::create(db, &actor, None, tenant_input(slug, manager)).await.unwrap() }
        };
        let verified = add("verified-co", Some(w.manager_a)).await;
        let lost = add("lost-consent", Some(w.manager_a)).await;
        let moved = add("moved-account", None).await;
        let revoked = add("revoked-co", None).await;
        let _fresh = add("fresh-co", None).await;
        set_state(db, verified, "demo", ConsentState::Verified, None).await;
        set_state(db, lost, "demo", ConsentState::NeedsAttention, Some("consent_required")).await;
        set_state(db, moved, "demo", ConsentState::NeedsAttention, Some("account_not_found")).await;
        set_state(db, revoked, "demo", ConsentState::Revoked, None).await;
        // A state of another environment is not the tenant's state.
        set_state(db, verified, "production", ConsentState::NeedsAttention, Some("consent_required")).await;

        let admin = viewer(w.admin, Role::Admin);
        let q = |state: Option<ConsentState>, reason: Option<&str>| TenantQuery { state, reason: reason.map(str::to_owned), ..Default::default() };
        assert_eq!(slugs(db, &admin, q(Some(ConsentState::Verified), None)).await, ["verified-co"]);
        assert_eq!(slugs(db, &admin, q(Some(ConsentState::NeedsAttention), None)).await, ["lost-consent", "moved-account"]);
        assert_eq!(slugs(db, &admin, q(Some(ConsentState::NeedsAttention), Some("consent_required"))).await, ["lost-consent"]);
        assert_eq!(slugs(db, &admin, q(Some(ConsentState::Revoked), None)).await, ["revoked-co"]);
        assert_eq!(slugs(db, &admin, q(Some(ConsentState::NotStarted), None)).await, ["acme", "fresh-co", "globex"]);

        let page = server::tenants::page(db, &admin, &TenantQuery::default(), &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!(page.state_counts.iter().map(|c| c.count).sum::<u64>(), page.total, "the counts cover every tenant once");
        for c in &page.state_counts {
            let listed = slugs(db, &admin, q(Some(c.state), c.reason.as_deref())).await;
            assert_eq!(listed.len() as u64, c.count, "{c:?} counts what its filter lists");
        }
        let attention: Vec<(Option<&str>, u64)> = page
            .state_counts
            .iter()
            .filter(|c| c.state == ConsentState::NeedsAttention)
            .map(|c| (c.reason.as_deref(), c.count))
            .collect();
        assert_eq!(attention, [(Some("account_not_found"), 1), (Some("consent_required"), 1)]);

        // The counts follow the other filters (here the search).
        let searched = server::tenants::page(db, &admin, &TenantQuery { q: Some("co".into()), ..Default::default() }, &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!(searched.state_counts.iter().map(|c| c.count).sum::<u64>(), searched.total);

        // An account manager counts and lists only their own tenants.
        let am = viewer(w.manager_a, Role::AccountManager);
        let mine = server::tenants::page(db, &am, &TenantQuery::default(), &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!(mine.state_counts.iter().map(|c| c.count).sum::<u64>(), 3, "acme, verified-co, lost-consent");
        assert_eq!(slugs(db, &am, q(Some(ConsentState::NeedsAttention), None)).await, ["lost-consent"]);
        let b = viewer(w.manager_b, Role::AccountManager);
        assert!(server::tenants::page(db, &b, &TenantQuery::default(), &server::config::OnboardingSla::default()).await.unwrap().state_counts.is_empty());
    }
}

#[tokio::test]
async fn a_reason_without_the_needs_attention_state_is_refused_by_name() {
    let t = TestApp::new().await;
    let admin = viewer(t.world.admin, Role::Admin);
    let query = TenantQuery { state: Some(ConsentState::Verified), reason: Some("consent_required".into()), ..Default::default() };
    let err = server::tenants::page(&t.portal.db, &admin, &query, &server::config::OnboardingSla::default()).await.unwrap_err().into_app("r");
    assert_eq!(err.status_code(), 422, "a field error, like every other bad filter: {err:?}");
    assert!(format!("{err:?}").contains("reason"), "{err:?}");
}

#[tokio::test]
async fn the_export_follows_the_state_filter_and_refuses_an_unknown_state() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    set_state(&t.portal.db, t.world.tenant_b, "demo", ConsentState::Revoked, None).await;
    let reply = t.get("/tenants/export.csv?state=revoked", Some(&staff)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let lines: Vec<&str> = reply.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", reply.body);
    assert!(lines[1].contains("globex") && lines[1].contains("revoked"), "{}", reply.body);

    use sea_orm::{EntityTrait, PaginatorTrait};
    let audited = || server::db::entities::audit_event::Entity::find().count(&t.portal.db);
    let before = audited().await.unwrap();
    let bad = t.get("/tenants/export.csv?state=stuck", Some(&staff)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("`stuck` is not a consent state"), "{}", bad.body);
    let bad_env = t.get("/tenants/export.csv?env=staging", Some(&staff)).await;
    assert_eq!(bad_env.status, StatusCode::BAD_REQUEST);
    assert_eq!(audited().await.unwrap(), before, "a refused export is not audited: nothing was exported");
}

on_both_databases! {
    async fn each_list_row_shows_the_mode_system_user_latest_check_and_last_activity_of_its_own_environment(backend) {
        use server::db::entities::{check_run, consent_grant};
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let tenant = t.world.tenant_a;
        let now = chrono::Utc::now();
        let hour = chrono::Duration::hours(1);
        set_state(db, tenant, "demo", ConsentState::Verified, None).await;
        for (mode, at) in [("individual", now - hour * 3), ("organization", now - hour)] {
            consent_grant::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(tenant),
                environment: Set("demo".into()),
                mode: Set(mode.into()),
                user_sub: Set("sub".into()),
                user_email: Set("admin@acme.test".into()),
                user_name: Set("Admin".into()),
                scopes: Set("signature impersonation".into()),
                organization_id: Set(None),
                granted_at: Set(at),
                verified_at: Set(None),
                verification: Set(None),
            }
            .insert(db)
            .await
            .unwrap();
        }
        pin_system_user(db, tenant, "integration@acme.test", "acct-1", "Acme Sales").await;
        for (overall, at) in [(Some("fail"), now - hour * 2), (Some("pass"), now - hour), (None, now - hour * 4)] {
            check_run::ActiveModel {
                id: Set(Uuid::new_v4()),
                tenant_id: Set(tenant),
                environment: Set("demo".into()),
                trigger: Set("manual".into()),
                requested_by: Set("staff".into()),
                started_at: Set(at),
                finished_at: Set(overall.map(|_| at)),
                overall: Set(overall.map(str::to_owned)),
            }
            .insert(db)
            .await
            .unwrap();
        }
        // Another environment's run is not this tenant's latest.
        check_run::ActiveModel {
            id: Set(Uuid::new_v4()),
            tenant_id: Set(tenant),
            environment: Set("production".into()),
            trigger: Set("manual".into()),
            requested_by: Set("staff".into()),
            started_at: Set(now),
            finished_at: Set(Some(now)),
            overall: Set(Some("error".into())),
        }
        .insert(db)
        .await
        .unwrap();

        let admin = viewer(t.world.admin, Role::Admin);
        let page = server::tenants::page(db, &admin, &TenantQuery::default(), &server::config::OnboardingSla::default()).await.unwrap();
        let row = page.items.iter().find(|r| r.id == tenant).unwrap();
        assert_eq!(row.consent_state, ConsentState::Verified);
        assert!(row.consent_since.is_some());
        assert_eq!(row.consent_mode, Some(app::onboarding::model::ConsentMode::Organization), "the newest grant");
        assert_eq!(row.system_user_email.as_deref(), Some("integration@acme.test"));
        assert_eq!((row.account_name.as_deref(), row.account_id.as_deref()), (Some("Acme Sales"), Some("acct-1")));
        assert_eq!(row.check_overall, Some(app::checks::RunOverall::Pass), "the newest run of the tenant's environment");
        assert!(row.last_activity_at.is_some(), "creating the tenant is activity");
        let other = page.items.iter().find(|r| r.id == t.world.tenant_b).unwrap();
        assert_eq!((other.consent_mode, other.system_user_email.as_deref(), other.check_overall), (None, None, None));

        let staff = t.sign_in("config@isv.test").await;
        let csv = t.get("/tenants/export.csv?q=acme", Some(&staff)).await;
        let line = csv.body.lines().nth(1).unwrap().to_owned();
        for expected in ["organization", "integration@acme.test", "acct-1", "Acme Sales", ",pass,"] {
            assert!(line.contains(expected), "{expected} in {line}");
        }
    }
}

on_both_databases! {
    async fn tenants_longer_than_the_onboarding_sla_in_their_state_are_stuck_and_counted(backend) {
        use server::config::OnboardingSla;
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let actor = server::audit::Actor::system("test");
        let now = chrono::Utc::now();
        let days = chrono::Duration::days;
        for (slug, state, age) in [
            ("late-invite", ConsentState::Invited, days(8)),
            ("fresh-invite", ConsentState::Invited, days(2)),
            ("late-wizard", ConsentState::InProgress, days(8)),
            ("late-attention", ConsentState::NeedsAttention, chrono::Duration::hours(25)),
            ("fresh-attention", ConsentState::NeedsAttention, chrono::Duration::hours(2)),
            ("old-verified", ConsentState::Verified, days(100)),
        ] {
            let id = server::tenants::create(db, &actor, None, tenant_input(slug, None)).await.unwrap();
            server::db::entities::consent_state::ActiveModel {
                tenant_id: Set(id),
                environment: Set("demo".into()),
                state: Set(state.as_str().into()),
                reason: Set((state == ConsentState::NeedsAttention).then(|| "consent_missing".to_owned())),
                updated_at: Set(now - age),
            }
            .insert(db)
            .await
            .unwrap();
        }
        let admin = viewer(t.world.admin, Role::Admin);
        let sla = OnboardingSla::default();
        let stuck = server::tenants::page(db, &admin, &TenantQuery { stuck: true, ..Default::default() }, &sla).await.unwrap();
        let slugs: Vec<&str> = stuck.items.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(slugs, ["late-attention", "late-invite", "late-wizard"]);
        assert!(stuck.items.iter().all(|r| r.stuck));

        let all = server::tenants::page(db, &admin, &TenantQuery::default(), &sla).await.unwrap();
        assert_eq!(all.stuck_count, 3, "the count equals the list");
        assert_eq!(all.items.iter().filter(|r| r.stuck).count(), 3, "each row knows it is stuck");

        // The SLA is configuration: a stricter one finds more.
        let strict = OnboardingSla { invited_days: 1, in_progress_days: 1, needs_attention_hours: 1 };
        assert_eq!(server::tenants::page(db, &admin, &TenantQuery::default(), &strict).await.unwrap().stuck_count, 5);

        // "Stuck" combines with the other filters.
        let stuck_attention = TenantQuery { stuck: true, state: Some(ConsentState::NeedsAttention), ..Default::default() };
        let page = server::tenants::page(db, &admin, &stuck_attention, &sla).await.unwrap();
        assert_eq!(page.items.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(), ["late-attention"]);
    }
}

on_both_databases! {
    async fn the_overview_counts_each_environment_and_only_the_viewers_tenants(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let w = &t.world;
        set_state(db, w.tenant_a, "demo", ConsentState::NeedsAttention, Some("consent_missing")).await;
        let actor = server::audit::Actor::system("test");
        let mut prod = tenant_input("prod-co", None);
        prod.environment = app::environment::Environment::Production;
        server::tenants::create(db, &actor, None, prod).await.unwrap();
        let sla = server::config::OnboardingSla::default();

        let admin = viewer(w.admin, Role::Admin);
        let o = server::tenants::overview(db, &admin, &sla).await.unwrap();
        let demo = o.environments.iter().find(|e| e.environment == app::environment::Environment::Demo).unwrap();
        let production = o.environments.iter().find(|e| e.environment == app::environment::Environment::Production).unwrap();
        assert_eq!(demo.in_state(ConsentState::NeedsAttention), 1);
        assert_eq!(demo.in_state(ConsentState::NotStarted), 1, "globex");
        assert_eq!(production.in_state(ConsentState::NotStarted), 1, "prod-co");
        assert_eq!(demo.funnel()[0].1, 2, "every demo tenant is at least not started");
        assert!(!o.recent.is_empty() && o.recent.len() <= 10);
        // Each overview number is what its list shows.
        let listed = server::tenants::page(db, &admin, &TenantQuery { environment: Some(app::environment::Environment::Demo), state: Some(ConsentState::NeedsAttention), ..Default::default() }, &sla).await.unwrap();
        assert_eq!(listed.total, 1);

        let am = viewer(w.manager_b, Role::AccountManager);
        let theirs = server::tenants::overview(db, &am, &sla).await.unwrap();
        assert!(theirs.environments.iter().all(|e| e.counts.is_empty() && e.stuck == 0), "manager b has no tenant");
        assert!(theirs.recent.is_empty(), "and sees no activity");
    }
}

on_both_databases! {
    async fn the_list_searches_the_system_users_email_and_narrows_to_one_account_manager(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let w = &t.world;
        pin_system_user(db, w.tenant_b, "Integration.Bot@globex.example", "acct", "Globex").await;
        let sla = server::config::OnboardingSla::default();
        let admin = viewer(w.admin, Role::Admin);
        let found = server::tenants::page(db, &admin, &TenantQuery { q: Some("integration.bot".into()), ..Default::default() }, &sla).await.unwrap();
        assert_eq!(found.items.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(), ["globex"]);

        let of_a = server::tenants::page(db, &admin, &TenantQuery { manager: Some(w.manager_a), ..Default::default() }, &sla).await.unwrap();
        assert_eq!(of_a.items.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(), ["acme"]);
        assert_eq!(of_a.state_counts.iter().map(|c| c.count).sum::<u64>(), 1, "the counts follow the manager filter");
        // An account manager asking for another manager's tenants still sees only their own: none.
        let b = viewer(w.manager_b, Role::AccountManager);
        assert!(server::tenants::page(db, &b, &TenantQuery { manager: Some(w.manager_a), ..Default::default() }, &sla).await.unwrap().items.is_empty());
    }
}

/// The slugs a search for `q` finds, as `who` sees them.
async fn search(db: &sea_orm::DatabaseConnection, who: &StaffPrincipal, q: &str) -> Vec<String> {
    let mut found = slugs(db, who, TenantQuery { q: Some(q.into()), ..Default::default() }).await;
    found.sort();
    found
}

on_both_databases! {
    async fn the_search_index_follows_every_write_to_tenants_and_system_users(backend) {
        use sea_orm::{EntityTrait, IntoActiveModel};
        use server::db::entities::{system_user, tenant};
        let t = TestApp::with(backend, test_config()).await;
        let db = &t.portal.db;
        let w = &t.world;
        let admin = viewer(w.admin, Role::Admin);

        // Indexed at creation: name, slug and contact e-mail, any case, any part of them.
        assert_eq!(search(db, &admin, "TENANT ACM").await, ["acme"]);
        assert_eq!(search(db, &admin, "lobe").await, ["globex"]);
        assert_eq!(search(db, &admin, "@acme.te").await, ["acme"]);
        assert_eq!(search(db, &admin, "tenant").await, ["acme", "globex"]);
        // A search never matches across two fields (name "Tenant acme", slug "acme").
        assert!(search(db, &admin, "acmeacme").await.is_empty());

        // A renamed tenant is found by its new name only, whatever wrote the row.
        let mut row = tenant::Entity::find_by_id(w.tenant_b).one(db).await.unwrap().unwrap().into_active_model();
        row.display_name = Set("Initech Europe".into());
        row.update(db).await.unwrap();
        assert_eq!(search(db, &admin, "initech eu").await, ["globex"]);
        assert!(search(db, &admin, "tenant glo").await.is_empty());

        // The system user's e-mail joins the tenant's document when pinned, changes with it and
        // leaves it when unpinned.
        pin_system_user(db, w.tenant_a, "Robot.Signer@acme.example", "acct", "Acme").await;
        assert_eq!(search(db, &admin, "robot.signer").await, ["acme"]);
        let mut su = system_user::Entity::find_by_id((w.tenant_a, "demo".to_owned())).one(db).await.unwrap().unwrap().into_active_model();
        su.email = Set("other.bot@acme.example".into());
        su.update(db).await.unwrap();
        assert!(search(db, &admin, "robot.signer").await.is_empty());
        assert_eq!(search(db, &admin, "other.bot").await, ["acme"]);
        system_user::Entity::delete_by_id((w.tenant_a, "demo".to_owned())).exec(db).await.unwrap();
        assert!(search(db, &admin, "other.bot").await.is_empty());

        // Typed text is literal: quotes and LIKE wildcards match only themselves.
        assert!(search(db, &admin, "\"acme\" OR \"globex\"").await.is_empty());
        assert!(search(db, &admin, "ten%").await.is_empty());
        assert!(search(db, &admin, "a_me").await.is_empty());
        // Shorter than a trigram: still found, by scanning.
        assert_eq!(search(db, &admin, "EU").await, ["globex"]);
        // An account manager searches only their tenants.
        assert_eq!(search(db, &viewer(w.manager_a, Role::AccountManager), "tenant").await, ["acme"]);
        assert!(search(db, &viewer(w.manager_b, Role::AccountManager), "tenant").await.is_empty());

        // A deleted tenant leaves the index.
        tenant::Entity::delete_by_id(w.tenant_b).exec(db).await.unwrap();
        assert!(search(db, &admin, "initech").await.is_empty());
        use sea_orm::ConnectionTrait;
        let documents = match db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => "SELECT count(*) AS n FROM tenant_search_docs",
            _ => "SELECT count(*) AS n FROM tenant_search",
        };
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), documents)).await.unwrap().unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1, "one document per remaining tenant, none left behind");
    }
}
