//! `consent-portal bench-console`: the staff console at scale. Seeds N tenants (default 100,000)
//! the way a real portal holds them — consent states across the funnel (some past the SLA), a
//! consent grant where consent was given, two setup-check runs with five results for onboarded
//! tenants, a few manual overrides, half the tenants assigned to five account managers, and about
//! 20 audit events each — into a fresh SQLite file or `--database-url`, serves the real router on
//! a loopback port, and prints over HTTP at `--connections` connections:
//!
//! - p50/p99 and throughput of the list's first page, two filtered pages, a search and the
//!   overview, each with `/healthz` measured meanwhile and the page's throughput as a share of
//!   `/healthz` alone (the same run), after one request timed alone (the one that computes the
//!   counts the page then keeps for a few seconds, `list_counts`);
//! - the time of a CSV export of every tenant, and how far the process's resident memory rose
//!   above where it stood before (sampled every 5 ms while the export streams): its anonymous
//!   memory (what the portal allocates; the target) and, apart, the database file's pages that
//!   SQLite reads through a memory map (the operating system's file cache, shared and
//!   reclaimable; each pooled connection maps the file, so a page read by two counts twice).
//!
//! Figures against the targets (list and filtered p99 ≤ 10 ms, overview p99 ≤ 50 ms, export RSS
//! growth ≤ 32 MB), not pass/fail: it fails only if a request errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use app::checks::{CheckId, CheckStatus};
use sea_orm::{ConnectionTrait, Statement};

use crate::bench_pages::{load, placeholders};
use crate::config::Config;

/// Options of the console bench.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleBenchArgs {
    /// Tenants to seed.
    #[arg(long, default_value_t = 100_000)]
    pub tenants: usize,
    /// Audit events per tenant (besides its creation).
    #[arg(long, default_value_t = 19)]
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
}

/// Runs the console bench and prints its figures.
pub async fn run(args: ConsoleBenchArgs) -> anyhow::Result<()> {
    let dir = crate::bench::tempfile_dir()?;
    let mut config = Config::from_figment(
        Config::figment(None)
            .merge(figment::providers::Serialized::default("data_dir", dir.display().to_string()))
            .merge(figment::providers::Serialized::default("encryption_keys", crate::crypto::Keyring::generate_spec(1)))
            // The bench measures pages, not the scheduler re-checking 100,000 seeded tenants.
            .merge(figment::providers::Serialized::default("scheduler_tick_seconds", 0)),
    )?;
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone().into());
    }
    let db = crate::db::connect_and_migrate(&config.database_url()).await?;
    let seeded = Instant::now();
    crate::bench_pages::seed(&db, args.tenants, args.events_per_tenant).await?;
    let managers = seed_console(&db).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // A database that grew to this size has statistics; one loaded in a minute does not until
        // autovacuum comes by, and PostgreSQL plans without them (a sequential scan of two
        // million audit events for one page of the list).
        db.execute_unprepared("ANALYZE").await.context("analyzing the seeded database")?;
    }
    println!(
        "bench-console: {} tenants ({} audit events each, states, grants, check runs, overrides, {} account managers) seeded in {:.1} s on {}",
        args.tenants,
        args.events_per_tenant + 1,
        managers,
        seeded.elapsed().as_secs_f64(),
        if args.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" }
    );
    crate::bench_pages::add_bench_staff(&db).await?;
    let (_portal, base) = crate::bench_pages::serve_on_loopback(db, config).await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(args.connections * 2).build()?;
    let cookie = crate::bench_pages::sign_in_bench_staff(&http, &base).await?;

    let get = reqwest::Method::GET;
    let health = format!("{base}/healthz");
    let cookie_header = ("cookie", cookie.as_str());
    let alone = load(&http, get.clone(), &health, None, args.connections, Duration::from_secs(args.seconds.min(5))).await?;
    println!();
    println!("/healthz alone, {:>2} conns:   {alone}", args.connections);
    let mut errors = alone.errors;
    let pages = [
        ("list, first page", "/tenants", 10.0),
        ("filtered (needs attention)", "/tenants?state=needs_attention&reason=consent_required", 10.0),
        ("filtered (failing check)", "/tenants?failing=account_settings", 10.0),
        ("search", "/tenants?q=bench-4711", 10.0),
        ("overview", "/overview", 50.0),
    ];
    for (name, path, target_ms) in pages {
        let url = format!("{base}{path}");
        // The first request computes the counts this page keeps for a few seconds: timed on its
        // own, then the load measures the page as people meet it.
        let cold = Instant::now();
        let first = http.get(&url).header("cookie", cookie.as_str()).send().await?;
        anyhow::ensure!(first.status().is_success(), "{path} answered {}", first.status());
        first.bytes().await?;
        let cold = cold.elapsed();
        let (page, during) = tokio::join!(
            load(&http, get.clone(), &url, Some(cookie_header), args.connections, Duration::from_secs(args.seconds)),
            load(&http, get.clone(), &health, None, 2, Duration::from_secs(args.seconds)),
        );
        let (page, during) = (page?, during?);
        errors += page.errors + during.errors;
        println!();
        println!("{name} ({path}):");
        println!("  first request (computes the counts): {:.1} ms", cold.as_secs_f64() * 1000.0);
        println!("  page, {:>2} conns:        {page}", args.connections);
        println!("  /healthz meanwhile:     {during}");
        println!(
            "  throughput:             {:.0}% of /healthz alone; p99 {:.2} ms against a target of {target_ms} ms",
            page.rate / alone.rate.max(f64::EPSILON) * 100.0,
            page.p99_ms
        );
    }

    println!();
    let (rows, took, growth) = export(&http, &format!("{base}/tenants/export.csv"), &cookie).await?;
    println!(
        "CSV export of every tenant: {rows} rows in {:.1} s; anonymous memory rose {:.1} MB above its level before (target ≤ 32 MB); \
         mapped database pages rose {:.1} MB",
        took.as_secs_f64(),
        growth.anon_kb as f64 / 1024.0,
        growth.file_kb as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(errors == 0, "requests failed");
    Ok(())
}

/// This process's resident memory in kB (Linux `/proc/self/status`; 0 where it cannot be read).
#[derive(Debug, Clone, Copy, Default)]
struct Resident {
    /// `RssAnon`: heap and stacks, what the process allocates.
    anon_kb: u64,
    /// `RssFile`: resident pages of mapped files (the binary, the SQLite database).
    file_kb: u64,
}

fn resident() -> Resident {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> u64 {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
    };
    Resident { anon_kb: field("RssAnon:"), file_kb: field("RssFile:") }
}

/// Downloads the export once, reading it as it streams (the client keeps nothing but a line
/// count); returns the data rows, the time, and the peak growth of each kind of resident memory.
async fn export(http: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<(u64, Duration, Resident)> {
    let baseline = resident();
    let (peak_anon, peak_file) = (Arc::new(AtomicU64::new(baseline.anon_kb)), Arc::new(AtomicU64::new(baseline.file_kb)));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak_anon, peak_file, sampling) = (peak_anon.clone(), peak_file.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let now = resident();
                peak_anon.fetch_max(now.anon_kb, Ordering::Relaxed);
                peak_file.fetch_max(now.file_kb, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let mut res = http.get(url).header("cookie", cookie).send().await?;
    anyhow::ensure!(res.status().is_success(), "export answered {}", res.status());
    let mut lines = 0u64;
    while let Some(chunk) = res.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let took = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    let growth = Resident {
        anon_kb: peak_anon.load(Ordering::Relaxed).saturating_sub(baseline.anon_kb),
        file_kb: peak_file.load(Ordering::Relaxed).saturating_sub(baseline.file_kb),
    };
    Ok((lines.saturating_sub(1), took, growth))
}

/// The console's data on top of `bench_pages::seed`'s tenants: per tenant (by its number in name
/// order) a consent state, a grant, two check runs with results, an override for some, and an
/// account manager for half. Returns how many account managers it created.
async fn seed_console(db: &sea_orm::DatabaseConnection) -> anyhow::Result<usize> {
    const MANAGERS: usize = 5;
    let mut manager_ids = Vec::new();
    for m in 0..MANAGERS {
        let id = crate::staff::create(
            db,
            &crate::audit::Actor::system("bench"),
            None,
            app::staff::api::NewStaffInput {
                email: format!("manager{m}@isv.test"),
                role: app::auth::Role::AccountManager,
                password: "bench-password-long-enough".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        manager_ids.push(id);
    }
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(Statement::from_string(backend, "SELECT id FROM tenants ORDER BY slug")).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.try_get::<uuid::Uuid>("", "id")).collect::<Result<_, _>>()?;
    let now = chrono::Utc::now();
    let states = ["verified", "verified", "verified", "verified", "needs_attention", "revoked", "invited", "in_progress", "consented"];
    for (chunk_no, chunk) in ids.chunks(500).enumerate() {
        let (mut state_rows, mut state_values) = (Vec::new(), Vec::<sea_orm::Value>::new());
        let (mut grant_rows, mut grant_values) = (Vec::new(), Vec::<sea_orm::Value>::new());
        let (mut run_rows, mut run_values) = (Vec::new(), Vec::<sea_orm::Value>::new());
        let (mut result_rows, mut result_values) = (Vec::new(), Vec::<sea_orm::Value>::new());
        let (mut override_rows, mut override_values) = (Vec::new(), Vec::<sea_orm::Value>::new());
        for (k, id) in chunk.iter().enumerate() {
            let i = chunk_no * 500 + k;
            // One in ten has not started (no state row).
            let Some(state) = states.get(i % 10).copied() else { continue };
            let reason = (state == "needs_attention").then_some(if i % 20 < 10 { "consent_required" } else { "account_not_found" });
            // Spread over the last 30 days: some are past the onboarding SLA.
            let since = now - chrono::Duration::hours((i % 720) as i64);
            state_rows.push(placeholders(backend, state_values.len(), 5));
            state_values.extend::<[sea_orm::Value; 5]>([(*id).into(), "demo".into(), state.into(), reason.map(str::to_owned).into(), since.into()]);
            if matches!(state, "verified" | "needs_attention" | "revoked" | "consented") {
                grant_rows.push(placeholders(backend, grant_values.len(), 9));
                grant_values.extend::<[sea_orm::Value; 9]>([
                    uuid::Uuid::new_v4().into(),
                    (*id).into(),
                    "demo".into(),
                    if i % 3 == 0 { "organization" } else { "individual" }.into(),
                    format!("user-{i}").into(),
                    format!("integration{i}@bench.example").into(),
                    format!("Integration {i}").into(),
                    "signature impersonation".into(),
                    since.into(),
                ]);
            }
            if matches!(state, "verified" | "needs_attention") {
                for (age_days, latest) in [(2i64, false), (0, true)] {
                    let run = uuid::Uuid::new_v4();
                    let started = now - chrono::Duration::days(age_days) - chrono::Duration::seconds((i % 3600) as i64);
                    let status_of = |check: CheckId| match check {
                        CheckId::AccountSettings if latest && i % 7 == 0 => CheckStatus::Fail,
                        CheckId::ConnectConfiguration if i % 11 == 0 => CheckStatus::Fail,
                        CheckId::ConnectDelivery if i % 5 == 0 => CheckStatus::Warn,
                        CheckId::ClaimedDomains if i % 3 != 0 => CheckStatus::Skipped,
                        CheckId::SystemUser if state == "needs_attention" => CheckStatus::Fail,
                        _ => CheckStatus::Pass,
                    };
                    let outcomes: Vec<_> = CheckId::ALL.into_iter().map(|c| crate::checks::CheckOutcome::new(c, status_of(c), vec!["bench".into()])).collect();
                    let overall = app::checks::RunOverall::from(crate::checks::overall(&outcomes));
                    run_rows.push(placeholders(backend, run_values.len(), 8));
                    run_values.extend::<[sea_orm::Value; 8]>([
                        run.into(),
                        (*id).into(),
                        "demo".into(),
                        "scheduled".into(),
                        "scheduled check".into(),
                        started.into(),
                        started.into(),
                        overall.as_str().into(),
                    ]);
                    for o in outcomes {
                        result_rows.push(placeholders(backend, result_values.len(), 5));
                        result_values.extend::<[sea_orm::Value; 5]>([
                            run.into(),
                            o.id.as_str().into(),
                            o.status.as_str().into(),
                            serde_json::to_value(&o)?.into(),
                            started.into(),
                        ]);
                    }
                }
                if i % 70 == 0 {
                    override_rows.push(placeholders(backend, override_values.len(), 9));
                    override_values.extend::<[sea_orm::Value; 9]>([
                        uuid::Uuid::new_v4().into(),
                        (*id).into(),
                        "demo".into(),
                        "account_settings".into(),
                        "fail".into(),
                        "Settings change waits for the customer's change board.".into(),
                        "bench@isv.test".into(),
                        now.into(),
                        (now + chrono::Duration::days(30)).into(),
                    ]);
                }
            }
        }
        let insert = |table: &str, columns: &str, rows: Vec<String>, values: Vec<sea_orm::Value>| {
            let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", rows.join(", "));
            (rows.is_empty(), Statement::from_sql_and_values(backend, sql, values))
        };
        for (empty, statement) in [
            insert("consent_states", "tenant_id, environment, state, reason, updated_at", state_rows, state_values),
            insert(
                "consent_grants",
                "id, tenant_id, environment, mode, user_sub, user_email, user_name, scopes, granted_at",
                grant_rows,
                grant_values,
            ),
            insert("check_runs", "id, tenant_id, environment, trigger, requested_by, started_at, finished_at, overall", run_rows, run_values),
            insert("check_results", "run_id, check_id, status, outcome, finished_at", result_rows, result_values),
            insert(
                "manual_overrides",
                "id, tenant_id, environment, subject, overridden_status, justification, created_by, created_at, expires_at",
                override_rows,
                override_values,
            ),
        ] {
            if !empty {
                db.execute_raw(statement).await.context("seeding the console's data")?;
            }
        }
        // Half the tenants have an account manager: tenant i gets manager i % 10 when that is one.
        for (m, manager) in manager_ids.iter().enumerate() {
            let assigned: Vec<sea_orm::Value> = chunk.iter().enumerate().filter(|(k, _)| (chunk_no * 500 + k) % (MANAGERS * 2) == m).map(|(_, id)| (*id).into()).collect();
            if assigned.is_empty() {
                continue;
            }
            let marks: Vec<String> = (0..assigned.len())
                .map(|p| if backend == sea_orm::DbBackend::Postgres { format!("${}", p + 2) } else { "?".to_owned() })
                .collect();
            let first = if backend == sea_orm::DbBackend::Postgres { "$1" } else { "?" };
            let sql = format!("UPDATE tenants SET account_manager_id = {first} WHERE id IN ({})", marks.join(", "));
            let mut values: Vec<sea_orm::Value> = vec![(*manager).into()];
            values.extend(assigned);
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.context("assigning account managers")?;
        }
    }
    Ok(MANAGERS)
}
