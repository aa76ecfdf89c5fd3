//! The server's integration tests in one binary (one link step): services against SQLite and
//! PostgreSQL, the router in-process, the DocuSign client against the sandbox over real HTTP, and
//! the sandbox itself driven by a plain HTTP client. PostgreSQL must run at `TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`); each test gets its own database.
//! `tests/vary` compiles `onboarding.rs` and `checks.rs` (with `support.rs` and `fixture.rs`) a
//! second time against the sandbox in vary mode.

/// Read by `onboarding::sandbox`: this binary runs the sandbox as configured (`tests/vary` runs
/// the onboarding and setup-check suites again in vary mode).
pub const SANDBOX_VARY: bool = false;

mod fixture;
mod support;

mod access;
mod audit_log;
mod check_filters;
mod checks;
mod crash;
mod docusign_client;
mod exports;
mod hardening;
mod isv_api;
mod onboarding;
mod overrides;
mod render_once;
mod router;
mod sandbox;
mod scheduler;
mod services;
mod tenant_filters;
mod timeline;
mod webhooks;
