//! Signing per the Standard Webhooks specification
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>):
//! the symmetric scheme, `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`
//! under the endpoint's secret, which is shown to people as `whsec_<base64 of the key>`. Receivers
//! verify with any of the specification's published libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The prefix of a serialized symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Bytes of a generated key (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// The header carrying the event's id (the same on every attempt: the receiver's idempotency key).
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's Unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the signature(s).
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A fresh secret from the operating system's CSPRNG, serialized as `whsec_<base64>`.
pub fn generate_secret() -> SecretString {
    let mut key = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    SecretString::from(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// Why a secret cannot sign.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a webhook secret must be `whsec_` followed by base64")]
pub struct BadSecret;

/// The key bytes of a `whsec_<base64>` secret (the prefix is optional, as in the reference
/// libraries).
fn key_of(secret: &SecretString) -> Result<Vec<u8>, BadSecret> {
    let s = secret.expose_secret();
    let b64 = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
    STANDARD.decode(b64).map_err(|_| BadSecret).and_then(|k| if k.is_empty() { Err(BadSecret) } else { Ok(k) })
}

/// The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`.
pub fn sign(secret: &SecretString, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = key_of(secret)?;
    let mut content = format!("{msg_id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    Ok(format!("v1,{}", STANDARD.encode(crate::crypto::hmac_sha256(&key, &content))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_reproduces_the_published_standard_webhooks_test_vector() {
        // The vector every reference library of the specification tests against.
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Without the prefix the key is the same.
        let bare = SecretString::from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        assert_eq!(sign(&bare, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#).unwrap(), signature);
    }

    #[test]
    fn the_signature_covers_the_id_the_timestamp_and_every_byte_of_the_body() {
        let secret = generate_secret();
        let base = sign(&secret, "evt_1", 100, b"{}").unwrap();
        assert_ne!(sign(&secret, "evt_2", 100, b"{}").unwrap(), base);
        assert_ne!(sign(&secret, "evt_1", 101, b"{}").unwrap(), base);
        assert_ne!(sign(&secret, "evt_1", 100, b"{ }").unwrap(), base);
    }

    #[test]
    fn generated_secrets_are_whsec_base64_of_32_random_bytes_and_differ() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(a.expose_secret().starts_with(SECRET_PREFIX));
        assert_eq!(key_of(&a).unwrap().len(), SECRET_BYTES);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        assert_eq!(sign(&SecretString::from("whsec_not base64!".to_owned()), "m", 1, b""), Err(BadSecret));
        assert_eq!(sign(&SecretString::from("whsec_".to_owned()), "m", 1, b""), Err(BadSecret));
    }
}
