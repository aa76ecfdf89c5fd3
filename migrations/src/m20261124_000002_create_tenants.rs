//! Tenants: the ISV's customers, one consent lifecycle per environment.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_staff::StaffUsers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(uuid(Tenants::Id).primary_key())
                    .col(string(Tenants::DisplayName))
                    .col(string(Tenants::Slug))
                    .col(string(Tenants::Environment))
                    .col(string(Tenants::ContactEmail))
                    .col(uuid_null(Tenants::AccountManagerId))
                    .col(text(Tenants::Notes).default(""))
                    .col(timestamp_with_time_zone_null(Tenants::ArchivedAt))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tenants::Table, Tenants::AccountManagerId)
                            .to(StaffUsers::Table, StaffUsers::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // Named so the service can map a clash to a field error by constraint, not by message.
        manager
            .create_index(
                Index::create()
                    .name("uq_tenants_slug")
                    .table(Tenants::Table)
                    .col(Tenants::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tenants_account_manager")
                    .table(Tenants::Table)
                    .col(Tenants::AccountManagerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Tenants::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Tenants {
    Table,
    Id,
    DisplayName,
    Slug,
    Environment,
    ContactEmail,
    AccountManagerId,
    Notes,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
}
