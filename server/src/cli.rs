//! Command line: `serve` (default), `migrate`, `staff add`, `api-client add`, `demo`, `sandbox`
//! and the benches.

use anyhow::Context;
use app::auth::Role;
use app::staff::api::{MIN_PASSWORD_LEN, NewStaffInput};
use clap::{Parser, Subcommand};
use migrations::MigratorTrait;

use crate::audit::Actor;
use crate::config::Config;
use crate::{db, sandbox, staff, telemetry};

/// Consent Portal: onboarding of DocuSign consent for an ISV's customers.
#[derive(Debug, Parser)]
#[command(name = "consent-portal", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal (the default).
    Serve,
    /// Apply (or, with --down N, roll back) database migrations, then exit.
    Migrate {
        /// Roll back this many migrations instead of applying.
        #[arg(long)]
        down: Option<u32>,
    },
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Manage API clients of the integration API (administrators do the same on /settings/api).
    ApiClient {
        #[command(subcommand)]
        command: ApiClientCommand,
    },
    /// Run the portal on a local SQLite database with demo staff and tenants.
    Demo,
    /// Run the DocuSign sandbox on its own.
    Sandbox(sandbox::SandboxArgs),
    /// Seed N tenants in a sandbox with latency and time a bulk setup re-check.
    Bench(crate::bench::BenchArgs),
    /// Seed N tenants and time the pages under load (with /healthz meanwhile); page weights.
    BenchPages(crate::bench_pages::PageBenchArgs),
    /// Seed N tenants and time the integration API's access-token endpoint (cold grants, warm p99).
    BenchApi(crate::bench_api::ApiBenchArgs),
    /// Seed N tenants with states, runs and overrides and time the staff console (list, filters,
    /// search, overview, CSV export) against /healthz.
    BenchConsole(crate::bench_console::ConsoleBenchArgs),
    /// Write brotli and gzip copies of the built site's wasm, JS and CSS (after `cargo leptos build`).
    Precompress {
        /// The built site (the folder holding `pkg/`).
        #[arg(long, default_value = "target/site")]
        site_root: std::path::PathBuf,
        /// Brotli quality, 0–11 (11, the default, for what is shipped; lower is faster).
        #[arg(long, default_value_t = 11)]
        quality: u32,
    },
}

/// Staff account commands.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a staff account; asks for the password, or generates and prints one with --generate.
    Add {
        #[arg(long)]
        email: String,
        /// admin, config_staff or account_manager.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Generate a random password and print it once instead of asking.
        #[arg(long)]
        generate: bool,
    },
}

/// API client commands.
#[derive(Debug, Subcommand)]
pub enum ApiClientCommand {
    /// Create an API client and print its key once.
    Add {
        #[arg(long)]
        name: String,
        /// Environments, comma-separated: demo, production.
        #[arg(long, value_delimiter = ',', default_value = "demo")]
        environments: Vec<String>,
        /// Scopes, comma-separated: tenants:read, tokens:issue, consent:check.
        #[arg(long, value_delimiter = ',', default_value = "tenants:read")]
        scopes: Vec<String>,
        /// Days until the key expires (none by default).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| format!("unknown role `{value}`: use admin, config_staff or account_manager"))
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = Config::load()?;
            telemetry::init(config.log_format);
            crate::startup::serve(config).await
        }
        Command::Migrate { down } => {
            let config = Config::load()?;
            telemetry::init(config.log_format);
            let db = db::connect_and_migrate(&config.database_url()).await.context("connecting to the database")?;
            if let Some(n) = down {
                migrations::Migrator::down(&db, Some(n)).await?;
                println!("rolled back {n} migration(s)");
            } else {
                println!("database is up to date");
            }
            Ok(())
        }
        Command::Staff { command: StaffCommand::Add { email, role, generate } } => {
            let config = Config::load()?;
            telemetry::init(config.log_format);
            let db = db::connect_and_migrate(&config.database_url()).await.context("connecting to the database")?;
            let password = if generate {
                let p = crate::sessions::new_token();
                println!("generated password (shown once): {p}");
                p
            } else {
                let p = rpassword::prompt_password(format!("password for {email} (at least {MIN_PASSWORD_LEN} characters): "))?;
                let again = rpassword::prompt_password("again: ")?;
                anyhow::ensure!(p == again, "the two passwords differ");
                p
            };
            let id = staff::create(&db, &Actor::system("cli"), None, NewStaffInput { email: email.clone(), role, password })
                .await
                .map_err(|e| anyhow::anyhow!(describe(e.into_app("cli"))))?;
            println!("added {email} as {role} ({id})");
            Ok(())
        }
        Command::ApiClient { command: ApiClientCommand::Add { name, environments, scopes, expires_in_days } } => {
            let config = Config::load()?;
            telemetry::init(config.log_format);
            let db = db::connect_and_migrate(&config.database_url()).await.context("connecting to the database")?;
            let on = |wanted: bool| wanted.then(|| "on".to_owned());
            for e in &environments {
                anyhow::ensure!(app::environment::Environment::parse(e).is_some(), "unknown environment `{e}`: use demo or production");
            }
            for s in &scopes {
                anyhow::ensure!(app::api_clients::ApiScope::parse(s).is_some(), "unknown scope `{s}`: use tenants:read, tokens:issue or consent:check");
            }
            let has = |s: &str| scopes.iter().any(|x| x == s);
            let input = app::api_clients::api::NewApiClientInput {
                name,
                env_demo: on(environments.iter().any(|e| e == "demo")),
                env_production: on(environments.iter().any(|e| e == "production")),
                scope_tenants_read: on(has("tenants:read")),
                scope_tokens_issue: on(has("tokens:issue")),
                scope_consent_check: on(has("consent:check")),
                expires_in_days: expires_in_days.map(|d| d.to_string()).unwrap_or_default(),
            };
            let created = crate::api_clients::create(&db, &Actor::system("cli"), None, input).await.map_err(|e| anyhow::anyhow!(describe(e.into_app("cli"))))?;
            eprintln!("created API client {} ({}); its key, shown once:", created.client.name, created.client.id);
            println!("{}", created.key);
            Ok(())
        }
        Command::Demo => crate::demo::run().await,
        Command::Precompress { site_root, quality } => {
            let pkg = site_root.join("pkg");
            let done = crate::assets::precompress(&pkg, quality).with_context(|| format!("precompressing {}", pkg.display()))?;
            for c in done {
                println!("{:<40} {:>10} B raw {:>10} B brotli {:>10} B gzip", c.file.display(), c.raw, c.brotli, c.gzip);
            }
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::BenchPages(args) => crate::bench_pages::run(args).await,
        Command::BenchApi(args) => crate::bench_api::run(args).await,
        Command::BenchConsole(args) => crate::bench_console::run(args).await,
        Command::Sandbox(args) => {
            telemetry::init(crate::config::LogFormat::Text);
            sandbox::run(args).await
        }
    }
}

fn describe(err: app::error::AppError) -> String {
    match &err {
        app::error::AppError::Validation { fields } => {
            fields.iter().map(|(f, m)| format!("{f}: {}", m.join(" "))).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
