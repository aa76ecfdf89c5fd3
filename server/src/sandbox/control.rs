//! The control API for tests and benchmarks (`/control/...` on the account server, only when
//! enabled): reset, clock, consent revocation, domain status, settings, HMAC keys, faults, rate
//! limits, request counts and Connect deliveries. Not part of DocuSign.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::domain_json;
use super::connect::{self, PublishError};
use super::faults::Fault;
use super::fixture::DOMAIN_STATUSES;
use super::limits::Exceeded;
use super::state::{AppState, Grantee, World};
use super::wire;

/// The control routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/control/reset", post(reset))
        .route("/control/clock", get(clock))
        .route("/control/clock/advance", post(advance))
        .route("/control/consents", get(consents))
        .route("/control/consents/grant", post(grant))
        .route("/control/consents/revoke", post(revoke))
        .route("/control/organizations/{orgId}/reserved_domains/{domain}", put(set_domain))
        .route("/control/accounts/{accountId}/settings", put(set_settings))
        .route("/control/accounts/{accountId}/hmac_keys", put(set_hmac_keys))
        .route("/control/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/control/rate_limit/exhaust", post(exhaust))
        .route("/control/requests", get(requests).delete(clear_requests))
        .route("/control/connect/publish", post(publish))
        .route("/control/connect/deliveries", get(deliveries))
}

fn bad(status: StatusCode, message: &str) -> Response {
    wire::json(status, json!({ "error": message }))
}

fn ok(body: Value) -> Response {
    wire::json(StatusCode::OK, body)
}

/// `POST /control/reset`: back to the fixture; the clock returns to real time.
async fn reset(State(app): State<AppState>) -> Response {
    app.clock.reset();
    *app.world() = World::from_fixture(&app.fixture, app.clock.now());
    ok(json!({ "reset": true }))
}

/// `GET /control/clock` → `{"now": <unix seconds>, "offset_seconds": n}`.
async fn clock(State(app): State<AppState>) -> Response {
    ok(json!({ "now": app.clock.now(), "offset_seconds": app.clock.offset() }))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

/// `POST /control/clock/advance {"seconds": 130}`.
async fn advance(State(app): State<AppState>, Json(a): Json<Advance>) -> Response {
    app.clock.advance(a.seconds);
    ok(json!({ "now": app.clock.now(), "offset_seconds": app.clock.offset() }))
}

/// `GET /control/consents`: every recorded consent.
async fn consents(State(app): State<AppState>) -> Response {
    ok(json!({ "consents": app.world().consents }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentTarget {
    user_id: Option<String>,
    organization_id: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

impl ConsentTarget {
    fn grantee(&self) -> Option<Grantee> {
        match (&self.user_id, &self.organization_id) {
            (Some(u), None) => Some(Grantee::User(u.to_ascii_lowercase())),
            (None, Some(o)) => Some(Grantee::Organization(o.to_ascii_lowercase())),
            _ => None,
        }
    }
}

/// `POST /control/consents/grant {"user_id"|"organization_id": …, "scopes": [...]}`.
async fn grant(State(app): State<AppState>, Json(t): Json<ConsentTarget>) -> Response {
    let Some(grantee) = t.grantee() else {
        return bad(StatusCode::BAD_REQUEST, "give exactly one of user_id and organization_id");
    };
    let now = app.clock.now();
    app.world().grant(grantee, &app.fixture.integration.key, &t.scopes, None, now);
    ok(json!({ "granted": true }))
}

/// `POST /control/consents/revoke {"user_id"|"organization_id": …}`: refresh tokens stop at
/// once, access tokens at their expiry.
async fn revoke(State(app): State<AppState>, Json(t): Json<ConsentTarget>) -> Response {
    let Some(grantee) = t.grantee() else {
        return bad(StatusCode::BAD_REQUEST, "give exactly one of user_id and organization_id");
    };
    let revoked = app.world().revoke(|c| c.grantee == grantee);
    ok(json!({ "revoked": revoked }))
}

#[derive(Deserialize)]
struct DomainStatus {
    status: String,
}

/// `PUT /control/organizations/{orgId}/reserved_domains/{id or host_name} {"status": "active"}`.
async fn set_domain(
    State(app): State<AppState>,
    Path((org_id, domain)): Path<(String, String)>,
    Json(s): Json<DomainStatus>,
) -> Response {
    if !DOMAIN_STATUSES.contains(&s.status.as_str()) {
        return bad(StatusCode::BAD_REQUEST, "status must be unknown, pending, active, deactivated or rejected");
    }
    let mut world = app.world();
    let Some(org) = world.orgs.iter_mut().find(|o| o.id.eq_ignore_ascii_case(&org_id)) else {
        return bad(StatusCode::NOT_FOUND, "no such organization");
    };
    let Some(d) = org
        .reserved_domains
        .iter_mut()
        .find(|d| d.id.eq_ignore_ascii_case(&domain) || d.host_name.eq_ignore_ascii_case(&domain))
    else {
        return bad(StatusCode::NOT_FOUND, "no such reserved domain");
    };
    d.status = s.status;
    let body = domain_json(&app.hosts.admin_api, &org.id, d);
    drop(world);
    // A domain that is no longer active stops covering its users' refresh tokens.
    app.world().revoke(|_| false);
    ok(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsChange {
    #[serde(default)]
    settings: BTreeMap<String, Value>,
    #[serde(default)]
    read_only: Vec<String>,
    #[serde(default)]
    editable: Vec<String>,
}

/// `PUT /control/accounts/{accountId}/settings {"settings": {...}, "read_only": [], "editable": []}`:
/// changes settings and their rights regardless of who may change them through the API.
async fn set_settings(State(app): State<AppState>, Path(account_id): Path<String>, Json(c): Json<SettingsChange>) -> Response {
    let mut world = app.world();
    let Some(a) = world.account_mut(&account_id) else {
        return bad(StatusCode::NOT_FOUND, "no such account");
    };
    a.settings.extend(c.settings);
    a.read_only.extend(c.read_only);
    for e in &c.editable {
        a.read_only.remove(e);
    }
    ok(json!({ "settings": a.settings }))
}

#[derive(Deserialize)]
struct HmacKeys {
    keys: Vec<String>,
}

/// `PUT /control/accounts/{accountId}/hmac_keys {"keys": ["…"]}`: the account's Connect keys.
async fn set_hmac_keys(State(app): State<AppState>, Path(account_id): Path<String>, Json(k): Json<HmacKeys>) -> Response {
    let mut world = app.world();
    let Some(a) = world.account_mut(&account_id) else {
        return bad(StatusCode::NOT_FOUND, "no such account");
    };
    a.hmac_keys = k.keys;
    ok(json!({ "keys": a.hmac_keys.len() }))
}

/// `GET /control/faults`.
async fn list_faults(State(app): State<AppState>) -> Response {
    ok(json!({ "faults": app.world().faults }))
}

/// `POST /control/faults {…}`: adds a rule, replacing one with the same scope and endpoint.
async fn add_fault(State(app): State<AppState>, Json(f): Json<Fault>) -> Response {
    if !(0.0..=1.0).contains(&f.fail_5xx_ratio) {
        return bad(StatusCode::BAD_REQUEST, "fail_5xx_ratio must be between 0 and 1");
    }
    let mut world = app.world();
    world.faults.retain(|g| !(g.scope == f.scope && g.endpoint == f.endpoint));
    world.faults.push(f);
    ok(json!({ "faults": world.faults }))
}

/// `DELETE /control/faults`: removes every rule.
async fn clear_faults(State(app): State<AppState>) -> Response {
    app.world().faults.clear();
    ok(json!({ "faults": [] }))
}

/// How long an exhausted hourly allowance stays used up at least (seconds); see [`exhaust`].
const EXHAUST_HOLDS_AT_LEAST: i64 = 600;

#[derive(Deserialize)]
struct Exhaust {
    account_id: String,
    #[serde(default)]
    burst: bool,
}

/// `POST /control/rate_limit/exhaust {"account_id": …, "burst": false}`: uses up the account's
/// hourly (or burst) allowance, so the next call gets the documented over-limit answer.
///
/// The hourly window ends at the top of each hour, as DocuSign's does: used up at 10:59:59 it
/// would be renewed for a call at 11:00:00. So when less than [`EXHAUST_HOLDS_AT_LEAST`] of the
/// hour is left, the sandbox's clock first moves on to the next hour (by at most that much), and
/// the allowance stays used up for the rest of a test, whatever the wall clock says.
async fn exhaust(State(app): State<AppState>, Json(e): Json<Exhaust>) -> Response {
    let left = 3600 - app.clock.now().rem_euclid(3600);
    if !e.burst && left < EXHAUST_HOLDS_AT_LEAST {
        app.clock.advance(left);
    }
    let now = app.clock.now();
    let limits = app.fixture.limits.clone();
    let mut world = app.world();
    let key = world.account(&e.account_id).map_or_else(|| e.account_id.to_ascii_lowercase(), |a| a.seed.id.to_ascii_lowercase());
    let window = world.windows.entry(key).or_default();
    if e.burst {
        while window.hit(&limits, now).1.is_none() {}
    } else {
        window.exhaust(&limits, now);
    }
    let which = if e.burst { Exceeded::Burst } else { Exceeded::Hourly };
    ok(json!({ "exhausted": format!("{which:?}").to_ascii_lowercase() }))
}

/// `GET /control/requests` → `{"GET /oauth/userinfo": 1, "POST /oauth/token authorization_code": 1, …}`.
async fn requests(State(app): State<AppState>) -> Response {
    ok(json!(app.world().counts))
}

/// `DELETE /control/requests`: zeroes the counters.
async fn clear_requests(State(app): State<AppState>) -> Response {
    app.world().counts.clear();
    ok(json!({}))
}

#[derive(Deserialize)]
struct Publish {
    account_id: String,
    connect_id: String,
    #[serde(default = "default_event")]
    event: String,
}

fn default_event() -> String {
    "envelope-completed".to_owned()
}

/// `POST /control/connect/publish {"account_id", "connect_id", "event"?}` → the delivery record
/// (404 unknown configuration, 409 configuration does not publish).
async fn publish(State(app): State<AppState>, Json(p): Json<Publish>) -> Response {
    match connect::publish(&app, &p.account_id, &p.connect_id, &p.event).await {
        Ok(d) => ok(json!(d)),
        Err(PublishError::NotFound(m)) => bad(StatusCode::NOT_FOUND, &m),
        Err(PublishError::NotPublishing(m)) => bad(StatusCode::CONFLICT, &m),
    }
}

/// `GET /control/connect/deliveries`: every delivery attempt, oldest first.
async fn deliveries(State(app): State<AppState>) -> Response {
    ok(json!({ "deliveries": app.world().deliveries }))
}
