//! The browser journeys, in one test binary (one link step): headless Chromium driven by
//! playwright-rs against the real `consent-portal` binary, each journey on its own portal with a
//! fresh database. They prove that what people do in the browser works end to end, hydration
//! included, and that no page error or `console.error` happens on the way.
//!
//! - `foundation`: staff sign-in and tenant creation, with the browser's and the server's checks.
//! - `onboarding`: the customer admin's consent wizard against the built-in DocuSign sandbox.
//! - `support`: the harness and the `find` / `action` / `check` helpers the journeys use.
//!
//! Run: `./scripts/test.sh` (installs the tools, builds the site, runs everything), or by hand
//! after `cargo leptos build`:
//! `source scripts/env.sh; cargo test -p end2end --locked -- --test-threads=1`
//! (add a filter such as `onboarding::` to run some of them). Screenshots land in
//! `target/e2e-screenshots/`.

mod foundation;
mod onboarding;
mod support;
