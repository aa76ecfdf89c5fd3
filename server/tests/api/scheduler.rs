//! The scheduled re-check: claims are leases in the database (two workers never run one tenant
//! at once, a dead worker's lease expires), and a scheduled run detects revoked consent.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;
use server::checks::scheduler::{self, SchedulerSettings};

use crate::on_both_databases;
use crate::onboarding::*;
use crate::support::*;

async fn tenants_with_system_users(db: &sea_orm::DatabaseConnection, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = server::tenants::create(db, &server::audit::Actor::system("t"), None, tenant_input(&format!("sched-{i}"), None)).await.unwrap();
        server::db::entities::system_user::ActiveModel {
            tenant_id: Set(id),
            environment: Set("demo".into()),
            user_id: Set(uuid::Uuid::new_v4().to_string()),
            email: Set(format!("su{i}@x.test")),
            name: Set("SU".into()),
            account_id: Set(uuid::Uuid::new_v4().to_string()),
            account_name: Set("A".into()),
            base_uri: Set("https://na1.docusign.net".into()),
            organization_id: Set(None),
            pinned_at: Set(Utc::now()),
            verified_at: Set(None),
            last_verification: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

on_both_databases! {
    async fn two_workers_never_claim_the_same_tenant(backend) {
        let db = fresh_db(backend).await;
        let ids = tenants_with_system_users(&db, 40).await;
        let now = Utc::now();
        assert_eq!(scheduler::ensure_schedules(&db, now).await.unwrap(), 40);
        assert_eq!(scheduler::ensure_schedules(&db, now).await.unwrap(), 0, "idempotent");
        let worker = |name: &'static str| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = scheduler::claim(&db, name, now, Duration::minutes(5), 7).await.unwrap();
                    if got.is_empty() { break; }
                    mine.extend(got.into_iter().map(|(t, _)| t));
                }
                mine
            })
        };
        let (a, b) = (worker("a"), worker("b"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let mut all: Vec<_> = a.iter().chain(b.iter()).copied().collect();
        all.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(all, expected, "every tenant claimed exactly once (a: {}, b: {})", a.len(), b.len());
    }
}

on_both_databases! {
    async fn a_dead_workers_lease_expires_and_another_worker_takes_over(backend) {
        let db = fresh_db(backend).await;
        let ids = tenants_with_system_users(&db, 3).await;
        let now = Utc::now();
        scheduler::ensure_schedules(&db, now).await.unwrap();
        assert_eq!(scheduler::claim(&db, "dies", now, Duration::minutes(10), 10).await.unwrap().len(), 3);
        assert!(scheduler::claim(&db, "alive", now + Duration::minutes(5), Duration::minutes(10), 10).await.unwrap().is_empty());
        let later = now + Duration::minutes(11);
        assert_eq!(scheduler::claim(&db, "alive", later, Duration::minutes(10), 10).await.unwrap().len(), 3);
        // The dead worker, if it wakes up, cannot overwrite the new owner's claim.
        assert!(!scheduler::complete(&db, "dies", ids[0], "demo", None, later + Duration::hours(24)).await.unwrap());
        assert!(scheduler::complete(&db, "alive", ids[0], "demo", None, later + Duration::hours(24)).await.unwrap());
        // Completed tenants are not due again until their next time.
        let again = scheduler::claim(&db, "alive", later + Duration::minutes(30), Duration::minutes(10), 10).await.unwrap();
        assert!(!again.iter().any(|(t, _)| *t == ids[0]));
    }
}

#[tokio::test]
async fn the_scheduled_run_detects_revoked_consent() {
    let o = Onboarding::new(Backend::Sqlite).await;
    let tenant = o.app.world.tenant_a;
    o.verified_individually(tenant, GINA, "f941ebb9-c656-4ead-bd63-fa7beda083e5").await;
    let gina = server::sandbox::default_fixture().user_by_email(GINA).unwrap().id.clone();
    o.control(reqwest::Method::POST, "/control/consents/revoke", json!({ "user_id": gina })).await;
    let settings = SchedulerSettings {
        interval: Duration::hours(24),
        tick: std::time::Duration::from_secs(60),
        batch: 10,
        concurrency: 4,
        lease: Duration::minutes(10),
        owner: "test-worker".into(),
    };
    assert_eq!(scheduler::tick(&o.app.portal, &settings).await.unwrap(), 1);
    assert_eq!(o.consent(tenant).await["status"]["state"], "revoked");
    let (run, outcomes) = server::checks::run::latest(&o.app.portal.db, tenant, "demo").await.unwrap().unwrap();
    assert_eq!(run.trigger, "scheduled");
    assert!(run.finished_at.is_some());
    assert_eq!(outcomes.len(), server::checks::CheckId::ALL.len());
    assert_eq!(scheduler::tick(&o.app.portal, &settings).await.unwrap(), 0, "not due again for a day");
}

#[test]
fn the_next_run_is_jittered_within_ten_percent() {
    let settings = SchedulerSettings {
        interval: Duration::hours(24),
        tick: std::time::Duration::from_secs(60),
        batch: 1,
        concurrency: 1,
        lease: Duration::minutes(1),
        owner: "x".into(),
    };
    let now = Utc::now();
    let times: Vec<_> = (0..200).map(|_| settings.next_after(now)).collect();
    assert!(times.iter().all(|t| *t >= now + Duration::minutes(21 * 60 + 36) && *t <= now + Duration::minutes(26 * 60 + 24)));
    assert!(times.iter().collect::<std::collections::HashSet<_>>().len() > 100, "spread, not clustered");
}
