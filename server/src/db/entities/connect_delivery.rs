//! `connect_deliveries`: what the portal's Connect listener received for a tenant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connect_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub last_verified_at: Option<DateTimeUtc>,
    pub last_event: Option<String>,
    pub last_envelope_id: Option<String>,
    pub verified_count: i64,
    pub rejected_count: i64,
    pub last_rejected_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
