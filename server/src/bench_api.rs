//! `consent-portal bench-api`: the integration API's access-token endpoint at scale. Seeds N
//! tenants (default 100,000) into a fresh database (SQLite, or `--database-url`), verifies one
//! against the sandbox's consented user, creates an API key, serves the real router on a loopback
//! port and prints:
//!
//! - the number of JWT grants DocuSign (the sandbox) saw for 50 concurrent requests on a cold
//!   cache (the rule: exactly one);
//! - p50/p99 of `POST /api/v1/tenants/{id}/access-token` on a warm cache at `--connections`
//!   concurrent connections over HTTP (client-side, this machine's loopback included), and the
//!   same endpoint's service call timed in-process (server-side, no HTTP);
//! - `/healthz` alone, for scale.
//!
//! Figures, not pass/fail: it fails only if a request errors or the grant count is not one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::api_clients::api::NewApiClientInput;
use app::environment::Environment;
use app::onboarding::model::ConsentState;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};

use crate::audit::Actor;
use crate::config::Config;
use crate::sandbox::{Account, Membership, Sandbox, SandboxConfig, SeedConsent, User, default_fixture};
use crate::bench_pages::{Figures, load};
use crate::state::Portal;

/// Options of the API bench.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiBenchArgs {
    /// Tenants to seed.
    #[arg(long, default_value_t = 100_000)]
    pub tenants: usize,
    /// Concurrent connections of the warm load.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Latency the sandbox adds to every DocuSign call (the cold grant waits on it).
    #[arg(long, default_value_t = 100)]
    pub latency_ms: u64,
    /// A PostgreSQL URL to run on instead of a fresh SQLite file (the database must be empty).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// Runs the API bench and prints its figures.
pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    // A sandbox with one consented user and account.
    let mut fixture = default_fixture();
    let (user_id, account_id) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let base_uri = fixture.accounts.first().map(|a| a.base_uri.clone()).context("a base URI in the fixture")?;
    fixture.accounts.push(Account {
        id: account_id.clone(),
        name: "Bench account".into(),
        external_id: String::new(),
        base_uri: base_uri.clone(),
        plan_name: "Business Pro".into(),
        settings: Default::default(),
        read_only: Vec::new(),
        hmac_keys: Vec::new(),
        connect: Vec::new(),
    });
    fixture.users.push(User {
        id: user_id.clone(),
        email: "bench@bench.example".into(),
        given_name: "Bench".into(),
        family_name: "User".into(),
        created: "2020-01-01T00:00:00.0".into(),
        memberships: vec![Membership { account: account_id.clone(), is_admin: true, is_default: true }],
    });
    fixture.consents.push(SeedConsent { user: Some(user_id.clone()), organization: None, scopes: vec!["signature".into(), "impersonation".into()] });
    let sandbox = Sandbox::start(SandboxConfig { fixture, enable_control: true, ..SandboxConfig::default() }).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.connections * 2).build()?;
    let control = sandbox.control_url().context("control API")?;
    http.post(format!("{control}/faults")).json(&serde_json::json!({ "scope": "all", "latency_ms": args.latency_ms })).send().await?.error_for_status()?;

    let dir = crate::bench::tempfile_dir()?;
    let mut config = Config::from_figment(
        Config::figment(None)
            .merge(figment::providers::Serialized::default("data_dir", dir.display().to_string()))
            .merge(figment::providers::Serialized::default("encryption_keys", crate::crypto::Keyring::generate_spec(1)))
            // The bench's own key sends far more than a backend would.
            .merge(figment::providers::Serialized::default("api_rate_limit_per_minute", 100_000_000u32)),
    )?;
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone().into());
    }
    config.docusign.demo = Some(crate::bench::sandbox_environment(&sandbox)?);
    let db = crate::db::connect_and_migrate(&config.database_url()).await?;
    let seeded = Instant::now();
    let tenant = crate::bench_pages::seed(&db, args.tenants, 1).await?;
    println!(
        "bench-api: {} tenants seeded in {:.1} s on {}",
        args.tenants,
        seeded.elapsed().as_secs_f64(),
        if args.database_url.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    // One verified tenant acting as the consented user.
    let actor = Actor::system("bench");
    crate::db::entities::system_user::ActiveModel {
        tenant_id: Set(tenant),
        environment: Set("demo".into()),
        user_id: Set(user_id.clone()),
        email: Set("bench@bench.example".into()),
        name: Set("Bench User".into()),
        account_id: Set(account_id.clone()),
        account_name: Set("Bench account".into()),
        base_uri: Set(sandbox.base_uris().get(&base_uri).cloned().unwrap_or(base_uri.clone())),
        organization_id: Set(None),
        pinned_at: Set(Utc::now()),
        verified_at: Set(Some(Utc::now())),
        last_verification: Set(None),
    }
    .insert(&db)
    .await?;
    for state in [ConsentState::Invited, ConsentState::InProgress, ConsentState::Consented, ConsentState::Verified] {
        crate::onboarding::state::transition(&db, &actor, None, tenant, Environment::Demo, state, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let created = crate::api_clients::create(
        &db,
        &actor,
        None,
        NewApiClientInput {
            name: "bench".into(),
            env_demo: Some("on".into()),
            scope_tokens_issue: Some("on".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let caller = crate::api_clients::authenticate(&db, &created.key, None, Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?.map_err(|r| anyhow::anyhow!("{r:?}"))?;

    let (portal, base) = crate::bench_pages::serve_on_loopback(db, config).await?;
    let url = format!("{base}/api/v1/tenants/{tenant}/access-token");
    let auth = format!("Bearer {}", created.key);

    // Cold: fifty at once, one grant.
    http.delete(format!("{control}/requests")).send().await?.error_for_status()?;
    let cold = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        tasks.spawn(async move { http.post(url).header("authorization", auth).send().await.map(|r| r.status()) });
    }
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        if !r?.is_ok_and(|s| s.is_success()) {
            failed += 1;
        }
    }
    let counts: std::collections::BTreeMap<String, u64> = http.get(format!("{control}/requests")).send().await?.json().await?;
    let grants = counts.get("POST /oauth/token jwt_bearer").copied().unwrap_or(0);
    println!();
    println!("cold cache, 50 concurrent requests: {grants} JWT grant(s) at DocuSign, {failed} failed, {:.0} ms for all ({} ms DocuSign latency)", cold.elapsed().as_secs_f64() * 1000.0, args.latency_ms);

    // Warm: over HTTP, then the service alone.
    let duration = Duration::from_secs(args.seconds);
    let alone = load(&http, reqwest::Method::GET, &format!("{base}/healthz"), None, args.connections, Duration::from_secs(args.seconds.min(5))).await?;
    println!("/healthz alone, {:>2} conns:            {alone}", args.connections);
    let warm = load(&http, reqwest::Method::POST, &url, Some(("authorization", auth.as_str())), args.connections, duration).await?;
    println!("access token (HTTP), {:>2} conns:       {warm}", args.connections);
    let server_side = in_process(portal.clone(), caller, tenant, args.connections, duration).await?;
    println!("access token (service call), {:>2} tasks: {server_side}", args.connections);
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(failed == 0 && warm.errors == 0 && server_side.errors == 0 && alone.errors == 0, "requests failed");
    anyhow::ensure!(grants == 1, "{grants} JWT grants for 50 cold requests (must be one)");
    Ok(())
}

/// `tasks` loops calling the token service directly (what the server spends per request).
async fn in_process(portal: Arc<Portal>, caller: crate::api_clients::ApiCaller, tenant: uuid::Uuid, tasks_n: usize, duration: Duration) -> anyhow::Result<Figures> {
    use sea_orm::EntityTrait;
    let t = crate::db::entities::tenant::Entity::find_by_id(tenant).one(&portal.db).await?.context("the bench tenant")?;
    let until = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..tasks_n {
        let (portal, caller, t) = (portal.clone(), caller.clone(), t.clone());
        tasks.spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < until {
                let s = Instant::now();
                match crate::isv_api::tokens::vend(&portal, &caller, &t, "bench").await {
                    Ok(_) => times.push(s.elapsed()),
                    Err(_) => errors += 1,
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
