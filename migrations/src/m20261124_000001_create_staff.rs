//! Staff accounts (argon2id hashes) and the server-side sessions of staff and invitees.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffUsers::Table)
                    .col(uuid(StaffUsers::Id).primary_key())
                    .col(string_uniq(StaffUsers::Email))
                    .col(string(StaffUsers::PasswordHash))
                    .col(string(StaffUsers::Role))
                    .col(boolean(StaffUsers::Active).default(true))
                    .col(timestamp_with_time_zone(StaffUsers::CreatedAt))
                    .col(timestamp_with_time_zone(StaffUsers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    // SHA-256 of the cookie value: a database leak does not hand out live sessions.
                    .col(string(Sessions::IdHash).primary_key())
                    .col(string(Sessions::Kind))
                    .col(uuid_null(Sessions::StaffId))
                    .col(uuid_null(Sessions::TenantId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::StaffId)
                            .to(StaffUsers::Table, StaffUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_staff_id")
                    .table(Sessions::Table)
                    .col(Sessions::StaffId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(StaffUsers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum StaffUsers {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    Kind,
    StaffId,
    TenantId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}
