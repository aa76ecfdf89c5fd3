//! Deliveries survive the process: the real `consent-portal` binary is killed with SIGKILL
//! (`kill -9`) while a webhook delivery is in flight, and a restarted process delivers it. The
//! event was committed before any process ran (a crash between commit and delivery loses
//! nothing), and the killed process's lease holds the delivery back only until it runs out.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::environment::Environment;
use app::webhooks::WebhookEventType;
use app::webhooks::api::NewEndpointInput;
use sea_orm::EntityTrait;
use server::audit::Actor;
use server::crypto::Keyring;
use server::db::entities::webhook_delivery;

use crate::support::{seed, sqlite_file_url};

/// A receiver whose first request never gets an answer (the delivery stays in flight), and whose
/// later requests get 200.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let counter = seen.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    std::future::pending::<()>().await;
                }
                http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// The portal binary serving `database_url` on a free port, with a fast webhook worker.
fn start_portal(database_url: &str, keys: &str, data_dir: &std::path::Path) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().map(|a: SocketAddr| a.port()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_consent-portal"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("PORTAL_ENCRYPTION_KEYS", keys)
        .env("PORTAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTAL_DATA_DIR", data_dir)
        // Not the checkout's built site: start-up tidies the `pkg/` folder it is given.
        .env("PORTAL_SITE_ROOT", data_dir)
        .env("PORTAL_SCHEDULER_TICK_SECONDS", "0")
        .env("PORTAL_WEBHOOKS__ALLOW_LOOPBACK_HTTP", "true")
        .env("PORTAL_WEBHOOKS__WORKER_TICK_SECONDS", "1")
        // The lease is twice the timeout plus 30 s: short attempts keep the wait after the crash
        // near half a minute.
        .env("PORTAL_WEBHOOKS__TIMEOUT_SECONDS", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the consent-portal binary starts")
}

async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_delivery_in_flight_when_the_process_is_killed_is_delivered_after_a_restart() {
    let url = sqlite_file_url();
    let data_dir = tempfile::tempdir().unwrap();
    let keys = Keyring::generate_spec(1);
    let keyring = Keyring::parse(Some(&secrecy::SecretString::from(keys.clone()))).unwrap();
    let (hook_url, seen) = receiver().await;

    // Committed before any process runs: an endpoint and one event for it.
    let db = server::db::connect_and_migrate(&url).await.unwrap();
    let world = seed(&db).await;
    let input = NewEndpointInput { environment: Environment::Demo, url: hook_url, event_types: vec![WebhookEventType::InviteRedeemed] };
    server::webhooks::endpoints::create(&db, &keyring, true, &Actor::system("test"), None, input).await.unwrap();
    let txn = server::db::begin(&db).await.unwrap();
    server::webhooks::emit(&txn, world.tenant_a, Environment::Demo, WebhookEventType::InviteRedeemed, serde_json::json!({})).await.unwrap();
    txn.commit().await.unwrap();

    // The first process sends it; the receiver holds the request open; the process is killed.
    let mut first = start_portal(&url, &keys, data_dir.path());
    wait_until("the first process sends the delivery", Duration::from_secs(60), async || seen.load(Ordering::SeqCst) >= 1).await;
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    let row = webhook_delivery::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(row.status, "pending", "a killed process finished nothing");
    assert!(row.lease_owner.is_some(), "the killed process's lease is still on the delivery");

    // A restarted process delivers it once that lease has run out, exactly once more.
    let mut second = start_portal(&url, &keys, data_dir.path());
    wait_until("the restarted process delivers", Duration::from_secs(90), async || {
        webhook_delivery::Entity::find().one(&db).await.unwrap().is_some_and(|d| d.status == "delivered")
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2, "sent once by each process, never twice by the second");
}
