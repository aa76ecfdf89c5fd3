//! `consent-portal bench`: seeds N tenants in a DocuSign sandbox with a configurable latency and
//! runs a bulk re-check of every tenant's setup check through the real provider client, then
//! prints the wall time, the lower bound implied by the concurrency and the per-account limits,
//! their ratio, the requests sent and the rate-limit violations (which must be zero).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use app::onboarding::model::ConsentState;
use app::environment::Environment;
use app::tenants::api::TenantInput;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use secrecy::SecretString;

use crate::audit::Actor;
use crate::checks::CheckStatus;
use crate::config::{Config, IsvEnvironment};
use crate::state::Portal;
use crate::sandbox::{Account, Membership, SeedConsent, User};
use crate::sandbox::{Sandbox, SandboxConfig, default_fixture};

/// Options of the bench.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Tenants to seed and re-check.
    #[arg(long, default_value_t = 1000)]
    pub tenants: usize,
    /// Latency the sandbox adds to every request, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Tenants checked at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Tenants sharing one DocuSign account (1: every tenant has its own account).
    #[arg(long, default_value_t = 1)]
    pub tenants_per_account: usize,
}

/// Runs the bench and prints its figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.tenants > 0 && args.concurrency > 0 && args.tenants_per_account > 0, "all counts must be positive");
    let accounts = args.tenants.div_ceil(args.tenants_per_account);
    println!("bench: {} tenants on {accounts} accounts, {} ms latency, concurrency {}", args.tenants, args.latency_ms, args.concurrency);

    // A sandbox with one admin user per account, each consented.
    let mut fixture = default_fixture();
    let base_names: Vec<String> = {
        let mut names: Vec<String> = fixture.accounts.iter().map(|a| a.base_uri.clone()).collect();
        names.sort();
        names.dedup();
        names
    };
    let mut users = Vec::new();
    for i in 0..accounts {
        let account_id = uuid::Uuid::new_v4().to_string();
        let user_id = uuid::Uuid::new_v4().to_string();
        fixture.accounts.push(Account {
            id: account_id.clone(),
            name: format!("Bench account {i}"),
            external_id: String::new(),
            base_uri: base_names[i % base_names.len()].clone(),
            plan_name: "Business Pro".into(),
            settings: Default::default(),
            read_only: Vec::new(),
            hmac_keys: Vec::new(),
            connect: Vec::new(),
        });
        fixture.users.push(User {
            id: user_id.clone(),
            email: format!("bench{i}@bench.example"),
            given_name: "Bench".into(),
            family_name: format!("{i}"),
            created: "2020-01-01T00:00:00.0".into(),
            memberships: vec![Membership { account: account_id.clone(), is_admin: true, is_default: true }],
        });
        fixture.consents.push(SeedConsent { user: Some(user_id.clone()), organization: None, scopes: vec!["signature".into(), "impersonation".into()] });
        users.push((user_id, account_id, base_names[i % base_names.len()].clone()));
    }
    let burst_limit = fixture.limits.burst;
    let burst_window = fixture.limits.burst_window_seconds;
    let sandbox = Sandbox::start(SandboxConfig { fixture, enable_control: true, ..SandboxConfig::default() }).await?;
    let http = reqwest::Client::new();
    let control = sandbox.control_url().context("control API")?;
    http.post(format!("{control}/faults")).json(&serde_json::json!({ "scope": "all", "latency_ms": args.latency_ms })).send().await?.error_for_status()?;

    // A portal on a private SQLite database, wired to the sandbox.
    let dir = tempfile_dir()?;
    let mut config = Config::from_figment(
        Config::figment(None)
            .merge(figment::providers::Serialized::default("data_dir", dir.display().to_string()))
            .merge(figment::providers::Serialized::default("encryption_keys", crate::crypto::Keyring::generate_spec(1))),
    )?;
    config.database_url = None;
    config.docusign.demo = Some(sandbox_environment(&sandbox)?);
    let db = crate::db::connect_and_migrate(&config.database_url()).await?;
    let portal = Arc::new(Portal::new(db, Arc::new(config))?);
    let bases = sandbox.base_uris();
    let actor = Actor::system("bench");
    let mut tenants = Vec::new();
    for i in 0..args.tenants {
        let input = TenantInput {
            display_name: format!("Bench tenant {i}"),
            slug: format!("bench-{i}"),
            environment: Environment::Demo,
            contact_email: format!("admin{i}@bench.example"),
            account_manager_id: None,
            notes: String::new(),
        };
        let id = crate::tenants::create(&portal.db, &actor, None, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let (user_id, account_id, base) = &users[i / args.tenants_per_account];
        crate::db::entities::system_user::ActiveModel {
            tenant_id: Set(id),
            environment: Set("demo".into()),
            user_id: Set(user_id.clone()),
            email: Set(format!("bench{}@bench.example", i / args.tenants_per_account)),
            name: Set("Bench".into()),
            account_id: Set(account_id.clone()),
            account_name: Set("Bench account".into()),
            base_uri: Set(bases[base].clone()),
            organization_id: Set(None),
            pinned_at: Set(Utc::now()),
            verified_at: Set(None),
            last_verification: Set(None),
        }
        .insert(&portal.db)
        .await?;
        // Onboarded tenants: consent granted (the run's first check verifies it).
        for state in [ConsentState::Invited, ConsentState::InProgress, ConsentState::Consented] {
            crate::onboarding::state::transition(&portal.db, &actor, None, id, Environment::Demo, state, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tenants.push(id);
    }
    // Calibration: one tenant alone gives the time of one tenant's checks, uncontended.
    let calibrated = Instant::now();
    crate::checks::run::run_all(portal.deps(Environment::Demo).context("configured")?, tenants[0], crate::checks::RunTrigger::Bench, &actor, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let one_tenant = calibrated.elapsed().as_secs_f64();
    http.delete(format!("{control}/requests")).send().await?.error_for_status()?;

    // The bulk re-check, with progress: the same runner the scheduler uses (accounts
    // interleaved; a tenant waits for its account's window before taking a slot).
    let started = Instant::now();
    let items: Vec<(String, uuid::Uuid)> =
        tenants.iter().enumerate().map(|(i, id)| (users[i / args.tenants_per_account].1.clone(), *id)).collect();
    let (mut done, mut errors, mut limited, mut failed) = (0usize, 0usize, 0usize, None);
    let step = (args.tenants / 10).max(1);
    let worker = {
        let (portal, actor) = (portal.clone(), actor.clone());
        move |id: uuid::Uuid| {
            let (portal, actor) = (portal.clone(), actor.clone());
            async move {
                let deps = portal.deps(Environment::Demo).expect("configured");
                crate::checks::run::run_all(deps, id, crate::checks::RunTrigger::Bench, &actor, None).await.map(|(_, o)| o).map_err(|e| e.to_string())
            }
        }
    };
    crate::checks::bulk::run_many(portal.budgets.clone(), items, args.concurrency, worker, |result| {
        match result {
            Ok(outcomes) => {
                for o in &outcomes {
                    if o.status == CheckStatus::Error {
                        errors += 1;
                        if o.evidence.iter().any(|e| e.to_ascii_lowercase().contains("rate limit") || e.contains("LIMIT_EXCEEDED")) {
                            limited += 1;
                        }
                    }
                }
            }
            Err(e) => failed = Some(e),
        }
        done += 1;
        if done % step == 0 || done == args.tenants {
            println!("  {done}/{} tenants checked ({:.1} s)", args.tenants, started.elapsed().as_secs_f64());
        }
    })
    .await;
    if let Some(e) = failed {
        anyhow::bail!("a tenant's run failed: {e}");
    }
    let wall = started.elapsed().as_secs_f64();
    let counts: std::collections::BTreeMap<String, u64> = http.get(format!("{control}/requests")).send().await?.json().await?;
    let requests: u64 = counts.values().sum();
    let esign_requests: u64 = counts.iter().filter(|(k, _)| k.contains("/restapi/")).map(|(_, v)| *v).sum();

    // Lower bounds: one tenant's checks take `one_tenant` seconds uncontended and at most
    // `concurrency` tenants run at once; an account takes at most `burst` requests per window.
    let per_tenant = requests as f64 / args.tenants as f64;
    let concurrency_bound = (args.tenants as f64 / args.concurrency as f64).ceil() * one_tenant;
    let per_account = esign_requests as f64 / accounts as f64;
    let account_bound = ((per_account / f64::from(burst_limit)).ceil() - 1.0).max(0.0) * burst_window as f64;
    let bound = concurrency_bound.max(account_bound);
    println!();
    println!("wall time:                 {wall:.2} s");
    println!(
        "bound (concurrency):       {concurrency_bound:.2} s  (one tenant alone: {:.0} ms for {per_tenant:.1} requests at {} ms latency; {} at a time)",
        one_tenant * 1000.0,
        args.latency_ms,
        args.concurrency
    );
    println!("bound (per-account limit): {account_bound:.2} s  ({per_account:.1} eSignature requests per account, {burst_limit} per {burst_window} s)");
    // The portal keeps a reserve of each window unused (refusals at window edges cost more).
    let usable = u64::from(burst_limit).saturating_sub(crate::providers::docusign::budget::RESERVE).max(1) as f64;
    let reserve_bound = ((per_account / usable).ceil() - 1.0).max(0.0) * burst_window as f64;
    println!("  with the reserve of {}:   {reserve_bound:.2} s  ({usable} usable per window; ratio to it {:.2})", crate::providers::docusign::budget::RESERVE, wall / concurrency_bound.max(reserve_bound).max(f64::EPSILON));
    println!("ratio wall / bound:        {:.2}", wall / bound.max(f64::EPSILON));
    println!("requests sent:             {requests} ({esign_requests} eSignature)");
    println!("check errors:              {errors}");
    println!("limit violations:          {limited} (checks failed by a rate limit)");
    println!("limit refusals, retried:   {} (requests DocuSign refused at a window edge, sent again after the window)", portal.budgets.refusals());

    // The scheduler over the same tenants, all due at once: how many tenants a day one instance
    // keeps up with at this latency (100,000 onboarded tenants on a 24-hour interval need
    // 100,000 a day).
    http.delete(format!("{control}/requests")).send().await?.error_for_status()?;
    let settings = crate::checks::scheduler::SchedulerSettings {
        interval: chrono::Duration::hours(24),
        tick: std::time::Duration::from_secs(60),
        batch: 4 * args.concurrency as u64,
        concurrency: args.concurrency,
        lease: chrono::Duration::minutes(10),
        owner: "bench".into(),
    };
    let scheduled = Instant::now();
    let mut checked = 0;
    loop {
        let n = crate::checks::scheduler::tick(&portal, &settings).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if n == 0 {
            break;
        }
        checked += n;
    }
    let secs = scheduled.elapsed().as_secs_f64();
    let per_day = checked as f64 / secs.max(f64::EPSILON) * 86_400.0;
    println!("scheduler:                 {checked} due tenants in {secs:.2} s → {per_day:.0} tenants a day per instance at {} ms latency (100,000 needed)", args.latency_ms);
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(limited == 0, "rate-limit violations: {limited}");
    Ok(())
}

pub(crate) fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("consent-portal-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The ISV's demo environment pointed at `sandbox`: every bench's DocuSign.
pub(crate) fn sandbox_environment(sandbox: &Sandbox) -> anyhow::Result<IsvEnvironment> {
    Ok(IsvEnvironment {
        account_server: sandbox.account_server_url().parse()?,
        admin_api: sandbox.admin_api_url().parse()?,
        integration_key: sandbox.integration_key().to_owned(),
        client_secret: SecretString::from(sandbox.client_secret().to_owned()),
        private_key_pem: Some(SecretString::from(sandbox.test_private_key_pem().context("the fixture's test key")?.to_owned())),
        private_key_file: None,
        redirect_uri: "http://127.0.0.1:3000/oauth/callback/demo".parse()?,
        scopes: vec!["signature".into(), "impersonation".into()],
        admin_scopes: vec![],
        keep_refresh_tokens: false,
        allowed_base_uri_hosts: vec!["127.0.0.1".into()],
        setup: crate::checks::SetupProfile::default(),
        connect_hmac_keys: vec![],
    })
}
