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

/// The first path segments a `next` parameter may lead to after sign-in (the staff pages).
pub const NEXT_ROOTS: &[&str] = &["tenants", "staff"];

/// Returns where a `next` parameter may send the browser after sign-in: a same-origin path under
/// one of [`NEXT_ROOTS`], else the tenant list. Rather than trying to recognise every way to
/// leave the origin (`//evil`, `\\evil`, `/..//evil`, encoded slashes, schemes), it accepts only
/// paths made of plain segments (letters, digits, `-`, `_`), so nothing can normalise into
/// another origin or outside the allowlist, plus a query of URL-safe characters.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/tenants";
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty() && n.len() <= 2048) else {
        return HOME.to_owned();
    };
    let (path, query) = match next.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (next, None),
    };
    let plain_segment = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let path_ok = path.strip_prefix('/').is_some_and(|rest| {
        let mut segments = rest.split('/');
        segments.next().is_some_and(|first| NEXT_ROOTS.contains(&first)) && segments.all(plain_segment)
    });
    let query_ok = query.is_none_or(|q| q.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~=&%+".contains(&b)));
    if path_ok && query_ok { next.to_owned() } else { HOME.to_owned() }
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for sign-in and sign-out.
    #[async_trait::async_trait]
    pub trait AuthPort: Send + Sync + 'static {
        /// Checks the password (failures throttled per account and address), replaces any current
        /// session by a new one and returns the `Set-Cookie` values (session, known device).
        async fn sign_in(&self, ctx: &RequestCtx, email: &str, password: &str) -> Result<Vec<String>, AppError>;
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
    for cookie in respond(&ctx, port.sign_in(&ctx, &email, &password).await)? {
        set_cookie(&cookie);
    }
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
            "/..//evil.example",
            "/tenants/..//evil.example",
            "/tenants/../../x",
            "/./tenants",
            "/%2e%2e//evil",
            "/tenants#x",
            "/wizard",
            "/tenants?next=//evil\"",
        ] {
            assert_eq!(safe_next(Some(evil)), "/tenants", "{evil:?} must not be followed");
        }
        assert_eq!(safe_next(None), "/tenants");
        assert_eq!(safe_next(Some("/staff")), "/staff");
        assert_eq!(safe_next(Some("/tenants/0b6c6c53-0f3e-4a51-9b8a-2f0f1d9e1b3e/edit")), "/tenants/0b6c6c53-0f3e-4a51-9b8a-2f0f1d9e1b3e/edit");
    }

    proptest::proptest! {
        /// Whatever `next` holds, the browser lands on this origin, on an allowlisted page: the
        /// answer, resolved as a browser would resolve it, keeps the host and its first segment.
        #[test]
        fn next_never_leaves_the_origin_or_the_allowlist(
            next in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "[/\\\\.%a-zA-Z0-9:?#@-]{0,40}",
                "/(tenants|staff|\\.\\.|\\.|%2e|%2f|/|\\\\)*[/a-z.]{0,10}",
            ]
        ) {
            let answer = safe_next(Some(&next));
            let base = url::Url::parse("https://portal.example/login").expect("base");
            let resolved = base.join(&answer).expect("a relative reference");
            proptest::prop_assert_eq!(resolved.origin(), base.origin());
            let first = resolved.path_segments().and_then(|mut s| s.next()).unwrap_or_default().to_owned();
            proptest::prop_assert!(super::NEXT_ROOTS.contains(&first.as_str()), "{next:?} -> {answer:?} -> {resolved}");
            proptest::prop_assert_eq!(resolved.path(), answer.split('?').next().unwrap_or_default());
        }
    }
}
