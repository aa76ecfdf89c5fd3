//! The scheduled re-check: one row per tenant and environment with its next due time and the
//! lease of the worker running it (so several portal instances never run one tenant twice, and
//! a crashed worker's lease simply expires).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000002_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CheckSchedules::Table)
                    .col(uuid(CheckSchedules::TenantId))
                    .col(string(CheckSchedules::Environment))
                    .col(timestamp_with_time_zone(CheckSchedules::NextRunAt))
                    .col(string_null(CheckSchedules::LeaseOwner))
                    .col(timestamp_with_time_zone_null(CheckSchedules::LeaseUntil))
                    .col(uuid_null(CheckSchedules::LastRunId))
                    .primary_key(Index::create().col(CheckSchedules::TenantId).col(CheckSchedules::Environment))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CheckSchedules::Table, CheckSchedules::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_check_schedules_due").table(CheckSchedules::Table).col(CheckSchedules::NextRunAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CheckSchedules::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum CheckSchedules {
    Table,
    TenantId,
    Environment,
    NextRunAt,
    LeaseOwner,
    LeaseUntil,
    LastRunId,
}
