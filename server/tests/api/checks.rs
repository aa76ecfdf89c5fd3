//! The setup check against the sandbox: each check's pass, fail and skipped paths with the
//! fixture's scenarios, both fixes applied and re-checked, the Connect listener's HMAC
//! verification, revocation detected by a run, and provider failures handled within limits.

use http::{StatusCode, header};
use serde_json::{Value, json};

use crate::onboarding::*;
use crate::support::*;

pub const HANK: &str = "hank@hooli.example";
pub const HOOLI: &str = "9ed84d18-4625-4a9c-86fe-05d9a5c85960";
pub const GLOBEX: &str = "f941ebb9-c656-4ead-bd63-fa7beda083e5";

/// Runs every check of a new run as staff; returns the run id and the results by check id.
pub async fn run_checks(o: &Onboarding, tenant: uuid::Uuid) -> (String, std::collections::BTreeMap<String, Value>) {
    let t = tenant.to_string();
    let started = o.app.call("/api/checks/start", Some(&o.staff), &[("tenant_id", &t)]).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let started = started.json();
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    let mut results = std::collections::BTreeMap::new();
    for check in started["checks"].as_array().unwrap() {
        let id = check[0].as_str().unwrap();
        let r = o.app.call("/api/checks/run_one", Some(&o.staff), &[("tenant_id", &t), ("run_id", &run_id), ("check_id", id)]).await;
        assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.body);
        results.insert(id.to_owned(), r.json());
    }
    (run_id, results)
}

async fn fix(o: &Onboarding, tenant: uuid::Uuid, run_id: &str, check: &str) -> Value {
    let r = o
        .app
        .call("/api/checks/apply_fix", Some(&o.staff), &[("tenant_id", &tenant.to_string()), ("run_id", run_id), ("check_id", check)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn missing_settings_and_connect_are_reported_and_both_fixes_make_them_pass() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, HANK, HOOLI).await;
    let (run, results) = run_checks(&o, tenant).await;
    assert_eq!(results["system_user"]["status"], "pass");
    assert_eq!(results["claimed_domains"]["status"], "skipped", "individual consent, no organization");
    let settings = &results["account_settings"];
    assert_eq!(settings["status"], "fail");
    assert_eq!(settings["fix"]["kind"], "apply_settings");
    assert!(settings["fix"]["details"].as_array().unwrap().iter().any(|d| d == "envelopeIntegrationEnabled = \"true\""));
    assert_eq!(results["connect_configuration"]["status"], "fail");
    assert_eq!(results["connect_delivery"]["status"], "warn");

    let settings = fix(&o, tenant, &run, "account_settings").await;
    assert_eq!(settings["status"], "pass", "{settings}");
    // With Connect switched on, the Connect check now offers to create the configuration.
    let (run, results) = run_checks(&o, tenant).await;
    assert_eq!(results["connect_configuration"]["fix"]["kind"], "create_connect", "{}", results["connect_configuration"]);
    let connect = fix(&o, tenant, &run, "connect_configuration").await;
    assert_eq!(connect["status"], "pass", "{connect}");
    // Idempotent: nothing left to fix, and a new run agrees.
    let again = o
        .app
        .call("/api/checks/apply_fix", Some(&o.staff), &[("tenant_id", &tenant.to_string()), ("run_id", &run), ("check_id", "connect_configuration")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["account_settings"]["status"], "pass");
    assert_eq!(results["connect_configuration"]["status"], "pass");
    let audit = o.consent(tenant).await;
    let _ = audit;
    let events = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "setup.fix_applied").count(), 2);
    assert!(events.iter().any(|e| e.action == "setup.check_changed"));
}

#[tokio::test]
async fn claimed_domains_pass_on_the_organization_path_and_can_be_attested_when_unreadable() {
    let o = Onboarding::new(Backend::Sqlite).await;
    // Organization path: bob in acme.example, an active claimed domain.
    let tenant = o.app.world.tenant_b;
    let b = o.redeem(&o.invite(tenant).await).await;
    o.round_trip(&b, "sign_in", ADA).await;
    o.round_trip(&b, "organization", ADA).await;
    let r = o.app.call("/api/wizard/name_system_user", Some(&b.cookie), &[("input[user]", BOB)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(o.choose_account(&b, ACME_SALES).await.status, StatusCode::OK);
    assert_eq!(o.verify(&b).await["outcome"], "verified");
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["claimed_domains"]["status"], "pass", "{}", results["claimed_domains"]);

    // Individual path without an organization: skipped, then attested by staff.
    let other = o.app.world.tenant_a;
    o.verified_individually(other, GINA, GLOBEX).await;
    let (_, results) = run_checks(&o, other).await;
    assert_eq!(results["claimed_domains"]["status"], "skipped");
    let short = o.app.call("/api/checks/attest", Some(&o.staff), &[("tenant_id", &other.to_string()), ("justification", "ok")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = o
        .app
        .call("/api/checks/attest", Some(&o.staff), &[("tenant_id", &other.to_string()), ("justification", "Globex showed us their DNS and DocuSign admin screen on a call.")])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let (_, results) = run_checks(&o, other).await;
    let domains = &results["claimed_domains"];
    assert_eq!(domains["status"], "pass", "{domains}");
    assert!(domains["evidence"].to_string().contains("Globex showed us"), "the attestation is the evidence: {domains}");
    let events = server::audit::for_tenant(&o.app.portal.db, other).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "setup.attested").count(), 1);
}

/// Every control a remediation tells a person to press (quoted “…”) is a button the setup-check
/// panel has: its run button, or the fix the same result offers.
#[tokio::test]
async fn every_control_a_remediation_names_is_a_button_of_the_setup_check_panel() {
    use app::checks::{FixKind, RUN_CHECK};
    use app::onboarding::model::quoted_controls;
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, HANK, HOOLI).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut check_all = |results: &std::collections::BTreeMap<String, Value>| {
        for (id, r) in results {
            let Some(text) = r["remediation"].as_str() else { continue };
            assert!(!text.contains("press \"") && !text.contains("Press \""), "{id}: a control is quoted “…”: {text}");
            let offered: Vec<&str> = results.values().filter_map(|r| r["fix"]["label"].as_str()).collect();
            for name in quoted_controls(text) {
                let is_fix = FixKind::ALL.iter().any(|k| k.label() == name);
                assert!(name == RUN_CHECK || is_fix, "{id}: “{name}” is not a button of the panel: {text}");
                if is_fix && r["fix"]["label"].as_str() == Some(name) {
                    // The result's own fix: its button is right there.
                } else if is_fix {
                    assert!(offered.contains(&name), "{id}: “{name}” is not offered in this run: {text}");
                }
                seen.insert(name.to_owned());
            }
        }
    };
    // Settings and Connect both failing, then Connect alone (once the settings fix switched it on).
    let (run, results) = run_checks(&o, tenant).await;
    check_all(&results);
    fix(&o, tenant, &run, "account_settings").await;
    let (_, results) = run_checks(&o, tenant).await;
    check_all(&results);
    assert!(seen.contains(RUN_CHECK) && seen.contains(FixKind::ApplySettings.label()) && seen.contains(FixKind::CreateConnect.label()), "{seen:?}");
}

#[tokio::test]
async fn the_customer_admins_view_of_a_check_never_mentions_the_isv_staffs_attestation() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let b = o.verified_individually(tenant, GINA, GLOBEX).await;
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["claimed_domains"]["status"], "skipped");
    let customer = o.app.call("/api/wizard/check_latest", Some(&b.cookie), &[]).await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    assert!(!customer.body.to_lowercase().contains("attest"), "skipped: {}", customer.body);

    let justification = "Globex showed us their DNS and DocuSign admin screen on a call.";
    let ok = o.app.call("/api/checks/attest", Some(&o.staff), &[("tenant_id", &tenant.to_string()), ("justification", justification)]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let (_, results) = run_checks(&o, tenant).await;
    assert!(results["claimed_domains"]["evidence"].to_string().contains(justification), "staff see it");
    let customer = o.app.call("/api/wizard/check_latest", Some(&b.cookie), &[]).await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let domains = customer.json()["results"].as_array().unwrap().iter().find(|r| r["id"] == "claimed_domains").cloned().unwrap();
    assert_eq!(domains["status"], "pass");
    let text = domains.to_string().to_lowercase();
    assert!(!text.contains("attest") && !text.contains("globex showed us"), "the customer reads no staff procedure: {domains}");
}

#[tokio::test]
async fn a_run_detects_revoked_consent_and_moves_the_tenant_to_revoked() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, GLOBEX).await;
    let gina = server::sandbox::default_fixture().user_by_email(GINA).unwrap().id.clone();
    o.control(reqwest::Method::POST, "/control/consents/revoke", json!({ "user_id": gina })).await;
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["system_user"]["status"], "fail");
    assert_eq!(o.consent(tenant).await["status"]["state"], "revoked");
    let events = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    assert!(events.iter().any(|e| e.action == "setup.check_changed" || e.action == "consent.state_changed"));
}

#[tokio::test]
async fn provider_failures_become_errors_after_bounded_retries_and_change_nothing() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, HANK, HOOLI).await;
    let before = o.consent(tenant).await["status"].clone();
    o.control(reqwest::Method::POST, "/control/faults", json!({ "scope": "esign", "fail_5xx_ratio": 1.0 })).await;
    o.http.delete(format!("{}/requests", o.sandbox.control_url().unwrap())).send().await.unwrap();
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["account_settings"]["status"], "error");
    assert_eq!(results["connect_configuration"]["status"], "error");
    assert_eq!(results["system_user"]["status"], "error");
    assert_eq!(o.consent(tenant).await["status"], before, "a provider failure leaves consent alone");
    let counts = o.counts().await;
    let settings_calls = counts.iter().filter(|(k, _)| k.contains("/settings")).map(|(_, v)| *v).sum::<u64>();
    // Two checks read settings: each at most 1 + MAX_RETRIES attempts.
    assert!(settings_calls <= 2 * (1 + server::providers::docusign::policy::MAX_RETRIES as u64), "{counts:?}");
}

fn signature(key: &str, body: &[u8]) -> String {
    server::sandbox::connect_signature(key, body)
}

/// A Connect message for `account`, generated now.
fn connect_message(account: &str, envelope: &str) -> Vec<u8> {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    format!(r#"{{"event":"envelope-completed","generatedDateTime":"{now}","data":{{"accountId":"{account}","envelopeId":"{envelope}"}}}}"#).into_bytes()
}

#[tokio::test]
async fn the_connect_listener_accepts_only_messages_signed_with_a_configured_key() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, GLOBEX).await;
    let path = format!("/connect/{tenant}");
    let post = |sigs: Vec<String>, body: Vec<u8>| {
        let mut req = http::Request::post(&path).header(header::CONTENT_TYPE, "application/json");
        for (i, s) in sigs.iter().enumerate() {
            req = req.header(format!("x-docusign-signature-{}", i + 1), s);
        }
        req.body(axum::body::Body::from(body)).unwrap()
    };
    let body = connect_message(GLOBEX, "e-1");
    assert_eq!(o.app.send(post(vec![], body.clone())).await.status, StatusCode::UNAUTHORIZED, "missing");
    assert_eq!(o.app.send(post(vec![signature("not-our-key", &body)], body.clone())).await.status, StatusCode::UNAUTHORIZED, "wrong key");
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(o.app.send(post(vec![signature(HMAC_KEYS[0], &body)], tampered)).await.status, StatusCode::UNAUTHORIZED, "tampered");
    assert_eq!(o.app.send(post(vec![signature(HMAC_KEYS[1], &body)], body.clone())).await.status, StatusCode::OK, "second key");
    let body = connect_message(GLOBEX, "e-2");
    assert_eq!(
        o.app.send(post(vec![signature("old-key", &body), signature(HMAC_KEYS[0], &body)], body.clone())).await.status,
        StatusCode::OK,
        "second header"
    );
    let unknown = http::Request::post(format!("/connect/{}", uuid::Uuid::new_v4()))
        .header("x-docusign-signature-1", signature(HMAC_KEYS[0], &body))
        .body(axum::body::Body::from(body.clone()))
        .unwrap();
    assert_eq!(o.app.send(unknown).await.status, StatusCode::UNAUTHORIZED, "an unknown tenant is answered like a bad signature");
    use sea_orm::EntityTrait;
    let row = server::db::entities::connect_delivery::Entity::find_by_id(tenant).one(&o.app.portal.db).await.unwrap().unwrap();
    assert_eq!((row.verified_count, row.rejected_count), (2, 3));
    assert_eq!(row.last_event.as_deref(), Some("envelope-completed"));
}

#[tokio::test]
async fn account_managers_read_check_results_but_cannot_run_or_fix() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let am = o.app.sign_in("am-a@isv.test").await;
    let t = o.app.world.tenant_a.to_string();
    assert_eq!(o.app.call("/api/checks/latest", Some(&am), &[("tenant_id", &t)]).await.status, StatusCode::OK);
    assert_eq!(o.app.call("/api/checks/start", Some(&am), &[("tenant_id", &t)]).await.status, StatusCode::FORBIDDEN);
    let other = o.app.sign_in("am-b@isv.test").await;
    assert_eq!(o.app.call("/api/checks/latest", Some(&other), &[("tenant_id", &t)]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_spent_hourly_limit_is_an_error_without_a_retry_storm_and_changes_nothing() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, HANK, HOOLI).await;
    let before = o.consent(tenant).await["status"].clone();
    o.control(reqwest::Method::POST, "/control/rate_limit/exhaust", json!({ "account_id": HOOLI })).await;
    o.http.delete(format!("{}/requests", o.sandbox.control_url().unwrap())).send().await.unwrap();
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["account_settings"]["status"], "error", "{}", results["account_settings"]);
    assert!(results["account_settings"]["evidence"].to_string().to_lowercase().contains("limit"));
    assert_eq!(o.consent(tenant).await["status"], before);
    let counts = o.counts().await;
    let settings_calls = counts.iter().filter(|(k, _)| k.contains("/settings")).map(|(_, v)| *v).sum::<u64>();
    assert!(settings_calls <= 2, "a spent hourly budget is not retried: {counts:?}");
}

#[tokio::test]
async fn the_delivery_check_passes_once_a_signed_message_arrived() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, GLOBEX).await;
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["connect_delivery"]["status"], "warn");
    let body = connect_message(GLOBEX, "e-9");
    let req = http::Request::post(format!("/connect/{tenant}"))
        .header("x-docusign-signature-1", signature(HMAC_KEYS[0], &body))
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(o.app.send(req).await.status, StatusCode::OK);
    let (_, results) = run_checks(&o, tenant).await;
    assert_eq!(results["connect_delivery"]["status"], "pass", "{}", results["connect_delivery"]);
    let history = o.app.call("/api/checks/history", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
    assert_eq!(history.json().as_array().unwrap().len(), 2, "every run is kept");
}

#[tokio::test]
async fn a_connect_configuration_pointing_elsewhere_is_reported_and_a_new_one_offered() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, "wendy@wayne.example", "62c5acd5-d8ff-4203-b1a6-72ff2e0bbf44").await;
    let (run, results) = run_checks(&o, tenant).await;
    let connect = &results["connect_configuration"];
    assert_eq!(connect["status"], "fail", "{connect}");
    assert!(connect["evidence"].to_string().contains("wayne-listener"), "the other configuration is named: {connect}");
    assert_eq!(connect["fix"]["kind"], "create_connect");
    assert_eq!(fix(&o, tenant, &run, "connect_configuration").await["status"], "pass");
}

#[tokio::test]
async fn a_run_abandoned_by_a_dead_worker_is_closed_and_its_results_kept() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, GLOBEX).await;
    let deps = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
    let actor = server::audit::Actor::system("worker that dies");
    // A scheduled run that got through one check before its worker died.
    let run = server::checks::run::start(&o.app.portal.db, &deps, tenant, server::checks::RunTrigger::Scheduled, &actor.label).await.unwrap();
    server::checks::run::run_one(deps, tenant, run, server::checks::CheckId::SystemUser, &actor, None).await.unwrap();
    let closed = server::checks::scheduler::close_abandoned(&o.app.portal.db, tenant, "demo", chrono::Utc::now()).await.unwrap();
    assert_eq!(closed, 1);
    let history = server::checks::run::history(&o.app.portal.db, tenant, "demo", 10).await.unwrap();
    assert_eq!(history[0].overall.as_deref(), Some("abandoned"));
    assert_eq!(server::checks::run::outcomes_of(&o.app.portal.db, run).await.unwrap().len(), 1, "the finished check's result is kept");
}

#[tokio::test]
async fn a_closed_abandoned_run_reads_as_abandoned_not_as_running() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let deps = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
    let actor = server::audit::Actor::system("worker that dies");
    server::checks::run::start(&o.app.portal.db, &deps, tenant, server::checks::RunTrigger::Scheduled, &actor.label).await.unwrap();
    server::checks::scheduler::close_abandoned(&o.app.portal.db, tenant, "demo", chrono::Utc::now()).await.unwrap();
    let t = tenant.to_string();
    let latest = o.app.call("/api/checks/latest", Some(&o.staff), &[("tenant_id", &t)]).await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.body);
    assert_eq!(latest.json()["overall"], "abandoned");
    assert_eq!(latest.json()["trigger"], "scheduled");
    let history = o.app.call("/api/checks/history", Some(&o.staff), &[("tenant_id", &t)]).await;
    assert_eq!(history.json()[0]["overall"], "abandoned");
}

#[tokio::test]
async fn an_unknown_check_id_is_refused_and_nothing_runs() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let t = tenant.to_string();
    let started = o.app.call("/api/checks/start", Some(&o.staff), &[("tenant_id", &t)]).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let run_id = started.json()["run_id"].as_str().unwrap().to_owned();
    for path in ["/api/checks/run_one", "/api/checks/apply_fix"] {
        let r = o.app.call(path, Some(&o.staff), &[("tenant_id", &t), ("run_id", &run_id), ("check_id", "no_such_check")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
    }
    let run = uuid::Uuid::parse_str(&run_id).unwrap();
    assert!(server::checks::run::outcomes_of(&o.app.portal.db, run).await.unwrap().is_empty(), "nothing ran");
}

#[tokio::test]
async fn stored_check_vocabulary_the_portal_does_not_know_is_an_error_naming_the_row() {
    use sea_orm::{ActiveModelTrait, Set};
    use server::db::entities::{check_result, check_run};
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let deps = o.app.portal.deps(app::environment::Environment::Demo).unwrap();
    let actor = server::audit::Actor::system("test");
    let db = &o.app.portal.db;
    let run = server::checks::run::start(db, &deps, tenant, server::checks::RunTrigger::Manual, &actor.label).await.unwrap();
    check_result::ActiveModel {
        run_id: Set(run),
        check_id: Set("retired_check".into()),
        status: Set("pass".into()),
        outcome: Set(json!({})),
        finished_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
    let e = server::checks::run::outcomes_of(db, run).await.unwrap_err().to_string();
    assert!(e.contains(&run.to_string()) && e.contains("retired_check"), "{e}");

    use sea_orm::EntityTrait;
    let row = check_run::Entity::find_by_id(run).one(db).await.unwrap().unwrap();
    let mut odd: check_run::ActiveModel = row.into();
    odd.trigger = Set("cron".into());
    odd.overall = Set(Some("mostly_fine".into()));
    let odd = odd.update(db).await.unwrap();
    assert!(odd.trigger().unwrap_err().to_string().contains("cron"));
    let e = odd.overall().unwrap_err().to_string();
    assert!(e.contains(&run.to_string()) && e.contains("mostly_fine"), "{e}");
    let latest = o.app.call("/api/checks/latest", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
    assert_eq!(latest.status, StatusCode::INTERNAL_SERVER_ERROR, "never read as a running or passing run: {}", latest.body);
}

crate::on_both_databases! {
    async fn a_run_older_than_the_latest_consent_change_is_marked_as_predating_it(backend) {
        use app::onboarding::model::ConsentState;
        use sea_orm::{ActiveModelTrait, Set};
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let now = chrono::Utc::now();
        let run = server::db::entities::check_run::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            tenant_id: Set(w.tenant_a),
            environment: Set("demo".into()),
            trigger: Set("manual".into()),
            requested_by: Set("staff".into()),
            started_at: Set(now - chrono::Duration::hours(1)),
            finished_at: Set(Some(now - chrono::Duration::hours(1))),
            overall: Set(Some("pass".into())),
        }
        .insert(&db)
        .await
        .unwrap();
        let env = app::environment::Environment::Demo;
        assert_eq!(server::checks::run::consent_changed_since(&db, w.tenant_a, env, &run).await.unwrap(), None, "no state yet");
        let actor = server::audit::Actor::system("test");
        server::onboarding::state::transition(&db, &actor, None, w.tenant_a, env, ConsentState::Invited, None).await.unwrap();
        let changed = server::checks::run::consent_changed_since(&db, w.tenant_a, env, &run).await.unwrap().expect("the state changed after the run");
        assert_eq!(changed.state, ConsentState::Invited);
    }
}

/// Mia is only a member of Initech EU: the metadata calls its settings "editable", but DocuSign
/// refuses every change of hers. The check reads her role and offers no fix; it sends the change
/// to an administrator of the account instead.
#[tokio::test]
async fn a_member_system_user_is_offered_no_settings_fix_and_is_sent_to_an_administrator() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, MIA, INITECH_EU).await;
    let path = format!("/control/accounts/{INITECH_EU}/settings");
    o.control(reqwest::Method::PUT, &path, json!({ "settings": { "inSessionEnabled": "false" } })).await;
    let (_, results) = run_checks(&o, tenant).await;
    let settings = &results["account_settings"];
    assert_eq!(settings["status"], "fail", "{settings}");
    assert!(settings["fix"].is_null(), "no fix a member could apply: {settings}");
    assert!(settings["evidence"].to_string().contains("member, not an administrator"), "{settings}");
    let remediation = settings["remediation"].as_str().unwrap();
    assert!(remediation.contains("An administrator of this account must set inSessionEnabled"), "{remediation}");
}

/// When DocuSign will not tell the role, the metadata decides and a fix is offered; DocuSign's
/// refusal then says that nothing changed and who can make the change. `USER_LACKS_PERMISSIONS`
/// reads as that next action, never as its raw code; in vary mode the sandbox names its refusal
/// otherwise (the code is not in the reference), and the general refusal still names who can act.
#[tokio::test]
async fn a_fix_refused_for_missing_rights_names_who_can_make_the_change_and_changes_nothing() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    let b = o.verified_individually(tenant, MIA, INITECH_EU).await;
    let path = format!("/control/accounts/{INITECH_EU}/settings");
    o.control(reqwest::Method::PUT, &path, json!({ "settings": { "inSessionEnabled": "false" } })).await;
    let users = json!({ "scope": "esign", "endpoint": "GET /restapi/v2.1/accounts/{accountId}/users/{userId}", "fail_5xx_ratio": 1.0 });
    o.control(reqwest::Method::POST, "/control/faults", users).await;
    let (run, results) = run_checks(&o, tenant).await;
    assert!(results["account_settings"]["fix"].is_object(), "{}", results["account_settings"]);
    let before = o.consent(tenant).await["status"].clone();
    let r = o.app.call("/api/wizard/check_apply_fix", Some(&b.cookie), &[("run_id", &run), ("check_id", "account_settings")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Nothing was changed") && r.body.to_lowercase().contains("an administrator of"), "{}", r.body);
    if !crate::SANDBOX_VARY {
        assert!(r.body.contains("An administrator of Initech EU must make the change"), "{}", r.body);
        assert!(!r.body.contains("USER_LACKS_PERMISSIONS"), "DocuSign's code is translated: {}", r.body);
    }
    assert_eq!(o.consent(tenant).await["status"], before);
    let events = server::audit::for_tenant(&o.app.portal.db, tenant).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "setup.fix_applied").count(), 0);
}

#[tokio::test]
async fn claimed_domains_are_read_on_the_individual_path_when_the_consenting_org_admin_granted_the_read_scopes_and_otherwise_skipped_with_what_would_make_them_checkable() {
    const UMBRELLA: &str = "2269f96a-c00d-4cb0-95cd-231092667801";
    const ACME_LABS: &str = "cb9cbf56-5847-4610-bdbe-e3ff36fe20dd";
    let o = Onboarding::new(Backend::Sqlite).await;
    // Uma administers Umbrella (its domain pending); signing in she let the portal read it, so
    // her individual consent carries organization_read and domain_read.
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, crate::fixture::UMA, UMBRELLA).await;
    let (_, results) = run_checks(&o, tenant).await;
    let domains = &results["claimed_domains"];
    assert_eq!(domains["status"], "pass", "individual consent does not depend on the domains: {domains}");
    let evidence = domains["evidence"].to_string();
    assert!(evidence.contains("umbrella.example: pending; TXT record to publish at umbrella.example"), "{domains}");
    assert!(evidence.contains("would not cover the system user"), "{domains}");
    assert!(domains["remediation"].as_str().unwrap().contains("docusign=9f8e7d6c5b4a39281706f5e4d3c2b1a0"), "{domains}");

    // Nora is a member, not an administrator, of Acme: her consent has no read scopes.
    let other = o.app.world.tenant_b;
    o.verified_individually(other, crate::fixture::NORA, ACME_LABS).await;
    let (_, results) = run_checks(&o, other).await;
    let domains = &results["claimed_domains"];
    assert_eq!(domains["status"], "skipped", "{domains}");
    assert!(domains["evidence"].to_string().contains("without the Admin API read scopes organization_read and domain_read"), "{domains}");
    let remediation = domains["remediation"].as_str().unwrap();
    assert!(remediation.contains("administrator of the DocuSign organization") && remediation.contains("let the portal read the organization"), "{remediation}");
}

/// The portal served over real HTTP as well, with the setup profile's Connect listener on that
/// address (loopback http), so the sandbox's own Connect deliveries reach the portal's listener.
async fn serving_the_listener(backend: Backend) -> Onboarding {
    let sandbox = sandbox().await;
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let mut config = config_for(&sandbox);
    for env in [&mut config.docusign.demo, &mut config.docusign.production].into_iter().flatten() {
        env.setup.connect.listener_url_template = format!("http://{addr}/connect/{{tenant}}");
    }
    let app = TestApp::with(backend, config).await;
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(socket, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let staff = app.sign_in("config@isv.test").await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Onboarding { app, sandbox, http, staff }
}

/// Gina's Globex tenant, verified, with the portal's Connect configuration created by the fix
/// (Globex may publish to a loopback http listener) and signing with `hmac_key`; returns the
/// tenant and the configuration's connectId.
async fn globex_with_the_portals_configuration(o: &Onboarding, hmac_key: &str) -> (uuid::Uuid, String) {
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, GLOBEX).await;
    let settings = json!({ "settings": { "allowConnectHttpListenerConfigs": "true" } });
    o.control(reqwest::Method::PUT, &format!("/control/accounts/{GLOBEX}/settings"), settings).await;
    o.control(reqwest::Method::PUT, &format!("/control/accounts/{GLOBEX}/hmac_keys"), json!({ "keys": [hmac_key] })).await;
    let (run, results) = run_checks(o, tenant).await;
    assert_eq!(results["connect_configuration"]["fix"]["kind"], "create_connect", "{}", results["connect_configuration"]);
    assert_eq!(fix(o, tenant, &run, "connect_configuration").await["status"], "pass");
    let (_, results) = run_checks(o, tenant).await;
    let evidence = results["connect_configuration"]["evidence"].to_string();
    let connect_id = evidence.split("(connectId ").nth(1).and_then(|s| s.split(')').next()).expect("the configuration's id").to_owned();
    (tenant, connect_id)
}

async fn publish(o: &Onboarding, connect_id: &str) -> Value {
    o.control(reqwest::Method::POST, "/control/connect/publish", json!({ "account_id": GLOBEX, "connect_id": connect_id })).await
}

crate::on_both_databases! {
    async fn the_delivery_check_warns_until_docusign_delivers_and_then_passes_with_docusigns_log(backend) {
        let o = serving_the_listener(backend).await;
        let (tenant, connect_id) = globex_with_the_portals_configuration(&o, HMAC_KEYS[0]).await;
        let (_, results) = run_checks(&o, tenant).await;
        let delivery = &results["connect_delivery"];
        assert_eq!(delivery["status"], "warn", "nothing sent yet: {delivery}");
        let remediation = delivery["remediation"].as_str().unwrap();
        assert!(remediation.contains("send an envelope") && remediation.contains(app::checks::RUN_CHECK), "names what would make it pass: {remediation}");
        assert!(delivery["evidence"].to_string().contains(&format!("no attempt of configuration {connect_id}")), "{delivery}");

        let sent = publish(&o, &connect_id).await;
        assert_eq!(sent["ok"], true, "the listener acknowledged the sandbox's delivery: {sent}");
        let (_, results) = run_checks(&o, tenant).await;
        let delivery = &results["connect_delivery"];
        assert_eq!(delivery["status"], "pass", "{delivery}");
        let evidence = delivery["evidence"].to_string();
        assert!(evidence.contains(&format!("configuration {connect_id}: 1 attempt(s)")) && evidence.contains("(Completed) delivered"), "{delivery}");
        assert!(evidence.contains("Last verified event at the portal's listener: envelope-completed"), "{delivery}");
    }
}

crate::on_both_databases! {
    async fn deliveries_docusign_could_not_make_fail_the_check_with_its_error_until_one_goes_through(backend) {
        let o = serving_the_listener(backend).await;
        // DocuSign signs with a key the portal does not know: the listener refuses every message.
        let (tenant, connect_id) = globex_with_the_portals_configuration(&o, "a-key-the-portal-does-not-know").await;
        let sent = publish(&o, &connect_id).await;
        assert_eq!((sent["ok"].as_bool(), sent["status"].as_u64()), (Some(false), Some(401)), "{sent}");
        let (_, results) = run_checks(&o, tenant).await;
        let delivery = &results["connect_delivery"];
        assert_eq!(delivery["status"], "fail", "{delivery}");
        let remediation = delivery["remediation"].as_str().unwrap();
        assert!(remediation.contains("401") && remediation.contains("/connect/") && remediation.contains(app::checks::RUN_CHECK), "DocuSign's error and the next action: {remediation}");
        assert!(delivery["evidence"].to_string().contains("not delivered"), "{delivery}");

        // A listener that does not answer at all (a sandbox fault): still failing.
        o.control(reqwest::Method::POST, "/control/faults", json!({ "scope": "connect", "timeout": true, "remaining": 1 })).await;
        assert_eq!(publish(&o, &connect_id).await["ok"], false);
        let (_, results) = run_checks(&o, tenant).await;
        assert_eq!(results["connect_delivery"]["status"], "fail", "{}", results["connect_delivery"]);

        // The key is corrected and the next message goes through: deliveries work again, but
        // the earlier messages are still DocuSign's to retry.
        o.control(reqwest::Method::PUT, &format!("/control/accounts/{GLOBEX}/hmac_keys"), json!({ "keys": [HMAC_KEYS[1]] })).await;
        assert_eq!(publish(&o, &connect_id).await["ok"], true);
        let (_, results) = run_checks(&o, tenant).await;
        let delivery = &results["connect_delivery"];
        assert_eq!(delivery["status"], "warn", "{delivery}");
        assert!(delivery["remediation"].as_str().unwrap().contains("could not deliver 2 message(s) earlier"), "{delivery}");
    }
}
