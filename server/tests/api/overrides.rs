//! Manual overrides, on SQLite and PostgreSQL: bad input is refused by field and changes nothing;
//! only a subject that does not pass can be overridden; an override shows in the list (badge,
//! filter, count) and the overview, scoped like the list; it is audited with before and after; an
//! expired one no longer counts; the next run clears an override whose check passes and keeps one
//! that still fails; only config staff and admins set or withdraw them.

use app::auth::{Role, StaffPrincipal};
use app::checks::{CheckId, CheckStatus, RunOverall};
use app::onboarding::model::ConsentState;
use app::overrides::{OverrideInput, OverrideSubject};
use app::tenants::api::TenantQuery;
use http::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use server::db::entities::{check_result, check_run, consent_state, manual_override};
use uuid::Uuid;

use crate::on_both_databases;
use crate::support::{Backend, TestApp, test_config};

pub fn viewer(id: Uuid, role: Role) -> StaffPrincipal {
    StaffPrincipal { id, email: format!("{}@isv.test", role.as_str()), role }
}

/// A finished run of `tenant` (demo) with these check statuses, `started` seconds ago; the other
/// checks pass. Returns the run id.
pub async fn seed_run(db: &DatabaseConnection, tenant: Uuid, started: i64, statuses: &[(CheckId, CheckStatus)]) -> Uuid {
    let id = Uuid::new_v4();
    let outcomes: Vec<_> = CheckId::ALL
        .into_iter()
        .map(|c| {
            let status = statuses.iter().find(|(s, _)| *s == c).map(|(_, st)| *st).unwrap_or(CheckStatus::Pass);
            server::checks::CheckOutcome::new(c, status, vec!["seeded".into()])
        })
        .collect();
    let overall = RunOverall::from(server::checks::overall(&outcomes));
    let at = chrono::Utc::now() - chrono::Duration::seconds(started);
    check_run::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        trigger: Set("manual".into()),
        requested_by: Set("test".into()),
        started_at: Set(at),
        finished_at: Set(Some(at)),
        overall: Set(Some(overall.as_str().into())),
    }
    .insert(db)
    .await
    .unwrap();
    for o in outcomes {
        check_result::ActiveModel {
            run_id: Set(id),
            check_id: Set(o.id.as_str().into()),
            status: Set(o.status.as_str().into()),
            outcome: Set(serde_json::to_value(&o).unwrap()),
            finished_at: Set(at),
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}

async fn set_state(db: &DatabaseConnection, tenant: Uuid, state: ConsentState) {
    consent_state::ActiveModel {
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        state: Set(state.as_str().into()),
        reason: Set((state == ConsentState::NeedsAttention).then(|| "consent_required".to_owned())),
        updated_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
}

fn input(subject: &str, justification: &str, days: &str) -> OverrideInput {
    OverrideInput { subject: subject.into(), justification: justification.into(), expires_in_days: days.into() }
}

async fn create(db: &DatabaseConnection, who: &StaffPrincipal, tenant: Uuid, input: &OverrideInput) -> Result<app::overrides::OverrideView, app::error::AppError> {
    let actor = server::audit::Actor { id: Some(who.id), label: who.email.clone() };
    server::checks::overrides::create(db, who, &actor, None, tenant, input).await.map_err(|e| e.into_app("test"))
}

async fn actions(db: &DatabaseConnection, tenant: Uuid) -> Vec<String> {
    server::audit::for_tenant(db, tenant).await.unwrap().into_iter().map(|e| e.action).collect()
}

async fn rows(db: &DatabaseConnection) -> usize {
    manual_override::Entity::find().all(db).await.unwrap().len()
}

fn sla() -> server::config::OnboardingSla {
    server::config::OnboardingSla::default()
}

on_both_databases! {
    async fn bad_override_input_is_refused_by_field_with_422_and_changes_nothing(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let staff = viewer(w.config_staff, Role::ConfigStaff);
        seed_run(db, w.tenant_a, 10, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
        let before = actions(db, w.tenant_a).await.len();
        for (bad, field) in [
            (input("connect_delivery", "too short", "30"), "justification"),
            (input("connect_delivery", "   ", "30"), "justification"),
            (input("connect_delivery", "A long enough justification.", "0"), "expires_in_days"),
            (input("connect_delivery", "A long enough justification.", "91"), "expires_in_days"),
            (input("connect_delivery", "A long enough justification.", "soon"), "expires_in_days"),
            (input("everything", "A long enough justification.", "30"), "subject"),
        ] {
            let err = create(db, &staff, w.tenant_a, &bad).await.unwrap_err();
            assert_eq!(err.status_code(), 422, "{bad:?}");
            assert_eq!(err.field_messages(field).len(), 1, "{bad:?}: {err:?}");
        }
        assert_eq!(rows(db).await, 0, "nothing stored");
        assert_eq!(actions(db, w.tenant_a).await.len(), before, "nothing audited");
    }
}

on_both_databases! {
    async fn only_a_subject_that_does_not_pass_can_be_overridden(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let staff = viewer(w.admin, Role::Admin);
        let reason = "Accepted on the kickoff call with the customer.";
        // No run yet: there is no verdict to override.
        let err = create(db, &staff, w.tenant_a, &input("account_settings", reason, "7")).await.unwrap_err();
        assert!(err.field_messages("subject")[0].contains("Run the setup check first"), "{err:?}");
        seed_run(db, w.tenant_a, 10, &[(CheckId::ConnectDelivery, CheckStatus::Warn)]).await;
        let err = create(db, &staff, w.tenant_a, &input("account_settings", reason, "7")).await.unwrap_err();
        assert!(err.field_messages("subject")[0].contains("passes"), "{err:?}");
        create(db, &staff, w.tenant_a, &input("connect_delivery", reason, "7")).await.expect("a warning can be overridden");
        set_state(db, w.tenant_b, ConsentState::Verified).await;
        let err = create(db, &staff, w.tenant_b, &input("consent", reason, "7")).await.unwrap_err();
        assert!(err.field_messages("subject")[0].contains("verified"), "{err:?}");
        assert_eq!(rows(db).await, 1);
    }
}

on_both_databases! {
    async fn an_override_shows_in_the_list_filter_counts_and_overview_scoped_like_the_list_and_is_audited(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let staff = viewer(w.config_staff, Role::ConfigStaff);
        seed_run(db, w.tenant_a, 10, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
        set_state(db, w.tenant_b, ConsentState::NeedsAttention).await;
        let made = create(db, &staff, w.tenant_a, &input("connect_delivery", "Production-only listener, checked on a call.", "30")).await.unwrap();
        assert_eq!(made.subject, OverrideSubject::Check(CheckId::ConnectDelivery));
        assert_eq!(made.overridden_status, "fail");
        let days = (made.expires_at - made.created_at).num_days();
        assert_eq!(days, 30);
        create(db, &staff, w.tenant_b, &input("consent", "Consent handled by the customer's DocuSign TAM.", "5")).await.unwrap();

        let all = server::tenants::page(db, &staff, &TenantQuery::default(), &sla()).await.unwrap();
        let a = all.items.iter().find(|i| i.id == w.tenant_a).unwrap();
        assert_eq!(a.overrides.iter().map(|b| b.subject).collect::<Vec<_>>(), [OverrideSubject::Check(CheckId::ConnectDelivery)]);
        assert_eq!(all.overridden_count, 2);
        let listed = server::tenants::page(db, &staff, &TenantQuery { overridden: true, ..Default::default() }, &sla()).await.unwrap();
        assert_eq!(listed.total, 2);
        assert_eq!(listed.items.len(), 2);
        let overview = server::tenants::overview(db, &staff, &sla()).await.unwrap();
        let demo = overview.environments.iter().find(|e| e.environment == app::environment::Environment::Demo).unwrap();
        assert_eq!(demo.overridden, 2, "the overview's count is what its link lists");

        // Account managers count only their own tenants.
        let mine = server::tenants::page(db, &viewer(w.manager_a, Role::AccountManager), &TenantQuery::default(), &sla()).await.unwrap();
        assert_eq!(mine.overridden_count, 1);
        let other = server::tenants::overview(db, &viewer(w.manager_b, Role::AccountManager), &sla()).await.unwrap();
        assert!(other.environments.iter().all(|e| e.overridden == 0));

        let events = server::audit::for_tenant(db, w.tenant_a).await.unwrap();
        let set = events.iter().find(|e| e.action == "setup.overridden").expect("audited");
        assert_eq!(set.actor_label, staff.email);
        let (before, after) = (set.before.clone().unwrap(), set.after.clone().unwrap());
        assert_eq!((before["status"].as_str(), before["overridden"].as_bool()), (Some("fail"), Some(false)));
        assert_eq!(after["justification"], "Production-only listener, checked on a call.");
        assert!(after["expires_at"].is_string(), "{after}");
        assert!(actions(db, w.tenant_b).await.contains(&"consent.overridden".to_owned()));

        // A new override replaces the one in force (one per subject), audited with what it replaced.
        create(db, &staff, w.tenant_a, &input("connect_delivery", "Renewed after a second call with the customer.", "60")).await.unwrap();
        let active = server::checks::overrides::in_force(db, &server::scope::visible(db, &staff, w.tenant_a).await.unwrap()).await.unwrap();
        assert_eq!(active.len(), 1);
        assert!(active[0].justification.starts_with("Renewed"));
        let replaced = server::audit::for_tenant(db, w.tenant_a).await.unwrap();
        assert!(replaced.iter().any(|e| e.action == "setup.overridden" && e.before.as_ref().is_some_and(|b| b["replaces"]["justification"].is_string())));
    }
}

on_both_databases! {
    async fn an_expired_override_no_longer_counts_anywhere(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let staff = viewer(w.config_staff, Role::ConfigStaff);
        seed_run(db, w.tenant_a, 10, &[(CheckId::AccountSettings, CheckStatus::Fail)]).await;
        create(db, &staff, w.tenant_a, &input("account_settings", "Setting changes wait for their change board.", "1")).await.unwrap();
        // Its expiry passes (no run has come by to end the row).
        manual_override::Entity::update_many()
            .col_expr(manual_override::Column::ExpiresAt, sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)))
            .exec(db)
            .await
            .unwrap();
        let page = server::tenants::page(db, &staff, &TenantQuery::default(), &sla()).await.unwrap();
        assert!(page.items.iter().all(|i| i.overrides.is_empty()));
        assert_eq!(page.overridden_count, 0);
        assert_eq!(server::tenants::count(db, &staff, &TenantQuery { overridden: true, ..Default::default() }, &sla()).await.unwrap(), 0);
        assert!(server::checks::overrides::in_force(db, &server::scope::visible(db, &staff, w.tenant_a).await.unwrap()).await.unwrap().is_empty());
        // Withdrawing what already expired finds nothing in force.
        let actor = server::audit::Actor::system("test");
        let err = server::checks::overrides::withdraw(db, &staff, &actor, None, w.tenant_a, "account_settings").await.unwrap_err().into_app("t");
        assert_eq!(err.status_code(), 404);
    }
}

on_both_databases! {
    async fn a_withdrawn_override_ends_and_is_audited_with_before_and_after(backend) {
        let t = TestApp::with(backend, test_config()).await;
        let (db, w) = (&t.portal.db, &t.world);
        let staff = viewer(w.config_staff, Role::ConfigStaff);
        seed_run(db, w.tenant_a, 10, &[(CheckId::ConnectConfiguration, CheckStatus::Fail)]).await;
        create(db, &staff, w.tenant_a, &input("connect_configuration", "Customer's Connect is managed by their IT; confirmed.", "14")).await.unwrap();
        let actor = server::audit::Actor { id: Some(staff.id), label: staff.email.clone() };
        server::checks::overrides::withdraw(db, &staff, &actor, None, w.tenant_a, "connect_configuration").await.unwrap();
        assert!(server::checks::overrides::in_force(db, &server::scope::visible(db, &staff, w.tenant_a).await.unwrap()).await.unwrap().is_empty());
        let row = manual_override::Entity::find().one(db).await.unwrap().unwrap();
        assert_eq!(row.end_reason.as_deref(), Some("withdrawn"));
        let events = server::audit::for_tenant(db, w.tenant_a).await.unwrap();
        let e = events.iter().find(|e| e.action == "setup.override_withdrawn").expect("audited");
        assert_eq!(e.before.as_ref().unwrap()["overridden"], true);
        assert_eq!(e.after.as_ref().unwrap()["overridden"], false);
        // A second override may follow the withdrawn one (the unique index counts rows in force).
        create(db, &staff, w.tenant_a, &input("connect_configuration", "Customer's Connect is managed by their IT; confirmed.", "14")).await.unwrap();
    }
}

/// The next run re-checks: against the sandbox, the settings fix makes "Account settings" pass
/// (its re-run closes the run again), which clears that override; "Connect delivery" still warns
/// in a new run, so its override stays; an expired one ends as expired at that run.
async fn the_next_run_clears_what_passes_keeps_what_fails_and_ends_what_expired(backend: Backend) {
    use crate::checks::{HANK, HOOLI, run_checks};
    let o = crate::onboarding::Onboarding::new(backend).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, HANK, HOOLI).await;
    let (run, results) = run_checks(&o, tenant).await;
    assert_eq!(results["account_settings"]["status"], "fail");
    assert_eq!(results["connect_delivery"]["status"], "warn");
    let t = tenant.to_string();
    for (subject, days) in [("account_settings", "30"), ("connect_delivery", "30"), ("connect_configuration", "30")] {
        let r = o
            .app
            .call("/api/overrides/create", Some(&o.staff), &[("tenant_id", &t), ("input[subject]", subject), ("input[justification]", "Agreed with the customer on a call."), ("input[expires_in_days]", days)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // "Connect configuration" expires before the next run.
    manual_override::Entity::update_many()
        .col_expr(manual_override::Column::ExpiresAt, sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .filter(manual_override::Column::Subject.eq("connect_configuration"))
        .exec(&o.app.portal.db)
        .await
        .unwrap();
    let fixed = o.app.call("/api/checks/apply_fix", Some(&o.staff), &[("tenant_id", &t), ("run_id", &run), ("check_id", "account_settings")]).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    let ended = |subject: &'static str| {
        let db = o.app.portal.db.clone();
        async move {
            manual_override::Entity::find().filter(manual_override::Column::Subject.eq(subject)).one(&db).await.unwrap().unwrap().end_reason
        }
    };
    assert_eq!(ended("account_settings").await.as_deref(), Some("cleared"), "the check passes now");
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["connect_delivery"]["status"], "warn");
    assert_eq!(ended("connect_delivery").await, None, "still not passing: kept until its expiry");
    assert_eq!(ended("connect_configuration").await.as_deref(), Some("expired"));
    let events = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    let cleared = events.iter().find(|e| e.action == "setup.override_cleared").expect("clearing is audited");
    assert_eq!(cleared.after.as_ref().unwrap()["status"], "pass");
    assert_eq!(cleared.before.as_ref().unwrap()["justification"], "Agreed with the customer on a call.");
    assert!(events.iter().any(|e| e.action == "setup.override_expired"));
    // The list shows the one left in force.
    let active = o.app.call("/api/overrides/active", Some(&o.staff), &[("tenant_id", &t)]).await;
    assert_eq!(active.status, StatusCode::OK);
    let subjects: Vec<String> = active.json()["overrides"].as_array().unwrap().iter().map(|v| v["subject"].as_str().unwrap().to_owned()).collect();
    assert_eq!(subjects, ["connect_delivery"]);
}

#[tokio::test]
async fn the_next_run_clears_what_passes_keeps_what_fails_and_ends_what_expired_on_sqlite() {
    the_next_run_clears_what_passes_keeps_what_fails_and_ends_what_expired(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_next_run_clears_what_passes_keeps_what_fails_and_ends_what_expired_on_postgres() {
    the_next_run_clears_what_passes_keeps_what_fails_and_ends_what_expired(Backend::Postgres).await;
}

#[tokio::test]
async fn account_managers_read_overrides_but_only_config_staff_and_admins_set_them_and_bad_input_is_a_422() {
    let t = TestApp::new().await;
    let w = &t.world;
    seed_run(&t.portal.db, w.tenant_a, 10, &[(CheckId::ConnectDelivery, CheckStatus::Fail)]).await;
    let form = |j: &'static str, d: &'static str| {
        vec![("tenant_id", w.tenant_a.to_string()), ("input[subject]", "connect_delivery".to_owned()), ("input[justification]", j.to_owned()), ("input[expires_in_days]", d.to_owned())]
    };
    let call = |cookie: String, form: Vec<(&'static str, String)>| {
        let t = &t;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.call("/api/overrides/create", Some(&cookie), &pairs).await
        }
    };
    let manager = t.sign_in("am-a@isv.test").await;
    let refused = call(manager.clone(), form("Agreed with the customer on a call.", "10")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let config = t.sign_in("config@isv.test").await;
    let bad = call(config.clone(), form("short", "365")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = &bad.json()["fields"];
    assert!(fields["justification"][0].as_str().unwrap().contains("at least 10 characters"), "{fields}");
    assert!(fields["expires_in_days"][0].as_str().unwrap().contains("from 1 to 90"), "{fields}");
    let ok = call(config, form("Agreed with the customer on a call.", "10")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let read = t.call("/api/overrides/active", Some(&manager), &[("tenant_id", &w.tenant_a.to_string())]).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json()["overrides"].as_array().unwrap().len(), 1);
    assert_eq!(read.json()["can_manage"], false);
    let withdraw = t.call("/api/overrides/withdraw", Some(&manager), &[("tenant_id", &w.tenant_a.to_string()), ("subject", "connect_delivery")]).await;
    assert_eq!(withdraw.status, StatusCode::FORBIDDEN);
    // The tenant page shows it in its Overrides panel; only those who decide get the form.
    let as_config = t.get(&format!("/tenants/{}", w.tenant_a), Some(&t.sign_in("config@isv.test").await)).await;
    assert!(as_config.body.contains("data-testid=\"overrides\""), "the panel renders on the server");
    assert!(as_config.body.contains("Agreed with the customer on a call."), "with its justification");
    assert!(as_config.body.contains("What to override") && as_config.body.contains("Withdraw override"));
    let as_manager = t.get(&format!("/tenants/{}", w.tenant_a), Some(&manager)).await;
    assert!(as_manager.body.contains("Agreed with the customer on a call."));
    assert!(!as_manager.body.contains("What to override") && !as_manager.body.contains("Withdraw override"), "account managers only read");
    // The tenant page's timeline names it distinctly.
    let staff = viewer(w.config_staff, Role::ConfigStaff);
    let tenant = server::scope::visible(&t.portal.db, &staff, w.tenant_a).await.unwrap();
    let page = server::timeline::page(&t.portal.db, &tenant, &Default::default(), 100, chrono::Utc::now()).await.unwrap();
    assert!(page.entries.iter().any(|e| e.summary.starts_with("Connect delivery overridden (fail) until")), "{:?}", page.entries.iter().map(|e| &e.summary).collect::<Vec<_>>());
}

