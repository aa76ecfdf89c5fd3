//! Manual overrides (`app::overrides` says what one means): staff set one on a tenant's setup
//! check or consent with a justification and an expiry; the next setup-check run to close looks
//! at each override in force and ends it when the check now passes (or consent is verified) or
//! when it has expired, and keeps it otherwise. Every change is audited with before and after,
//! in the same transaction as the change.
//!
//! An override counts while it is *in force*: not ended and not past its expiry. Readers (the
//! list, its filter, the overview) test the expiry themselves, so an override stops counting the
//! moment it expires even if no run has come by to end its row.

use app::auth::StaffPrincipal;
use app::checks::CheckStatus;
use app::environment::Environment;
use app::error::AppError;
use app::onboarding::model::ConsentState;
use app::overrides::{OverrideBadge, OverrideInput, OverrideSubject, OverrideView};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, SqlErr, TransactionSession};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::checks::CheckOutcome;
use crate::db::entities::{manual_override, tenant};
use crate::error::ServiceResult;

/// Why an override ended, as stored in `end_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndReason {
    /// Its expiry passed.
    Expired,
    /// A run saw the check pass (or the consent verified).
    Cleared,
    /// Staff ended it early.
    Withdrawn,
    /// Staff set a new one on the same subject.
    Replaced,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Expired => "expired",
            EndReason::Cleared => "cleared",
            EndReason::Withdrawn => "withdrawn",
            EndReason::Replaced => "replaced",
        }
    }
}

/// The audit action for `what` happening to an override of `subject`: consent overrides sit with
/// the consent events (`consent.…`), check overrides with the setup-check events (`setup.…`), so
/// the timeline's kinds and the audit log's families find them where people look.
fn action(subject: OverrideSubject, what: &str) -> &'static str {
    match (subject, what) {
        (OverrideSubject::Consent, "set") => "consent.overridden",
        (OverrideSubject::Consent, "expired") => "consent.override_expired",
        (OverrideSubject::Consent, "cleared") => "consent.override_cleared",
        (OverrideSubject::Consent, _) => "consent.override_withdrawn",
        (OverrideSubject::Check(_), "set") => "setup.overridden",
        (OverrideSubject::Check(_), "expired") => "setup.override_expired",
        (OverrideSubject::Check(_), "cleared") => "setup.override_cleared",
        (OverrideSubject::Check(_), _) => "setup.override_withdrawn",
    }
}

/// The override as its audit rows record it.
fn snapshot(row: &manual_override::Model) -> Value {
    json!({
        "subject": row.subject,
        "status": row.overridden_status,
        "overridden": true,
        "justification": row.justification,
        "by": row.created_by,
        "expires_at": row.expires_at,
    })
}

fn view(row: manual_override::Model) -> ServiceResult<OverrideView> {
    Ok(OverrideView {
        id: row.id,
        subject: row.subject()?,
        overridden_status: row.overridden_status,
        justification: row.justification,
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

/// Rows of a tenant not yet ended (expired ones included: a run or a new override ends them).
async fn open_rows<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment) -> ServiceResult<Vec<manual_override::Model>> {
    Ok(manual_override::Entity::find()
        .filter(manual_override::Column::TenantId.eq(tenant_id))
        .filter(manual_override::Column::Environment.eq(env.as_str()))
        .filter(manual_override::Column::EndedAt.is_null())
        .all(db)
        .await?)
}

async fn end<C: ConnectionTrait>(db: &C, row: &manual_override::Model, reason: EndReason, now: DateTime<Utc>) -> ServiceResult<()> {
    // Conditional on the row still being open: two closers racing end it once.
    manual_override::Entity::update_many()
        .col_expr(manual_override::Column::EndedAt, Expr::value(now))
        .col_expr(manual_override::Column::EndReason, Expr::value(reason.as_str()))
        .filter(manual_override::Column::Id.eq(row.id))
        .filter(manual_override::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// What the subject says now, as stored (`fail`, `needs_attention`, …), or why it cannot be
/// overridden: a subject that passes, or a check that has no result yet, has nothing to override.
async fn overridable_status<C: ConnectionTrait>(db: &C, tenant_id: Uuid, env: Environment, subject: OverrideSubject) -> ServiceResult<String> {
    let refuse = |message: &str| -> ServiceResult<String> { Err(AppError::field("subject", message).into()) };
    match subject {
        OverrideSubject::Consent => {
            let status = crate::onboarding::state::status(db, tenant_id, env).await?;
            if status.state == ConsentState::Verified {
                return refuse("Consent is verified; there is nothing to override.");
            }
            Ok(status.state.as_str().to_owned())
        }
        OverrideSubject::Check(id) => {
            let Some((_, outcomes)) = crate::checks::run::latest(db, tenant_id, env.as_str()).await? else {
                return refuse("Run the setup check first: an override stands in for a check that does not pass.");
            };
            match outcomes.iter().find(|o| o.id == id).map(|o| o.status) {
                None => refuse("This check has no result in the latest run yet; let the run finish first."),
                Some(CheckStatus::Pass) => refuse("This check passes in the latest run; there is nothing to override."),
                Some(status) => Ok(status.as_str().to_owned()),
            }
        }
    }
}

/// Overrides `input.subject` of a tenant `viewer` may see (the caller checked the role), ending
/// the override in force on the same subject. Bad input is refused field by field and changes
/// nothing.
pub async fn create<C: sea_orm::TransactionTrait + ConnectionTrait>(
    db: &C,
    viewer: &StaffPrincipal,
    actor: &Actor,
    request_id: Option<&str>,
    tenant_id: Uuid,
    input: &OverrideInput,
) -> ServiceResult<OverrideView> {
    let valid = input.validate()?;
    let t = crate::scope::visible(db, viewer, tenant_id).await?;
    let env = t.environment()?;
    let now = Utc::now();
    let txn = crate::db::begin(db).await?;
    let status = overridable_status(&txn, tenant_id, env, valid.subject).await?;
    let previous = open_rows(&txn, tenant_id, env).await?.into_iter().find(|r| r.subject == valid.subject.as_str());
    if let Some(p) = &previous {
        end(&txn, p, if p.expires_at <= now { EndReason::Expired } else { EndReason::Replaced }, now).await?;
    }
    let row = manual_override::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(tenant_id),
        environment: Set(env.as_str().to_owned()),
        subject: Set(valid.subject.as_str().to_owned()),
        overridden_status: Set(status.clone()),
        justification: Set(valid.justification),
        created_by: Set(actor.label.clone()),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(i64::from(valid.days))),
        ended_at: Set(None),
        end_reason: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        // The partial unique index: another request overrode the same subject at the same moment.
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            crate::error::ServiceError::App(AppError::conflict("Someone overrode this at the same moment; reload the page to see it."))
        }
        _ => e.into(),
    })?;
    let before = match &previous {
        Some(p) => json!({ "subject": row.subject, "status": status, "replaces": snapshot(p) }),
        None => json!({ "subject": row.subject, "status": status, "overridden": false }),
    };
    audit::record(
        &txn,
        Event { actor, tenant_id: Some(tenant_id), action: action(valid.subject, "set"), before: Some(before), after: Some(snapshot(&row)), request_id },
    )
    .await?;
    txn.commit().await?;
    view(row)
}

/// Ends the override in force on `subject` of a tenant `viewer` may see; not found when there is
/// none (expired ones are not in force).
pub async fn withdraw<C: sea_orm::TransactionTrait + ConnectionTrait>(
    db: &C,
    viewer: &StaffPrincipal,
    actor: &Actor,
    request_id: Option<&str>,
    tenant_id: Uuid,
    subject: &str,
) -> ServiceResult<()> {
    let subject = OverrideSubject::parse(subject.trim()).ok_or_else(|| AppError::field("subject", "Choose the consent or one of the setup checks."))?;
    let t = crate::scope::visible(db, viewer, tenant_id).await?;
    let env = t.environment()?;
    let now = Utc::now();
    let txn = crate::db::begin(db).await?;
    let row = open_rows(&txn, tenant_id, env)
        .await?
        .into_iter()
        .find(|r| r.subject == subject.as_str() && r.expires_at > now)
        .ok_or_else(|| AppError::not_found("Override"))?;
    end(&txn, &row, EndReason::Withdrawn, now).await?;
    audit::record(
        &txn,
        Event {
            actor,
            tenant_id: Some(tenant_id),
            action: action(subject, "withdrawn"),
            before: Some(snapshot(&row)),
            after: Some(json!({ "subject": row.subject, "overridden": false, "ended": EndReason::Withdrawn.as_str() })),
            request_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The overrides in force on a tenant the viewer may see, in subject order.
pub async fn in_force<C: ConnectionTrait>(db: &C, t: &crate::scope::Visible) -> ServiceResult<Vec<OverrideView>> {
    let now = Utc::now();
    let mut views = open_rows(db, t.id, t.environment()?)
        .await?
        .into_iter()
        .filter(|r| r.expires_at > now)
        .map(view)
        .collect::<ServiceResult<Vec<_>>>()?;
    let order = |s: OverrideSubject| OverrideSubject::all().position(|x| x == s);
    views.sort_by_key(|v| order(v.subject));
    Ok(views)
}

/// The re-check when a run closes (called inside the run's closing transaction, with its
/// results): each open override of the tenant ends as expired once past its expiry, as cleared
/// when its check now passes (for the consent: the consent is verified), and is kept otherwise.
pub async fn after_run<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    env: Environment,
    results: &[CheckOutcome],
    run_id: Uuid,
    actor: &Actor,
    request_id: Option<&str>,
) -> ServiceResult<()> {
    let rows = open_rows(db, tenant_id, env).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    for row in rows {
        let subject = row.subject()?;
        let (passes, status_now) = match subject {
            OverrideSubject::Check(id) => {
                let status = results.iter().find(|r| r.id == id).map(|r| r.status);
                (status == Some(CheckStatus::Pass), status.map(|s| s.as_str().to_owned()))
            }
            OverrideSubject::Consent => {
                let state = crate::onboarding::state::status(db, tenant_id, env).await?.state;
                (state == ConsentState::Verified, Some(state.as_str().to_owned()))
            }
        };
        // Expiry first: an override past its expiry no longer counted, whatever the run found.
        let reason = if row.expires_at <= now {
            EndReason::Expired
        } else if passes {
            EndReason::Cleared
        } else {
            continue;
        };
        end(db, &row, reason, now).await?;
        audit::record(
            db,
            Event {
                actor,
                tenant_id: Some(tenant_id),
                action: action(subject, reason.as_str()),
                before: Some(snapshot(&row)),
                after: Some(json!({ "subject": row.subject, "status": status_now, "overridden": false, "ended": reason.as_str(), "run": run_id })),
                request_id,
            },
        )
        .await?;
    }
    Ok(())
}

/// `SELECT 1` from the overrides in force on the outer `tenants` row in its own environment
/// (on `(tenant_id, environment, ended_at)`); callers may narrow the subject.
pub(crate) fn in_force_row(now: DateTime<Utc>) -> SelectStatement {
    let c = |col: manual_override::Column| Expr::col((manual_override::Entity, col));
    Query::select()
        .expr(Expr::val(1))
        .from(manual_override::Entity)
        .and_where(c(manual_override::Column::TenantId).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(c(manual_override::Column::Environment).equals((tenant::Entity, tenant::Column::Environment)))
        .and_where(c(manual_override::Column::EndedAt).is_null())
        .and_where(c(manual_override::Column::ExpiresAt).gt(now))
        .to_owned()
}

/// The overrides in force of a batch of tenants, by tenant and environment, each as a badge.
pub(crate) async fn badges_of<C: ConnectionTrait>(
    db: &C,
    ids: Vec<Uuid>,
    now: DateTime<Utc>,
) -> ServiceResult<std::collections::HashMap<(Uuid, String), Vec<OverrideBadge>>> {
    let mut out: std::collections::HashMap<(Uuid, String), Vec<OverrideBadge>> = std::collections::HashMap::new();
    for row in manual_override::Entity::find()
        .filter(manual_override::Column::TenantId.is_in(ids))
        .filter(manual_override::Column::EndedAt.is_null())
        .filter(manual_override::Column::ExpiresAt.gt(now))
        .all(db)
        .await?
    {
        let badge = OverrideBadge { subject: row.subject()?, expires_at: row.expires_at };
        out.entry((row.tenant_id, row.environment)).or_default().push(badge);
    }
    for badges in out.values_mut() {
        badges.sort_by_key(|b| OverrideSubject::all().position(|x| x == b.subject));
    }
    Ok(out)
}
