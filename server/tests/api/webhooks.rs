//! Outgoing webhooks: the outbox is written with the caller's transaction or not at all; each
//! state change emits exactly one event of its type; the worker delivers against a real HTTP
//! receiver on 127.0.0.1 (500 then 200 → exactly two requests), under leases (a killed worker's
//! delivery is taken over after its lease, two racing workers never send one delivery twice),
//! and gives up after its retry schedule; the signature verifies with the independent
//! `standardwebhooks` package from PyPI; only administrators reach the server functions.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::environment::Environment;
use app::onboarding::model::ConsentState;
use app::webhooks::WebhookEventType;
use app::webhooks::api::NewEndpointInput;
use http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use server::audit::Actor;
use server::crypto::Keyring;
use server::db::entities::{webhook_delivery, webhook_endpoint, webhook_event};
use server::webhooks::worker::{self, Worker, WorkerSettings};
use server::webhooks::{self, endpoints};

use crate::on_both_databases;
use crate::support::*;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Captured {
    pub headers: HashMap<String, String>,
    pub body: String,
}

struct ReceiverState {
    /// Statuses to answer in order; `otherwise` after they run out.
    script: Mutex<VecDeque<u16>>,
    otherwise: u16,
    delay: Duration,
    seen: Mutex<Vec<Captured>>,
}

/// A webhook receiver: a real HTTP server on 127.0.0.1 that records every request.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    /// Answers `script` in order, then `otherwise`, each after `delay`.
    pub async fn start(script: &[u16], otherwise: u16, delay: Duration) -> Receiver {
        let state = Arc::new(ReceiverState { script: Mutex::new(script.iter().copied().collect()), otherwise, delay, seen: Mutex::new(Vec::new()) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/consent", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route(
                "/hooks/consent",
                axum::routing::post(|axum::extract::State(s): axum::extract::State<Arc<ReceiverState>>, headers: http::HeaderMap, body: String| async move {
                    let headers = headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
                    s.seen.lock().unwrap().push(Captured { headers, body });
                    tokio::time::sleep(s.delay).await;
                    let code = s.script.lock().unwrap().pop_front().unwrap_or(s.otherwise);
                    StatusCode::from_u16(code).unwrap()
                }),
            )
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, state }
    }

    pub fn seen(&self) -> Vec<Captured> {
        self.state.seen.lock().unwrap().clone()
    }
}

fn keyring() -> Keyring {
    Keyring::parse(Some(&secrecy::SecretString::from(Keyring::generate_spec(1)))).unwrap()
}

/// An enabled endpoint of the demo environment for `types` at `url`; returns its id and secret.
async fn endpoint(db: &DatabaseConnection, keyring: &Keyring, url: &str, types: &[WebhookEventType]) -> (uuid::Uuid, String) {
    let input = NewEndpointInput { environment: Environment::Demo, url: url.into(), event_types: types.to_vec() };
    let created = endpoints::create(db, keyring, true, &Actor::system("test"), None, input).await.expect("endpoint");
    (created.id, created.secret)
}

/// Test worker settings: a fast tick, a short timeout, `retry` as the schedule.
fn settings(owner: &str, lease: Duration, retry: &[Duration]) -> WorkerSettings {
    WorkerSettings {
        tick: Duration::from_millis(10),
        batch: 10,
        lease,
        timeout: Duration::from_secs(5),
        retry_delays: retry.to_vec(),
        owner: owner.into(),
    }
}

fn worker(db: &DatabaseConnection, keyring: &Keyring, owner: &str, retry: &[Duration]) -> Worker {
    Worker::new(db.clone(), keyring.clone(), settings(owner, Duration::from_secs(30), retry)).unwrap()
}

async fn events_of(db: &DatabaseConnection, t: WebhookEventType) -> Vec<webhook_event::Model> {
    webhook_event::Entity::find().filter(webhook_event::Column::EventType.eq(t.as_str())).all(db).await.unwrap()
}

async fn deliveries(db: &DatabaseConnection) -> Vec<webhook_delivery::Model> {
    webhook_delivery::Entity::find().all(db).await.unwrap()
}

/// Emits one event for tenant A in its own committed transaction.
async fn emit_one(db: &DatabaseConnection, tenant: uuid::Uuid, n: usize) {
    let txn = server::db::begin(db).await.unwrap();
    webhooks::emit(&txn, tenant, Environment::Demo, WebhookEventType::InviteRedeemed, serde_json::json!({ "n": n })).await.unwrap();
    txn.commit().await.unwrap();
}

on_both_databases! {
    async fn emit_writes_the_event_and_its_deliveries_only_with_the_callers_transaction(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        let (subscribed, _) = endpoint(&db, &k, "https://hooks.example.com/a", &[WebhookEventType::InviteRedeemed]).await;
        // Not subscribed to the type, another environment, disabled: none of these gets it.
        endpoint(&db, &k, "https://hooks.example.com/b", &[WebhookEventType::ConsentRevoked]).await;
        endpoints::create(&db, &k, false, &Actor::system("t"), None, NewEndpointInput {
            environment: Environment::Production, url: "https://hooks.example.com/c".into(), event_types: vec![WebhookEventType::InviteRedeemed],
        }).await.unwrap();
        let (disabled, _) = endpoint(&db, &k, "https://hooks.example.com/d", &[WebhookEventType::InviteRedeemed]).await;
        endpoints::disable(&db, &Actor::system("t"), None, disabled).await.unwrap();

        let txn = server::db::begin(&db).await.unwrap();
        webhooks::emit(&txn, w.tenant_a, Environment::Demo, WebhookEventType::InviteRedeemed, serde_json::json!({})).await.unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 0, "rolled back: no event");
        assert_eq!(webhook_delivery::Entity::find().count(&db).await.unwrap(), 0, "rolled back: no delivery");

        emit_one(&db, w.tenant_a, 1).await;
        let events = webhook_event::Entity::find().all(&db).await.unwrap();
        assert_eq!(events.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
        assert_eq!(body["type"], "tenant.invite.redeemed");
        assert_eq!(body["data"]["tenant_id"], w.tenant_a.to_string());
        assert_eq!(body["data"]["tenant_slug"], "acme");
        assert_eq!(body["data"]["environment"], "demo");
        assert!(body["timestamp"].as_str().is_some());
        let ds = deliveries(&db).await;
        assert_eq!(ds.len(), 1, "one delivery, to the one subscribed enabled endpoint of the environment");
        assert_eq!(ds[0].endpoint_id, subscribed);
        assert_eq!(ds[0].status, "pending");
    }
}

on_both_databases! {
    async fn a_consent_transition_emits_exactly_one_event_of_its_type(backend) {
        use server::onboarding::state::transition;
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        endpoint(&db, &k, "https://hooks.example.com/all", &WebhookEventType::ALL).await;
        let actor = Actor::system("test");
        let step = |to: ConsentState, reason: Option<&'static str>| {
            let (db, actor) = (db.clone(), actor.clone());
            async move {
                let txn = server::db::begin(&db).await.unwrap();
                transition(&txn, &actor, None, w.tenant_a, Environment::Demo, to, reason).await.unwrap();
                txn.commit().await.unwrap();
            }
        };
        for to in [ConsentState::Invited, ConsentState::InProgress, ConsentState::Consented] {
            step(to, None).await;
        }
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 0, "the steps before consent send nothing");
        step(ConsentState::Verified, None).await;
        assert_eq!(events_of(&db, WebhookEventType::ConsentVerified).await.len(), 1);
        step(ConsentState::Verified, None).await;
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 1, "staying verified sends nothing");
        step(ConsentState::NeedsAttention, Some("not_a_member")).await;
        let attention = events_of(&db, WebhookEventType::ConsentNeedsAttention).await;
        assert_eq!(attention.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&attention[0].payload).unwrap();
        assert_eq!(body["data"]["state"], "needs_attention");
        assert_eq!(body["data"]["previous_state"], "verified");
        assert_eq!(body["data"]["reason"], "not_a_member");
        step(ConsentState::Verified, None).await;
        assert_eq!(events_of(&db, WebhookEventType::ConsentRecovered).await.len(), 1);
        step(ConsentState::Revoked, None).await;
        assert_eq!(events_of(&db, WebhookEventType::ConsentRevoked).await.len(), 1);
        assert_eq!(events_of(&db, WebhookEventType::ConsentVerified).await.len(), 1, "a recovery is not a first verification");
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 4);
        assert_eq!(webhook_delivery::Entity::find().count(&db).await.unwrap(), 4);
        // A refused transition changes nothing (and queues nothing).
        let txn = server::db::begin(&db).await.unwrap();
        assert!(transition(&txn, &actor, None, w.tenant_a, Environment::Demo, ConsentState::NotStarted, None).await.is_err());
        drop(txn);
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 4);
    }
}

on_both_databases! {
    async fn a_receiver_that_answers_500_then_200_gets_the_event_exactly_twice(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        let receiver = Receiver::start(&[500], 200, Duration::ZERO).await;
        endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
        emit_one(&db, w.tenant_a, 1).await;
        let worker = worker(&db, &k, "w1", &[Duration::ZERO, Duration::ZERO, Duration::ZERO]);
        for _ in 0..10 {
            worker.tick().await.unwrap();
        }
        let seen = receiver.seen();
        assert_eq!(seen.len(), 2, "one failed attempt, one delivered, and no more");
        assert_eq!(seen[0].headers["webhook-id"], seen[1].headers["webhook-id"], "the same id on every attempt");
        assert_eq!(seen[0].body, seen[1].body, "the same body on every attempt");
        assert_eq!(seen[0].headers["content-type"], "application/json");
        let d = &deliveries(&db).await[0];
        assert_eq!(d.status, "delivered");
        assert_eq!(d.attempts, 2);
        assert_eq!(d.last_status_code, Some(200));
        assert!(d.delivered_at.is_some() && d.lease_owner.is_none());
        // The delivery log shows it.
        let log = endpoints::deliveries(&db, d.endpoint_id).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].attempts, log[0].last_status_code, log[0].status.as_str()), (2, Some(200), "delivered"));
    }
}

on_both_databases! {
    async fn a_delivery_leased_by_a_killed_worker_is_delivered_by_another_after_the_lease_runs_out(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        let receiver = Receiver::start(&[], 200, Duration::ZERO).await;
        endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
        emit_one(&db, w.tenant_a, 1).await;
        // A worker claims it and is killed (-9) before sending: the lease stays, nothing finishes.
        let claimed = worker::claim(&db, "killed", chrono::Utc::now(), Duration::from_millis(1500), 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        // After a restart, the new worker leaves it alone while the lease holds…
        let fresh = worker(&db, &k, "restarted", &[Duration::ZERO]);
        assert_eq!(fresh.tick().await.unwrap(), 0);
        assert!(receiver.seen().is_empty());
        // …and delivers it once the lease has run out.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert_eq!(fresh.tick().await.unwrap(), 1);
        assert_eq!(receiver.seen().len(), 1);
        assert_eq!(deliveries(&db).await[0].status, "delivered");
        // The dead worker's late completion (had it lived) is refused: it no longer holds the lease.
        assert_eq!(fresh.tick().await.unwrap(), 0);
        assert_eq!(receiver.seen().len(), 1);
    }
}

on_both_databases! {
    async fn two_racing_workers_never_deliver_one_delivery_twice(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        // A slow receiver, so both workers are busy at the same time.
        let receiver = Receiver::start(&[], 200, Duration::from_millis(30)).await;
        endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
        for n in 0..24 {
            emit_one(&db, w.tenant_a, n).await;
        }
        let run = |owner: &'static str| {
            let mut s = settings(owner, Duration::from_secs(30), &[Duration::ZERO]);
            s.batch = 3;
            let worker = Worker::new(db.clone(), k.clone(), s).unwrap();
            tokio::spawn(async move {
                let mut sent = 0;
                for _ in 0..200 {
                    sent += worker.tick().await.unwrap();
                    tokio::task::yield_now().await;
                }
                sent
            })
        };
        let (a, b) = (run("a"), run("b"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert_eq!(a + b, 24, "every delivery attempted once ({a} + {b})");
        assert!(a > 0 && b > 0, "both workers took part ({a} + {b})");
        let mut per_id: HashMap<String, usize> = HashMap::new();
        for c in receiver.seen() {
            *per_id.entry(c.headers["webhook-id"].clone()).or_default() += 1;
        }
        assert_eq!(per_id.len(), 24);
        assert!(per_id.values().all(|n| *n == 1), "an event was sent twice: {per_id:?}");
        assert!(deliveries(&db).await.iter().all(|d| d.status == "delivered" && d.attempts == 1));
    }
}

on_both_databases! {
    async fn after_the_retry_schedule_is_exhausted_the_delivery_is_failed(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        let receiver = Receiver::start(&[], 503, Duration::ZERO).await;
        endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
        emit_one(&db, w.tenant_a, 1).await;
        // Two retries after the first attempt.
        let worker = worker(&db, &k, "w", &[Duration::ZERO, Duration::ZERO]);
        for _ in 0..10 {
            worker.tick().await.unwrap();
        }
        assert_eq!(receiver.seen().len(), 3, "the first attempt and two retries, then nothing");
        let d = &deliveries(&db).await[0];
        assert_eq!(d.status, "failed");
        assert_eq!(d.attempts, 3);
        assert_eq!(d.last_status_code, Some(503));
        assert_eq!(d.last_error.as_deref(), Some("answered HTTP 503"));
        // Redeliver queues a new attempt of the same event, which the receiver then accepts.
        let again = endpoints::redeliver(&db, &Actor::system("t"), None, d.id).await.unwrap();
        assert_ne!(again, d.id);
        let ds = deliveries(&db).await;
        assert_eq!(ds.len(), 2);
        assert!(ds.iter().any(|x| x.id == again && x.status == "pending" && x.event_id == d.event_id));
    }
}

#[tokio::test]
async fn a_retry_waits_for_its_backoff_and_a_disabled_endpoints_pending_delivery_ends_failed() {
    let db = fresh_db(Backend::Sqlite).await;
    let w = seed(&db).await;
    let k = keyring();
    let receiver = Receiver::start(&[], 500, Duration::ZERO).await;
    let (id, _) = endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
    emit_one(&db, w.tenant_a, 1).await;
    let worker = worker(&db, &k, "w", &[Duration::from_secs(3600)]);
    worker.tick().await.unwrap();
    worker.tick().await.unwrap();
    assert_eq!(receiver.seen().len(), 1, "the retry is an hour away");
    let d = &deliveries(&db).await[0];
    assert_eq!((d.status.as_str(), d.attempts), ("pending", 1));
    let wait = d.next_attempt_at - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(50) && wait < chrono::Duration::minutes(70), "{wait}");
    // Disabled: the pending delivery ends as failed without another request.
    endpoints::disable(&db, &Actor::system("t"), None, id).await.unwrap();
    // Make the retry due now and let a worker see it.
    use sea_orm::{ActiveModelTrait, Set};
    let mut m: webhook_delivery::ActiveModel = d.clone().into();
    m.next_attempt_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    m.update(&db).await.unwrap();
    assert_eq!(worker.tick().await.unwrap(), 1);
    assert_eq!(receiver.seen().len(), 1);
    let d = &deliveries(&db).await[0];
    assert_eq!((d.status.as_str(), d.last_error.as_deref()), ("failed", Some("endpoint disabled")));
    assert!(endpoints::redeliver(&db, &Actor::system("t"), None, d.id).await.is_err(), "a disabled endpoint gets no redelivery");
}

/// Runs the `standardwebhooks` package (PyPI, the specification's own Python library) on a
/// captured request: exit 0 when it verifies, 1 when it refuses, 3 when it is not installed.
fn python_verify(secret: &str, captured: &Captured) -> i32 {
    const SCRIPT: &str = r#"
import json, sys
try:
    from standardwebhooks.webhooks import Webhook
except ImportError:
    sys.exit(3)
secret, headers, body = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
try:
    Webhook(secret).verify(body, headers)
except Exception as e:
    print("refused:", e, file=sys.stderr)
    sys.exit(1)
"#;
    let headers = serde_json::to_string(&captured.headers).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, secret, &headers, &captured.body])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to verify webhook signatures independently ({e}): run scripts/install-tools.sh"));
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(
        code, 3,
        "the Python package `standardwebhooks` is not importable: run scripts/install-tools.sh (it installs the pinned version)"
    );
    code
}

#[tokio::test]
async fn a_delivered_request_verifies_with_the_independent_standardwebhooks_library() {
    let db = fresh_db(Backend::Sqlite).await;
    let w = seed(&db).await;
    let k = keyring();
    let receiver = Receiver::start(&[], 204, Duration::ZERO).await;
    let (_, secret) = endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
    assert!(secret.starts_with("whsec_"));
    emit_one(&db, w.tenant_a, 1).await;
    worker(&db, &k, "w", &[]).tick().await.unwrap();
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    let captured = &seen[0];
    assert!(captured.headers["webhook-signature"].starts_with("v1,"));
    assert_eq!(python_verify(&secret, captured), 0, "the library verifies what the portal sent");
    // The same library refuses a changed body and another secret: it really checked.
    let tampered = Captured { body: captured.body.replace("acme", "evil"), ..captured.clone() };
    assert_eq!(python_verify(&secret, &tampered), 1);
    let (_, other_secret) = endpoint(&db, &k, "https://hooks.example.com/x", &[WebhookEventType::InviteRedeemed]).await;
    assert_eq!(python_verify(&other_secret, captured), 1);
}

#[tokio::test]
async fn the_signing_secret_is_stored_sealed_and_never_logged() {
    let logs = capture_logs();
    let db = fresh_db(Backend::Sqlite).await;
    let w = seed(&db).await;
    let k = keyring();
    let receiver = Receiver::start(&[500], 200, Duration::ZERO).await;
    let (id, secret) = endpoint(&db, &k, &format!("{}?token=receiver-own-token", receiver.url), &[WebhookEventType::InviteRedeemed]).await;
    let row = webhook_endpoint::Entity::find_by_id(id).one(&db).await.unwrap().unwrap();
    let key = secret.trim_start_matches("whsec_");
    assert!(!row.secret_sealed.contains(key), "the stored value is sealed");
    assert_eq!(endpoints::secret_of(&k, &row).map(|s| secrecy::ExposeSecret::expose_secret(&s).to_owned()).unwrap(), secret);
    assert!(endpoints::list(&db).await.unwrap().iter().all(|e| !format!("{e:?}").contains(key)), "listing never shows it");
    emit_one(&db, w.tenant_a, 1).await;
    let worker = worker(&db, &k, "w", &[Duration::ZERO]);
    worker.tick().await.unwrap();
    worker.tick().await.unwrap();
    assert_eq!(receiver.seen().len(), 2);
    let text = logs.text();
    assert!(text.contains("webhook delivered"), "{text}");
    for secretish in [key, "receiver-own-token", "tenant_slug", receiver.seen()[0].headers["webhook-signature"].as_str()] {
        assert!(!text.contains(secretish), "the log shows `{secretish}`: {text}");
    }
}

#[tokio::test]
async fn only_administrators_may_call_the_webhook_server_functions() {
    let t = TestApp::new().await;
    let admin = t.sign_in("admin@isv.test").await;
    let create_form = |url: &str| {
        vec![
            ("input[environment]".to_owned(), "demo".to_owned()),
            ("input[url]".to_owned(), url.to_owned()),
            // The page's checkboxes carry their index in the list: a gap is fine.
            ("input[event_types][0]".to_owned(), "tenant.consent.verified".to_owned()),
            ("input[event_types][6]".to_owned(), "tenant.invite.redeemed".to_owned()),
        ]
    };
    let form = |v: &[(String, String)]| v.iter().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
    let created = t.call("/api/webhooks/create", Some(&admin), &borrow(&form(&create_form("https://hooks.example.com/in")))).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let listed = t.call("/api/webhooks/list", Some(&admin), &[]).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()[0]["event_types"], serde_json::json!(["tenant.consent.verified", "tenant.invite.redeemed"]));
    assert!(!listed.body.contains(secret.trim_start_matches("whsec_")), "the secret is shown once, at creation");
    let bad = t.call("/api/webhooks/create", Some(&admin), &borrow(&form(&create_form("http://hooks.example.com/in")))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("/api/webhooks/list", vec![]),
        ("/api/webhooks/create", create_form("https://hooks.example.com/other")),
        ("/api/webhooks/disable", vec![("id".into(), id.clone())]),
        ("/api/webhooks/deliveries", vec![("endpoint_id".into(), id.clone())]),
        ("/api/webhooks/redeliver", vec![("delivery_id".into(), uuid::Uuid::new_v4().to_string())]),
    ];
    for (who, expected) in [("config@isv.test", StatusCode::FORBIDDEN), ("am-a@isv.test", StatusCode::FORBIDDEN), ("", StatusCode::UNAUTHORIZED)] {
        let cookie = if who.is_empty() { None } else { Some(t.sign_in(who).await) };
        for (path, f) in &cases {
            let r = t.call(path, cookie.as_deref(), &borrow(f)).await;
            assert_eq!(r.status, expected, "{who} {path}: {}", r.body);
            assert!(!r.body.contains("hooks.example.com"), "{who} {path} leaks: {}", r.body);
        }
    }
    // Nothing changed: one endpoint, still enabled.
    let after = endpoints::list(&t.portal.db).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].disabled_at.is_none());
    // The page itself is for administrators only.
    let config = t.sign_in("config@isv.test").await;
    let page = t.get("/settings/webhooks", Some(&config)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = t.get("/settings/webhooks", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("hooks.example.com/in") && !page.body.contains(secret.trim_start_matches("whsec_")));
}

fn borrow(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

on_both_databases! {
    async fn onboarding_a_tenant_emits_redeemed_system_user_verified_setup_check_and_revoked_once_each(backend) {
        use crate::checks::{HANK, HOOLI, run_checks};
        use crate::onboarding::Onboarding;
        let o = Onboarding::new(backend).await;
        let db = o.app.portal.db.clone();
        let receiver = Receiver::start(&[], 200, Duration::ZERO).await;
        endpoint(&db, &o.app.portal.keyring, &receiver.url, &WebhookEventType::ALL).await;
        let tenant = o.app.world.tenant_a;
        o.verified_individually(tenant, HANK, HOOLI).await;
        run_checks(&o, tenant).await;
        run_checks(&o, tenant).await;
        let hank = server::sandbox::default_fixture().user_by_email(HANK).unwrap().id.clone();
        o.control(reqwest::Method::POST, "/control/consents/revoke", serde_json::json!({ "user_id": hank })).await;
        let r = o.app.call("/api/onboarding/staff_verify", Some(&o.staff), &[("tenant_id", &tenant.to_string())]).await;
        assert_eq!(r.json()["outcome"], "consent_revoked", "{}", r.body);
        let mut counts: HashMap<String, usize> = HashMap::new();
        for e in webhook_event::Entity::find().all(&db).await.unwrap() {
            *counts.entry(e.event_type).or_default() += 1;
        }
        let expected: HashMap<String, usize> = [
            "tenant.invite.redeemed", "tenant.system_user.changed", "tenant.consent.verified", "tenant.setup_check.changed", "tenant.consent.revoked",
        ]
        .into_iter()
        .map(|t| (t.to_owned(), 1))
        .collect();
        assert_eq!(counts, expected, "the second, unchanged setup check sends nothing");
        let worker = worker(&db, &o.app.portal.keyring, "w", &[Duration::ZERO]);
        worker.tick().await.unwrap();
        let seen = receiver.seen();
        assert_eq!(seen.len(), 5);
        let su: serde_json::Value = seen.iter().map(|c| serde_json::from_str::<serde_json::Value>(&c.body).unwrap())
            .find(|b| b["type"] == "tenant.system_user.changed").unwrap();
        assert_eq!(su["data"]["system_user"]["account_id"], HOOLI);
        assert_eq!(su["data"]["tenant_slug"], "acme");
        for c in &seen {
            for word in ["access_token", "refresh_token", "Bearer"] {
                assert!(!c.body.contains(word), "a webhook body names {word}: {}", c.body);
            }
        }
    }
}

on_both_databases! {
    async fn retention_deletes_old_webhook_events_with_their_deliveries_but_never_a_pending_one(backend) {
        let db = fresh_db(backend).await;
        let w = seed(&db).await;
        let k = keyring();
        let receiver = Receiver::start(&[], 200, Duration::ZERO).await;
        endpoint(&db, &k, &receiver.url, &[WebhookEventType::InviteRedeemed]).await;
        emit_one(&db, w.tenant_a, 1).await;
        worker(&db, &k, "w", &[]).tick().await.unwrap();
        emit_one(&db, w.tenant_a, 2).await;
        let config = test_config();
        let lifetimes = server::sessions::Lifetimes { idle: chrono::Duration::minutes(30), absolute: chrono::Duration::hours(12) };
        let soon = chrono::Utc::now() + chrono::Duration::days(1);
        assert_eq!(server::retention::purge(&db, config.retention, lifetimes, soon).await.unwrap().webhook_events, 0, "within the period");
        let later = chrono::Utc::now() + chrono::Duration::days(i64::from(config.retention.webhook_event_days) + 1);
        assert_eq!(server::retention::purge(&db, config.retention, lifetimes, later).await.unwrap().webhook_events, 1);
        let left = deliveries(&db).await;
        assert_eq!(left.len(), 1, "the delivered one went with its event");
        assert_eq!(left[0].status, "pending", "a pending delivery keeps its event");
        assert_eq!(webhook_event::Entity::find().count(&db).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn start_up_refuses_keys_that_no_longer_open_a_stored_webhook_secret() {
    let db = fresh_db(Backend::Sqlite).await;
    seed(&db).await;
    let k = keyring();
    endpoint(&db, &k, "https://hooks.example.com/a", &[WebhookEventType::ConsentRevoked]).await;
    let only_v2 = Keyring::parse(Some(&secrecy::SecretString::from(Keyring::generate_spec(2)))).unwrap();
    let err = server::crypto::verify_against_database(&db, &only_v2).await.unwrap_err();
    assert!(matches!(err, server::crypto::KeyringMismatch::MissingVersion(1)), "{err}");
    server::crypto::verify_against_database(&db, &k).await.expect("the key the secret was sealed with");
}
