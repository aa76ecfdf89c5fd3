//! Vary mode (`vary = true` in the fixture, `--vary`, [`super::SandboxConfig::varied`]): the
//! sandbox changes everything the reference (`shared/reference/docusign-api.md`) leaves open, so a
//! portal that leans on one of the sandbox's own choices breaks in tests instead of in production.
//!
//! What changes, and why each point is open, is listed in this folder's `README.md` ("Vary mode").
//! Here live the pieces shared by the hosts: the response middleware (key order, unknown fields,
//! array order, error wording, undocumented error codes), the JSON writer it uses, and the
//! token and code format. Each handler keeps its own small vary choices (`is_default` as a
//! string, `expires_in` as a string, the redirect's parameter order, …) beside the plain one.
//!
//! Everything is deterministic: the same request gives the same shape every time, so a portal
//! defect shows up on every run, never once in a while.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{Map, Value, json};

use super::state::AppState;

/// The largest sandbox answer the middleware rewrites (settings are the largest, a few KB).
const MAX_REWRITE: usize = 4 * 1024 * 1024;

/// Which host answered: each has its own error body style (reference §2.6, §4, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The account server. Only userinfo's error description is rewritten here: the token
    /// endpoint's `error_description` values are documented codes (§2.6), kept as they are.
    Account,
    /// eSignature REST: `{"errorCode", "message"}`.
    Esign,
    /// The Admin API: `{"error", "error_description"}` (its rate limiter answers eSignature style).
    Admin,
}

/// eSignature `errorCode`s the reference does not document (the sandbox chose them, see the
/// README's Decisions), with the different code vary mode answers instead.
const UNDOCUMENTED_ESIGN_CODES: [(&str, &str); 6] = [
    ("USER_LACKS_PERMISSIONS", "USER_NOT_AUTHORIZED_FOR_ACCOUNT"),
    ("ACCOUNT_LACKS_PERMISSIONS", "CONNECT_NOT_ENABLED_FOR_ACCOUNT"),
    ("INVALID_REQUEST_BODY", "REQUEST_BODY_UNREADABLE"),
    ("INVALID_REQUEST_PARAMETER", "INVALID_PARAMETER_VALUE"),
    // §4 gives this code's message but says its name was inferred, never verified.
    ("INVALID_USERID", "USER_NOT_VALID_FOR_HOST"),
    ("SERVICE_UNAVAILABLE", "TEMPORARILY_UNAVAILABLE"),
];

/// Admin API `error` codes: §7 documents only the body's shape (`error`, `error_description`).
const UNDOCUMENTED_ADMIN_CODES: [(&str, &str); 5] = [
    ("invalid_token", "unauthorized"),
    ("insufficient_scope", "scope_missing"),
    ("forbidden", "access_denied"),
    ("not_found", "organization_not_found"),
    ("invalid_request", "bad_request"),
];

/// The wording vary mode puts in every error description it may change: none of the sandbox's
/// words, nothing a client could match.
pub const ERROR_WORDING: &str = "The request could not be completed. Contact your administrator with reference 7c1e-vary.";

/// Unknown fields added to every JSON object the sandbox answers (when the object does not
/// already have them): a client must ignore fields it does not know.
fn unknown_fields() -> [(&'static str, Value); 2] {
    [
        ("varyUnknownField", json!({"note": "a field this client does not know", "nested": [1, "two", null]})),
        ("vary_unknown_flag", json!("true")),
    ]
}

/// A stable scrambled position for a key (FNV-1a): the same keys always come out in the same
/// order, which is neither alphabetical nor the order the handler built.
fn key_rank(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Writes `value` as JSON with vary mode's changes: every object's keys in the scrambled order
/// with the unknown fields added, and every array of two or more rotated by one (its first
/// element last), so no client can rely on which element comes first.
pub fn write(value: &Value) -> String {
    let mut out = String::new();
    write_into(value, &mut out);
    out
}

fn write_into(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            // (key, value, added here): an added field is written as it is, not varied again.
            let mut entries: Vec<(&str, Value, bool)> = map.iter().map(|(k, v)| (k.as_str(), v.clone(), false)).collect();
            for (name, extra) in unknown_fields() {
                if !map.contains_key(name) {
                    entries.push((name, extra, true));
                }
            }
            entries.sort_by_key(|(k, _, _)| key_rank(k));
            out.push('{');
            for (i, (k, v, added)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).to_owned()).to_string());
                out.push(':');
                if *added {
                    out.push_str(&v.to_string());
                } else {
                    write_into(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            let mut order: Vec<&Value> = items.iter().collect();
            if order.len() > 1 {
                order.rotate_left(1);
            }
            out.push('[');
            for (i, v) in order.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_into(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Rewrites an error body's description and undocumented code (see the tables above).
fn reword_error(host: Host, path: &str, body: &mut Map<String, Value>) {
    if let Some(Value::String(code)) = body.get("errorCode").cloned() {
        if let Some((_, other)) = UNDOCUMENTED_ESIGN_CODES.iter().find(|(c, _)| *c == code) {
            body.insert("errorCode".into(), json!(other));
        }
        if body.contains_key("message") {
            body.insert("message".into(), json!(ERROR_WORDING));
        }
        return;
    }
    let rewrite_description = match host {
        Host::Admin => {
            if let Some(Value::String(code)) = body.get("error").cloned()
                && let Some((_, other)) = UNDOCUMENTED_ADMIN_CODES.iter().find(|(c, _)| *c == code)
            {
                body.insert("error".into(), json!(other));
            }
            true
        }
        Host::Account => path == "/oauth/userinfo",
        Host::Esign => true,
    };
    if rewrite_description && body.contains_key("error_description") {
        body.insert("error_description".into(), json!(ERROR_WORDING));
    }
}

/// The middleware on every sandbox host (not the control API): when vary mode is on, JSON
/// answers are rewritten by [`write`], and error answers get vary mode's wording and codes.
pub async fn responses(State((app, host)): State<(AppState, Host)>, req: Request, next: Next) -> Response {
    if !app.fixture.vary {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_REWRITE).await else {
        // Never happens with the sandbox's own answers; say so rather than send half a body.
        return super::wire::json(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "server_error", "error_description": "The sandbox's answer was too large for vary mode."}),
        );
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        // Malformed on purpose (a fault): passed on untouched.
        return Response::from_parts(parts, Body::from(bytes));
    };
    if (parts.status.is_client_error() || parts.status.is_server_error())
        && let Value::Object(map) = &mut value
    {
        reword_error(host, &path, map);
    }
    let text = write(&value);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(text))
}

/// What a new authorization code, access token or refresh token looks like.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    Code,
    Access,
    Refresh,
}

/// A new code or token. Plain mode: 32 random bytes, base64url (43 characters). Vary mode: a
/// JWT-shaped string like the ones DocuSign issues (`eyJ0eXAiOiJNVCIs…`, reference §1 and §2.5:
/// header `{"typ":"MT","alg":"RS256",…}`, dots, hundreds of characters), a different length for
/// each kind, so the portal can assume neither a length nor an alphabet without dots.
pub fn credential(app: &AppState, kind: Credential) -> String {
    if !app.fixture.vary {
        return super::state::random_token();
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut rng = rand::thread_rng();
    let mut kid = [0u8; 16];
    rng.fill_bytes(&mut kid);
    let header = json!({"typ": "MT", "alg": "RS256", "kid": b64(&kid)}).to_string();
    let payload_len = match kind {
        Credential::Code => 380,
        Credential::Access => 610,
        Credential::Refresh => 870,
    };
    let mut payload = vec![0u8; payload_len];
    rng.fill_bytes(&mut payload);
    let mut signature = [0u8; 256];
    rng.fill_bytes(&mut signature);
    format!("{}.{}.{}", b64(header.as_bytes()), b64(&payload), b64(&signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_keeps_every_value_scrambles_keys_adds_unknown_fields_and_rotates_arrays() {
        let v = json!({"a": 1, "b": {"c": [1, 2, 3]}, "d": "x"});
        let text = write(&v);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["a"], 1);
        assert_eq!(back["d"], "x");
        assert_eq!(back["b"]["c"], json!([2, 3, 1]));
        assert!(back["varyUnknownField"].is_object() && back["b"]["vary_unknown_flag"] == "true");
        assert_eq!(write(&v), text, "deterministic");
        let keys: Vec<&str> = ["a", "b", "d", "varyUnknownField", "vary_unknown_flag"].to_vec();
        let positions: Vec<usize> = keys.iter().map(|k| text.find(&format!("\"{k}\"")).unwrap()).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_ne!(positions, sorted, "not in alphabetical order: {text}");
    }
}
