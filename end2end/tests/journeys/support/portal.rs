//! Provides the portal under test: the real `consent-portal` binary (built by `cargo leptos
//! build`) started on an ephemeral port with a fresh SQLite database in a temporary folder,
//! either as `serve` (empty, staff added through the CLI) or as `demo` (demo staff and tenants,
//! wired to the built-in DocuSign sandbox). Stopped when dropped.
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// The server binary and the built site; fails with instructions when they are missing.
fn built_artifacts() -> (PathBuf, PathBuf) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    let bin = target.join("debug").join("consent-portal");
    // cargo-leptos writes the site to the workspace's `site-root`, wherever the target dir is.
    let site = workspace().join("target").join("site");
    assert!(
        bin.exists() && site.join("pkg").join("consent-portal.wasm").exists(),
        "the portal is not built: run `cargo leptos build` first (expected {} and {}/pkg)",
        bin.display(),
        site.display()
    );
    (bin, site)
}

/// A fixed encryption key for the throw-away databases of the journeys.
pub const TEST_KEY: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The staff account `consent-portal demo` seeds with the administrator role.
pub const DEMO_ADMIN: (&str, &str) = ("admin@demo.test", "demo-admin-password");

/// The staff account `consent-portal demo` seeds with the configuration role.
pub const DEMO_CONFIG_STAFF: (&str, &str) = ("config@demo.test", "demo-config-password");

/// A running portal, stopped on drop.
pub struct Portal {
    pub url: String,
    child: Child,
    _data: tempfile::TempDir,
    pub bin: PathBuf,
    pub data_dir: PathBuf,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Portal {
    /// Starts `consent-portal serve` with extra environment variables.
    pub async fn start(extra_env: &[(&str, String)]) -> Portal {
        Self::launch("serve", extra_env).await
    }

    /// Starts `consent-portal demo`: demo staff and tenants, wired to the built-in DocuSign sandbox.
    pub async fn demo() -> Portal {
        Self::launch("demo", &[]).await
    }

    /// The absolute address of `path` (which starts with `/`) on this portal.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn launch(command: &str, extra_env: &[(&str, String)]) -> Portal {
        let (bin, site) = built_artifacts();
        let data = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(&bin);
        cmd.arg(command)
            .env("PORTAL_LISTEN", format!("127.0.0.1:{port}"))
            .env("PORTAL_PUBLIC_URL", &url)
            .env("PORTAL_DATA_DIR", data.path())
            .env("PORTAL_SITE_ROOT", &site)
            .env("PORTAL_ENCRYPTION_KEYS", TEST_KEY)
            .env_remove("DATABASE_URL")
            .env_remove("PORTAL_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start consent-portal");
        let portal = Portal { url: url.clone(), child, data_dir: data.path().to_path_buf(), _data: data, bin };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return portal;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the portal did not become healthy at {url}");
    }

    /// Adds a staff account through the CLI and returns its generated password.
    pub async fn add_staff(&self, email: &str, role: &str) -> String {
        let out = Command::new(&self.bin)
            .args(["staff", "add", "--email", email, "--role", role, "--generate"])
            .env("PORTAL_DATA_DIR", &self.data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("PORTAL_CONFIG")
            .output()
            .await
            .expect("run staff add");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "staff add failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("generated password (shown once): "))
            .expect("a generated password")
            .trim()
            .to_owned()
    }
}
