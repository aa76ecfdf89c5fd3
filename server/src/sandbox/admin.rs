//! The Admin API host (`/management`): organizations, their reserved (claimed) domains
//! (reference section 7) and the DocuSign profile of a user looked up by e-mail
//! (`/v2.1/organizations/{id}/users/dsprofile`), with the scopes the reference names.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::faults::{self, Scope};
use super::fixture::{Organization, ReservedDomain, User};
use super::limits;
use super::state::{AppState, World};
use super::vary;
use super::wire::{self, admin_error};

#[derive(Debug, Clone)]
struct Caller {
    user_id: String,
    scopes: std::collections::BTreeSet<String>,
}

/// The Admin API routes, under `/management` (and `/Management`, the spec's basePath).
pub fn router(app: AppState) -> Router {
    let api = || {
        Router::new()
            .route("/v2/organizations", get(list_organizations))
            .route("/v2/organizations/{organizationId}/reserved_domains", get(reserved_domains))
            .route("/v2.1/organizations/{organizationId}/users/dsprofile", get(user_profiles_by_email))
            .route_layer(middleware::from_fn_with_state(app.clone(), gate))
            .route_layer(middleware::from_fn_with_state((app.clone(), Scope::Admin), faults::traffic))
            .route_layer(middleware::from_fn_with_state((app.clone(), vary::Host::Admin), vary::responses))
            .with_state(app.clone())
    };
    Router::new().nest("/management", api()).nest("/Management", api())
}

/// Token check and rate limit (counted per calling user, as the Admin API has no account in
/// its paths).
async fn gate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = app.clock.now();
    let token = wire::bearer(req.headers());
    let (caller, usage) = {
        let mut world = app.world();
        let Some(t) = token.and_then(|t| world.access.get(&t).cloned()).filter(|t| t.expires_at > now) else {
            return admin_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The access token provided is expired, revoked or malformed.",
            );
        };
        let limits = &app.fixture.limits;
        let (usage, exceeded) = world.windows.entry(format!("admin:{}", t.user_id)).or_default().hit(limits, now);
        if let Some(which) = exceeded {
            return limits::exceeded_response(limits, which, &usage, now, app.fixture.vary);
        }
        (Caller { user_id: t.user_id, scopes: t.scopes }, usage)
    };
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    limits::add_headers(resp.headers_mut(), &usage);
    resp
}

fn missing_scope(scope: &str) -> Response {
    admin_error(StatusCode::FORBIDDEN, "insufficient_scope", &format!("The access token lacks the scope {scope}."))
}

/// A `DomainResponse`.
pub fn domain_json(admin_api: &str, org_id: &str, d: &ReservedDomain) -> Value {
    json!({
        "id": d.id,
        "status": d.status,
        "host_name": d.host_name,
        "txt_token": d.txt_token,
        "identity_provider_id": "00000000-0000-0000-0000-000000000000",
        "settings": [],
        "links": [{"rel": "self", "href": format!("{admin_api}/v2/organizations/{org_id}/reserved_domains/{}", d.id)}],
    })
}

fn organization_json(app: &AppState, world: &World, org: &Organization) -> Value {
    let accounts: Vec<Value> = org
        .accounts
        .iter()
        .filter_map(|id| world.account(id))
        .map(|a| {
            json!({
                "id": a.seed.id,
                "name": a.seed.name,
                "external_account_id": a.seed.external_id.parse::<i64>().unwrap_or(0),
                "site_id": 1,
            })
        })
        .collect();
    let mut users: Vec<&str> = org.admins.iter().map(String::as_str).collect();
    for u in &world.users {
        if org.accounts.iter().any(|a| u.membership(a).is_some()) && !users.iter().any(|x| x.eq_ignore_ascii_case(&u.id)) {
            users.push(&u.id);
        }
    }
    let creator = org.admins.first().cloned().unwrap_or_default();
    json!({
        "id": org.id,
        "name": org.name,
        "description": "",
        "default_account_id": org.accounts.first().cloned().unwrap_or_default(),
        "default_permission_profile_id": 0,
        "created_on": "2020-01-01T00:00:00Z",
        "created_by": creator,
        "last_modified_on": "2020-01-01T00:00:00Z",
        "last_modified_by": creator,
        "accounts": accounts,
        "users": users.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "reserved_domains": org.reserved_domains.iter().map(|d| domain_json(&app.hosts.admin_api, &org.id, d)).collect::<Vec<_>>(),
        "identity_providers": [],
        "links": [{"rel": "self", "href": format!("{}/v2/organizations/{}", app.hosts.admin_api, org.id)}],
    })
}

fn is_admin(org: &Organization, user_id: &str) -> bool {
    org.admins.iter().any(|a| a.eq_ignore_ascii_case(user_id))
}

/// `GET /v2/organizations?mode=org_admin|account_membership` (scope `organization_read`).
async fn list_organizations(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !caller.scopes.contains("organization_read") {
        return missing_scope("organization_read");
    }
    let world = app.world();
    let Some(user) = world.user(&caller.user_id) else {
        return admin_error(StatusCode::UNAUTHORIZED, "invalid_token", "Unknown user.");
    };
    let mode = q.get("mode").map(String::as_str).unwrap_or("org_admin");
    let orgs: Vec<Value> = match mode {
        "org_admin" => world.orgs.iter().filter(|o| is_admin(o, &user.id)).map(|o| organization_json(&app, &world, o)).collect(),
        "account_membership" => world
            .orgs
            .iter()
            .filter(|o| o.accounts.iter().any(|a| user.membership(a).is_some()))
            .map(|o| organization_json(&app, &world, o))
            .collect(),
        _ => return admin_error(StatusCode::BAD_REQUEST, "invalid_request", "mode must be org_admin or account_membership."),
    };
    wire::json(StatusCode::OK, json!({ "organizations": orgs }))
}

/// `GET /v2/organizations/{organizationId}/reserved_domains` (scope `domain_read`, org admins).
async fn reserved_domains(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(org_id): Path<String>,
) -> Response {
    if !caller.scopes.contains("domain_read") {
        return missing_scope("domain_read");
    }
    let world = app.world();
    let Some(org) = world.orgs.iter().find(|o| o.id.eq_ignore_ascii_case(&org_id)) else {
        return admin_error(StatusCode::NOT_FOUND, "not_found", "The organization does not exist.");
    };
    if !is_admin(org, &caller.user_id) {
        return admin_error(StatusCode::FORBIDDEN, "forbidden", "The user is not an administrator of this organization.");
    }
    let domains: Vec<Value> = org.reserved_domains.iter().map(|d| domain_json(&app.hosts.admin_api, &org.id, d)).collect();
    wire::json(StatusCode::OK, json!({ "reserved_domains": domains }))
}

/// One `UserDrilldownResponse` (Admin API v2.1): the user's DocuSign profile with every account
/// membership. As in DocuSign's schema, the e-mail is on each membership, not on the user.
fn profile_json(world: &World, org: &Organization, user: &User) -> Value {
    let default = user.memberships.iter().find(|m| m.is_default).or(user.memberships.first());
    let default_account = default.and_then(|m| world.account(&m.account));
    let memberships: Vec<Value> = user
        .memberships
        .iter()
        .filter_map(|m| {
            let a = world.account(&m.account)?;
            Some(json!({
                "email": user.email,
                "account_id": a.seed.id,
                "external_account_id": a.seed.external_id,
                "account_name": a.seed.name,
                "is_external_account": !org.accounts.iter().any(|id| id.eq_ignore_ascii_case(&a.seed.id)),
                "status": "active",
                "created_on": user.created,
                "is_admin": m.is_admin,
            }))
        })
        .collect();
    json!({
        "id": user.id,
        "site_id": 1,
        "site_name": "DEMO",
        "user_name": user.name(),
        "first_name": user.given_name,
        "last_name": user.family_name,
        "user_status": "active",
        "default_account_id": default_account.map(|a| a.seed.id.clone()),
        "default_account_name": default_account.map(|a| a.seed.name.clone()),
        "language_culture": "en",
        "is_organization_admin": is_admin(org, &user.id),
        "created_on": user.created,
        "memberships": memberships,
    })
}

/// `GET /v2.1/organizations/{organizationId}/users/dsprofile?email=…` (scope `user_read`, org
/// admins): `{"users": [UserDrilldownResponse]}` for the user with that e-mail when the
/// organization knows them (e-mail domain among its reserved domains, whatever their status, or
/// a member of one of its accounts); `{"users": []}` otherwise.
async fn user_profiles_by_email(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(org_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !caller.scopes.contains("user_read") {
        return missing_scope("user_read");
    }
    let world = app.world();
    let Some(org) = world.orgs.iter().find(|o| o.id.eq_ignore_ascii_case(&org_id)) else {
        return admin_error(StatusCode::NOT_FOUND, "not_found", "The organization does not exist.");
    };
    if !is_admin(org, &caller.user_id) {
        return admin_error(StatusCode::FORBIDDEN, "forbidden", "The user is not an administrator of this organization.");
    }
    let email = q.get("email").map(|e| e.trim()).unwrap_or_default();
    if email.is_empty() {
        return admin_error(StatusCode::BAD_REQUEST, "invalid_request", "The email query parameter is required.");
    }
    let users: Vec<Value> = world
        .user_by_email(email)
        .filter(|u| {
            let domain = u.email_domain();
            org.reserved_domains.iter().any(|d| d.host_name.eq_ignore_ascii_case(&domain))
                || org.accounts.iter().any(|a| u.membership(a).is_some())
        })
        .map(|u| profile_json(&world, org, u))
        .into_iter()
        .collect();
    wire::json(StatusCode::OK, json!({ "users": users }))
}
