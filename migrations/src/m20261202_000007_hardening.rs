//! Hardening: the fingerprints of the encryption keys a database was written with (so start-up
//! refuses a wrong key instead of failing later on decryption), the Connect message ids seen
//! (replay refusal), the refresh-failure state of kept credentials, and, on PostgreSQL,
//! `TRUNCATE` refused on the append-only audit table; and the tenant list's keyset index.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EncryptionKeys::Table)
                    .col(integer(EncryptionKeys::Version).primary_key())
                    .col(string(EncryptionKeys::Fingerprint))
                    .col(timestamp_with_time_zone(EncryptionKeys::FirstSeenAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConnectMessages::Table)
                    .col(string(ConnectMessages::MessageKey).primary_key())
                    .col(uuid(ConnectMessages::TenantId))
                    .col(timestamp_with_time_zone(ConnectMessages::ReceivedAt))
                    .foreign_key(&mut crate::tenant_fk("connect_messages"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connect_messages_received")
                    .table(ConnectMessages::Table)
                    .col(ConnectMessages::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        // The tenant list is keyset-paged by (name, id).
        manager
            .create_index(
                Index::create()
                    .name("idx_tenants_display_name_id")
                    .table(Tenants::Table)
                    .col(Tenants::DisplayName)
                    .col(Tenants::Id)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter().table(Credentials::Table).add_column(string(Credentials::RefreshState).default("active")).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Credentials::Table).add_column(integer(Credentials::RefreshFailureDays).default(0)).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Credentials::Table).add_column(string_null(Credentials::LastRefreshFailureOn)).to_owned())
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // Row triggers do not fire on TRUNCATE; a statement trigger does.
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events").await?;
        }
        for column in [Credentials::LastRefreshFailureOn, Credentials::RefreshFailureDays, Credentials::RefreshState] {
            manager.alter_table(Table::alter().table(Credentials::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_index(Index::drop().name("idx_tenants_display_name_id").table(Tenants::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ConnectMessages::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(EncryptionKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum EncryptionKeys {
    Table,
    Version,
    Fingerprint,
    FirstSeenAt,
}

#[derive(DeriveIden)]
enum ConnectMessages {
    Table,
    MessageKey,
    TenantId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    RefreshState,
    RefreshFailureDays,
    LastRefreshFailureOn,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    DisplayName,
}
