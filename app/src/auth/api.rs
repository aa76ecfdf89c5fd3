//! Sign-in, sign-out and "who am I" server functions, and the port the server implements.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::StaffPrincipal;
use crate::error::AppError;

/// The result of a successful sign-in: where to go next (a same-origin path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub next: String,
}

/// Returns where a `next` parameter may send the browser after sign-in: only a same-origin
/// absolute path, never another origin (`//evil`, `\\evil`, `https://…`, `javascript:`).
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/tenants";
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else {
        return HOME.to_owned();
    };
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control())
        && !next.to_ascii_lowercase().contains("%2f%2f")
        && !next.to_ascii_lowercase().contains("%5c");
    if ok { next.to_owned() } else { HOME.to_owned() }
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for sign-in and sign-out.
    #[async_trait::async_trait]
    pub trait AuthPort: Send + Sync + 'static {
        /// Checks the password (rate-limited per account and per address), replaces any current
        /// session by a new one and returns the `Set-Cookie` value for it.
        async fn sign_in(&self, ctx: &RequestCtx, email: &str, password: &str) -> Result<String, AppError>;
        /// Deletes the caller's session server-side and returns the `Set-Cookie` that clears it.
        async fn sign_out(&self, ctx: &RequestCtx) -> Result<String, AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::AuthPort;

/// Signs a staff member in. Public: anyone may try (rate-limited).
#[server(endpoint = "auth/sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<SignedIn, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn AuthPort>()?;
    let cookie = respond(&ctx, port.sign_in(&ctx, &email, &password).await)?;
    set_cookie(&cookie);
    Ok(SignedIn { next: safe_next(next.as_deref()) })
}

/// Signs the caller out. Any signed-in principal.
#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn AuthPort>()?;
    let cookie = respond(&ctx, port.sign_out(&ctx).await)?;
    set_cookie(&cookie);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in staff member, or `None`. Public: it reveals only the caller's own identity.
#[server(endpoint = "auth/me")]
pub async fn current_staff() -> Result<Option<StaffPrincipal>, AppError> {
    let ctx = crate::ssr::request_ctx()?;
    Ok(ctx.staff().cloned())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_accepts_only_same_origin_paths() {
        assert_eq!(safe_next(Some("/tenants/abc")), "/tenants/abc");
        assert_eq!(safe_next(Some("/tenants?q=a")), "/tenants?q=a");
        for evil in [
            "https://evil.example",
            "//evil.example",
            "\\\\evil.example",
            "/\\evil.example",
            "/%2F%2Fevil.example",
            "/%2f%2fevil",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "evil.example",
            "/\nSet-Cookie:x",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/tenants", "{evil:?} must not be followed");
        }
        assert_eq!(safe_next(None), "/tenants");
    }
}
