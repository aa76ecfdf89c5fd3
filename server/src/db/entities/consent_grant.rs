//! `consent_grants`: consent receipts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub environment: String,
    /// `individual` or `organization`.
    pub mode: String,
    pub user_sub: String,
    pub user_email: String,
    pub user_name: String,
    pub scopes: String,
    pub organization_id: Option<String>,
    pub granted_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub verification: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
