//! Server-side sessions. The cookie holds 32 random bytes; the database holds only their SHA-256,
//! with an idle and an absolute expiry. Signing in always creates a new id (the old one is
//! deleted), and signing out or deactivating an account deletes the row.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::entities::session::SessionKind;
use crate::db::entities::{session, staff_user};
use crate::error::ServiceResult;

/// The session cookie's name: `__Host-` prefixed (bound to this host, path `/`, Secure) whenever
/// the portal is served over https.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-cp_session" } else { "cp_session" }
}

/// The known-device cookie's name (`__Host-` prefixed over https like the session cookie).
pub fn device_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-cp_device" } else { "cp_device" }
}

/// How long a browser stays a known device of an account after a successful sign-in.
pub const DEVICE_COOKIE_DAYS: i64 = 90;

/// A known-device token for `email`: a random nonce and a MAC binding it to the account, so the
/// server stores nothing and a token of one account proves nothing for another.
pub fn issue_device_token(keyring: &crate::crypto::Keyring, email: &str) -> String {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let tag = keyring.mac("known-device", &[&nonce[..], email.as_bytes()].concat());
    format!("{}.{}", URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(tag))
}

/// Whether `token` was issued by [`issue_device_token`] for `email`.
pub fn device_token_matches(keyring: &crate::crypto::Keyring, token: &str, email: &str) -> bool {
    let Some((nonce, tag)) = token.split_once('.') else { return false };
    let (Ok(nonce), Ok(tag)) = (URL_SAFE_NO_PAD.decode(nonce), URL_SAFE_NO_PAD.decode(tag)) else { return false };
    keyring.verify_mac("known-device", &[&nonce[..], email.as_bytes()].concat(), &tag)
}

/// The `Set-Cookie` value for a known-device token.
pub fn device_cookie(token: &str, secure: bool) -> String {
    build_cookie(device_cookie_name(secure), token, "Strict", Duration::days(DEVICE_COOKIE_DAYS), secure)
}

/// A `Set-Cookie` value: host-only, path `/`, HttpOnly, and `Secure` over https.
fn build_cookie(name: &str, value: &str, same_site: &str, max_age: Duration, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={}", max_age.num_seconds());
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The known-device token from a `Cookie` header, if present.
pub fn device_token_from_cookie_header(header: &str, secure: bool) -> Option<String> {
    cookie_value(header, device_cookie_name(secure))
}

fn cookie_value(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

/// A new random session token (the cookie value).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a staff session and returns its token.
pub async fn create_staff_session<C: ConnectionTrait>(db: &C, staff_id: Uuid, lifetimes: Lifetimes) -> ServiceResult<String> {
    create(db, SessionKind::Staff, Some(staff_id), None, lifetimes).await
}

async fn create<C: ConnectionTrait>(
    db: &C,
    kind: SessionKind,
    staff_id: Option<Uuid>,
    tenant_id: Option<Uuid>,
    lifetimes: Lifetimes,
) -> ServiceResult<String> {
    let token = new_token();
    let now = Utc::now();
    session::ActiveModel {
        id_hash: Set(hash_token(&token)),
        kind: Set(kind.as_str().to_owned()),
        staff_id: Set(staff_id),
        tenant_id: Set(tenant_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + lifetimes.absolute),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Creates an invite session scoped to one tenant and returns its token.
pub async fn create_invite_session<C: ConnectionTrait>(db: &C, tenant_id: Uuid, lifetimes: Lifetimes) -> ServiceResult<String> {
    create(db, SessionKind::Invite, None, Some(tenant_id), lifetimes).await
}

/// Who a live session belongs to.
#[derive(Debug, Clone)]
pub enum Holder {
    /// An active staff account.
    Staff(staff_user::Model),
    /// A customer admin who redeemed an invite for this tenant.
    Invitee { tenant_id: Uuid },
}

/// The holder of the session behind `token`, if it is live (not idle too long, not past its
/// absolute end; for staff, the account still active). Refreshes the idle clock at most once a
/// minute.
pub async fn resolve<C: ConnectionTrait>(
    db: &C,
    token: &str,
    lifetimes: Lifetimes,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Holder>> {
    // The session and its staff member in one query: every staff page and server function asks.
    let Some((row, staff)) = session::Entity::find_by_id(hash_token(token)).find_also_related(staff_user::Entity).one(db).await? else {
        return Ok(None);
    };
    if row.expires_at <= now || row.last_seen_at + lifetimes.idle <= now {
        session::Entity::delete_by_id(row.id_hash).exec(db).await?;
        return Ok(None);
    }
    let holder = match (row.kind()?, row.staff_id, row.tenant_id) {
        (SessionKind::Staff, Some(staff_id), _) => {
            match staff.filter(|s| s.id == staff_id && s.active) {
                Some(staff) => Holder::Staff(staff),
                None => return Ok(None),
            }
        }
        (SessionKind::Invite, _, Some(tenant_id)) => Holder::Invitee { tenant_id },
        // The schema's check constraint makes this unreachable; say so rather than sign out.
        (kind, _, _) => {
            return Err(crate::error::ServiceError::unexpected(format!("a {} session without its {} id", kind.as_str(), kind.as_str())));
        }
    };
    if now - row.last_seen_at > Duration::minutes(1) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
            .filter(session::Column::IdHash.eq(row.id_hash))
            .exec(db)
            .await?;
    }
    Ok(Some(holder))
}

/// Deletes the session of `token`, if any.
pub async fn delete<C: ConnectionTrait>(db: &C, token: &str) -> ServiceResult<()> {
    session::Entity::delete_by_id(hash_token(token)).exec(db).await?;
    Ok(())
}

/// Ends every invite session of a tenant (archiving it, or staff ending the customer's access);
/// returns how many ended.
pub async fn end_for_tenant<C: ConnectionTrait>(db: &C, tenant_id: Uuid) -> ServiceResult<u64> {
    let res = session::Entity::delete_many()
        .filter(session::Column::Kind.eq(SessionKind::Invite.as_str()))
        .filter(session::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Ends every session of a staff member; returns how many ended.
pub async fn end_for_staff<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> ServiceResult<u64> {
    let res = session::Entity::delete_many().filter(session::Column::StaffId.eq(staff_id)).exec(db).await?;
    Ok(res.rows_affected)
}

/// Deletes sessions that ended (past their absolute end, or idle too long) more than `keep` ago;
/// returns how many. Live sessions are never touched.
pub async fn purge_ended<C: ConnectionTrait>(db: &C, lifetimes: Lifetimes, keep: Duration, now: DateTime<Utc>) -> ServiceResult<u64> {
    use sea_orm::Condition;
    let res = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lt(now - keep))
                .add(session::Column::LastSeenAt.lt(now - lifetimes.idle - keep)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The active staff account behind `token`, if the session is a live staff session.
pub async fn resolve_staff<C: ConnectionTrait>(
    db: &C,
    token: &str,
    lifetimes: Lifetimes,
    now: DateTime<Utc>,
) -> ServiceResult<Option<staff_user::Model>> {
    Ok(match resolve(db, token, lifetimes, now).await? {
        Some(Holder::Staff(s)) => Some(s),
        _ => None,
    })
}

/// The `Set-Cookie` value for a new session.
pub fn set_cookie(token: &str, secure: bool, lifetimes: Lifetimes) -> String {
    build_cookie(cookie_name(secure), token, "Lax", lifetimes.absolute, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    build_cookie(cookie_name(secure), "", "Lax", Duration::zero(), secure)
}

/// The session token from a `Cookie` header, if present.
pub fn token_from_cookie_header(header: &str, secure: bool) -> Option<String> {
    cookie_value(header, cookie_name(secure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_are_stored_only_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        assert_eq!(hash_token(&a).len(), 64);
        assert!(!hash_token(&a).contains(&a));
    }

    #[test]
    fn the_cookie_is_httponly_samesite_and_secure_outside_plain_http() {
        let life = Lifetimes { idle: Duration::minutes(30), absolute: Duration::hours(12) };
        let c = set_cookie("t", true, life);
        assert!(c.starts_with("__Host-cp_session=t; Path=/; HttpOnly; SameSite=Lax"));
        assert!(c.ends_with("; Secure"));
        assert!(!set_cookie("t", false, life).contains("Secure"));
    }

    #[test]
    fn a_device_token_vouches_only_for_its_own_account() {
        let keyring = crate::crypto::Keyring::parse(Some(&crate::crypto::Keyring::generate_spec(1).into())).unwrap();
        let token = issue_device_token(&keyring, "a@x.test");
        assert!(device_token_matches(&keyring, &token, "a@x.test"));
        assert!(!device_token_matches(&keyring, &token, "b@x.test"));
        assert!(!device_token_matches(&keyring, "forged.token", "a@x.test"));
        let other = crate::crypto::Keyring::parse(Some(&crate::crypto::Keyring::generate_spec(1).into())).unwrap();
        assert!(!device_token_matches(&other, &token, "a@x.test"));
        let cookie = device_cookie(&token, true);
        assert!(cookie.starts_with("__Host-cp_device=") && cookie.contains("HttpOnly; SameSite=Strict") && cookie.ends_with("; Secure"));
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        assert_eq!(token_from_cookie_header("a=1; cp_session=xyz; b=2", false).as_deref(), Some("xyz"));
        assert_eq!(token_from_cookie_header("a=1", false), None);
    }
}
