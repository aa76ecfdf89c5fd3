//! Invites: 32 random bytes in a link, only their SHA-256 stored; an expiry; revocable; issuing
//! a new one revokes the pending one. Opening the link reads; redeeming it (a POST) turns it
//! into an invite session in one conditional UPDATE, so it succeeds exactly once however many
//! requests race.
//!
//! A link that was used, expired or was withdrawn is the customer admin's way back in: its page
//! lets them ask the ISV for a fresh link ([`request_link`]). The request needs the link itself
//! (a 256-bit secret), so a stranger can ask nothing and learn nothing, and no e-mail address is
//! ever typed, so none can be probed; one request per link an hour, kept on the invite row, and
//! staff see it on the tenant page until they issue a newer invite.

use app::error::AppError;
use app::onboarding::model::{ConsentState, InviteLandingView, InviteStatus, InviteView, IssuedInvite};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionSession,
    TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::db::entities::{invite, tenant};
use crate::error::{ServiceResult, Unexpected};
use crate::onboarding::state;
use crate::sessions;

/// The status of an invite at `now`.
pub fn status_of(row: &invite::Model, now: DateTime<Utc>) -> InviteStatus {
    if row.revoked_at.is_some() {
        InviteStatus::Revoked
    } else if row.used_at.is_some() {
        InviteStatus::Used
    } else if row.expires_at <= now {
        InviteStatus::Expired
    } else {
        InviteStatus::Pending
    }
}

/// Issues an invite for a tenant (revoking a pending one), moves consent to `invited`, and
/// returns the link, which is never stored.
pub async fn issue<C: TransactionTrait>(
    db: &C,
    actor: &Actor,
    request_id: Option<&str>,
    tenant_id: Uuid,
    public_url: &url::Url,
    ttl: Duration,
) -> ServiceResult<IssuedInvite> {
    let txn = crate::db::begin(db).await?;
    let t = tenant::Entity::find_by_id(tenant_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Tenant"))?;
    if t.archived_at.is_some() {
        return Err(AppError::conflict("This tenant is archived; restore it before inviting.").into());
    }
    let env = t.environment()?;
    let now = Utc::now();
    let revoked = invite::Entity::update_many()
        .col_expr(invite::Column::RevokedAt, Expr::value(now))
        .filter(invite::Column::TenantId.eq(tenant_id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?
        .rows_affected;
    let token = sessions::new_token();
    let id = Uuid::new_v4();
    let expires_at = now + ttl;
    invite::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_id),
        token_hash: Set(sessions::hash_token(&token)),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        link_requested_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: "invite.issued",
            before: None,
            after: Some(json!({ "invite_id": id, "expires_at": expires_at, "revoked_pending": revoked })),
            request_id,
        },
    )
    .await?;
    // A tenant that already consented keeps its state: a new invite lets the customer redo the
    // wizard (say, to change the system user) without hiding that consent exists.
    if state::status(&txn, tenant_id, env).await?.state.is_before_consent() {
        state::transition(&txn, actor, request_id, tenant_id, env, ConsentState::Invited, None).await?;
    }
    txn.commit().await?;
    let link = public_url.join(&format!("onboard/{token}")).unexpected("building the invite link")?;
    Ok(IssuedInvite { id, link: link.to_string(), expires_at })
}

/// Revokes an invite of a tenant the caller manages; revoking twice changes nothing.
pub async fn revoke<C: TransactionTrait>(db: &C, actor: &Actor, request_id: Option<&str>, invite_id: Uuid) -> ServiceResult<()> {
    let txn = crate::db::begin(db).await?;
    let row = invite::Entity::find_by_id(invite_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Invite"))?;
    if row.revoked_at.is_some() {
        return Ok(());
    }
    if row.used_at.is_some() {
        return Err(AppError::conflict("This invite was already used; it cannot be revoked.").into());
    }
    let mut model: invite::ActiveModel = row.clone().into();
    model.revoked_at = Set(Some(Utc::now()));
    model.update(&txn).await?;
    audit::record(
        &txn,
        Event { actor, tenant_id: Some(row.tenant_id), action: "invite.revoked", before: None, after: Some(json!({ "invite_id": invite_id })), request_id },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A tenant's newest `limit` invites, newest first, and whether it has older ones.
pub async fn newest<C: ConnectionTrait>(db: &C, tenant_id: Uuid, limit: u64) -> ServiceResult<(Vec<InviteView>, bool)> {
    let now = Utc::now();
    let mut rows = invite::Entity::find()
        .filter(invite::Column::TenantId.eq(tenant_id))
        .order_by_desc(invite::Column::CreatedAt)
        .order_by_desc(invite::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let older = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let views = rows
        .into_iter()
        .map(|r| InviteView {
            id: r.id,
            status: status_of(&r, now),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            link_requested_at: r.link_requested_at,
        })
        .collect();
    Ok((views, older))
}

/// The customer's open request for a fresh link: the newest request made after the newest
/// invite was issued (issuing one answers it).
pub fn open_link_request(invites: &[InviteView]) -> Option<DateTime<Utc>> {
    let newest_issue = invites.iter().map(|i| i.created_at).max()?;
    invites.iter().filter_map(|i| i.link_requested_at).filter(|at| *at > newest_issue).max()
}

fn refusal(status: InviteStatus) -> AppError {
    match status {
        InviteStatus::Expired => AppError::conflict("This invite link has expired."),
        InviteStatus::Revoked => AppError::conflict("This invite link was withdrawn; a newer one may have been sent."),
        InviteStatus::Used => AppError::conflict("This invite link was already used; each link works once."),
        InviteStatus::Pending => AppError::not_found("Invite"),
    }
}

/// What a customer admin hears when the ISV archived their tenant after sending the link.
fn archived_refusal() -> AppError {
    AppError::conflict("Onboarding for this organization was closed by the ISV, so this link no longer works. Contact them if you expected to continue.")
}

/// Revokes every pending invite of a tenant (it is being archived); returns how many.
pub async fn revoke_pending<C: ConnectionTrait>(db: &C, tenant_id: Uuid, now: chrono::DateTime<Utc>) -> ServiceResult<u64> {
    let res = invite::Entity::update_many()
        .col_expr(invite::Column::RevokedAt, Expr::value(now))
        .filter(invite::Column::TenantId.eq(tenant_id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The landing page of a link, without consuming it. `session_tenant` is the tenant of the
/// browser's live wizard session, if any: a used link opened again from that same onboarding
/// (Back after Start) resumes it instead of being refused. A used, expired or withdrawn link
/// still opens its page (answered 409 by the page), which says why it no longer starts the
/// wizard and offers to ask for a fresh one; an unknown link or a closed onboarding is an error.
pub async fn landing<C: ConnectionTrait>(db: &C, token: &str, session_tenant: Option<Uuid>) -> ServiceResult<InviteLandingView> {
    let row = find_by_token(db, token).await?;
    let now = Utc::now();
    let status = status_of(&row, now);
    let resume = status == InviteStatus::Used && session_tenant == Some(row.tenant_id);
    let t = tenant::Entity::find_by_id(row.tenant_id).one(db).await?.ok_or_else(|| AppError::not_found("Invite"))?;
    if t.archived_at.is_some() {
        return Err(archived_refusal().into());
    }
    let environment = t.environment()?;
    let spent = status != InviteStatus::Pending && !resume;
    Ok(InviteLandingView {
        tenant_name: t.display_name,
        environment,
        expires_at: row.expires_at,
        resume,
        refusal: spent.then(|| refusal(status).to_string()),
        link_requested_at: row.link_requested_at,
        next_request_at: row.link_requested_at.map(|at| at + LINK_REQUEST_INTERVAL).filter(|at| *at > now),
    })
}

/// How often a customer admin may ask for a fresh link from one link's page.
pub const LINK_REQUEST_INTERVAL: Duration = Duration::hours(1);

/// The customer admin asks the ISV for a fresh link from the page of a used, expired or
/// withdrawn one. Audited (`invite.link_requested`, never the token); at most one request per
/// link per [`LINK_REQUEST_INTERVAL`] (a conditional UPDATE, so racing requests and several
/// portal instances count once): a second one within the hour is `RateLimited`. A link that
/// still works is refused (Start is the next action); so is an unknown one (`NotFound`) and a
/// tenant whose onboarding the ISV closed.
pub async fn request_link<C: TransactionTrait>(db: &C, request_id: Option<&str>, token: &str, now: DateTime<Utc>) -> ServiceResult<DateTime<Utc>> {
    let txn = crate::db::begin(db).await?;
    let row = find_by_token(&txn, token).await?;
    let status = status_of(&row, now);
    if status == InviteStatus::Pending {
        return Err(AppError::conflict("This link still works: press Start to begin. No new link is needed.").into());
    }
    let t = tenant::Entity::find_by_id(row.tenant_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Invite"))?;
    if t.archived_at.is_some() {
        return Err(archived_refusal().into());
    }
    let claimed = invite::Entity::update_many()
        .col_expr(invite::Column::LinkRequestedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(row.id))
        .filter(
            sea_orm::Condition::any()
                .add(invite::Column::LinkRequestedAt.is_null())
                .add(invite::Column::LinkRequestedAt.lte(now - LINK_REQUEST_INTERVAL)),
        )
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed != 1 {
        let fresh = invite::Entity::find_by_id(row.id).one(&txn).await?.unwrap_or(row);
        let next = fresh.link_requested_at.map_or(now, |at| at + LINK_REQUEST_INTERVAL);
        return Err(AppError::RateLimited { retry_after_secs: u64::try_from((next - now).num_seconds()).unwrap_or(0).max(1) }.into());
    }
    let actor = Actor::system("customer admin (invite link)");
    audit::record(
        &txn,
        Event {
            actor: &actor,
            tenant_id: Some(row.tenant_id),
            action: "invite.link_requested",
            before: None,
            after: Some(json!({ "invite_id": row.id, "link_status": status.label() })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(now)
}

async fn find_by_token<C: ConnectionTrait>(db: &C, token: &str) -> ServiceResult<invite::Model> {
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::not_found("Invite").into());
    }
    invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(sessions::hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Invite").into())
}

/// Redeems a link into an invite session for its tenant and returns the session token. One
/// transaction: the conditional UPDATE lets exactly one concurrent redemption through.
pub async fn redeem<C: TransactionTrait>(
    db: &C,
    request_id: Option<&str>,
    token: &str,
    lifetimes: sessions::Lifetimes,
) -> ServiceResult<(Uuid, String)> {
    let txn = crate::db::begin(db).await?;
    let row = find_by_token(&txn, token).await?;
    let now = Utc::now();
    let claimed = invite::Entity::update_many()
        .col_expr(invite::Column::UsedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(row.id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed != 1 {
        let fresh = invite::Entity::find_by_id(row.id).one(&txn).await?.unwrap_or(row);
        let status = match status_of(&fresh, now) {
            InviteStatus::Pending => InviteStatus::Used,
            other => other,
        };
        return Err(refusal(status).into());
    }
    let t = tenant::Entity::find_by_id(row.tenant_id).one(&txn).await?.ok_or_else(|| AppError::not_found("Invite"))?;
    if t.archived_at.is_some() {
        // Dropping the transaction rolls the claim back.
        return Err(archived_refusal().into());
    }
    let env = t.environment()?;
    let session = sessions::create_invite_session(&txn, row.tenant_id, lifetimes).await?;
    let actor = Actor::system("customer admin (invite)");
    audit::record(
        &txn,
        Event { actor: &actor, tenant_id: Some(row.tenant_id), action: "invite.redeemed", before: None, after: Some(json!({ "invite_id": row.id })), request_id },
    )
    .await?;
    if state::status(&txn, row.tenant_id, env).await?.state.is_before_consent() {
        state::transition(&txn, &actor, request_id, row.tenant_id, env, ConsentState::InProgress, None).await?;
    }
    let data = json!({ "invite_id": row.id, "redeemed_at": now });
    crate::webhooks::emit(&txn, row.tenant_id, env, crate::webhooks::WebhookEventType::InviteRedeemed, data).await?;
    txn.commit().await?;
    Ok((row.tenant_id, session))
}
