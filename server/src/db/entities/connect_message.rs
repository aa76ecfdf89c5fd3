//! `connect_messages`: the Connect messages accepted recently, by message key, to refuse replays.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connect_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_key: String,
    pub tenant_id: Uuid,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
