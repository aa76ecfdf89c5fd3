//! Connect delivery: publishes a JSON SIM test event to a configuration's `urlToPublishTo`,
//! signed with the account's HMAC keys when the configuration includes HMAC (reference
//! section 6), and records whether the listener accepted it.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use super::state::{AppState, Delivery};

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
    let (url, keys, account_guid, user_id) = {
        let world = app.world();
        let account = world
            .account(account_id)
            .ok_or_else(|| PublishError::NotFound(format!("no account {account_id}")))?;
        let config = account
            .connect
            .iter()
            .find(|c| c.get("connectId").and_then(Value::as_str) == Some(connect_id))
            .ok_or_else(|| PublishError::NotFound(format!("no Connect configuration {connect_id}")))?;
        let flag = |name: &str| config.get(name).and_then(Value::as_str) == Some("true");
        if account.settings.get("envelopeIntegrationEnabled").and_then(Value::as_str) != Some("true") {
            return Err(PublishError::NotPublishing("Connect is not enabled on the account".into()));
        }
        if !flag("allowEnvelopePublish") {
            return Err(PublishError::NotPublishing("allowEnvelopePublish is not \"true\"".into()));
        }
        let url = config.get("urlToPublishTo").and_then(Value::as_str).unwrap_or_default().to_owned();
        let keys = if flag("includeHMAC") { account.hmac_keys.clone() } else { Vec::new() };
        let user = world.users.iter().find(|u| u.membership(&account.seed.id).is_some_and(|m| m.is_admin));
        (url, keys, account.seed.id.clone(), user.map(|u| u.id.clone()).unwrap_or_default())
    };
    let envelope_id = uuid::Uuid::new_v4().to_string();
    let payload = json!({
        "event": event,
        "apiVersion": "v2.1",
        "uri": format!("/restapi/v2.1/accounts/{account_guid}/envelopes/{envelope_id}"),
        "retryCount": 0,
        "configurationId": connect_id.parse::<i64>().unwrap_or(0),
        "generatedDateTime": app.clock.now_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "data": {
            "accountId": account_guid,
            "userId": user_id,
            "envelopeId": envelope_id,
            "envelopeSummary": {"status": event.strip_prefix("envelope-").unwrap_or("sent"), "emailSubject": "Sandbox test envelope"},
        },
    });
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let mut request = app
        .http
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-DocuSign-AccountId", &account_guid);
    if !keys.is_empty() {
        request = request.header("X-Authorization-Digest", "HMACSHA256");
    }
    for (i, key) in keys.iter().enumerate() {
        request = request.header(format!("X-DocuSign-Signature-{}", i + 1), signature(key, &body));
    }
    let outcome = request.body(body).send().await;
    let (status, ok, error) = match outcome {
        Ok(r) => (Some(r.status().as_u16()), r.status().is_success(), None),
        Err(e) => (None, false, Some(e.to_string())),
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
    app.world().deliveries.push(delivery.clone());
    Ok(delivery)
}
