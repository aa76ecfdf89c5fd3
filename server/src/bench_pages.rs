//! `consent-portal bench-pages`: the portal's pages under load at scale. Seeds N tenants (default
//! 100,000, each with a few audit events) into a fresh database (SQLite by default, or
//! `--database-url`), serves the real router on a loopback port and prints:
//!
//! - a page-weight report: bytes of HTML and of embedded data for each main page (the staff's
//!   and the customer admin's: an invite link and the wizard it opens, with a sandbox as the
//!   tenant's DocuSign), the database statements its request ran, and the bytes of the site's
//!   wasm, JS and CSS (raw and precompressed);
//! - p50/p99 and throughput of the tenant page at `--connections` concurrent connections, and of
//!   `/healthz` measured in the same run while the page is under load (and alone, for the ratio).
//!
//! Figures, not pass/fail: it fails only if a request errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ConnectionTrait, Statement};

use crate::config::Config;
use crate::state::Portal;

/// Options of the page bench.
#[derive(Debug, Clone, clap::Args)]
pub struct PageBenchArgs {
    /// Tenants to seed.
    #[arg(long, default_value_t = 100_000)]
    pub tenants: usize,
    /// Audit events per tenant.
    #[arg(long, default_value_t = 4)]
    pub events_per_tenant: usize,
    /// Concurrent connections of the load.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// A PostgreSQL URL to run on instead of a fresh SQLite file (the database must be empty).
    #[arg(long)]
    pub database_url: Option<String>,
    /// The built site, for the asset sizes.
    #[arg(long, default_value = "target/site")]
    pub site_root: std::path::PathBuf,
}

/// Runs the page bench and prints its figures.
pub async fn run(args: PageBenchArgs) -> anyhow::Result<()> {
    let dir = crate::bench::tempfile_dir()?;
    let mut config = Config::from_figment(
        Config::figment(None)
            .merge(figment::providers::Serialized::default("data_dir", dir.display().to_string()))
            .merge(figment::providers::Serialized::default("site_root", args.site_root.display().to_string()))
            .merge(figment::providers::Serialized::default("encryption_keys", crate::crypto::Keyring::generate_spec(1))),
    )?;
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone().into());
    }
    // The customer admin's pages need the tenant's DocuSign environment set up; nothing is sent
    // to DocuSign until a button is pressed, and a sandbox stands in for it.
    let sandbox = crate::sandbox::Sandbox::start(crate::sandbox::SandboxConfig::default()).await?;
    config.docusign.demo = Some(crate::bench::sandbox_environment(&sandbox)?);
    let mut db = crate::db::connect_and_migrate(&config.database_url()).await?;
    // Statements per page: a page's cost follows how many it runs (ARCHITECTURE.md, "Where a
    // page's time goes"). Counted only while the page-weight requests run one at a time.
    let statements = StatementCount::default();
    db.set_metric_callback(statements.callback());
    let seeded = Instant::now();
    let sample = seed(&db, args.tenants, args.events_per_tenant).await?;
    println!(
        "bench-pages: {} tenants and {} audit events seeded in {:.1} s on {}",
        args.tenants,
        args.tenants * (args.events_per_tenant + 1),
        seeded.elapsed().as_secs_f64(),
        if args.database_url.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    add_bench_staff(&db).await?;
    let site_root = config.site_root.clone();
    let (portal, base) = serve_on_loopback(db, config).await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(args.connections * 2).build()?;
    let cookie = sign_in_bench_staff(&http, &base).await?;

    println!();
    println!("page weight (one request each, uncompressed HTML):");
    println!("  {:<28} {:>12} {:>14} {:>10} {:>11}", "page", "HTML bytes", "embedded data", "time ms", "statements");
    let detail = format!("/tenants/{sample}");
    let weigh = async |label: &str, path: &str, cookie: &str| -> anyhow::Result<()> {
        let started = Instant::now();
        statements.start();
        let res = http.get(format!("{base}{path}")).header("cookie", cookie).send().await?;
        let status = res.status();
        let body = res.text().await?;
        let ran = statements.stop();
        let data: usize = embedded_data(&body);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!("  {:<28} {:>12} {:>14} {:>10.1} {:>11}   ({status})", shorten(label), body.len(), data, ms, ran);
        Ok(())
    };
    for path in ["/login", "/tenants/new", detail.as_str(), &format!("{detail}/edit"), "/tenants"] {
        weigh(path, path, &cookie).await?;
    }
    // The customer admin's first pages: the invite link (before it is used) and the wizard it
    // leads to, for a tenant other than the sample (the invite changes the tenant it is for).
    let token = create_invite(&http, &base, &cookie, other_tenant(&portal.db, sample).await?).await?;
    weigh("/onboard/{token}", &format!("/onboard/{token}"), "").await?;
    let invitee = redeem_invite(&http, &base, &token).await?;
    weigh("/wizard", "/wizard", &invitee).await?;
    let pkg = site_root.join("pkg");
    println!("  assets in {}:", pkg.display());
    for ext in ["wasm", "js", "css"] {
        let file = pkg.join(format!("consent-portal.{ext}"));
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len().to_string()).unwrap_or_else(|_| "-".into());
        println!(
            "    {:<24} raw {:>10}  br {:>10}  gz {:>10}",
            format!("consent-portal.{ext}"),
            size(&file),
            size(&file.with_extension(format!("{ext}.br"))),
            size(&file.with_extension(format!("{ext}.gz")))
        );
    }

    println!();
    let get = reqwest::Method::GET;
    let health = format!("{base}/healthz");
    let page_url = format!("{base}{detail}");
    let cookie_header = ("cookie", cookie.as_str());
    let alone = load(&http, get.clone(), &health, None, args.connections, Duration::from_secs(args.seconds.min(5))).await?;
    println!("/healthz alone:            {alone}");
    let (page, health) = tokio::join!(
        load(&http, get.clone(), &page_url, Some(cookie_header), args.connections, Duration::from_secs(args.seconds)),
        load(&http, get.clone(), &health, None, 2, Duration::from_secs(args.seconds)),
    );
    let (page, health) = (page?, health?);
    println!("tenant page, {:>2} conns:    {page}", args.connections);
    println!("/healthz meanwhile:        {health}");
    println!("healthz throughput ratio:  page {:.0} req/s is {:.0}% of healthz alone", page.rate, page.rate / alone.rate.max(f64::EPSILON) * 100.0);
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(page.errors + health.errors + alone.errors == 0, "requests failed");
    Ok(())
}

/// Counts the statements the portal runs between `start` and `stop` (one request at a time).
#[derive(Clone, Default)]
struct StatementCount {
    on: Arc<AtomicBool>,
    n: Arc<AtomicU64>,
}

impl StatementCount {
    /// The database's metric callback: one atomic load per statement while not counting.
    fn callback(&self) -> impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static {
        let this = self.clone();
        move |_| {
            if this.on.load(Ordering::Relaxed) {
                this.n.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn start(&self) {
        self.n.store(0, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
    }

    /// Statements since `start`.
    fn stop(&self) -> u64 {
        self.on.store(false, Ordering::SeqCst);
        self.n.load(Ordering::SeqCst)
    }
}

fn shorten(path: &str) -> String {
    if path.len() > 28 { format!("{}…", &path[..27]) } else { path.to_owned() }
}

/// Bytes inside `<script>` elements: the serialized resource data a page embeds for hydration.
fn embedded_data(html: &str) -> usize {
    let mut total = 0;
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let Some(close) = after.find("</script>") else { break };
        total += close.saturating_sub(open_end + 1);
        rest = &after[close + 9..];
    }
    total
}

/// Latencies of one load (this bench's and `bench-api`'s).
pub(crate) struct Figures {
    pub(crate) count: usize,
    pub(crate) errors: usize,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) rate: f64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors", self.count, self.rate, self.p50_ms, self.p99_ms, self.errors)
    }
}

impl Figures {
    /// The figures of `times` (each a success) and `errors` over `elapsed`.
    pub(crate) fn of(mut times: Vec<Duration>, errors: usize, elapsed: Duration) -> Figures {
        times.sort_unstable();
        let pct = |p: f64| times.get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        Figures { count: times.len(), errors, p50_ms: pct(0.50), p99_ms: pct(0.99), rate: times.len() as f64 / elapsed.as_secs_f64() }
    }
}

/// The config-staff member every page bench signs in as.
const BENCH_STAFF: &str = "bench@isv.test";
const BENCH_PASSWORD: &str = "bench-password-long-enough";

/// Adds [`BENCH_STAFF`] to the seeded database.
pub(crate) async fn add_bench_staff(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    crate::staff::create(
        db,
        &crate::audit::Actor::system("bench"),
        None,
        app::staff::api::NewStaffInput { email: BENCH_STAFF.into(), role: app::auth::Role::ConfigStaff, password: BENCH_PASSWORD.into() },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Serves the real router over `db` on a loopback port of its own (the configuration's public URL
/// and listen address set to it); returns the portal and its base URL.
pub(crate) async fn serve_on_loopback(db: sea_orm::DatabaseConnection, mut config: Config) -> anyhow::Result<(Arc<Portal>, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    config.public_url = format!("http://{addr}").parse()?;
    config.listen = addr;
    let config = Arc::new(config);
    let portal = Arc::new(Portal::new(db, config.clone())?);
    let router = crate::http::build_router(portal.clone(), crate::http::leptos_options(&config.site_root, addr));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    Ok((portal, format!("http://{addr}")))
}

/// Signs [`BENCH_STAFF`] in over HTTP; returns the session cookie (`name=value`).
pub(crate) async fn sign_in_bench_staff(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let signed_in = http
        .post(format!("{base}/api/auth/sign_in"))
        .header("origin", base)
        .form(&[("email", BENCH_STAFF), ("password", BENCH_PASSWORD)])
        .send()
        .await?;
    anyhow::ensure!(signed_in.status().is_success(), "sign-in failed: {}", signed_in.status());
    session_cookie(&signed_in)
}

/// A tenant other than `sample`.
async fn other_tenant(db: &sea_orm::DatabaseConnection, sample: uuid::Uuid) -> anyhow::Result<uuid::Uuid> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let other = crate::db::entities::tenant::Entity::find().filter(crate::db::entities::tenant::Column::Id.ne(sample)).one(db).await?;
    Ok(other.context("a second tenant (seed at least two)")?.id)
}

/// Issues an invite for `tenant` as the signed-in staff member; returns the token in its link.
async fn create_invite(http: &reqwest::Client, base: &str, staff_cookie: &str, tenant: uuid::Uuid) -> anyhow::Result<String> {
    let res = http
        .post(format!("{base}/api/onboarding/create_invite"))
        .header("origin", base)
        .header("cookie", staff_cookie)
        .header("accept", "application/json")
        .form(&[("tenant_id", tenant.to_string())])
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "creating an invite failed: {}", res.status());
    let issued: serde_json::Value = res.json().await?;
    let link = issued["link"].as_str().context("the invite's link")?;
    Ok(link.rsplit('/').next().unwrap_or_default().to_owned())
}

/// Opens the invite as the customer admin pressing Start; returns the invite session's cookie.
async fn redeem_invite(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let res = http
        .post(format!("{base}/api/onboarding/redeem_invite"))
        .header("origin", base)
        .header("accept", "application/json")
        .form(&[("token", token)])
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "redeeming the invite failed: {}", res.status());
    session_cookie(&res)
}

/// The `name=value` of the session cookie a response sets.
fn session_cookie(res: &reqwest::Response) -> anyhow::Result<String> {
    Ok(res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cp_session="))
        .and_then(|c| c.split(';').next())
        .context("a session cookie")?
        .to_owned())
}

/// `connections` loops sending `method url` (with `header`, if any) for `duration`; only a 2xx
/// with its whole body counts as a success.
pub(crate) async fn load(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    header: Option<(&str, &str)>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Figures> {
    let until = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (http, url, method) = (http.clone(), url.to_owned(), method.clone());
        let header = header.map(|(k, v)| (k.to_owned(), v.to_owned()));
        tasks.spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < until {
                let t = Instant::now();
                let mut req = http.request(method.clone(), &url);
                if let Some((k, v)) = &header {
                    req = req.header(k.as_str(), v.as_str());
                }
                match req.send().await {
                    Ok(res) if res.status().is_success() => match res.bytes().await {
                        Ok(_) => times.push(t.elapsed()),
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
            }
            (times, errors)
        });
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        let (times, e) = r?;
        all.extend(times);
        errors += e;
    }
    Ok(Figures::of(all, errors, started.elapsed()))
}

/// Inserts `n` tenants with `events` audit events each, in multi-row statements; returns one
/// tenant id from the middle.
pub(crate) async fn seed(db: &sea_orm::DatabaseConnection, n: usize, events: usize) -> anyhow::Result<uuid::Uuid> {
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    let mut sample = uuid::Uuid::nil();
    for chunk_start in (0..n).step_by(500) {
        let chunk_end = (chunk_start + 500).min(n);
        let ids: Vec<uuid::Uuid> = (chunk_start..chunk_end).map(|_| uuid::Uuid::new_v4()).collect();
        if (chunk_start..chunk_end).contains(&(n / 2)) {
            sample = ids[n / 2 - chunk_start];
        }
        let mut values = Vec::new();
        let mut rows = Vec::new();
        for (k, id) in ids.iter().enumerate() {
            let i = chunk_start + k;
            let p = values.len();
            rows.push(placeholders(backend, p, 8));
            values.extend::<[sea_orm::Value; 8]>([
                (*id).into(),
                format!("Bench tenant {i}").into(),
                format!("bench-{i}").into(),
                "demo".into(),
                format!("admin{i}@bench.example").into(),
                String::new().into(),
                now.into(),
                now.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO tenants (id, display_name, slug, environment, contact_email, notes, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.context("seeding tenants")?;
        let mut values = Vec::new();
        let mut rows = Vec::new();
        for id in &ids {
            // SQLite takes at most 32,766 bound values in one statement: flush before the next
            // tenant's events would pass that.
            if values.len() + 5 * (events + 1) > 30_000 {
                insert_events(db, std::mem::take(&mut rows), std::mem::take(&mut values)).await?;
            }
            for e in 0..=events {
                let p = values.len();
                rows.push(placeholders(backend, p, 5));
                let action = if e == 0 { "tenant.created" } else if e % 2 == 0 { "invite.issued" } else { "tenant.updated" };
                values.extend::<[sea_orm::Value; 5]>([
                    now.into(),
                    "bench".into(),
                    (*id).into(),
                    action.into(),
                    serde_json::json!({ "seq": e }).into(),
                ]);
            }
        }
        insert_events(db, rows, values).await?;
    }
    Ok(sample)
}

/// One multi-row insert of audit events (`rows` placeholders for `values`).
async fn insert_events(db: &sea_orm::DatabaseConnection, rows: Vec<String>, values: Vec<sea_orm::Value>) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!("INSERT INTO audit_events (occurred_at, actor_label, tenant_id, action, after) VALUES {}", rows.join(", "));
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await.context("seeding audit events")?;
    Ok(())
}

/// `(?, ?, …)` or `($p+1, $p+2, …)` for one row of `n` values.
pub(crate) fn placeholders(backend: sea_orm::DbBackend, offset: usize, n: usize) -> String {
    let list: Vec<String> = (1..=n)
        .map(|i| if backend == sea_orm::DbBackend::Postgres { format!("${}", offset + i) } else { "?".to_owned() })
        .collect();
    format!("({})", list.join(", "))
}
