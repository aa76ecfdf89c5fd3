//! The DocuSign sandbox: a stateful emulator of the account server, eSignature REST v2.1 and the
//! Admin API. It shares no code with the portal's domain; the portal reaches it only over HTTP.
//!
//! Every host is its own origin: the account server, the Admin API and one listener per
//! distinct base URI of the fixture, all on 127.0.0.1. See `README.md` in this folder for the
//! wire behaviour, the control API and the choices made where the reference is unsure.

mod admin;
mod clock;
mod connect;
mod control;
mod esign;
mod faults;
mod fixture;
mod limits;
mod oauth;
mod pages;
mod state;
mod vary;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use connect::signature as connect_signature;
pub use fixture::{
    Account, Fixture, Integration, Limits, Membership, Organization, ReservedDomain, Scenario, SeedConsent, User,
    default_fixture,
};

use state::{AppState, Hosts, Shared, World};

/// Command-line options of `consent-portal sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Address of the account server (the Admin API binds to the next port, then one port per
    /// base URI name in sorted order).
    #[arg(long, default_value = "127.0.0.1:4010")]
    pub addr: SocketAddr,
    /// Fixture file (TOML, or JSON when it ends in `.json`); the built-in default fixture when absent.
    #[arg(long)]
    pub fixture: Option<std::path::PathBuf>,
    /// Serve the control API under `/control` on the account server.
    #[arg(long)]
    pub enable_control: bool,
    /// Register an extra redirect URI on the integration key (repeatable).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// PEM file with the RSA public key to register on the integration key (replaces the
    /// fixture's keys).
    #[arg(long)]
    pub public_key: Option<std::path::PathBuf>,
    /// Vary mode: change everything the DocuSign reference leaves open (key order, unknown
    /// fields, list order, error wording, token formats, …; see the README). Same as
    /// `vary = true` in the fixture.
    #[arg(long)]
    pub vary: bool,
}

/// Serves the sandbox until the process is stopped.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let mut fixture = match &args.fixture {
        Some(path) => Fixture::load(path)?,
        None => default_fixture(),
    };
    fixture.vary |= args.vary;
    let public_key_pem = match &args.public_key {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let sandbox = Sandbox::start(SandboxConfig {
        fixture,
        bind: Some(args.addr),
        enable_control: args.enable_control,
        registered_redirect_uris: args.redirect_uris,
        public_key_pem,
        ..SandboxConfig::default()
    })
    .await?;
    println!("DocuSign sandbox{}", if sandbox.fixture().vary { " (vary mode)" } else { "" });
    println!("  account server  {}", sandbox.account_server_url());
    println!("  JWT aud         {}", sandbox.account_server_host());
    println!("  Admin API       {}", sandbox.admin_api_url());
    for (name, url) in sandbox.base_uris() {
        println!("  base URI {name:<6} {url}");
    }
    if let Some(c) = sandbox.control_url() {
        println!("  control API     {c}");
    }
    println!("  integration key {}", sandbox.integration_key());
    println!("  redirect URIs   {}", sandbox.redirect_uris().join(", "));
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}

/// How to start a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The seed data; [`default_fixture`] has every named scenario.
    pub fixture: Fixture,
    /// Where the account server listens; the Admin API takes the next port and the base URIs
    /// the following ones (sorted by name). `None`: ephemeral ports on 127.0.0.1.
    pub bind: Option<SocketAddr>,
    /// Serve the control API (`/control/...` on the account server).
    pub enable_control: bool,
    /// Redirect URIs registered on the integration key in addition to the fixture's.
    pub registered_redirect_uris: Vec<String>,
    /// Replaces the fixture's integration key.
    pub integration_key: Option<String>,
    /// Replaces the fixture's client secret.
    pub client_secret: Option<String>,
    /// RSA public key (PEM, SPKI or PKCS#1) registered on the integration key; replaces the
    /// fixture's keys (and so disables the fixture's test private key).
    pub public_key_pem: Option<String>,
}

impl Default for SandboxConfig {
    /// The default fixture on ephemeral ports, control API off.
    fn default() -> Self {
        SandboxConfig {
            fixture: default_fixture(),
            bind: None,
            enable_control: false,
            registered_redirect_uris: Vec::new(),
            integration_key: None,
            client_secret: None,
            public_key_pem: None,
        }
    }
}

impl SandboxConfig {
    /// The default fixture on ephemeral ports with the control API on: what tests want.
    pub fn for_tests() -> Self {
        SandboxConfig { enable_control: true, ..SandboxConfig::default() }
    }

    /// The same in vary mode (`fixture.vary`), with DocuSign's historical 400 for over-limit
    /// answers instead of the default 429 (reference §8 documents both). See the README's
    /// "Vary mode".
    pub fn varied(mut self) -> Self {
        self.fixture.vary = true;
        self.fixture.limits.exceeded_status = 400;
        self
    }
}

/// A running sandbox. Its listeners stop when it is dropped.
pub struct Sandbox {
    app: AppState,
    control: bool,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

fn next_addr(base: Option<SocketAddr>, offset: u16) -> anyhow::Result<SocketAddr> {
    Ok(match base {
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
        Some(b) => {
            let port = b.port().checked_add(offset).context("port out of range")?;
            SocketAddr::new(b.ip(), port)
        }
    })
}

impl Sandbox {
    /// Binds every host, loads the fixture and serves in background tokio tasks.
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let mut fixture = config.fixture;
        if let Some(k) = config.integration_key {
            fixture.integration.key = k;
        }
        if let Some(s) = config.client_secret {
            fixture.integration.secret = s;
        }
        if let Some(pem) = config.public_key_pem {
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.trim().as_bytes()).context("the public key is not an RSA PEM")?;
            fixture.integration.public_keys = vec![pem];
            fixture.integration.test_private_key = None;
        }
        for uri in config.registered_redirect_uris {
            if !fixture.integration.redirect_uris.contains(&uri) {
                fixture.integration.redirect_uris.push(uri);
            }
        }

        let (account_listener, account_addr) = bind(next_addr(config.bind, 0)?).await?;
        let (admin_listener, admin_addr) = bind(next_addr(config.bind, 1)?).await?;
        let mut base_listeners = Vec::new();
        let mut base_uris = BTreeMap::new();
        for (i, name) in fixture.base_uri_names().into_iter().enumerate() {
            let offset = u16::try_from(i + 2).context("too many base URIs")?;
            let (listener, addr) = bind(next_addr(config.bind, offset)?).await?;
            base_uris.insert(name.clone(), format!("http://{addr}"));
            base_listeners.push((name, listener));
        }
        // The Admin API answers on both spellings of its base path (reference §7: the spec's
        // basePath is `/Management`, the samples use `/management`); vary mode hands out the
        // spec's.
        let admin_base = if fixture.vary { "Management" } else { "management" };
        let hosts = Hosts {
            account_server: format!("http://{account_addr}"),
            account_host: account_addr.to_string(),
            admin_api: format!("http://{admin_addr}/{admin_base}"),
            base_uris,
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let clock = clock::Clock::default();
        let world = World::from_fixture(&fixture, clock.now());
        let app: AppState = Arc::new(Shared { hosts, fixture, clock, world: Mutex::new(world), http });

        let mut account = oauth::router()
            .route_layer(axum::middleware::from_fn_with_state((app.clone(), faults::Scope::Oauth), faults::traffic))
            .route_layer(axum::middleware::from_fn_with_state((app.clone(), vary::Host::Account), vary::responses));
        if config.enable_control {
            account = account.merge(control::router());
        }
        let mut tasks = vec![
            serve(account_listener, account.with_state(app.clone())),
            serve(admin_listener, admin::router(app.clone())),
        ];
        for (name, listener) in base_listeners {
            tasks.push(serve(listener, esign::router(app.clone(), name)));
        }
        Ok(Sandbox { app, control: config.enable_control, tasks })
    }

    /// The account server, e.g. `http://127.0.0.1:4010` (`/oauth/auth`, `/oauth/token`, `/oauth/userinfo`).
    pub fn account_server_url(&self) -> String {
        self.app.hosts.account_server.clone()
    }

    /// The account server's `host:port`, the value a JWT assertion's `aud` must have.
    pub fn account_server_host(&self) -> String {
        self.app.hosts.account_host.clone()
    }

    /// The Admin API base, e.g. `http://127.0.0.1:4011/management`.
    pub fn admin_api_url(&self) -> String {
        self.app.hosts.admin_api.clone()
    }

    /// Logical base URI name (`na1`) → the URL userinfo reports (`http://127.0.0.1:4013`).
    pub fn base_uris(&self) -> BTreeMap<String, String> {
        self.app.hosts.base_uris.clone()
    }

    /// The control API base (`http://127.0.0.1:4010/control`) when enabled.
    pub fn control_url(&self) -> Option<String> {
        self.control.then(|| format!("{}/control", self.app.hosts.account_server))
    }

    /// The registered integration key (OAuth `client_id`, JWT `iss`).
    pub fn integration_key(&self) -> &str {
        &self.app.fixture.integration.key
    }

    /// The integration key's secret (Basic auth on `/oauth/token`).
    pub fn client_secret(&self) -> &str {
        &self.app.fixture.integration.secret
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.app.fixture.integration.redirect_uris
    }

    /// The fixture's test private key (PEM) matching the registered public key, when the
    /// fixture's key is in use. For tests only.
    pub fn test_private_key_pem(&self) -> Option<&str> {
        self.app.fixture.integration.test_private_key.as_deref().map(str::trim)
    }

    /// The fixture the sandbox runs (after the start-time overrides).
    pub fn fixture(&self) -> &Fixture {
        &self.app.fixture
    }
}

fn serve(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("sandbox listener stopped: {e}");
        }
    })
}
