//! eSignature REST v2.1 on each base URI host: account information, account settings and the
//! account's Connect configurations (reference sections 4–6), behind token, membership and
//! rate-limit checks.

// The error side of these helpers is the finished HTTP answer, produced at most once per
// request; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::faults::{self, Scope};
use super::limits;
use super::state::{AccountState, AppState, ConnectLogEntry, World};
use super::vary;
use super::wire::{self, esign_error};

/// Who is calling, established by the gate.
#[derive(Debug, Clone)]
struct Caller {
    user_id: String,
    /// Logical base URI name of the host that received the request.
    base: Arc<String>,
}

/// The eSignature routes served on the base URI `base` (logical name).
pub fn router(app: AppState, base: String) -> Router {
    let base = Arc::new(base);
    Router::new()
        .route("/restapi/v2.1/accounts/{accountId}", get(get_account))
        .route("/restapi/v2.1/accounts/{accountId}/settings", get(get_settings).put(put_settings))
        .route("/restapi/v2.1/accounts/{accountId}/users/{userId}", get(get_user))
        .route(
            "/restapi/v2.1/accounts/{accountId}/connect",
            get(list_connect).post(create_connect).put(update_connect),
        )
        .route("/restapi/v2.1/accounts/{accountId}/connect/{connectId}", get(get_connect).delete(delete_connect))
        .route("/restapi/v2.1/accounts/{accountId}/connect/logs", get(connect_logs))
        .route("/restapi/v2.1/accounts/{accountId}/connect/failures", get(connect_failures))
        .route_layer(middleware::from_fn_with_state((app.clone(), base), gate))
        .route_layer(middleware::from_fn_with_state((app.clone(), Scope::Esign), faults::traffic))
        .route_layer(middleware::from_fn_with_state((app.clone(), vary::Host::Esign), vary::responses))
        .with_state(app)
}

/// Token check, then the account's rate limit; adds the limit headers to the answer.
async fn gate(State((app, base)): State<(AppState, Arc<String>)>, mut req: Request, next: Next) -> Response {
    let now = app.clock.now();
    let token = wire::bearer(req.headers());
    // /restapi/v2.1/accounts/{accountId}/…
    let path_account = req.uri().path().split('/').nth(4).unwrap_or_default().to_owned();
    let (caller, usage) = {
        let mut world = app.world();
        let Some(t) = token
            .and_then(|t| world.access.get(&t).cloned())
            .filter(|t| t.expires_at > now && t.scopes.contains("signature"))
        else {
            return wire::invalid_token();
        };
        let key = world.account(&path_account).map_or_else(|| path_account.to_ascii_lowercase(), |a| a.seed.id.to_ascii_lowercase());
        let limits = &app.fixture.limits;
        let (usage, exceeded) = world.windows.entry(key).or_default().hit(limits, now);
        if let Some(which) = exceeded {
            return limits::exceeded_response(limits, which, &usage, now, app.fixture.vary);
        }
        (Caller { user_id: t.user_id, base }, usage)
    };
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    limits::add_headers(resp.headers_mut(), &usage);
    resp
}

fn lacks_membership() -> Response {
    esign_error(StatusCode::BAD_REQUEST, "USER_LACKS_MEMBERSHIP", "The UserID does not have a valid membership in this Account.")
}

fn lacks_permissions() -> Response {
    esign_error(StatusCode::BAD_REQUEST, "USER_LACKS_PERMISSIONS", "This user lacks sufficient permissions to access this resource.")
}

fn bad_body() -> Response {
    esign_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY", "The request body is missing or improperly formatted.")
}

fn bad_parameter(message: &str) -> Response {
    esign_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_PARAMETER", message)
}

/// The account if the caller is a member and called it on its own base URI; and whether the
/// caller is an account admin.
fn member_account<'w>(world: &'w World, caller: &Caller, id: &str) -> Result<(&'w AccountState, bool), Response> {
    let user = world.user(&caller.user_id).ok_or_else(lacks_membership)?;
    let account = world.account(id).ok_or_else(lacks_membership)?;
    let membership = user.membership(&account.seed.id).ok_or_else(lacks_membership)?;
    if account.seed.base_uri != *caller.base {
        // The account lives on another base URI: DocuSign rejects the user for this host.
        return Err(esign_error(StatusCode::BAD_REQUEST, "INVALID_USERID", "Invalid UserId."));
    }
    Ok((account, membership.is_admin))
}

fn setting_is(account: &AccountState, name: &str, value: &str) -> bool {
    account.settings.get(name).and_then(Value::as_str) == Some(value)
}

fn settings_json(app: &AppState, account: &AccountState) -> Value {
    let mut out = Map::new();
    for (name, value) in &account.settings {
        out.insert(name.clone(), value.clone());
        let rights = if account.read_only.contains(name) { "read_only" } else { "editable" };
        // `uiHint`, `uiOrder` and `uiType` are reserved (reference §5) and `is21CFRPart11` is not
        // described: vary mode leaves them out, so only `rights` (and `options`) can be relied on.
        let mut meta = if app.fixture.vary {
            json!({ "rights": rights })
        } else {
            json!({ "rights": rights, "uiHint": "", "uiOrder": "", "uiType": "", "is21CFRPart11": "false" })
        };
        if let Some(options) = app.fixture.setting_options.get(name) {
            meta["options"] = json!(options);
        }
        out.insert(format!("{name}Metadata"), meta);
    }
    Value::Object(out)
}

/// `GET /restapi/v2.1/accounts/{accountId}[?include_account_settings=true]`.
async fn get_account(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let world = app.world();
    let (a, _) = match member_account(&world, &caller, &account_id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let seats = world.users.iter().filter(|u| u.membership(&a.seed.id).is_some()).count();
    let connect_permission = if setting_is(a, "envelopeIntegrationEnabled", "true") { "full" } else { "none" };
    let mut body = json!({
        "accountIdGuid": a.seed.id,
        "accountName": a.seed.name,
        "externalAccountId": a.seed.external_id,
        "createdDate": "2020-01-01T00:00:00.0000000Z",
        "currencyCode": "USD",
        "currentPlanId": "00000000-0000-0000-0000-000000000001",
        "planName": a.seed.plan_name,
        "planClassification": "partner",
        "planStartDate": "2020-01-01T00:00:00.0000000Z",
        "planEndDate": "",
        "billingPeriodStartDate": "2020-01-01T00:00:00.0000000Z",
        "billingPeriodEndDate": "2099-12-31T00:00:00.0000000Z",
        "billingPeriodDaysRemaining": "0",
        "billingPeriodEnvelopesSent": "0",
        "billingPeriodEnvelopesAllowed": "unlimited",
        "billingProfile": "web",
        "canUpgrade": "false",
        "isDowngrade": "false",
        "paymentMethod": "purchase_order",
        "envelopeUnitPrice": "$0.00",
        "distributorCode": "DEVCENTER_DEMO_APRIL2013",
        "docuSignLandingUrl": "https://www.docusign.com/",
        "seatsAllowed": "unlimited",
        "seatsInUse": seats.to_string(),
        "envelopeSendingBlocked": "false",
        "suspensionStatus": "",
        "suspensionDate": "",
        "status21CFRPart11": "not_enabled",
        "allowTransactionRooms": "false",
        "connectPermission": connect_permission,
        "forgottenPasswordQuestionsCount": "1",
        "recipientDomains": [],
        "useDisplayAppliance": false,
    });
    if q.get("include_account_settings").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        body["accountSettings"] = settings_json(&app, a);
    }
    wire::json(StatusCode::OK, body)
}

/// `GET …/users/{userId}` (`Users:get`): the user's `userInformation` in the account, with
/// `isAdmin` as DocuSign spells it (`"True"`/`"False"`). The caller must be a member; a user who
/// is not a member of the account is `INVALID_USERID` (see the README's decisions).
async fn get_user(State(app): State<AppState>, Extension(caller): Extension<Caller>, Path((account_id, user_id)): Path<(String, String)>) -> Response {
    let world = app.world();
    let a = match member_account(&world, &caller, &account_id) {
        Ok((a, _)) => a,
        Err(r) => return r,
    };
    let Some((user, membership)) = world.user(&user_id).and_then(|u| u.membership(&a.seed.id).map(|m| (u, m))) else {
        return esign_error(StatusCode::BAD_REQUEST, "INVALID_USERID", "Invalid UserId.");
    };
    let (profile_id, profile) = if membership.is_admin { ("1", "Account Administrator") } else { ("3", "DocuSign Sender") };
    wire::json(
        StatusCode::OK,
        json!({
            "userId": user.id,
            "userName": user.name(),
            "email": user.email,
            "firstName": user.given_name,
            "lastName": user.family_name,
            "userType": "CompanyUser",
            "userStatus": "Active",
            "isAdmin": if membership.is_admin { "True" } else { "False" },
            "permissionProfileId": profile_id,
            "permissionProfileName": profile,
            "createdDateTime": user.created,
            "uri": format!("/users/{}", user.id),
        }),
    )
}

/// `GET …/settings`: typed string fields, each with its `…Metadata`.
async fn get_settings(State(app): State<AppState>, Extension(caller): Extension<Caller>, Path(account_id): Path<String>) -> Response {
    let world = app.world();
    match member_account(&world, &caller, &account_id) {
        Ok((a, _)) => wire::json(StatusCode::OK, settings_json(&app, a)),
        Err(r) => r,
    }
}

/// `PUT …/settings`: partial update by an account admin; 200 with no body.
async fn put_settings(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut world = app.world();
    let (id, read_only) = match member_account(&world, &caller, &account_id) {
        Ok((_, false)) => return lacks_permissions(),
        Ok((a, true)) => (a.seed.id.clone(), a.read_only.clone()),
        Err(r) => return r,
    };
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return bad_body();
    };
    // Validate everything before changing anything: a refused PUT changes nothing.
    let mut apply = Vec::new();
    for (name, value) in changes {
        if name.ends_with("Metadata") || value.is_null() {
            continue;
        }
        if read_only.contains(&name) {
            return esign_error(
                StatusCode::BAD_REQUEST,
                "USER_LACKS_PERMISSIONS",
                &format!("This user lacks sufficient permissions to change the setting {name}."),
            );
        }
        let value = match value {
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Number(n) => Value::String(n.to_string()),
            other => other,
        };
        apply.push((name, value));
    }
    if let Some(a) = world.account_mut(&id) {
        a.settings.extend(apply);
    }
    StatusCode::OK.into_response()
}

/// Connect needs an account admin and Connect enabled on the account (reference section 6).
fn connect_account<'w>(world: &'w World, caller: &Caller, id: &str) -> Result<&'w AccountState, Response> {
    let (a, admin) = member_account(world, caller, id)?;
    if !admin {
        return Err(lacks_permissions());
    }
    if !setting_is(a, "envelopeIntegrationEnabled", "true") {
        return Err(esign_error(
            StatusCode::BAD_REQUEST,
            "ACCOUNT_LACKS_PERMISSIONS",
            "This Account lacks sufficient permissions. Connect is not enabled (envelopeIntegrationEnabled).",
        ));
    }
    Ok(a)
}

fn results(configs: Vec<Map<String, Value>>) -> Response {
    let total = configs.len().to_string();
    wire::json(StatusCode::OK, json!({ "configurations": configs, "totalRecords": total }))
}

/// `urlToPublishTo` must be https, or http when `allowConnectHttpListenerConfigs` is true.
fn check_url(a: &AccountState, config: &Map<String, Value>) -> Result<(), Response> {
    let Some(raw) = config.get("urlToPublishTo").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return Err(bad_parameter("urlToPublishTo is required."));
    };
    let ok = url::Url::parse(raw).ok().is_some_and(|u| {
        u.host_str().is_some()
            && (u.scheme() == "https" || (u.scheme() == "http" && setting_is(a, "allowConnectHttpListenerConfigs", "true")))
    });
    if ok {
        Ok(())
    } else {
        Err(bad_parameter("urlToPublishTo must be an https:// URL (http:// only when allowConnectHttpListenerConfigs is true)."))
    }
}

fn unknown_connect(id: &str) -> Response {
    bad_parameter(&format!("The Connect configuration {id} does not exist."))
}

/// `GET …/connect`.
async fn list_connect(State(app): State<AppState>, Extension(caller): Extension<Caller>, Path(account_id): Path<String>) -> Response {
    let world = app.world();
    match connect_account(&world, &caller, &account_id) {
        Ok(a) => results(a.connect.clone()),
        Err(r) => r,
    }
}

/// `GET …/connect/{connectId}`: the list wrapper, even for one id.
async fn get_connect(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((account_id, connect_id)): Path<(String, String)>,
) -> Response {
    let world = app.world();
    let a = match connect_account(&world, &caller, &account_id) {
        Ok(a) => a,
        Err(r) => return r,
    };
    match a.connect.iter().find(|c| c.get("connectId").and_then(Value::as_str) == Some(connect_id.as_str())) {
        Some(c) => results(vec![c.clone()]),
        None => unknown_connect(&connect_id),
    }
}

/// `POST …/connect`: 201 with the stored configuration.
async fn create_connect(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut world = app.world();
    let id = match connect_account(&world, &caller, &account_id) {
        Ok(a) => a.seed.id.clone(),
        Err(r) => return r,
    };
    let Ok(Value::Object(mut config)) = serde_json::from_slice::<Value>(&body) else {
        return bad_body();
    };
    if config.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
        return bad_parameter("name is required.");
    }
    world.next_connect_id += 1;
    let connect_id = world.next_connect_id.to_string();
    let Some(a) = world.account_mut(&id) else { return lacks_membership() };
    if let Err(r) = check_url(a, &config) {
        return r;
    }
    config.insert("connectId".into(), Value::String(connect_id));
    config.entry("configurationType").or_insert_with(|| Value::String("custom".into()));
    // DocuSign's default: a configuration publishes nothing until this is "true".
    config.entry("allowEnvelopePublish").or_insert_with(|| Value::String("false".into()));
    a.connect.push(config.clone());
    (StatusCode::CREATED, axum::Json(Value::Object(config))).into_response()
}

/// `PUT …/connect`: the body names the configuration by `connectId`.
async fn update_connect(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut world = app.world();
    let id = match connect_account(&world, &caller, &account_id) {
        Ok(a) => a.seed.id.clone(),
        Err(r) => return r,
    };
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return bad_body();
    };
    let Some(connect_id) = changes.get("connectId").and_then(Value::as_str).map(str::to_owned) else {
        return bad_parameter("connectId is required.");
    };
    let Some(a) = world.account_mut(&id) else { return lacks_membership() };
    let Some(index) = a.connect.iter().position(|c| c.get("connectId").and_then(Value::as_str) == Some(connect_id.as_str())) else {
        return unknown_connect(&connect_id);
    };
    let mut updated = a.connect[index].clone();
    updated.extend(changes);
    if let Err(r) = check_url(a, &updated) {
        return r;
    }
    a.connect[index] = updated.clone();
    wire::json(StatusCode::OK, Value::Object(updated))
}

/// `DELETE …/connect/{connectId}`: 200 with no body.
async fn delete_connect(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((account_id, connect_id)): Path<(String, String)>,
) -> Response {
    let mut world = app.world();
    let id = match connect_account(&world, &caller, &account_id) {
        Ok(a) => a.seed.id.clone(),
        Err(r) => return r,
    };
    let Some(a) = world.account_mut(&id) else { return lacks_membership() };
    let before = a.connect.len();
    a.connect.retain(|c| c.get("connectId").and_then(Value::as_str) != Some(connect_id.as_str()));
    if a.connect.len() == before {
        return unknown_connect(&connect_id);
    }
    StatusCode::OK.into_response()
}

/// Log entries are deleted after this long (the documentation: "deleted after 15 days").
const LOG_RETENTION_SECONDS: i64 = 15 * 24 * 3600;

/// `from_date` / `to_date` of the log queries ("UTC DateTime format"): RFC 3339, or a date-time
/// or date without a zone (read as UTC). `Err` names the parameter.
fn date_param(q: &std::collections::HashMap<String, String>, name: &str) -> Result<Option<i64>, Response> {
    let Some(raw) = q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) else { return Ok(None) };
    let parsed = chrono::DateTime::parse_from_rfc3339(raw)
        .map(|d| d.timestamp())
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|d| d.and_utc().timestamp()))
        .or_else(|_| chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).map_or(0, |d| d.and_utc().timestamp())));
    parsed.map(Some).map_err(|_| bad_parameter(&format!("{name} is not a date-time.")))
}

/// A `ConnectLog` object. `created` is written the way eSignature writes its other date-times
/// (`2020-01-01T00:00:00.0000000Z`); vary mode writes an RFC 3339 offset instead (`+00:00`), as the
/// documentation gives no format.
fn log_json(app: &AppState, e: &ConnectLogEntry, failure: bool) -> Value {
    let when = e.at;
    let created = if app.fixture.vary {
        when.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
    } else {
        super::clock::seven_digit_time(when)
    };
    let base = format!("/accounts/{}/connect", e.account_id);
    let mut v = json!({
        "accountId": e.account_id,
        "connectId": e.connect_id,
        "configUrl": e.config_url,
        "created": created,
        "envelopeId": e.envelope_id,
        "status": e.status,
        "subject": "Sandbox test envelope",
        "email": e.email,
        "userName": e.user_name,
        "error": e.error.clone().unwrap_or_default(),
    });
    if failure {
        v["failureId"] = json!(e.id);
        v["failureUri"] = json!(format!("{base}/failures/{}", e.id));
        v["retryUri"] = json!(format!("{base}/envelopes/{}/retry_queue", e.envelope_id));
        v["retryCount"] = json!("0");
        v["lastTry"] = v["created"].clone();
    } else {
        v["logId"] = json!(e.id);
        v["logUri"] = json!(format!("{base}/logs/{}", e.id));
    }
    v
}

/// The entries of `entries` (of `account`) in the query's date range and still kept, newest first.
fn log_answer(
    app: &AppState,
    account: &AccountState,
    entries: &[ConnectLogEntry],
    q: &std::collections::HashMap<String, String>,
    failure: bool,
) -> Response {
    let (from, to) = match (date_param(q, "from_date"), date_param(q, "to_date")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let now = app.clock.now();
    let list: Vec<Value> = entries
        .iter()
        .rev()
        .filter(|e| e.account_id.eq_ignore_ascii_case(&account.seed.id))
        .filter(|e| failure || e.at.timestamp() > now - LOG_RETENTION_SECONDS)
        .filter(|e| from.is_none_or(|f| e.at.timestamp() >= f) && to.is_none_or(|t| e.at.timestamp() <= t))
        .map(|e| log_json(app, e, failure))
        .collect();
    let total = list.len().to_string();
    let key = if failure { "failures" } else { "logs" };
    wire::json(StatusCode::OK, json!({ key: list, "totalRecords": total }))
}

/// `GET …/connect/logs[?from_date&to_date]`: `ConnectLogs` with `logs`, newest first, for
/// configurations with `enableLog` on (account administrators, Connect enabled).
async fn connect_logs(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let world = app.world();
    match connect_account(&world, &caller, &account_id) {
        Ok(a) => log_answer(&app, a, &world.connect_logs, &q, false),
        Err(r) => r,
    }
}

/// `GET …/connect/failures[?from_date&to_date]`: `ConnectLogs` with `failures`, newest first.
async fn connect_failures(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let world = app.world();
    match connect_account(&world, &caller, &account_id) {
        Ok(a) => log_answer(&app, a, &world.connect_failures, &q, true),
        Err(r) => r,
    }
}
