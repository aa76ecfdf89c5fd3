//! `check_results`: one check's outcome within a run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "check_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub check_id: String,
    pub status: String,
    /// The whole outcome (title, evidence, remediation, fix offered).
    pub outcome: Json,
    pub finished_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Which check this row is. A stored id the portal does not know is an error naming the row,
    /// never skipped or guessed: a run's results must be the checks it ran.
    pub fn check_id(&self) -> crate::error::ServiceResult<app::checks::CheckId> {
        app::checks::CheckId::parse(&self.check_id).ok_or_else(|| {
            crate::error::ServiceError::unexpected(format!("check result of run {}: unknown check `{}` in the database", self.run_id, self.check_id))
        })
    }
}
