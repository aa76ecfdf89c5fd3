//! `system_users`: the DocuSign user the ISV impersonates for a tenant, with its pinned account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "system_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub account_id: String,
    pub account_name: String,
    pub base_uri: String,
    pub organization_id: Option<String>,
    pub pinned_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    pub last_verification: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
