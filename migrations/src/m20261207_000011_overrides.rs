//! Manual overrides: staff accept, with a justification and until an expiry, that a tenant's
//! setup check or consent does not pass. Rows are never deleted while the tenant lives: an
//! override that ends (expired, cleared by a passing run, withdrawn) keeps its row with when and
//! why, so the record of what was accepted stays whole beside the audit log.
//!
//! At most one override is in force per tenant, environment and subject: a partial unique index
//! on the rows not yet ended (the same SQL on SQLite and PostgreSQL). The list's "overridden"
//! filter and badge read a tenant's rows in force through `(tenant_id, environment, ended_at)`.
//!
//! With it, the index the list's setup-check filters need: each reads a tenant's latest run in
//! its environment (newest start, the id breaking ties), which `(tenant_id, environment,
//! started_at, id)` answers with one backward index step on both databases (EXPLAIN: without it,
//! SQLite sorted each tenant's runs in a temporary B-tree and PostgreSQL bitmap-scanned and
//! sorted them, per tenant).

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
                    .table(ManualOverrides::Table)
                    .col(uuid(ManualOverrides::Id).primary_key())
                    .col(uuid(ManualOverrides::TenantId))
                    .col(string(ManualOverrides::Environment))
                    .col(string(ManualOverrides::Subject))
                    .col(string(ManualOverrides::OverriddenStatus))
                    .col(text(ManualOverrides::Justification))
                    .col(string(ManualOverrides::CreatedBy))
                    .col(timestamp_with_time_zone(ManualOverrides::CreatedAt))
                    .col(timestamp_with_time_zone(ManualOverrides::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ManualOverrides::EndedAt))
                    .col(string_null(ManualOverrides::EndReason))
                    .foreign_key(&mut tenant_fk("manual_overrides"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_manual_overrides_tenant")
                    .table(ManualOverrides::Table)
                    .col(ManualOverrides::TenantId)
                    .col(ManualOverrides::Environment)
                    .col(ManualOverrides::EndedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_manual_overrides_in_force ON manual_overrides (tenant_id, environment, subject) \
                 WHERE ended_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_check_runs_latest")
                    .table(CheckRuns::Table)
                    .col(CheckRuns::TenantId)
                    .col(CheckRuns::Environment)
                    .col(CheckRuns::StartedAt)
                    .col(CheckRuns::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_check_runs_latest").table(CheckRuns::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ManualOverrides::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ManualOverrides {
    Table,
    Id,
    TenantId,
    Environment,
    Subject,
    OverriddenStatus,
    Justification,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    EndedAt,
    EndReason,
}

#[derive(DeriveIden)]
enum CheckRuns {
    Table,
    Id,
    TenantId,
    Environment,
    StartedAt,
}
