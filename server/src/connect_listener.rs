//! The portal's Connect (webhook) listener core: verifying DocuSign's HMAC signatures on a
//! delivery and reading the few fields of a JSON SIM message the portal records (reference
//! section 6). The HTTP route that feeds it the raw body, the tenant's keys and the recording of
//! the last verified delivery live elsewhere; this module does no I/O.

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use subtle::ConstantTimeEq as _;

/// Header names carrying signatures are this prefix plus a number (`X-DocuSign-Signature-1`,
/// `-2`, …), one per active Connect key. `HeaderMap` stores names in lowercase.
pub const SIGNATURE_HEADER_PREFIX: &str = "x-docusign-signature-";

/// At most this many signature headers are considered. DocuSign sends one per active key (a
/// third-party note says up to 100); the cap bounds the work a forged request can cause.
pub const MAX_SIGNATURE_HEADERS: usize = 100;

/// Length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;

/// Why a delivery is rejected. The caller answers with [`SignatureError::status`] and records
/// nothing; DocuSign retries failed deliveries when the configuration requires acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-DocuSign-Signature-N` header (HMAC is off on the configuration, or the request is
    /// not from DocuSign). HTTP 401.
    #[error("the request carries no X-DocuSign-Signature header")]
    Missing,
    /// No signature matches any key: tampered body, wrong or rotated key, or a malformed header.
    /// HTTP 401.
    #[error("no X-DocuSign-Signature header matches a configured key")]
    Invalid,
    /// The portal has no (non-empty) Connect key for the tenant, so nothing can be verified and
    /// every delivery is refused. HTTP 503, so DocuSign keeps retrying until keys are configured.
    #[error("no Connect HMAC key is configured for this tenant")]
    NoKeysConfigured,
}

impl SignatureError {
    /// The HTTP status to answer with.
    pub fn status(self) -> http::StatusCode {
        match self {
            Self::Missing | Self::Invalid => http::StatusCode::UNAUTHORIZED,
            Self::NoKeysConfigured => http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Verifies a Connect delivery: valid when ANY `X-DocuSign-Signature-N` header equals
/// base64(HMAC-SHA256(key, `body`)) for ANY of `keys` (UTF-8 secrets), so keys can be rotated
/// with both active. `body` must be the raw bytes as received: re-serialized JSON has another
/// signature.
///
/// Each key's tag is computed once and compared with every header in constant time. Headers that
/// are not base64 or not 32 bytes long simply do not match.
///
/// # Errors
/// [`SignatureError::NoKeysConfigured`] when `keys` holds no non-empty key (checked first: fail
/// closed), [`SignatureError::Missing`] when there is no signature header,
/// [`SignatureError::Invalid`] when none matches.
pub fn verify_signatures(body: &[u8], headers: &http::HeaderMap, keys: &[SecretString]) -> Result<(), SignatureError> {
    // An empty secret would make a tag anyone can compute; treat it as not configured.
    let tags: Vec<[u8; TAG_LEN]> =
        keys.iter().map(|k| k.expose_secret()).filter(|k| !k.is_empty()).map(|k| tag(k.as_bytes(), body)).collect();
    if tags.is_empty() {
        return Err(SignatureError::NoKeysConfigured);
    }

    let signatures: Vec<&http::HeaderValue> = headers
        .iter()
        .filter(|(name, _)| is_signature_header(name.as_str()))
        .map(|(_, value)| value)
        .take(MAX_SIGNATURE_HEADERS)
        .collect();
    if signatures.is_empty() {
        return Err(SignatureError::Missing);
    }

    let mut matched = subtle::Choice::from(0u8);
    for value in signatures {
        let Some(given) = decode_signature(value) else { continue };
        for expected in &tags {
            // Not short-circuiting keeps the time independent of which key matched.
            matched |= expected.as_slice().ct_eq(given.as_slice());
        }
    }
    if bool::from(matched) { Ok(()) } else { Err(SignatureError::Invalid) }
}

/// `x-docusign-signature-` followed by digits only.
fn is_signature_header(name: &str) -> bool {
    name.len() > SIGNATURE_HEADER_PREFIX.len()
        && name[..SIGNATURE_HEADER_PREFIX.len()].eq_ignore_ascii_case(SIGNATURE_HEADER_PREFIX)
        && name[SIGNATURE_HEADER_PREFIX.len()..].bytes().all(|b| b.is_ascii_digit())
}

/// The header's 32-byte tag, or `None` when it is not standard base64 of 32 bytes.
fn decode_signature(value: &http::HeaderValue) -> Option<[u8; TAG_LEN]> {
    let text = value.to_str().ok()?.trim();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    bytes.try_into().ok()
}

fn tag(key: &[u8], body: &[u8]) -> [u8; TAG_LEN] {
    crate::crypto::hmac_sha256(key, body)
}

/// The fields of a JSON SIM Connect message the portal records. Everything but `event` is
/// optional, because the payload's shape depends on the event and on `includeData`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectEvent {
    /// The event name, e.g. `envelope-completed`.
    pub event: String,
    /// `data.accountId`: the account the event belongs to (compare it with the tenant's).
    pub account_id: Option<String>,
    /// `data.envelopeId`, for envelope and recipient events.
    pub envelope_id: Option<String>,
    /// `generatedDateTime` as sent (ISO 8601 text; not parsed, since only shown).
    pub generated: Option<String>,
}

/// Why a verified body is not a JSON SIM message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventParseError {
    /// The body is not a JSON object (e.g. an XML message from a legacy configuration). HTTP 400.
    #[error("the Connect message is not a JSON object")]
    NotJson,
    /// The object has no non-empty string `event`. HTTP 400.
    #[error("the Connect message has no event name")]
    NoEvent,
}

impl ConnectEvent {
    /// Reads a JSON SIM message leniently: unknown fields are ignored, and a field of the wrong
    /// type or an empty one is `None`. Values longer than 200 characters are dropped too, since
    /// they are not DocuSign ids or timestamps and would only bloat what is stored.
    ///
    /// # Errors
    /// [`EventParseError`] when the body is not a JSON object with an `event` name.
    pub fn parse(body: &[u8]) -> Result<Self, EventParseError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| EventParseError::NotJson)?;
        let object = value.as_object().ok_or(EventParseError::NotJson)?;
        let field = |v: Option<&Value>| {
            v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty() && s.chars().count() <= 200).map(str::to_owned)
        };
        let data = object.get("data");
        Ok(Self {
            event: field(object.get("event")).ok_or(EventParseError::NoEvent)?,
            account_id: field(data.and_then(|d| d.get("accountId"))),
            envelope_id: field(data.and_then(|d| d.get("envelopeId"))),
            generated: field(object.get("generatedDateTime")),
        })
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac as _};
    use http::{HeaderMap, HeaderValue};
    use sha2::Sha256;

    use super::*;

    const BODY: &[u8] = br#"{"event":"envelope-completed","apiVersion":"v2.1","generatedDateTime":"2024-01-01T00:00:00.000Z","data":{"accountId":"a4ec37d6-04d0-4a30-a0c1-143885c0a9d0","envelopeId":"93be49ab-afa0-4adf-933c-f752070d71ec"}}
"#;

    /// What DocuSign sends, computed independently of the code under test's helpers.
    fn sign(key: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    fn keys(list: &[&str]) -> Vec<SecretString> {
        list.iter().map(|k| SecretString::from((*k).to_owned())).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_good_signature_is_accepted() {
        let sig = sign("key-1", BODY);
        let h = headers(&[("X-DocuSign-Signature-1", &sig), ("X-Authorization-Digest", "HMACSHA256")]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Ok(()));
    }

    #[test]
    fn the_header_name_matches_in_any_case() {
        let sig = sign("key-1", BODY);
        assert_eq!(verify_signatures(BODY, &headers(&[("x-docusign-signature-1", &sig)]), &keys(&["key-1"])), Ok(()));
        assert_eq!(verify_signatures(BODY, &headers(&[("X-DOCUSIGN-SIGNATURE-1", &sig)]), &keys(&["key-1"])), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_rejected() {
        let h = headers(&[("X-DocuSign-Signature-1", &sign("key-1", BODY))]);
        let mut tampered = BODY.to_vec();
        tampered.pop(); // even the final line ending is signed
        assert_eq!(verify_signatures(&tampered, &h, &keys(&["key-1"])), Err(SignatureError::Invalid));
    }

    #[test]
    fn a_signature_made_with_another_key_is_rejected() {
        let h = headers(&[("X-DocuSign-Signature-1", &sign("someone-else", BODY))]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Err(SignatureError::Invalid));
    }

    #[test]
    fn a_request_without_signature_headers_is_rejected_as_missing() {
        let h = headers(&[("X-Authorization-Digest", "HMACSHA256"), ("X-DocuSign-Signature", &sign("key-1", BODY))]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Err(SignatureError::Missing));
        assert_eq!(verify_signatures(BODY, &HeaderMap::new(), &keys(&["key-1"])), Err(SignatureError::Missing));
    }

    #[test]
    fn any_configured_key_may_match_so_keys_can_be_rotated() {
        let h = headers(&[("X-DocuSign-Signature-1", &sign("new-key", BODY))]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["old-key", "new-key"])), Ok(()));
    }

    #[test]
    fn any_signature_header_may_match() {
        let h = headers(&[
            ("X-DocuSign-Signature-1", &sign("retired-key", BODY)),
            ("X-DocuSign-Signature-2", &sign("key-1", BODY)),
        ]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Ok(()));
    }

    #[test]
    fn a_header_that_is_not_base64_does_not_match_but_another_may() {
        let bad = headers(&[("X-DocuSign-Signature-1", "not base64 at all!")]);
        assert_eq!(verify_signatures(BODY, &bad, &keys(&["key-1"])), Err(SignatureError::Invalid));
        let mixed = headers(&[("X-DocuSign-Signature-1", "%%%"), ("X-DocuSign-Signature-2", &sign("key-1", BODY))]);
        assert_eq!(verify_signatures(BODY, &mixed, &keys(&["key-1"])), Ok(()));
    }

    #[test]
    fn a_base64_value_of_the_wrong_length_does_not_match() {
        let short = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
        let h = headers(&[("X-DocuSign-Signature-1", &short)]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Err(SignatureError::Invalid));
    }

    #[test]
    fn without_keys_every_delivery_is_refused() {
        let h = headers(&[("X-DocuSign-Signature-1", &sign("", BODY))]);
        assert_eq!(verify_signatures(BODY, &h, &[]), Err(SignatureError::NoKeysConfigured));
        // An empty secret is not a key: its tag is computable by anyone.
        assert_eq!(verify_signatures(BODY, &h, &keys(&[""])), Err(SignatureError::NoKeysConfigured));
        assert_eq!(SignatureError::NoKeysConfigured.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(SignatureError::Invalid.status(), http::StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn surrounding_whitespace_in_the_header_value_is_ignored() {
        let h = headers(&[("X-DocuSign-Signature-1", &format!(" {} ", sign("key-1", BODY)))]);
        assert_eq!(verify_signatures(BODY, &h, &keys(&["key-1"])), Ok(()));
    }

    #[test]
    fn a_json_sim_message_yields_event_account_envelope_and_time() {
        let event = ConnectEvent::parse(BODY).unwrap();
        assert_eq!(
            event,
            ConnectEvent {
                event: "envelope-completed".into(),
                account_id: Some("a4ec37d6-04d0-4a30-a0c1-143885c0a9d0".into()),
                envelope_id: Some("93be49ab-afa0-4adf-933c-f752070d71ec".into()),
                generated: Some("2024-01-01T00:00:00.000Z".into()),
            }
        );
    }

    #[test]
    fn missing_or_mistyped_optional_fields_become_none() {
        let event = ConnectEvent::parse(br#"{"event":"envelope-sent","configurationId":12345,"data":{"accountId":42}}"#).unwrap();
        assert_eq!(event.event, "envelope-sent");
        assert_eq!((event.account_id, event.envelope_id, event.generated), (None, None, None));
    }

    #[test]
    fn a_body_that_is_not_a_json_object_with_an_event_is_refused() {
        assert_eq!(ConnectEvent::parse(b"<DocuSignEnvelopeInformation/>"), Err(EventParseError::NotJson));
        assert_eq!(ConnectEvent::parse(b"[1,2]"), Err(EventParseError::NotJson));
        assert_eq!(ConnectEvent::parse(br#"{"data":{}}"#), Err(EventParseError::NoEvent));
        assert_eq!(ConnectEvent::parse(br#"{"event":""}"#), Err(EventParseError::NoEvent));
    }
}
