//! `latest_check_runs`: each tenant's latest setup-check run per environment, kept by triggers
//! on `check_runs` (migration 000016); the portal only reads it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "latest_check_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    pub run_id: Uuid,
    pub started_at: DateTimeUtc,
    /// A copy of the run's `overall`: `None` while it runs.
    pub overall: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
