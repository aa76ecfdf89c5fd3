//! The setup check: runs, their per-check results, manual attestations, and Connect deliveries
//! received by the portal's listener.

use sea_orm_migration::{prelude::*, schema::*};

use crate::tenant_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CheckRuns::Table)
                    .col(uuid(CheckRuns::Id).primary_key())
                    .col(uuid(CheckRuns::TenantId))
                    .col(string(CheckRuns::Environment))
                    .col(string(CheckRuns::Trigger))
                    .col(string(CheckRuns::RequestedBy))
                    .col(timestamp_with_time_zone(CheckRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(CheckRuns::FinishedAt))
                    .col(string_null(CheckRuns::Overall))
                    .foreign_key(&mut tenant_fk("check_runs"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_check_runs_tenant").table(CheckRuns::Table).col(CheckRuns::TenantId).col(CheckRuns::StartedAt).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckResults::Table)
                    .col(uuid(CheckResults::RunId))
                    .col(string(CheckResults::CheckId))
                    .col(string(CheckResults::Status))
                    .col(json(CheckResults::Outcome))
                    .col(timestamp_with_time_zone(CheckResults::FinishedAt))
                    .primary_key(Index::create().col(CheckResults::RunId).col(CheckResults::CheckId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CheckResults::Table, CheckResults::RunId)
                            .to(CheckRuns::Table, CheckRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckAttestations::Table)
                    .col(uuid(CheckAttestations::TenantId))
                    .col(string(CheckAttestations::Environment))
                    .col(string(CheckAttestations::CheckId))
                    .col(string(CheckAttestations::AttestedBy))
                    .col(text(CheckAttestations::Justification))
                    .col(timestamp_with_time_zone(CheckAttestations::AttestedAt))
                    .primary_key(
                        Index::create().col(CheckAttestations::TenantId).col(CheckAttestations::Environment).col(CheckAttestations::CheckId),
                    )
                    .foreign_key(&mut tenant_fk("check_attestations"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConnectDeliveries::Table)
                    .col(uuid(ConnectDeliveries::TenantId).primary_key())
                    .col(timestamp_with_time_zone_null(ConnectDeliveries::LastVerifiedAt))
                    .col(string_null(ConnectDeliveries::LastEvent))
                    .col(string_null(ConnectDeliveries::LastEnvelopeId))
                    .col(big_integer(ConnectDeliveries::VerifiedCount).default(0))
                    .col(big_integer(ConnectDeliveries::RejectedCount).default(0))
                    .col(timestamp_with_time_zone_null(ConnectDeliveries::LastRejectedAt))
                    .foreign_key(&mut tenant_fk("connect_deliveries"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ConnectDeliveries::Table.into_iden(),
            CheckAttestations::Table.into_iden(),
            CheckResults::Table.into_iden(),
            CheckRuns::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CheckRuns {
    Table,
    Id,
    TenantId,
    Environment,
    Trigger,
    RequestedBy,
    StartedAt,
    FinishedAt,
    Overall,
}

#[derive(DeriveIden)]
enum CheckResults {
    Table,
    RunId,
    CheckId,
    Status,
    Outcome,
    FinishedAt,
}

#[derive(DeriveIden)]
enum CheckAttestations {
    Table,
    TenantId,
    Environment,
    CheckId,
    AttestedBy,
    Justification,
    AttestedAt,
}

#[derive(DeriveIden)]
enum ConnectDeliveries {
    Table,
    TenantId,
    LastVerifiedAt,
    LastEvent,
    LastEnvelopeId,
    VerifiedCount,
    RejectedCount,
    LastRejectedAt,
}
