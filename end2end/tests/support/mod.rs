//! Browser-journey support: starts the real `consent-portal` binary (built by `cargo leptos
//! build`) on an ephemeral port with a fresh SQLite database, and a headless Chromium driven by
//! playwright-rs that records every page error.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use playwright_rs::{LaunchOptions, Page, Playwright};
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

/// A headless Chromium page that remembers every uncaught page error.
pub struct Browser {
    _playwright: Playwright,
    browser: playwright_rs::Browser,
    pub page: Page,
    pub errors: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    pub async fn launch() -> Browser {
        assert!(
            std::env::var_os("PLAYWRIGHT_DRIVER_PATH").is_some(),
            "PLAYWRIGHT_DRIVER_PATH is not set: run the browser tests through scripts/test.sh"
        );
        let playwright = Playwright::launch().await.expect("the Playwright driver (run scripts/install-tools.sh --browser)");
        let options = LaunchOptions::new()
            .executable_path(std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .headless(true)
            .args(
                ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
                    .map(String::from)
                    .to_vec(),
            );
        let browser = playwright.chromium().launch_with_options(options).await.expect("launch chromium");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let page = watched_page(&browser, errors.clone()).await;
        Browser { _playwright: playwright, browser, page, errors }
    }

    /// Opens `url` and waits until the page is hydrated (interactive).
    pub async fn open(&self, url: &str) {
        self.page.goto(url, None).await.expect("navigate");
        self.wait_hydrated().await;
    }

    /// Waits until the current document is hydrated.
    pub async fn wait_hydrated(&self) {
        playwright_rs::expect(self.page.locator("body")).to_have_attribute("data-hydrated", "true").await.expect("the page hydrates");
    }

    /// Another page in its own browser context (its own cookies), with page errors recorded.
    pub async fn other_page(&self) -> Page {
        watched_page(&self.browser, self.errors.clone()).await
    }

    /// The button with this accessible name.
    pub fn button(&self, name: &str) -> playwright_rs::Locator {
        let mut options = playwright_rs::GetByRoleOptions::default();
        options.name = Some(name.to_owned());
        options.exact = Some(true);
        self.page.get_by_role(playwright_rs::AriaRole::Button, Some(options))
    }

    /// Fails the test if any page error happened.
    pub fn assert_no_page_errors(&self) {
        let errors = self.errors.lock().expect("lock");
        assert!(errors.is_empty(), "page errors: {errors:?}");
    }

    /// Saves a screenshot under `target/e2e-screenshots/` for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let dir = workspace().join("target").join("e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.page.screenshot(None).await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    pub async fn close(self) {
        let _ = self.browser.close().await;
    }
}


/// A new page (in its own context) whose page errors and console errors go to `sink`.
async fn watched_page(browser: &playwright_rs::Browser, sink: Arc<Mutex<Vec<String>>>) -> Page {
    let page = browser.new_page().await.expect("page");
    // Generous for a loaded 2-core machine; a failing step still fails, just later.
    page.set_default_timeout(60_000.0).await;
    let errors = sink.clone();
    page.on_pageerror(move |msg| {
        let errors = errors.clone();
        async move {
            errors.lock().expect("lock").push(msg);
            Ok(())
        }
    })
    .await
    .expect("pageerror handler");
    capture_console_errors(&page, sink).await;
    page
}

/// Records `console.error` lines (a Rust panic in the wasm prints its message there) next to
/// the page errors, with the page's address.
async fn capture_console_errors(page: &Page, sink: Arc<Mutex<Vec<String>>>) {
    let url_page = page.clone();
    page.on_console(move |msg| {
        let sink = sink.clone();
        let url = url_page.url();
        async move {
            // Answers with a 4xx status (a refused sign-in, a field error) are expected and
            // shown to the person; what matters here is code failing (panics, hydration errors).
            if msg.type_() == "error" && !msg.text().starts_with("Failed to load resource") {
                sink.lock().expect("lock").push(format!("console error at {url}: {}", msg.text()));
            }
            Ok(())
        }
    })
    .await
    .expect("console handler");
}
