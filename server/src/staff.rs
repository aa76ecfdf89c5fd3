//! Staff accounts: argon2id password hashing, creation, listing, activation, and checking a
//! sign-in attempt.

use std::sync::LazyLock;

use app::auth::{Role, StaffPrincipal};
use app::error::AppError;
use app::staff::api::{NewStaffInput, StaffOption, StaffView};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionSession, TransactionTrait,
};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Actor, Event};
use crate::db::entities::{session, staff_user};
use crate::error::{ServiceResult, Unexpected};

/// Argon2id with OWASP's minimum parameters (m = 19 MiB, t = 2, p = 1).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).expect("valid argon2 params"))
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::error::ServiceError::unexpected(format!("hashing failed: {e}")))
}

/// Whether `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a random password, verified when the e-mail is unknown so that unknown and known
/// accounts take the same time to refuse.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("not-a-real-password-0000").unwrap_or_default());

/// Normalizes an e-mail for storage and look-up.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// Creates a staff account, writing its audit event in the same transaction.
pub async fn create<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    input: NewStaffInput,
) -> ServiceResult<Uuid> {
    let input = NewStaffInput { email: normalize_email(&input.email), ..input };
    input.validate().map_err(AppError::from)?;
    let hash = hash_password(&input.password)?;
    let id = Uuid::new_v4();
    let now = Utc::now();
    let txn = crate::db::begin(db).await?;
    let inserted = staff_user::ActiveModel {
        id: Set(id),
        email: Set(input.email.clone()),
        password_hash: Set(hash),
        role: Set(input.role.as_str().to_owned()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    match inserted {
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::field("email", "A staff member with this e-mail already exists.").into());
        }
        other => other?,
    };
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "staff.created",
            before: None,
            after: Some(serde_json::json!({ "id": id, "email": input.email, "role": input.role })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Every staff account, by e-mail.
pub async fn list<C: ConnectionTrait>(db: &C) -> ServiceResult<Vec<StaffView>> {
    let rows = staff_user::Entity::find().order_by_asc(staff_user::Column::Email).all(db).await?;
    rows.into_iter().map(to_view).collect()
}

/// Active account managers, by e-mail.
pub async fn account_managers<C: ConnectionTrait>(db: &C) -> ServiceResult<Vec<StaffOption>> {
    let rows = staff_user::Entity::find()
        .filter(staff_user::Column::Role.eq(Role::AccountManager.as_str()))
        .filter(staff_user::Column::Active.eq(true))
        .order_by_asc(staff_user::Column::Email)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| StaffOption { id: r.id, email: r.email }).collect())
}

/// Deactivates (ending every session of the account) or reactivates a staff account.
pub async fn set_active<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    id: Uuid,
    active: bool,
) -> ServiceResult<()> {
    if actor.id == Some(id) && !active {
        return Err(AppError::conflict("You cannot deactivate your own account.").into());
    }
    let txn = crate::db::begin(db).await?;
    let row = staff_user::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("Staff member"))?;
    if row.active == active {
        return Ok(());
    }
    let mut model: staff_user::ActiveModel = row.clone().into();
    model.active = Set(active);
    model.updated_at = Set(Utc::now());
    model.update(&txn).await?;
    if !active {
        session::Entity::delete_many().filter(session::Column::StaffId.eq(id)).exec(&txn).await?;
    }
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: if active { "staff.reactivated" } else { "staff.deactivated" },
            before: Some(serde_json::json!({ "id": id, "email": row.email, "active": row.active })),
            after: Some(serde_json::json!({ "id": id, "email": row.email, "active": active })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends every session of a staff account (an administrator's action; audited).
pub async fn end_sessions(db: &DatabaseConnection, actor: &Actor, request_id: Option<&str>, id: Uuid) -> ServiceResult<u64> {
    let txn = crate::db::begin(db).await?;
    let row = staff_user::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| AppError::not_found("Staff member"))?;
    let ended = crate::sessions::end_for_staff(&txn, id).await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: None,
            action: "staff.sessions_ended",
            before: None,
            after: Some(serde_json::json!({ "id": id, "email": row.email, "ended_sessions": ended })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// A sign-in attempt as the HTTP layer saw it.
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client_ip: std::net::IpAddr,
    /// The browser's known-device token, if any.
    pub device_token: Option<&'a str>,
    /// The browser's current session, replaced by the new one.
    pub old_session: Option<&'a str>,
    pub request_id: &'a str,
}

/// A successful sign-in: the new session and a fresh known-device token for the browser.
pub struct SignedIn {
    pub session_token: String,
    pub device_token: String,
}

/// The longest e-mail address accepted (RFC 5321's path limit); longer input is refused before
/// anything is checked or recorded.
pub const MAX_EMAIL_LEN: usize = 254;

/// Signs a staff member in: refuses while the attempt's keys have too many recent failures,
/// checks the password, counts only a failure, and on success replaces the browser's session.
pub async fn sign_in(
    db: &DatabaseConnection,
    keyring: &crate::crypto::Keyring,
    limiter: &crate::rate_limit::SignInLimiter,
    lifetimes: crate::sessions::Lifetimes,
    attempt: SignInAttempt<'_>,
) -> ServiceResult<SignedIn> {
    let email = normalize_email(attempt.email);
    if email.is_empty() || attempt.password.is_empty() {
        return Err(AppError::field("email", "Enter your e-mail and password.").into());
    }
    if email.len() > MAX_EMAIL_LEN || attempt.password.len() > 1024 {
        return Err(AppError::field("email", "That e-mail and password do not match an active account.").into());
    }
    let known_device = attempt.device_token.is_some_and(|t| crate::sessions::device_token_matches(keyring, t, &email));
    let now = std::time::Instant::now();
    if let Err(retry_after_secs) = limiter.check(&email, attempt.client_ip, known_device, now) {
        tracing::warn!(request_id = %attempt.request_id, "sign-in throttled");
        return Err(AppError::RateLimited { retry_after_secs }.into());
    }
    let Some(principal) = authenticate(db, &email, attempt.password).await? else {
        limiter.fail(&email, attempt.client_ip, now);
        audit::record(
            db,
            Event {
                actor: &Actor::system("anonymous"),
                tenant_id: None,
                action: "staff.sign_in_failed",
                before: None,
                after: Some(serde_json::json!({ "email": email })),
                request_id: Some(attempt.request_id),
            },
        )
        .await?;
        return Err(AppError::field("email", "That e-mail and password do not match an active account.").into());
    };
    limiter.succeed(&email, attempt.client_ip);
    // Rotate: the id a browser had before signing in never becomes an authenticated one.
    if let Some(old) = attempt.old_session {
        crate::sessions::delete(db, old).await?;
    }
    let session_token = crate::sessions::create_staff_session(db, principal.id, lifetimes).await?;
    let actor = Actor { id: Some(principal.id), label: principal.email.clone() };
    audit::record(
        db,
        Event { actor: &actor, tenant_id: None, action: "staff.signed_in", before: None, after: None, request_id: Some(attempt.request_id) },
    )
    .await?;
    Ok(SignedIn { session_token, device_token: crate::sessions::issue_device_token(keyring, &email) })
}

/// Checks an e-mail and password; `None` for a wrong pair or a deactivated account (the caller
/// says the same thing in both cases).
pub async fn authenticate<C: ConnectionTrait>(db: &C, email: &str, password: &str) -> ServiceResult<Option<StaffPrincipal>> {
    let row = staff_user::Entity::find().filter(staff_user::Column::Email.eq(normalize_email(email))).one(db).await?;
    let Some(row) = row else {
        let _ = verify_password(password, &DUMMY_HASH);
        return Ok(None);
    };
    let password = password.to_owned();
    let phc = row.password_hash.clone();
    // Argon2 is deliberately slow; keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unexpected("verifying a password")?;
    if !ok || !row.active {
        return Ok(None);
    }
    to_principal(&row).map(Some)
}

/// The principal of an account row (an unknown stored role is an error naming the row).
pub fn to_principal(row: &staff_user::Model) -> ServiceResult<StaffPrincipal> {
    Ok(StaffPrincipal { id: row.id, email: row.email.clone(), role: row.role()? })
}

fn to_view(row: staff_user::Model) -> ServiceResult<StaffView> {
    let role = row.role()?;
    Ok(StaffView { id: row.id, email: row.email, role, active: row.active, created_at: row.created_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_at_owasp_parameters() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("wrong", &phc));
    }
}
