//! Connect delivery: publishes a JSON SIM test event to a configuration's `urlToPublishTo`,
//! signed with the account's HMAC keys when the configuration includes HMAC (reference
//! section 6), and records whether the listener accepted it.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use super::faults::{self, DeliveryFault};
use super::fixture::User;
use super::state::{AppState, ConnectLogEntry, Delivery};

/// `X-DocuSign-Signature-N` value: base64(HMAC-SHA256(key, raw body)).
pub fn signature(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Why nothing was sent.
#[derive(Debug)]
pub enum PublishError {
    NotFound(String),
    NotPublishing(String),
}

/// Sends one event for `connect_id` of `account_id` and records the delivery.
pub async fn publish(app: &AppState, account_id: &str, connect_id: &str, event: &str) -> Result<Delivery, PublishError> {
    let now = app.clock.now();
    let started = app.clock.now_utc();
    let (url, keys, account_guid, sender, log_enabled) = {
        let world = app.world();
        let account = world
            .account(account_id)
            .ok_or_else(|| PublishError::NotFound(format!("no account {account_id}")))?;
        let config = account
            .connect
            .iter()
            .find(|c| c.get("connectId").and_then(Value::as_str) == Some(connect_id))
            .ok_or_else(|| PublishError::NotFound(format!("no Connect configuration {connect_id}")))?;
        let flag = |name: &str| config.get(name).and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if account.settings.get("envelopeIntegrationEnabled").and_then(Value::as_str) != Some("true") {
            return Err(PublishError::NotPublishing("Connect is not enabled on the account".into()));
        }
        if !flag("allowEnvelopePublish") {
            return Err(PublishError::NotPublishing("allowEnvelopePublish is not \"true\"".into()));
        }
        let url = config.get("urlToPublishTo").and_then(Value::as_str).unwrap_or_default().to_owned();
        let keys = if flag("includeHMAC") { account.hmac_keys.clone() } else { Vec::new() };
        let user = world.users.iter().find(|u| u.membership(&account.seed.id).is_some_and(|m| m.is_admin)).cloned();
        (url, keys, account.seed.id.clone(), user, flag("enableLog"))
    };
    let user_id = sender.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let envelope_id = uuid::Uuid::new_v4().to_string();
    let payload = json!({
        "event": event,
        "apiVersion": "v2.1",
        "uri": format!("/restapi/v2.1/accounts/{account_guid}/envelopes/{envelope_id}"),
        "retryCount": 0,
        "configurationId": connect_id.parse::<i64>().unwrap_or(0),
        // The schema's example has milliseconds; other DocuSign date-times have seven digits, and
        // nothing pins the format: vary mode sends seven.
        "generatedDateTime": if app.fixture.vary {
            super::clock::seven_digit_time(app.clock.now_utc())
        } else {
            app.clock.now_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        },
        "data": {
            "accountId": account_guid,
            "userId": user_id,
            "envelopeId": envelope_id.clone(),
            "envelopeSummary": {"status": event.strip_prefix("envelope-").unwrap_or("sent"), "emailSubject": "Sandbox test envelope"},
        },
    });
    // Vary mode: the message's keys in another order, unknown fields, arrays rotated (the
    // listener must verify the raw bytes and read fields by name).
    let body = if app.fixture.vary { super::vary::write(&payload).into_bytes() } else { serde_json::to_vec(&payload).unwrap_or_default() };
    let mut request = app
        .http
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-DocuSign-AccountId", &account_guid);
    if !keys.is_empty() {
        request = request.header("X-Authorization-Digest", "HMACSHA256");
    }
    // One header per key; which key is `-1` is not documented, so vary mode numbers them from the
    // last key.
    let mut keys = keys;
    if app.fixture.vary {
        keys.reverse();
    }
    for (i, key) in keys.iter().enumerate() {
        request = request.header(format!("X-DocuSign-Signature-{}", i + 1), signature(key, &body));
    }
    let fault = faults::delivery_fault(&mut app.world().faults, connect_id);
    let vary = app.fixture.vary;
    let (status, ok, error) = match fault {
        Some(DeliveryFault::Timeout) => (None, false, Some(failure_text(vary, None))),
        Some(DeliveryFault::Unavailable) => (Some(503), false, Some(failure_text(vary, Some(503)))),
        None => match request.body(body).send().await {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), true, None),
            Ok(r) => (Some(r.status().as_u16()), false, Some(failure_text(vary, Some(r.status().as_u16())))),
            Err(e) => (None, false, Some(format!("{} ({e})", failure_text(vary, None)))),
        },
    };
    let delivery = Delivery {
        at: now,
        account_id: account_guid,
        connect_id: connect_id.to_owned(),
        url,
        event: event.to_owned(),
        signatures: keys.len(),
        status,
        ok,
        error,
    };
    let entry = ConnectLogEntry {
        id: String::new(),
        at: started,
        account_id: delivery.account_id.clone(),
        connect_id: delivery.connect_id.clone(),
        config_url: delivery.url.clone(),
        envelope_id,
        status: envelope_status(event),
        email: sender.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
        user_name: sender.as_ref().map(User::name).unwrap_or_default(),
        error: delivery.error.clone(),
    };
    let mut world = app.world();
    world.deliveries.push(delivery.clone());
    if log_enabled {
        world.next_log_id += 1;
        let id = world.next_log_id.to_string();
        world.connect_logs.push(ConnectLogEntry { id, ..entry.clone() });
        // DocuSign keeps the 100 most recent log entries (see the README).
        let excess = world.connect_logs.len().saturating_sub(LOG_CAPACITY);
        world.connect_logs.drain(..excess);
    }
    if !delivery.ok {
        world.next_log_id += 1;
        let id = world.next_log_id.to_string();
        world.connect_failures.push(ConnectLogEntry { id, ..entry });
    }
    Ok(delivery)
}

/// How many entries the Connect log keeps (the documentation: "the 100 most recent").
pub const LOG_CAPACITY: usize = 100;

/// The `status` of a log entry: the envelope status the message reported, capitalized as the
/// `ConnectLog.status` values are documented (`Sent`, `Delivered`, `Completed`, …).
fn envelope_status(event: &str) -> String {
    let status = event.strip_prefix("envelope-").unwrap_or("sent");
    let mut chars = status.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// The `error` of a failed attempt: free text (the documentation describes the field only as
/// "the error that caused the Connect post to fail"), worded differently in vary mode.
fn failure_text(vary: bool, status: Option<u16>) -> String {
    match (vary, status) {
        (false, Some(code)) => format!("The remote server returned an error: ({code}) {}.", reason(code)),
        (false, None) => "The operation has timed out.".to_owned(),
        (true, Some(code)) => format!("Listener responded with HTTP status {code}"),
        (true, None) => "No response from the listener".to_owned(),
    }
}

fn reason(code: u16) -> &'static str {
    axum::http::StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}
