//! Indexes for the tenant page's timeline: its webhook-event and audit-event queries read one
//! tenant's newest rows by time, which these indexes answer directly instead of scanning the
//! outbox or sorting every event of the tenant.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_events_tenant_created")
                    .table(WebhookEvents::Table)
                    .col(WebhookEvents::TenantId)
                    .col(WebhookEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_tenant_occurred")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::TenantId)
                    .col(AuditEvents::OccurredAt)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_audit_events_tenant_occurred").table(AuditEvents::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_webhook_events_tenant_created").table(WebhookEvents::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    TenantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    TenantId,
    OccurredAt,
}
