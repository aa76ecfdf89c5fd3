//! Encryption of stored secrets (tokens): AES-256-GCM with a random 96-bit nonce per message and
//! associated data binding the ciphertext to its purpose, its tenant and the key version, so a
//! ciphertext copied to another row or purpose does not decrypt. Keys carry versions: new data
//! uses the newest key, older keys stay readable until re-encrypted (rotation).

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// A set of versioned 256-bit keys.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, Key<Aes256Gcm>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("versions", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

/// Why a keyring or a ciphertext was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("PORTAL_ENCRYPTION_KEYS is not set: the portal refuses to store tokens unencrypted")]
    Missing,
    #[error("PORTAL_ENCRYPTION_KEYS is malformed: {0} (expected `1:<base64 of 32 bytes>[,2:…]`)")]
    Malformed(String),
    #[error("stored secret uses key version {0}, which is not configured")]
    UnknownVersion(u32),
    #[error("stored secret does not decrypt (tampered, moved, or wrong key)")]
    Undecryptable,
}

/// What a ciphertext is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// What the secret is (`refresh_token`, `access_token`, `pkce_verifier`, …).
    pub purpose: &'a str,
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
}

impl Keyring {
    /// Parses `version:base64key` pairs separated by commas.
    pub fn parse(spec: Option<&SecretString>) -> Result<Keyring, CryptoError> {
        let spec = spec.ok_or(CryptoError::Missing)?;
        let mut keys = BTreeMap::new();
        for part in spec.expose_secret().split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (version, key) = part.split_once(':').ok_or_else(|| CryptoError::Malformed("a key has no version".into()))?;
            let version: u32 = version.trim().parse().map_err(|_| CryptoError::Malformed(format!("bad version `{version}`")))?;
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|_| CryptoError::Malformed(format!("key {version} is not base64")))?;
            if bytes.len() != 32 {
                return Err(CryptoError::Malformed(format!("key {version} has {} bytes, not 32", bytes.len())));
            }
            if keys.insert(version, *Key::<Aes256Gcm>::from_slice(&bytes)).is_some() {
                return Err(CryptoError::Malformed(format!("key version {version} appears twice")));
            }
        }
        if keys.is_empty() {
            return Err(CryptoError::Missing);
        }
        Ok(Keyring { keys })
    }

    /// A fresh random key spec (`1:<base64>`), for `demo` and tests.
    pub fn generate_spec(version: u32) -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        format!("{version}:{}", STANDARD.encode(key))
    }

    /// The version new data is encrypted with.
    pub fn current_version(&self) -> u32 {
        *self.keys.keys().next_back().expect("non-empty keyring")
    }

    fn aad(binding: Binding<'_>, version: u32) -> String {
        format!("consent-portal|{}|{}|v{version}", binding.purpose, binding.tenant_id)
    }

    /// Encrypts with the current key: `v{version}.{base64 nonce}.{base64 ciphertext+tag}`.
    pub fn seal(&self, binding: Binding<'_>, plaintext: &str) -> String {
        let version = self.current_version();
        let cipher = Aes256Gcm::new(&self.keys[&version]);
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(binding, version);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encryption does not fail for in-memory buffers");
        format!("v{version}.{}.{}", STANDARD.encode(nonce), STANDARD.encode(ct))
    }

    /// Decrypts what [`Keyring::seal`] produced for the same binding.
    pub fn open(&self, binding: Binding<'_>, sealed: &str) -> Result<SecretString, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(v), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Undecryptable);
        };
        let version: u32 = v.strip_prefix('v').and_then(|v| v.parse().ok()).ok_or(CryptoError::Undecryptable)?;
        let key = self.keys.get(&version).ok_or(CryptoError::UnknownVersion(version))?;
        let nonce = STANDARD.decode(nonce).map_err(|_| CryptoError::Undecryptable)?;
        let ct = STANDARD.decode(ct).map_err(|_| CryptoError::Undecryptable)?;
        if nonce.len() != 12 {
            return Err(CryptoError::Undecryptable);
        }
        let aad = Self::aad(binding, version);
        let plain = Aes256Gcm::new(key)
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| CryptoError::Undecryptable)
    }

    /// A fingerprint of each key by version (an HMAC of a fixed label under the key: it
    /// identifies the key without revealing it).
    pub fn fingerprints(&self) -> Vec<(u32, String)> {
        self.keys.iter().map(|(v, k)| (*v, hex::encode(&hmac_sha256(k.as_slice(), b"consent-portal key fingerprint")[..16]))).collect()
    }

    /// A MAC of `data` for `purpose` under the current key (e.g. the known-device cookie).
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        self.mac_with(self.current_version(), purpose, data).expect("the current key exists")
    }

    /// Whether `tag` is the MAC of `data` for `purpose` under any configured key (constant time).
    pub fn verify_mac(&self, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        self.keys.keys().any(|v| self.mac_with(*v, purpose, data).is_some_and(|m| bool::from(m.ct_eq(tag))))
    }

    fn mac_with(&self, version: u32, purpose: &str, data: &[u8]) -> Option<[u8; 32]> {
        let key = self.keys.get(&version)?;
        let mut message = format!("consent-portal mac|{purpose}|").into_bytes();
        message.extend_from_slice(data);
        Some(hmac_sha256(key.as_slice(), &message))
    }

    /// The key version a sealed value uses (to find rows needing re-encryption after rotation).
    pub fn version_of(sealed: &str) -> Option<u32> {
        sealed.split('.').next()?.strip_prefix('v')?.parse().ok()
    }
}

/// HMAC-SHA256 of `data` under `key` (keys of any length).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Why start-up refuses the configured keys for this database.
#[derive(Debug, thiserror::Error)]
pub enum KeyringMismatch {
    #[error(
        "PORTAL_ENCRYPTION_KEYS: key version {0} is not the key this database was written with (its fingerprint differs); \
         configure the original key for version {0}, and add new keys under a higher version"
    )]
    WrongKey(u32),
    #[error(
        "PORTAL_ENCRYPTION_KEYS: stored tokens use key version {0}, which is not configured; \
         add it back (old versions stay needed until their rows are re-encrypted)"
    )]
    MissingVersion(u32),
    #[error("PORTAL_ENCRYPTION_KEYS: a stored token does not decrypt with key version {0}: this is not the key it was written with")]
    Undecryptable(u32),
    #[error("checking the encryption keys against the database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Checks the configured keys against the fingerprints stored in the database, and records the
/// fingerprints of new versions. A database written before fingerprints were recorded is checked
/// by decrypting one stored token of each version in use. Runs once at start-up: a wrong key is
/// refused here rather than discovered when a token fails to decrypt.
pub async fn verify_against_database(db: &sea_orm::DatabaseConnection, keyring: &Keyring) -> Result<(), KeyringMismatch> {
    use sea_orm::{ActiveValue::Set, EntityTrait};

    use crate::db::entities::{credential, encryption_key};

    let stored: BTreeMap<u32, String> = encryption_key::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|k| u32::try_from(k.version).ok().map(|v| (v, k.fingerprint)))
        .collect();
    let configured = keyring.fingerprints();
    for (version, fingerprint) in &configured {
        if let Some(known) = stored.get(version)
            && known != fingerprint
        {
            return Err(KeyringMismatch::WrongKey(*version));
        }
    }
    // Versions in use by stored tokens must be configured and, where no fingerprint vouches for
    // them yet, actually decrypt.
    for row in credential::Entity::find().all(db).await? {
        let Some(version) = Keyring::version_of(&row.access_token) else { continue };
        if !keyring.keys.contains_key(&version) {
            return Err(KeyringMismatch::MissingVersion(version));
        }
        if !stored.contains_key(&version) {
            let purpose = format!("credential.{}.access", row.purpose);
            if keyring.open(Binding { purpose: &purpose, tenant_id: row.tenant_id }, &row.access_token).is_err() {
                return Err(KeyringMismatch::Undecryptable(version));
            }
        }
    }
    // Webhook signing secrets are sealed too: their key versions must stay configured.
    for row in crate::db::entities::webhook_endpoint::Entity::find().all(db).await? {
        if let Some(version) = Keyring::version_of(&row.secret_sealed)
            && !keyring.keys.contains_key(&version)
        {
            return Err(KeyringMismatch::MissingVersion(version));
        }
    }
    for (version, fingerprint) in configured {
        if stored.contains_key(&version) {
            continue;
        }
        let model = encryption_key::ActiveModel {
            version: Set(i32::try_from(version).unwrap_or(i32::MAX)),
            fingerprint: Set(fingerprint),
            first_seen_at: Set(chrono::Utc::now()),
        };
        // Another instance starting at the same time may have recorded it: that is fine.
        let _ = encryption_key::Entity::insert(model)
            .on_conflict(sea_orm::sea_query::OnConflict::column(encryption_key::Column::Version).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &str) -> Keyring {
        Keyring::parse(Some(&SecretString::from(spec.to_owned()))).unwrap()
    }

    fn binding(tenant: Uuid) -> Binding<'static> {
        Binding { purpose: "refresh_token", tenant_id: tenant }
    }

    #[test]
    fn a_sealed_secret_round_trips_and_does_not_contain_the_plaintext() {
        let k = ring(&Keyring::generate_spec(1));
        let t = Uuid::new_v4();
        let sealed = k.seal(binding(t), "eyJ0eXAiOiJNVCJ9.refresh");
        assert!(!sealed.contains("refresh"));
        assert_eq!(k.open(binding(t), &sealed).unwrap().expose_secret(), "eyJ0eXAiOiJNVCJ9.refresh");
    }

    #[test]
    fn a_flipped_byte_or_another_tenant_or_purpose_does_not_decrypt() {
        let k = ring(&Keyring::generate_spec(1));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = k.seal(binding(a), "token");
        assert_eq!(k.open(binding(b), &sealed).unwrap_err(), CryptoError::Undecryptable);
        assert!(k.open(Binding { purpose: "access_token", tenant_id: a }, &sealed).is_err());
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(k.open(binding(a), &String::from_utf8(bytes).unwrap()).is_err());
    }

    #[test]
    fn rotation_keeps_old_data_readable_and_seals_with_the_newest_key() {
        let v1 = Keyring::generate_spec(1);
        let old = ring(&v1);
        let t = Uuid::new_v4();
        let sealed = old.seal(binding(t), "secret");
        let rotated = ring(&format!("{v1},{}", Keyring::generate_spec(2)));
        assert_eq!(rotated.open(binding(t), &sealed).unwrap().expose_secret(), "secret");
        assert_eq!(Keyring::version_of(&rotated.seal(binding(t), "x")), Some(2));
        let only_new = ring(&Keyring::generate_spec(2));
        assert_eq!(only_new.open(binding(t), &sealed).unwrap_err(), CryptoError::UnknownVersion(1));
    }

    #[test]
    fn nonces_do_not_repeat() {
        let k = ring(&Keyring::generate_spec(1));
        let t = Uuid::new_v4();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let sealed = k.seal(binding(t), "x");
            assert!(seen.insert(sealed.split('.').nth(1).unwrap().to_owned()));
        }
    }

    #[test]
    fn missing_short_or_garbled_keys_are_refused() {
        assert_eq!(Keyring::parse(None).unwrap_err(), CryptoError::Missing);
        let bad = |s: &str| Keyring::parse(Some(&SecretString::from(s.to_owned()))).is_err();
        assert!(bad(""));
        assert!(bad("1:c2hvcnQ="));
        assert!(bad("x:AAAA"));
        assert!(bad("not base64 at all"));
    }
}
