//! `manual_overrides`: staff overrides of a tenant's setup check or consent, in force until they
//! end (expiry, a passing run, withdrawal); ended rows stay with when and why.

use app::overrides::OverrideSubject;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manual_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub environment: String,
    /// An [`OverrideSubject`]; read it through [`Model::subject`].
    pub subject: String,
    /// The check status or consent state that was overridden, as it was stored then.
    pub overridden_status: String,
    #[sea_orm(column_type = "Text")]
    pub justification: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// Why it ended: `expired`, `cleared` (a run saw it pass), `withdrawn`, `replaced`.
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What is overridden. A stored value the portal does not know is an error naming the row.
    pub fn subject(&self) -> ServiceResult<OverrideSubject> {
        OverrideSubject::parse(&self.subject)
            .ok_or_else(|| ServiceError::unexpected(format!("manual override {}: unknown subject `{}` in the database", self.id, self.subject)))
    }
}
