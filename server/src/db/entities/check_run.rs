//! `check_runs`: one setup-check run of a tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "check_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub environment: String,
    /// An [`app::checks::RunTrigger`]; read it through [`Model::trigger`].
    pub trigger: String,
    pub requested_by: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// An [`app::checks::RunOverall`] once finished; read it through [`Model::overall`].
    pub overall: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// What started the run. A stored value the portal does not know is an error naming the row.
    pub fn trigger(&self) -> crate::error::ServiceResult<app::checks::RunTrigger> {
        app::checks::RunTrigger::parse(&self.trigger).ok_or_else(|| {
            crate::error::ServiceError::unexpected(format!("check run {}: unknown trigger `{}` in the database", self.id, self.trigger))
        })
    }

    /// The run's overall result, `None` while it runs. A stored value the portal does not know is
    /// an error naming the row, never read as "still running".
    pub fn overall(&self) -> crate::error::ServiceResult<Option<app::checks::RunOverall>> {
        self.overall
            .as_deref()
            .map(|o| {
                app::checks::RunOverall::parse(o).ok_or_else(|| {
                    crate::error::ServiceError::unexpected(format!("check run {}: unknown overall result `{o}` in the database", self.id))
                })
            })
            .transpose()
    }
}
