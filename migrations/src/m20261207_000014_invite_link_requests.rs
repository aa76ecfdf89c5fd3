//! A customer admin whose invite link was used or has expired can ask for a fresh one from the
//! link's own page: the invite row keeps when that was last asked, so the portal allows one
//! request per link an hour (a conditional UPDATE, the same on every instance) and staff see
//! the request on the tenant page until they issue a newer invite.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Invites::Table).add_column(timestamp_with_time_zone_null(Invites::LinkRequestedAt)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Invites::Table).drop_column(Invites::LinkRequestedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    LinkRequestedAt,
}
