//! Server-side glue shared by every server function: the request context the server's middleware
//! attaches, access to the backend ports, and turning a port's error into the HTTP answer.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::auth::{Role, StaffPrincipal};
use crate::error::{AppError, AppResult};

/// Who is calling and from where; attached to every request by the server's session middleware.
#[derive(Clone)]
pub struct RequestCtx {
    /// The signed-in staff member, if any.
    pub staff: Option<StaffPrincipal>,
    /// The customer admin who redeemed an invite, if this is an invite session.
    pub invitee: Option<InviteePrincipal>,
    /// The raw session cookie value, so sign-in can rotate it and sign-out can delete it.
    /// Never logged (this type has a redacting `Debug`).
    pub session_token: Option<String>,
    /// The client's address: the direct peer, or the address a trusted reverse proxy forwarded.
    pub client_ip: IpAddr,
    /// The known-device cookie, if the browser sent one (sign-in uses it to spare the owner's
    /// browser the account-wide lockout). Never logged.
    pub device_token: Option<String>,
    /// The request id (also in the `x-request-id` response header).
    pub request_id: String,
    /// What this request's server functions share (shared by the clones of this context).
    pub memo: RequestMemo,
}

/// Values a request works out once for all of its server functions. A page's panels are server
/// functions of their own (the browser also calls each alone, after an action), and rendering the
/// page calls them side by side: without this each would repeat the same read, such as whether
/// the staff member may see the tenant. Lives as long as the request, whose one principal every
/// value is about; never shared between two requests.
#[derive(Clone, Default)]
pub struct RequestMemo(Arc<Mutex<HashMap<(TypeId, uuid::Uuid), Arc<dyn Any + Send + Sync>>>>);

impl RequestMemo {
    /// The slot of type `T` under `key`, made with `T::default()` by whichever caller asks first;
    /// every caller asking for the same type and key gets the same slot (a `OnceCell`, say, lets
    /// the first caller compute while the others wait for its answer).
    pub fn slot<T: Default + Send + Sync + 'static>(&self, key: uuid::Uuid) -> Arc<T> {
        let mut slots = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots.entry((TypeId::of::<T>(), key)).or_insert_with(|| Arc::new(T::default()));
        // The entry was made for `T` under `TypeId::of::<T>()`, so the cast always succeeds.
        Arc::clone(slot).downcast::<T>().unwrap_or_else(|_| unreachable!("a memo slot holds the type of its key"))
    }
}

/// A customer admin in the wizard: scoped to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteePrincipal {
    pub tenant_id: uuid::Uuid,
    /// The SHA-256 of the session cookie: binds OAuth transactions to this browser session.
    pub session_hash: String,
}

impl std::fmt::Debug for RequestCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCtx")
            .field("staff", &self.staff)
            .field("invitee", &self.invitee)
            .field("session_token", &self.session_token.as_ref().map(|_| "[redacted]"))
            .field("device_token", &self.device_token.as_ref().map(|_| "[redacted]"))
            .field("client_ip", &self.client_ip)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl RequestCtx {
    /// An anonymous context (used by tests and background work).
    pub fn anonymous(request_id: impl Into<String>) -> Self {
        RequestCtx {
            staff: None,
            invitee: None,
            session_token: None,
            client_ip: IpAddr::from([127, 0, 0, 1]),
            device_token: None,
            request_id: request_id.into(),
            memo: RequestMemo::default(),
        }
    }

    /// The signed-in staff member, if any.
    pub fn staff(&self) -> Option<&StaffPrincipal> {
        self.staff.as_ref()
    }

    /// The invitee of this session, or `Unauthorized`.
    pub fn require_invitee(&self) -> AppResult<&InviteePrincipal> {
        self.invitee.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The signed-in staff member, or `Unauthorized`.
    pub fn require_staff(&self) -> AppResult<&StaffPrincipal> {
        self.staff.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The signed-in staff member if their role is one of `roles`; `Unauthorized` when nobody is
    /// signed in, `Forbidden` for other roles.
    pub fn require_role(&self, roles: &[Role]) -> AppResult<&StaffPrincipal> {
        let staff = self.require_staff()?;
        if roles.contains(&staff.role) { Ok(staff) } else { Err(AppError::Forbidden) }
    }
}

/// The request context of the current server function or SSR render.
pub fn request_ctx() -> AppResult<RequestCtx> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| missing("request parts"))?;
    parts.extensions.get::<RequestCtx>().cloned().ok_or_else(|| missing("request context"))
}

/// The request context of the SSR render, without complaint when there is none (the server
/// renders the app once at start-up, outside any request, to list its routes).
pub fn render_ctx() -> Option<RequestCtx> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<RequestCtx>().cloned())
}

/// A backend port provided by the server (for example `port::<dyn TenantsPort>()`).
pub fn port<T: ?Sized + Send + Sync + 'static>() -> AppResult<Arc<T>> {
    use_context::<Arc<T>>().ok_or_else(|| missing(std::any::type_name::<T>()))
}

fn missing(what: &str) -> AppError {
    tracing::error!(what, "server function context is missing a value; the router is miswired");
    AppError::Internal { request_id: "unknown".into() }
}

/// Passes a port's result through, setting the HTTP status of the response on error so that a
/// server function's failure is a real 4xx/5xx on the wire.
pub fn respond<T>(ctx: &RequestCtx, result: AppResult<T>) -> AppResult<T> {
    if let Err(err) = &result {
        if let Some(options) = use_context::<ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(err.status_code()) {
                options.set_status(status);
            }
            if let Some(retry_after_secs) = err.retry_after_secs()
                && let Ok(value) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                    options.insert_header(http::header::RETRY_AFTER, value);
                }
        }
        tracing::debug!(request_id = %ctx.request_id, error = %err, "server function refused");
    }
    result
}

/// Adds a `Set-Cookie` header to the current response.
pub fn set_cookie(cookie: &str) {
    if let (Some(options), Ok(value)) = (use_context::<ResponseOptions>(), http::HeaderValue::from_str(cookie)) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// Sets the status of the current SSR response (used by the not-found page and error views).
pub fn set_status(status: u16) {
    if let (Some(options), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(status)) {
        options.set_status(status);
    }
}

/// Answers the page being rendered with `303 See Other` to `path`. Only for pages rendered with
/// `SsrMode::Async`, whose status and headers are sent after the page rendered; the rendered
/// body stays as the fallback for a client that does not follow redirects.
pub fn see_other(path: &'static str) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(http::StatusCode::SEE_OTHER);
        options.insert_header(http::header::LOCATION, http::HeaderValue::from_static(path));
    }
}
