//! Service rules, each proven on SQLite and on PostgreSQL.

use app::auth::{Role, StaffPrincipal};
use app::error::AppError;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use server::audit::Actor;
use server::db::entities::{audit_event, tenant};
use server::error::ServiceError;
use server::sessions::{self, Lifetimes};

use crate::on_both_databases;
use crate::support::*;

fn app_err(e: ServiceError) -> AppError {
    match e {
        ServiceError::App(a) => a,
        other => panic!("expected an AppError, got {other}"),
    }
}

fn principal(id: uuid::Uuid, role: Role) -> StaffPrincipal {
    StaffPrincipal { id, email: "x@isv.test".into(), role }
}

on_both_databases! {
    async fn creating_a_tenant_writes_exactly_one_audit_event(backend) {
        let db = fresh_db(backend).await;
        let before = audit_event::Entity::find().count(&db).await.unwrap();
        let id = server::tenants::create(&db, &Actor::system("t"), Some("req-1"), tenant_input("initech", None)).await.unwrap();
        let events = server::audit::for_tenant(&db, id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "tenant.created");
        assert_eq!(events[0].request_id.as_deref(), Some("req-1"));
        assert_eq!(events[0].after.as_ref().unwrap()["slug"], "initech");
        assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), before + 1);
    }
}

on_both_databases! {
    async fn a_slug_clash_is_a_field_error_and_changes_nothing(backend) {
        let db = fresh_db(backend).await;
        server::tenants::create(&db, &Actor::system("t"), None, tenant_input("acme", None)).await.unwrap();
        let tenants_before = tenant::Entity::find().count(&db).await.unwrap();
        let events_before = audit_event::Entity::find().count(&db).await.unwrap();
        let err = app_err(server::tenants::create(&db, &Actor::system("t"), None, tenant_input("acme", None)).await.unwrap_err());
        assert_eq!(err.field_messages("slug"), vec!["This slug is already used by another tenant. Choose another."]);
        assert_eq!(tenant::Entity::find().count(&db).await.unwrap(), tenants_before);
        assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), events_before);
    }
}

on_both_databases! {
    async fn invalid_input_is_refused_by_the_service_too(backend) {
        let db = fresh_db(backend).await;
        let mut input = tenant_input("ok-slug", None);
        input.slug = "Not OK".into();
        input.contact_email = "nope".into();
        let err = app_err(server::tenants::create(&db, &Actor::system("t"), None, input).await.unwrap_err());
        assert!(!err.field_messages("slug").is_empty());
        assert!(!err.field_messages("contact_email").is_empty());
        assert_eq!(tenant::Entity::find().count(&db).await.unwrap(), 0);
    }
}

on_both_databases! {
    async fn account_managers_see_only_their_assigned_tenants(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let am_a = principal(w.manager_a, Role::AccountManager);
        let am_b = principal(w.manager_b, Role::AccountManager);
        let cfg = principal(w.config_staff, Role::ConfigStaff);
        let ids = |list: Vec<app::tenants::api::TenantSummary>| list.into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(server::tenants::list(&db, &am_a, false, &server::config::OnboardingSla::default()).await.unwrap()), vec![w.tenant_a]);
        assert!(server::tenants::list(&db, &am_b, false, &server::config::OnboardingSla::default()).await.unwrap().is_empty());
        assert_eq!(server::tenants::list(&db, &cfg, false, &server::config::OnboardingSla::default()).await.unwrap().len(), 2);
        let hidden = app_err(server::scope::visible(&db, &am_a, w.tenant_b).await.unwrap_err());
        assert_eq!(hidden, AppError::not_found("Tenant"));
        let mine = server::scope::visible(&db, &am_a, w.tenant_a).await.unwrap();
        let detail = server::tenants::get(&am_a, mine).unwrap();
        assert!(!detail.can_manage);
    }
}

on_both_databases! {
    async fn archiving_hides_a_tenant_and_is_audited_once(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let cfg = principal(w.config_staff, Role::ConfigStaff);
        server::tenants::set_archived(&db, &Actor::system("t"), None, w.tenant_b, true).await.unwrap();
        server::tenants::set_archived(&db, &Actor::system("t"), None, w.tenant_b, true).await.unwrap();
        assert_eq!(server::tenants::list(&db, &cfg, false, &server::config::OnboardingSla::default()).await.unwrap().len(), 1);
        assert_eq!(server::tenants::list(&db, &cfg, true, &server::config::OnboardingSla::default()).await.unwrap().len(), 2);
        let events = server::audit::for_tenant(&db, w.tenant_b).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "tenant.archived").count(), 1);
    }
}

on_both_databases! {
    async fn the_audit_log_refuses_updates_and_deletes(backend) {
        let db = fresh_db(backend).await;
        server::tenants::create(&db, &Actor::system("t"), None, tenant_input("acme", None)).await.unwrap();
        assert!(db.execute_unprepared("UPDATE audit_events SET action = 'forged'").await.is_err());
        assert!(db.execute_unprepared("DELETE FROM audit_events").await.is_err());
        assert_eq!(audit_event::Entity::find().count(&db).await.unwrap(), 1);
    }
}

on_both_databases! {
    async fn concurrent_creations_with_one_slug_yield_one_tenant(backend) {
        let db = fresh_db(backend).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { server::tenants::create(&db, &Actor::system("t"), None, tenant_input("race", None)).await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert!(!app_err(e).field_messages("slug").is_empty()),
            }
        }
        assert_eq!(ok, 1);
        assert_eq!(tenant::Entity::find().count(&db).await.unwrap(), 1);
    }
}

on_both_databases! {
    async fn sessions_end_after_idle_time_and_after_their_absolute_lifetime(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let life = Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let now = chrono::Utc::now();
        let token = sessions::create_staff_session(&db, w.admin, life).await.unwrap();
        assert!(sessions::resolve_staff(&db, &token, life, now + chrono::Duration::minutes(29)).await.unwrap().is_some());
        // Activity at +29 min moved the idle clock, so +50 min is still alive...
        assert!(sessions::resolve_staff(&db, &token, life, now + chrono::Duration::minutes(50)).await.unwrap().is_some());
        // ...but 31 idle minutes later it is gone, for good.
        assert!(sessions::resolve_staff(&db, &token, life, now + chrono::Duration::minutes(82)).await.unwrap().is_none());
        assert!(sessions::resolve_staff(&db, &token, life, now + chrono::Duration::minutes(51)).await.unwrap().is_none());

        let token = sessions::create_staff_session(&db, w.admin, life).await.unwrap();
        let mut t = now;
        while t < now + chrono::Duration::hours(11) {
            t += chrono::Duration::minutes(20);
            assert!(sessions::resolve_staff(&db, &token, life, t).await.unwrap().is_some());
        }
        assert!(sessions::resolve_staff(&db, &token, life, now + chrono::Duration::hours(12)).await.unwrap().is_none());
    }
}

on_both_databases! {
    async fn deactivating_a_staff_account_ends_its_sessions(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let life = Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let token = sessions::create_staff_session(&db, w.config_staff, life).await.unwrap();
        let admin = Actor { id: Some(w.admin), label: "admin@isv.test".into() };
        server::staff::set_active(&db, &admin, None, w.config_staff, false).await.unwrap();
        assert!(sessions::resolve_staff(&db, &token, life, chrono::Utc::now()).await.unwrap().is_none());
        assert!(server::staff::authenticate(&db, "config@isv.test", PASSWORD).await.unwrap().is_none());
        server::staff::set_active(&db, &admin, None, w.config_staff, true).await.unwrap();
        assert!(server::staff::authenticate(&db, "config@isv.test", PASSWORD).await.unwrap().is_some());
    }
}

on_both_databases! {
    async fn a_taken_staff_email_is_a_field_error(backend) {
        let db = fresh_db(backend).await;
        seed(&db).await;
        let input = app::staff::api::NewStaffInput { email: "ADMIN@isv.test".into(), role: Role::Admin, password: PASSWORD.into() };
        let err = app_err(server::staff::create(&db, &Actor::system("t"), None, input).await.unwrap_err());
        assert_eq!(err.field_messages("email"), vec!["A staff member with this e-mail already exists."]);
    }
}

on_both_databases! {
    async fn every_migration_rolls_back_and_reapplies(backend) {
        let db = fresh_db(backend).await;
        crate::support::roll_back_and_reapply(&db, None, "tenants").await;
        seed(&db).await;
    }
}

on_both_databases! {
    async fn the_tenant_list_pages_by_name_without_losing_or_repeating_rows_under_inserts(backend) {
        use app::tenants::api::{TENANT_PAGE_SIZE, TenantQuery};
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let actor = server::audit::Actor::system("test");
        for i in 0..120 {
            server::tenants::create(&db, &actor, None, tenant_input(&format!("bulk-{i:03}"), None)).await.unwrap();
        }
        let admin = principal(w.admin, Role::Admin);
        let mut seen = Vec::new();
        let mut query = TenantQuery::default();
        let mut pages = 0;
        loop {
            let page = server::tenants::page(&db, &admin, &query, &server::config::OnboardingSla::default()).await.unwrap();
            assert!(page.items.len() as u64 <= TENANT_PAGE_SIZE);
            seen.extend(page.items.iter().map(|t| t.display_name.clone()));
            pages += 1;
            if pages == 1 {
                // Rows added before the cursor's position mid-way never shift later pages.
                server::tenants::create(&db, &actor, None, tenant_input("aaa-early", None)).await.unwrap();
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "by name");
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "no row repeated");
        assert_eq!(seen.len(), 122, "every row that existed at the start is listed");

        let found = server::tenants::page(&db, &admin, &TenantQuery { q: Some("BULK-00".into()), ..Default::default() }, &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!((found.total, found.items.len()), (10, 10), "search is case-insensitive, in slug and name");
        let literal = server::tenants::page(&db, &admin, &TenantQuery { q: Some("bulk_00%".into()), ..Default::default() }, &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!(literal.total, 0, "% and _ are matched literally");
        let bad = server::tenants::page(&db, &admin, &TenantQuery { after: Some("not a cursor".into()), ..Default::default() }, &server::config::OnboardingSla::default()).await;
        assert!(matches!(bad.unwrap_err().into_app("t"), app::error::AppError::BadRequest { .. }));

        let manager = principal(w.manager_a, Role::AccountManager);
        let theirs = server::tenants::page(&db, &manager, &TenantQuery::default(), &server::config::OnboardingSla::default()).await.unwrap();
        assert_eq!(theirs.total, 1, "an account manager sees and counts only assigned tenants");
        assert_eq!(theirs.items[0].id, w.tenant_a);
        assert_eq!(theirs.items[0].consent_state, app::onboarding::model::ConsentState::NotStarted);
    }
}

on_both_databases! {
    async fn an_unknown_stored_environment_is_an_error_naming_the_row_not_a_silent_demo(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        use sea_orm::QueryFilter as _;
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Environment, sea_orm::sea_query::Expr::value("staging"))
            .filter(<tenant::Column as sea_orm::ColumnTrait>::eq(&tenant::Column::Id, w.tenant_b))
            .exec(&db)
            .await
            .unwrap();
        let admin = principal(w.admin, Role::Admin);
        let b = server::scope::visible(&db, &admin, w.tenant_b).await.unwrap();
        let err = server::tenants::get(&admin, b).unwrap_err().to_string();
        assert!(err.contains(&w.tenant_b.to_string()) && err.contains("staging"), "{err}");
        assert!(server::tenants::list(&db, &admin, false, &server::config::OnboardingSla::default()).await.is_err(), "the list does not silently drop or relabel the row");
        let a = server::scope::visible(&db, &admin, w.tenant_a).await.unwrap();
        assert!(server::tenants::get(&admin, a).is_ok(), "other rows are unaffected");
    }
}

/// What `sql` answers in `column` on four pooled connections asked at once (so more than the
/// first connection the pool opened answers).
async fn on_four_connections<T: sea_orm::TryGetable>(db: &sea_orm::DatabaseConnection, sql: &str, column: &str) -> Vec<T> {
    let ask = || async {
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get::<T>("", column).unwrap()
    };
    futures::future::join_all((0..4).map(|_| ask())).await
}

#[tokio::test]
async fn every_postgres_connection_of_the_pool_plans_pages_without_a_parallel_worker() {
    let db = fresh_db(Backend::Postgres).await;
    let answers: Vec<String> = on_four_connections(&db, "SHOW parallel_setup_cost", "parallel_setup_cost").await;
    assert!(answers.iter().all(|a| *a == server::db::PARALLEL_SETUP_COST.to_string()), "{answers:?}");
}

#[tokio::test]
async fn every_sqlite_connection_of_the_pool_reads_the_database_through_a_memory_map() {
    let db = fresh_db(Backend::Sqlite).await;
    let answers: Vec<i64> = on_four_connections(&db, "PRAGMA mmap_size", "mmap_size").await;
    assert!(answers.iter().all(|a| *a as u64 == server::db::SQLITE_MMAP_SIZE), "{answers:?}");
}
