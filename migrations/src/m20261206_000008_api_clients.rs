//! API clients of the ISV's backend: a name, the environments and scopes it may use, an optional
//! expiry, and the SHA-256 of its secret (the key itself is shown once and never stored). The
//! key's public id is the lookup column; the hash is compared in constant time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiClients::Table)
                    .col(uuid(ApiClients::Id).primary_key())
                    .col(string(ApiClients::Name))
                    .col(string_uniq(ApiClients::KeyId))
                    .col(string(ApiClients::SecretHash))
                    .col(string(ApiClients::Environments))
                    .col(string(ApiClients::Scopes))
                    .col(string(ApiClients::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiClients::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::LastUsedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApiClients::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    Name,
    KeyId,
    SecretHash,
    Environments,
    Scopes,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}
