//! Reading and writing the onboarding records: consent receipts, the pinned system user and the
//! wizard's progress per invite session.

use app::onboarding::model::{
    AccountRole, AccountView, ConsentMode, ConsentReceipt, ConsentStatus, DocuSignUserView, Notice, SystemUserView, VerificationView,
};
use app::environment::Environment;
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::entities::{consent_grant, consent_state, system_user, wizard_progress};
use crate::db::{columns_as, joined};
use crate::providers::UserInfo;
use crate::error::ServiceResult;

/// A DocuSign user as the wizard shows it (from userinfo).
pub fn user_view(info: &UserInfo) -> DocuSignUserView {
    DocuSignUserView {
        user_id: info.sub.clone(),
        name: info.name.clone(),
        email: info.email.clone(),
        accounts: info
            .accounts
            .iter()
            .map(|a| AccountView {
                account_id: a.account_id.clone(),
                account_name: a.account_name.clone(),
                base_uri: a.base_uri.clone(),
                is_default: a.is_default,
                organization_id: a.organization.as_ref().map(|o| o.organization_id.clone()),
                // Userinfo does not say; the wizard reads it per account (`wizard::with_roles`).
                role: AccountRole::Unknown,
            })
            .collect(),
    }
}

/// The latest consent receipt of a tenant in an environment.
pub async fn latest_grant<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<Option<consent_grant::Model>> {
    Ok(consent_grant::Entity::find()
        .filter(consent_grant::Column::TenantId.eq(tenant_id))
        .filter(consent_grant::Column::Environment.eq(env.as_str()))
        .order_by_desc(consent_grant::Column::GrantedAt)
        .one(db)
        .await?)
}

/// A tenant's consent in one environment: its state, pinned system user and latest receipt.
pub struct ConsentRecord {
    pub status: ConsentStatus,
    pub system_user: Option<system_user::Model>,
    pub grant: Option<consent_grant::Model>,
}

/// A tenant's [`ConsentRecord`] in `env`, in one statement: what [`super::state::status`],
/// [`system_user`] and [`latest_grant`] read, for the pages that show all three (each statement
/// is a round trip).
pub async fn consent_record<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<ConsentRecord> {
    let env_name = env.as_str();
    let latest = Query::select()
        .column(consent_grant::Column::Id)
        .from(consent_grant::Entity)
        .and_where(Expr::col((consent_grant::Entity, consent_grant::Column::TenantId)).eq(tenant_id))
        .and_where(Expr::col((consent_grant::Entity, consent_grant::Column::Environment)).eq(env_name))
        .order_by(consent_grant::Column::GrantedAt, Order::Desc)
        .limit(1)
        .to_owned();
    // One row whatever exists: each table joins to a constant row (a tenant may have none of them).
    let one = Alias::new("one");
    let mut q = Query::select();
    q.from_subquery(Query::select().expr(Expr::cust("1")).to_owned(), one)
        .left_join(
            consent_state::Entity,
            Expr::col((consent_state::Entity, consent_state::Column::TenantId))
                .eq(tenant_id)
                .and(Expr::col((consent_state::Entity, consent_state::Column::Environment)).eq(env_name)),
        )
        .left_join(
            system_user::Entity,
            Expr::col((system_user::Entity, system_user::Column::TenantId))
                .eq(tenant_id)
                .and(Expr::col((system_user::Entity, system_user::Column::Environment)).eq(env_name)),
        )
        .left_join(consent_grant::Entity, Expr::col((consent_grant::Entity, consent_grant::Column::Id)).in_subquery(latest));
    columns_as::<consent_state::Entity>(&mut q, "s_");
    columns_as::<system_user::Entity>(&mut q, "u_");
    columns_as::<consent_grant::Entity>(&mut q, "g_");
    let row = db.query_one(&q).await?.ok_or_else(|| crate::error::ServiceError::unexpected("the consent record's query returned no row"))?;
    Ok(ConsentRecord {
        status: super::state::status_of(joined(&row, "s_")?)?,
        system_user: joined(&row, "u_")?,
        grant: joined(&row, "g_")?,
    })
}

/// A receipt as shown to people; an unknown stored mode is an unexpected fault naming the row.
pub fn receipt_view(g: &consent_grant::Model) -> ServiceResult<ConsentReceipt> {
    Ok(ConsentReceipt {
        mode: g.mode()?,
        user_sub: g.user_sub.clone(),
        user_email: g.user_email.clone(),
        user_name: g.user_name.clone(),
        scopes: g.scopes.clone(),
        organization_id: g.organization_id.clone(),
        granted_at: g.granted_at,
        verified_at: g.verified_at,
        verification: g.verification.clone(),
    })
}

/// The pinned system user of a tenant in an environment.
pub async fn system_user<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<Option<system_user::Model>> {
    Ok(system_user::Entity::find_by_id((tenant_id, env.as_str().to_owned())).one(db).await?)
}

/// A system user as shown to people.
pub fn system_user_view(s: &system_user::Model) -> SystemUserView {
    SystemUserView {
        user_id: s.user_id.clone(),
        email: s.email.clone(),
        name: s.name.clone(),
        account_id: s.account_id.clone(),
        account_name: s.account_name.clone(),
        base_uri: s.base_uri.clone(),
        organization_id: s.organization_id.clone(),
        pinned_at: s.pinned_at,
        verified_at: s.verified_at,
    }
}

/// The last verification stored with the system user.
pub fn last_verification(s: &system_user::Model) -> Option<VerificationView> {
    s.last_verification.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The wizard progress of an invite session.
pub async fn progress<C: ConnectionTrait>(db: &C, session_hash: &str) -> ServiceResult<Option<wizard_progress::Model>> {
    Ok(wizard_progress::Entity::find_by_id(session_hash.to_owned()).one(db).await?)
}

/// Changes to make to a session's wizard progress.
#[derive(Default)]
pub struct ProgressUpdate {
    pub signed_in_user: Option<DocuSignUserView>,
    pub chosen_path: Option<ConsentMode>,
    /// `Some(None)` clears the candidate.
    pub candidate: Option<Option<DocuSignUserView>>,
    /// `Some(None)` clears the notice.
    pub notice: Option<Option<Notice>>,
}

/// Creates or updates a session's wizard progress.
pub async fn update_progress<C: ConnectionTrait>(
    db: &C,
    session_hash: &str,
    tenant_id: Uuid,
    env: Environment,
    update: ProgressUpdate,
) -> ServiceResult<()> {
    // Make sure the row exists without racing a concurrent first write (two callbacks at once).
    let blank = wizard_progress::ActiveModel {
        session_hash: Set(session_hash.to_owned()),
        tenant_id: Set(tenant_id),
        environment: Set(env.as_str().to_owned()),
        signed_in_user: Set(None),
        chosen_path: Set(None),
        candidate: Set(None),
        notice: Set(None),
        organization: Set(None),
        directory_token: Set(None),
        directory_token_expires_at: Set(None),
        updated_at: Set(Utc::now()),
    };
    wizard_progress::Entity::insert(blank)
        .on_conflict(OnConflict::column(wizard_progress::Column::SessionHash).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let row = progress(db, session_hash).await?.ok_or_else(|| crate::error::ServiceError::unexpected("wizard progress vanished"))?;
    let mut model: wizard_progress::ActiveModel = row.into();
    if let Some(user) = update.signed_in_user {
        model.signed_in_user = Set(Some(serde_json::to_value(user).unwrap_or_default()));
    }
    if let Some(path) = update.chosen_path {
        model.chosen_path = Set(Some(path.as_str().to_owned()));
    }
    if let Some(candidate) = update.candidate {
        model.candidate = Set(candidate.map(|c| serde_json::to_value(c).unwrap_or_default()));
    }
    if let Some(notice) = update.notice {
        model.notice = Set(notice.map(|n| serde_json::to_value(n).unwrap_or_default()));
    }
    model.updated_at = Set(Utc::now());
    model.update(db).await?;
    Ok(())
}

/// Sets the notice the wizard shows next.
pub async fn notify<C: ConnectionTrait>(db: &C, session_hash: &str, tenant_id: Uuid, env: Environment, notice: Notice) -> ServiceResult<()> {
    update_progress(db, session_hash, tenant_id, env, ProgressUpdate { notice: Some(Some(notice)), ..Default::default() }).await
}

/// How many of a tenant's invites the consent panel lists, newest first. Issuing an invite
/// revokes the pending one, so the one invite staff can still act on is always among them; the
/// rest are in the timeline.
pub const INVITES_SHOWN: u64 = 10;

/// What staff see of the consent of a tenant they may see: state, receipt, system user, last
/// verification and the invites. `configured` says whether the tenant's environment is set up on
/// this portal. Its history is the tenant's timeline (`crate::timeline`), which the page shows once.
pub async fn tenant_consent_view<C: ConnectionTrait>(
    db: &C,
    viewer: &app::auth::StaffPrincipal,
    t: &crate::scope::Visible,
    configured: impl FnOnce(Environment) -> bool,
) -> ServiceResult<app::onboarding::model::TenantConsentView> {
    let (tenant_id, env) = (t.id, t.environment()?);
    let record = consent_record(db, tenant_id, env).await?;
    let su = record.system_user;
    let (invites, older_invites) = super::invites::newest(db, tenant_id, INVITES_SHOWN).await?;
    Ok(app::onboarding::model::TenantConsentView {
        tenant_id,
        environment: env,
        environment_configured: configured(env),
        status: record.status,
        receipt: record.grant.as_ref().map(receipt_view).transpose()?,
        last_verification: su.as_ref().and_then(last_verification),
        system_user: su.as_ref().map(system_user_view),
        link_request: super::invites::open_link_request(&invites),
        invites,
        older_invites,
        can_manage: viewer.role.manages_tenants(),
    })
}
