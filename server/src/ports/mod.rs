//! The adapters behind the app's ports, one file per port. Each method is the second of three
//! hops from the UI to the work: the `#[server]` function in `app/src/<area>/api.rs` decodes the
//! call, the method here authorizes the caller (the role checks mirror `app/src/policy.rs`) and
//! calls one service function, and the service in `server/src/<area>` does the work.

mod api_clients;
mod audit;
mod auth;
mod checks;
mod onboarding;
mod overrides;
mod staff;
mod tenants;
mod webhooks;

use app::auth::Role;
use app::error::AppResult;
use app::ssr::RequestCtx;

use crate::error::ServiceResult;

/// Roles that manage tenants (create, invite, verify, run checks).
const MANAGERS: &[Role] = &[Role::ConfigStaff, Role::Admin];
/// Roles that manage staff and webhook endpoints.
const ADMINS: &[Role] = &[Role::Admin];

/// A service's result as the caller hears it: unexpected causes are logged under the request id.
fn done<T>(ctx: &RequestCtx, result: ServiceResult<T>) -> AppResult<T> {
    result.map_err(|e| e.into_app(&ctx.request_id))
}
