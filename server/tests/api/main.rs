//! The server's integration tests in one binary: services against SQLite and PostgreSQL, and the
//! router in-process. PostgreSQL must run at `TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`); each test gets its own database.

mod support;

mod access;
mod checks;
mod hardening;
mod onboarding;
mod render_once;
mod router;
mod scheduler;
mod services;
