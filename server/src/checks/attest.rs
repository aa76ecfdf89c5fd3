//! Staff attestations: a justified statement, per tenant and environment, that stands in for a
//! check DocuSign cannot answer (only the claimed-domains check, whose rule decides when it counts).

use app::checks::CheckId;
use app::error::AppError;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use super::rules::claimed_domains::Attestation;
use crate::audit::{self, Actor, Event};
use crate::db::entities::check_attestation;
use crate::error::ServiceResult;
use crate::state::Deps;

/// Records (or replaces) a staff attestation for a check DocuSign cannot answer.
pub async fn attest(d: Deps<'_>, tenant_id: Uuid, check_id: CheckId, justification: &str, actor: &Actor, request_id: Option<&str>) -> ServiceResult<()> {
    let justification = justification.trim();
    if justification.len() < 10 {
        return Err(AppError::field("justification", "Explain in a sentence how you know (at least 10 characters).").into());
    }
    if check_id != CheckId::ClaimedDomains {
        return Err(AppError::field("check_id", "Only the claimed-domains check can be attested.").into());
    }
    let model = check_attestation::ActiveModel {
        tenant_id: Set(tenant_id),
        environment: Set(d.env.as_str().to_owned()),
        check_id: Set(check_id.as_str().to_owned()),
        attested_by: Set(actor.label.clone()),
        justification: Set(justification.to_owned()),
        attested_at: Set(Utc::now()),
    };
    check_attestation::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([check_attestation::Column::TenantId, check_attestation::Column::Environment, check_attestation::Column::CheckId])
                .update_columns([check_attestation::Column::AttestedBy, check_attestation::Column::Justification, check_attestation::Column::AttestedAt])
                .to_owned(),
        )
        .exec_without_returning(d.db)
        .await?;
    audit::record(
        d.db,
        Event { actor, tenant_id: Some(tenant_id), action: "setup.attested", before: None, after: Some(json!({ "check": check_id, "justification": justification })), request_id },
    )
    .await
}

/// The tenant's attestation for `check_id` in this environment, if staff recorded one.
pub(super) async fn attestation_of(d: &Deps<'_>, tenant_id: Uuid, check_id: CheckId) -> ServiceResult<Option<Attestation>> {
    Ok(check_attestation::Entity::find_by_id((tenant_id, d.env.as_str().to_owned(), check_id.as_str().to_owned()))
        .one(d.db)
        .await?
        .map(|a| Attestation { by: a.attested_by, justification: a.justification, at: a.attested_at }))
}
