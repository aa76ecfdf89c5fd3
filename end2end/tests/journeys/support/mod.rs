//! Provides what the journeys share: the harness (`Portal`, the real binary on a fresh
//! database; `Browser`, headless Chromium recording page errors; screenshots) and the three
//! helper modules a journey is written in: `find` (locators), `action` (user verbs) and
//! `check` (auto-waiting assertions).
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

pub mod action;
pub mod check;
pub mod find;

mod browser;
mod portal;

pub use browser::{Browser, full_page_screenshot, screenshot};
pub use portal::Portal;
