//! Test support: a fresh database per test (SQLite in memory, or a new PostgreSQL database), a
//! seeded world of staff and tenants, and an in-process router with request helpers.

use std::sync::Arc;

use app::auth::Role;
use app::staff::api::NewStaffInput;
use app::environment::Environment;
use app::tenants::api::TenantInput;
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use server::audit::Actor;
use server::config::Config;
use server::state::Portal;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use uuid::Uuid;

/// Where PostgreSQL tests create their databases (override with `TEST_POSTGRES_URL`).
fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static SWEPT: OnceCell<()> = OnceCell::const_new();

/// Tests queue for a connection as long as they need: on a loaded machine many concurrent
/// requests on one SQLite connection can wait longer than production's 3 s before answering 503
/// (which `router::a_request_that_cannot_get_a_database_connection_soon…` checks on its own).
const TEST_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A new SQLite file (WAL, pooled: the production set-up, not a single in-memory connection),
/// in a folder the harness sweeps of files left by runs more than an hour old.
pub fn sqlite_file_url() -> String {
    static SWEPT_FILES: std::sync::Once = std::sync::Once::new();
    let dir = std::env::temp_dir().join("consent-portal-tests");
    SWEPT_FILES.call_once(|| {
        let _ = std::fs::create_dir_all(&dir);
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < an_hour_ago) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    });
    format!("sqlite://{}?mode=rwc", dir.join(format!("{}.db", Uuid::new_v4().simple())).display())
}

/// A migrated, empty database of the given kind, private to the calling test.
pub async fn fresh_db(backend: Backend) -> DatabaseConnection {
    match backend {
        Backend::Sqlite => server::db::connect_with(&sqlite_file_url(), TEST_ACQUIRE_TIMEOUT).await.expect("sqlite"),
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let admin = Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL must run at {admin_url} for these tests: {e}"));
            SWEPT
                .get_or_init(|| async {
                    // Databases left by earlier runs (tests do not drop their own). Only those created
                    // more than 30 minutes ago (a test binary runs for a few minutes): another test
                    // process may be running now (two checkouts testing side by side), and dropping
                    // its live databases made its tests fail. A database's name carries its
                    // creation time.
                    let rows = admin
                        .query_all_raw(sea_orm::Statement::from_string(
                            admin.get_database_backend(),
                            "SELECT datname FROM pg_database WHERE datname LIKE 'cp_t_%'",
                        ))
                        .await
                        .unwrap_or_default();
                    let now = chrono::Utc::now().timestamp();
                    for row in rows {
                        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
                        let created = name.strip_prefix("cp_t_").and_then(|rest| rest.split('_').next()).and_then(|t| t.parse::<i64>().ok());
                        // Names without a time are from before this rule: old by construction.
                        if created.is_none_or(|t| now - t > 30 * 60) {
                            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        }
                    }
                })
                .await;
            let name = format!("cp_t_{}_{}", chrono::Utc::now().timestamp(), Uuid::new_v4().simple());
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
            let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_owned()).expect("url with a database");
            server::db::connect_with(&format!("{base}/{name}"), TEST_ACQUIRE_TIMEOUT).await.expect("postgres migrate")
        }
    }
}

/// Generates one test per database from an async body taking a `Backend`.
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::support::Backend) $body
            #[tokio::test]
            async fn sqlite() { run($crate::support::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { run($crate::support::Backend::Postgres).await }
        }
    };
}

/// The seeded people and tenants.
pub struct World {
    pub admin: Uuid,
    pub config_staff: Uuid,
    pub manager_a: Uuid,
    pub manager_b: Uuid,
    /// Assigned to `manager_a`.
    pub tenant_a: Uuid,
    /// Assigned to nobody.
    pub tenant_b: Uuid,
}

pub const PASSWORD: &str = "correct-horse-battery";

/// Seeds staff of every role and two tenants.
pub async fn seed(db: &DatabaseConnection) -> World {
    let actor = Actor::system("test");
    let add = |email: &'static str, role: Role| {
        let db = db.clone();
        let actor = actor.clone();
        async move {
            server::staff::create(&db, &actor, None, NewStaffInput { email: email.into(), role, password: PASSWORD.into() })
                .await
                .expect("seed staff")
        }
    };
    let admin = add("admin@isv.test", Role::Admin).await;
    let config_staff = add("config@isv.test", Role::ConfigStaff).await;
    let manager_a = add("am-a@isv.test", Role::AccountManager).await;
    let manager_b = add("am-b@isv.test", Role::AccountManager).await;
    let tenant_a = server::tenants::create(db, &actor, None, tenant_input("acme", Some(manager_a))).await.expect("tenant a");
    let tenant_b = server::tenants::create(db, &actor, None, tenant_input("globex", None)).await.expect("tenant b");
    World { admin, config_staff, manager_a, manager_b, tenant_a, tenant_b }
}

/// The slugs of the tenants `who` sees on the list for `query`, in list order (a test's tenants
/// fit on one page, which this checks).
pub async fn slugs(db: &DatabaseConnection, who: &app::auth::StaffPrincipal, query: app::tenants::api::TenantQuery) -> Vec<String> {
    let page = server::tenants::page(db, who, &query, &server::config::OnboardingSla::default()).await.unwrap();
    assert_eq!(page.total as usize, page.items.len(), "one page holds them all here");
    page.items.into_iter().map(|t| t.slug).collect()
}

/// Rolls back the last `steps` migrations (all with `None`), checks that `gone` no longer exists,
/// and migrates up again, all on one connection: a pooled SQLite connection keeps the schema it
/// last read, so a CREATE parsed on a connection that saw the object before another one dropped
/// it fails with "already exists" (SQLite re-reads a stale schema when a statement names a
/// missing object, not when it creates one that seems to exist).
pub async fn roll_back_and_reapply(db: &DatabaseConnection, steps: Option<u32>, gone: &str) {
    use migrations::MigratorTrait;
    let txn = server::db::begin(db).await.unwrap();
    migrations::Migrator::down(&txn, steps).await.unwrap();
    assert!(!migrations::SchemaManager::new(&txn).has_table(gone).await.unwrap(), "rolled back past {gone}");
    migrations::Migrator::up(&txn, None).await.unwrap();
    txn.commit().await.unwrap();
}

/// A valid tenant input with this slug.
pub fn tenant_input(slug: &str, manager: Option<Uuid>) -> TenantInput {
    TenantInput {
        display_name: format!("Tenant {slug}"),
        slug: slug.into(),
        environment: Environment::Demo,
        contact_email: format!("admin@{slug}.test"),
        account_manager_id: manager,
        notes: String::new(),
    }
}

/// The public origin the test router is configured with.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// A test configuration (no file, no environment).
pub fn test_config() -> Config {
    let figment = Config::figment(None)
        .merge(figment::providers::Serialized::default("public_url", ORIGIN))
        .merge(figment::providers::Serialized::default("encryption_keys", server::crypto::Keyring::generate_spec(1)))
        // The webhook tests' receivers listen on 127.0.0.1 over plain http.
        .merge(figment::providers::Serialized::default("webhooks.allow_loopback_http", true))
        // Tests read counts right after changing data: computed on every request (the kept
        // counts have their own test in check_filters).
        .merge(figment::providers::Serialized::default("list_counts_seconds", 0));
    Config::from_figment(figment).expect("test config")
}

/// The router in-process, over a seeded SQLite database.
pub struct TestApp {
    pub router: Router,
    pub portal: Arc<Portal>,
    pub world: World,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with(Backend::Sqlite, test_config()).await
    }

    /// A router over a seeded database of `backend` with `config`.
    pub async fn with(backend: Backend, config: Config) -> TestApp {
        Self::over(fresh_db(backend).await, config).await
    }

    /// A router over `db` (migrated, then seeded here) with `config`.
    pub async fn over(db: DatabaseConnection, config: Config) -> TestApp {
        let world = seed(&db).await;
        let config = Arc::new(config);
        let portal = Arc::new(Portal::new(db, config).expect("portal"));
        let options = server::http::leptos_options(std::path::Path::new("target/site"), "127.0.0.1:0".parse().unwrap());
        let router = server::http::build_router(portal.clone(), options);
        TestApp { router, portal, world }
    }

    /// Sends a request and reads the whole response.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// GET a page with an optional session cookie.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// POST a form to a server function as the browser would (same-origin `Origin`).
    pub async fn call(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
        self.call_from(path, cookie, form, Some(ORIGIN)).await
    }

    /// POST a form with a chosen `Origin` header (or none).
    pub async fn call_from(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)], origin: Option<&str>) -> Reply {
        let body = serde_urlencoded::to_string(form).unwrap();
        let mut req = Request::post(path)
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Staff (by their cookie) issue an invite for `tenant`; returns the token in its link.
    pub async fn invite_token(&self, staff_cookie: Option<&str>, tenant: Uuid) -> String {
        let issued = self.call("/api/onboarding/create_invite", staff_cookie, &[("tenant_id", &tenant.to_string())]).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
        issued.json()["link"].as_str().expect("a link").rsplit('/').next().expect("a token").to_owned()
    }

    /// Signs in and returns the `Cookie` header value for the new session.
    pub async fn sign_in(&self, email: &str) -> String {
        let reply = self.call("/api/auth/sign_in", None, &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(reply.status, StatusCode::OK, "sign-in failed: {}", reply.body);
        cookie_from(&reply.headers).expect("a session cookie")
    }
}

/// The `name=value` of the session cookie set by a response.
pub fn cookie_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cp_session=") && !v.starts_with("cp_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// What a test's own thread logged, at every level, while the capture lived.
///
/// One global subscriber is installed once for the whole binary, and it writes only the events of
/// threads that hold a capture: a `#[tokio::test]` runs the portal, the sandbox and the client on
/// its own thread, so a test reads its own flow and nothing of tests running beside it. (A
/// per-thread `set_default` next to a global subscriber in the same process races with tracing's
/// callsite-interest cache and once stalled a test for good.) The sandbox is left out: it plays
/// DocuSign, and DocuSign may log what the portal must not.
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

thread_local! {
    static LOG_SINK: std::cell::RefCell<Option<Arc<std::sync::Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// The writer the global subscriber formats into: the current thread's capture, if any.
struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG_SINK.with(|s| {
            if let Some(sink) = &*s.borrow() {
                sink.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing this thread's logs (see [`LogCapture`]).
pub fn capture_logs() -> LogCapture {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // A dynamic filter, asked at every event: a plain `filter_fn` caches its first answer per
        // callsite, so a callsite first reached by a thread without a capture (another test, or
        // this one before its sink is set) stayed silent for good and the capture saw nothing.
        let capturing = tracing_subscriber::filter::dynamic_filter_fn(|meta, _| {
            !meta.target().starts_with("server::sandbox") && LOG_SINK.with(|s| s.borrow().is_some())
        });
        let layer = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(|| ThreadSink).with_filter(capturing);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("the only global subscriber of the test binary");
    });
    let sink = Arc::new(std::sync::Mutex::new(Vec::new()));
    LOG_SINK.with(|s| *s.borrow_mut() = Some(sink.clone()));
    LogCapture(sink)
}

impl LogCapture {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        LOG_SINK.with(|s| *s.borrow_mut() = None);
    }
}
