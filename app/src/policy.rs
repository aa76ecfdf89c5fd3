//! The access policy of every server function, in one table. The server's gate refuses any
//! `/api/…` path that is not listed here (deny by default) and checks the role before the
//! function runs; each backend service then checks object-level access (which tenant) itself.

use crate::auth::Role;

/// Who may call an endpoint, before object-level checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, "who am I").
    Public,
    /// Any signed-in staff member; services narrow it further (account managers see only their
    /// assigned tenants).
    Staff,
    /// Only these roles.
    Roles(&'static [Role]),
    /// Only a customer admin in an invite session (scoped to their one tenant).
    Invitee,
}

const MANAGERS: &[Role] = &[Role::ConfigStaff, Role::Admin];
const ADMINS: &[Role] = &[Role::Admin];

/// Every server function, by path, with its access rule.
pub const SERVER_FN_POLICY: &[(&str, Access)] = &[
    ("/api/auth/sign_in", Access::Public),
    ("/api/auth/sign_out", Access::Public),
    ("/api/auth/me", Access::Public),
    ("/api/tenants/list", Access::Staff),
    ("/api/tenants/page", Access::Staff),
    ("/api/tenants/get", Access::Staff),
    // Scoped like tenants/get: an account manager reads only their assigned tenants' timelines.
    ("/api/tenants/timeline", Access::Staff),
    ("/api/tenants/overview", Access::Staff),
    ("/api/tenants/create", Access::Roles(MANAGERS)),
    ("/api/tenants/update", Access::Roles(MANAGERS)),
    ("/api/tenants/archive", Access::Roles(MANAGERS)),
    ("/api/tenants/restore", Access::Roles(MANAGERS)),
    // Every staff role reads the log; the service narrows account managers to their tenants.
    ("/api/audit/log", Access::Staff),
    ("/api/staff/account_managers", Access::Roles(MANAGERS)),
    ("/api/staff/list", Access::Roles(ADMINS)),
    ("/api/staff/create", Access::Roles(ADMINS)),
    ("/api/staff/set_active", Access::Roles(ADMINS)),
    ("/api/staff/end_sessions", Access::Roles(ADMINS)),
    ("/api/api_clients/list", Access::Roles(ADMINS)),
    ("/api/api_clients/create", Access::Roles(ADMINS)),
    ("/api/api_clients/revoke", Access::Roles(ADMINS)),
    ("/api/onboarding/tenant_consent", Access::Staff),
    ("/api/onboarding/create_invite", Access::Roles(MANAGERS)),
    ("/api/onboarding/revoke_invite", Access::Roles(MANAGERS)),
    ("/api/onboarding/staff_verify", Access::Roles(MANAGERS)),
    ("/api/onboarding/end_customer_sessions", Access::Roles(MANAGERS)),
    ("/api/onboarding/invite_landing", Access::Public),
    ("/api/onboarding/redeem_invite", Access::Public),
    // The link in the body is the credential (as for redeeming); throttled per address and link.
    ("/api/onboarding/request_invite_link", Access::Public),
    ("/api/wizard/status", Access::Invitee),
    ("/api/wizard/name_system_user", Access::Invitee),
    ("/api/wizard/choose_account", Access::Invitee),
    ("/api/wizard/verify", Access::Invitee),
    ("/api/wizard/check_organization", Access::Invitee),
    ("/api/wizard/intended_system_user", Access::Invitee),
    ("/api/wizard/leave", Access::Invitee),
    ("/api/checks/latest", Access::Staff),
    ("/api/checks/start", Access::Roles(MANAGERS)),
    ("/api/checks/run_one", Access::Roles(MANAGERS)),
    ("/api/checks/apply_fix", Access::Roles(MANAGERS)),
    ("/api/checks/attest", Access::Roles(MANAGERS)),
    ("/api/checks/history", Access::Staff),
    // Overrides: every staff member who sees the tenant reads them (scoped like tenants/get);
    // only those who run checks decide them (account managers audit, they do not decide).
    ("/api/overrides/active", Access::Staff),
    ("/api/overrides/create", Access::Roles(MANAGERS)),
    ("/api/overrides/withdraw", Access::Roles(MANAGERS)),
    ("/api/wizard/check_latest", Access::Invitee),
    ("/api/wizard/check_start", Access::Invitee),
    ("/api/wizard/check_run_one", Access::Invitee),
    ("/api/wizard/check_apply_fix", Access::Invitee),
    ("/api/webhooks/list", Access::Roles(ADMINS)),
    ("/api/webhooks/create", Access::Roles(ADMINS)),
    ("/api/webhooks/disable", Access::Roles(ADMINS)),
    ("/api/webhooks/deliveries", Access::Roles(ADMINS)),
    ("/api/webhooks/redeliver", Access::Roles(ADMINS)),
];

/// Plain (non-Leptos) routes and who may call them; the router's gate enforces the same rules.
pub const ROUTE_POLICY: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Access::Public),
    ("POST", "/oauth/start", Access::Invitee),
    ("GET", "/oauth/callback/demo", Access::Invitee),
    ("GET", "/oauth/callback/production", Access::Invitee),
    // Authenticated by the message's HMAC signature, not by a session.
    ("POST", "/connect/{tenant_id}", Access::Public),
    // Scoped like the list it exports (an account manager gets only their tenants).
    ("GET", "/tenants/export.csv", Access::Staff),
    ("GET", "/tenants/receipts.csv", Access::Staff),
    ("GET", "/audit/export.csv", Access::Staff),
];

/// Who may call an endpoint of the ISV integration API (`/api/v1`). The API never accepts a
/// session: its callers are the ISV's backends, authenticated by an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiAccess {
    /// Anyone (the API's own description).
    Public,
    /// A valid key holding this scope; the endpoint then checks the tenant's environment.
    Scope(crate::api_clients::ApiScope),
}

/// Every endpoint of the integration API, by method and route, with its rule. The API's gate
/// refuses any route that is not listed here (deny by default).
pub const API_POLICY: &[(&str, &str, ApiAccess)] = &[
    ("GET", "/api/v1/openapi.json", ApiAccess::Public),
    ("GET", "/api/v1/docs", ApiAccess::Public),
    ("GET", "/api/v1/tenants", ApiAccess::Scope(crate::api_clients::ApiScope::TenantsRead)),
    ("GET", "/api/v1/tenants/{tenant}", ApiAccess::Scope(crate::api_clients::ApiScope::TenantsRead)),
    ("POST", "/api/v1/tenants/{tenant}/access-token", ApiAccess::Scope(crate::api_clients::ApiScope::TokensIssue)),
    ("POST", "/api/v1/tenants/{tenant}/consent-checks", ApiAccess::Scope(crate::api_clients::ApiScope::ConsentCheck)),
];

/// The rule for an integration-API route; `None` means it is not part of the API.
pub fn api_access(method: &str, route: &str) -> Option<ApiAccess> {
    API_POLICY.iter().find(|(m, r, _)| *m == method && *r == route).map(|(_, _, a)| *a)
}

/// Pages anyone may open; every other page needs a signed-in staff member (deny by default).
pub const PUBLIC_PAGES: &[&str] = &["/login", "/healthz"];

/// Pages for customer admins (invite sessions); they explain themselves to anyone else.
pub const INVITEE_PAGES: &[&str] = &["/wizard"];

/// The rule for a page (GET) path. Static assets under `/pkg/` are public; the staff page and
/// the settings pages (`/settings/…`, e.g. webhooks) are for administrators; every other page needs a signed-in staff member, whose server functions then
/// narrow what they may see.
pub fn page_access(path: &str) -> Access {
    if PUBLIC_PAGES.contains(&path) || path.starts_with("/pkg/") || path.starts_with("/onboard/") || path.starts_with("/connect/") {
        Access::Public
    } else if INVITEE_PAGES.contains(&path) || path.starts_with("/oauth/") {
        Access::Invitee
    } else if path == "/staff" || path.starts_with("/staff/") || path == "/settings" || path.starts_with("/settings/") {
        Access::Roles(ADMINS)
    } else {
        Access::Staff
    }
}

/// The rule for a server function path; `None` means the path is unknown and must be refused.
pub fn server_fn_access(path: &str) -> Option<Access> {
    SERVER_FN_POLICY.iter().find(|(p, _)| *p == path).map(|(_, a)| *a)
}

impl Access {
    /// Whether a caller with this staff role (or none) and invite session (or none) passes.
    pub fn allows(self, role: Option<Role>, invitee: bool) -> bool {
        match self {
            Access::Public => true,
            Access::Staff => role.is_some(),
            Access::Roles(roles) => role.is_some_and(|r| roles.contains(&r)),
            Access::Invitee => invitee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_private_unless_listed_as_public() {
        assert_eq!(page_access("/login"), Access::Public);
        assert_eq!(page_access("/pkg/consent-portal.wasm"), Access::Public);
        assert_eq!(page_access("/tenants"), Access::Staff);
        assert_eq!(page_access("/anything/else"), Access::Staff);
        assert_eq!(page_access("/staff"), Access::Roles(ADMINS));
        assert_eq!(page_access("/settings/webhooks"), Access::Roles(ADMINS));
        assert_eq!(page_access("/onboard/abc"), Access::Public);
        assert_eq!(page_access("/wizard"), Access::Invitee);
    }

    #[test]
    fn unknown_paths_have_no_policy() {
        assert_eq!(server_fn_access("/api/tenants/delete_everything"), None);
    }

    #[test]
    fn role_rules_admit_exactly_their_roles() {
        let managers = Access::Roles(MANAGERS);
        assert!(!managers.allows(None, false));
        assert!(!managers.allows(None, true), "an invitee is not staff");
        assert!(!managers.allows(Some(Role::AccountManager), false));
        assert!(managers.allows(Some(Role::ConfigStaff), false));
        assert!(Access::Staff.allows(Some(Role::AccountManager), false));
        assert!(!Access::Staff.allows(None, true));
        assert!(Access::Public.allows(None, false));
        assert!(Access::Invitee.allows(None, true));
        assert!(!Access::Invitee.allows(Some(Role::Admin), false), "staff are not invitees");
    }
}
