//! Provides the browser: a headless Chromium driven by playwright-rs (the Playwright driver from
//! `PLAYWRIGHT_DRIVER_PATH`, Chromium from `/usr/bin/chromium` or `CHROMIUM_PATH`) whose pages
//! record every uncaught page error and every `console.error` (a Rust panic in the wasm prints
//! there), so a journey can fail on code errors it never looked for; and screenshots under
//! `target/e2e-screenshots/` for people to look at.
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

use std::sync::{Arc, Mutex};

use playwright_rs::{LaunchOptions, Page, Playwright, ScreenshotOptions};

use super::portal::workspace;

/// A headless Chromium with one page open (the staff member's), and the page errors of every
/// page it opened.
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
            "PLAYWRIGHT_DRIVER_PATH is not set: run the browser tests through scripts/test.sh (or `source scripts/env.sh` first)"
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

    /// Another visitor: a page in its own browser context (its own cookies), with page errors
    /// recorded alongside this browser's.
    pub async fn other_page(&self) -> Page {
        watched_page(&self.browser, self.errors.clone()).await
    }

    pub async fn close(self) {
        let _ = self.browser.close().await;
    }
}

/// Saves a screenshot of the viewport as `target/e2e-screenshots/{name}.png`; never fails.
pub async fn screenshot(page: &Page, name: &str) {
    save_screenshot(page, name, None).await;
}

/// Saves a screenshot of the whole scrollable page as `target/e2e-screenshots/{name}.png`.
pub async fn full_page_screenshot(page: &Page, name: &str) {
    let mut full = ScreenshotOptions::default();
    full.full_page = Some(true);
    save_screenshot(page, name, Some(full)).await;
}

async fn save_screenshot(page: &Page, name: &str, options: Option<ScreenshotOptions>) {
    let dir = workspace().join("target").join("e2e-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = page.screenshot(options).await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
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
