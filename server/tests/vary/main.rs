//! The onboarding and setup-check suites of `tests/api` once more, this time against the DocuSign
//! sandbox in vary mode (`SandboxConfig::varied`: everything the DocuSign reference leaves open is
//! different, see `server/src/sandbox/README.md`, "Vary mode"). The portal must reach the same
//! outcomes in both modes, so the test files are the very same ones: a test added to either suite
//! runs in both modes without being written twice.

// Helpers in these shared files that only the other suites of `tests/api` use.
#![allow(dead_code)]

/// Read by `onboarding::sandbox`: every sandbox these suites start is in vary mode.
pub const SANDBOX_VARY: bool = true;

#[path = "../api/fixture.rs"]
mod fixture;
#[path = "../api/support.rs"]
mod support;

#[path = "../api/checks.rs"]
mod checks;
#[path = "../api/onboarding.rs"]
mod onboarding;
