//! Consent onboarding: invites, OAuth transactions, the wizard's progress per invitee session,
//! consent state per tenant and environment, consent receipts, the pinned system user, and
//! encrypted credentials.

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
                    .table(Invites::Table)
                    .col(uuid(Invites::Id).primary_key())
                    .col(uuid(Invites::TenantId))
                    // SHA-256 of the 32 random bytes in the link; the link itself is never stored.
                    .col(string_uniq(Invites::TokenHash))
                    .col(string(Invites::CreatedBy))
                    .col(timestamp_with_time_zone(Invites::CreatedAt))
                    .col(timestamp_with_time_zone(Invites::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invites::UsedAt))
                    .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                    .foreign_key(&mut tenant_fk("invites"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_invites_tenant").table(Invites::Table).col(Invites::TenantId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsentStates::Table)
                    .col(uuid(ConsentStates::TenantId))
                    .col(string(ConsentStates::Environment))
                    .col(string(ConsentStates::State))
                    .col(string_null(ConsentStates::Reason))
                    .col(timestamp_with_time_zone(ConsentStates::UpdatedAt))
                    .primary_key(Index::create().col(ConsentStates::TenantId).col(ConsentStates::Environment))
                    .foreign_key(&mut tenant_fk("consent_states"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthTransactions::Table)
                    .col(string(OauthTransactions::StateHash).primary_key())
                    .col(uuid(OauthTransactions::TenantId))
                    .col(string(OauthTransactions::Environment))
                    .col(string(OauthTransactions::SessionHash))
                    .col(string(OauthTransactions::Purpose))
                    .col(text(OauthTransactions::PkceVerifier))
                    .col(timestamp_with_time_zone(OauthTransactions::CreatedAt))
                    .col(timestamp_with_time_zone(OauthTransactions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthTransactions::ConsumedAt))
                    .foreign_key(&mut tenant_fk("oauth_transactions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WizardProgress::Table)
                    .col(string(WizardProgress::SessionHash).primary_key())
                    .col(uuid(WizardProgress::TenantId))
                    .col(string(WizardProgress::Environment))
                    .col(json_null(WizardProgress::SignedInUser))
                    .col(string_null(WizardProgress::ChosenPath))
                    .col(json_null(WizardProgress::Candidate))
                    .col(json_null(WizardProgress::Notice))
                    .col(timestamp_with_time_zone(WizardProgress::UpdatedAt))
                    .foreign_key(&mut tenant_fk("wizard_progress"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsentGrants::Table)
                    .col(uuid(ConsentGrants::Id).primary_key())
                    .col(uuid(ConsentGrants::TenantId))
                    .col(string(ConsentGrants::Environment))
                    .col(string(ConsentGrants::Mode))
                    .col(string(ConsentGrants::UserSub))
                    .col(string(ConsentGrants::UserEmail))
                    .col(string(ConsentGrants::UserName))
                    .col(string(ConsentGrants::Scopes))
                    .col(string_null(ConsentGrants::OrganizationId))
                    .col(timestamp_with_time_zone(ConsentGrants::GrantedAt))
                    .col(timestamp_with_time_zone_null(ConsentGrants::VerifiedAt))
                    .col(text_null(ConsentGrants::Verification))
                    .foreign_key(&mut tenant_fk("consent_grants"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_grants_tenant")
                    .table(ConsentGrants::Table)
                    .col(ConsentGrants::TenantId)
                    .col(ConsentGrants::Environment)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SystemUsers::Table)
                    .col(uuid(SystemUsers::TenantId))
                    .col(string(SystemUsers::Environment))
                    .col(string(SystemUsers::UserId))
                    .col(string(SystemUsers::Email))
                    .col(string(SystemUsers::Name))
                    .col(string(SystemUsers::AccountId))
                    .col(string(SystemUsers::AccountName))
                    .col(string(SystemUsers::BaseUri))
                    .col(string_null(SystemUsers::OrganizationId))
                    .col(timestamp_with_time_zone(SystemUsers::PinnedAt))
                    .col(timestamp_with_time_zone_null(SystemUsers::VerifiedAt))
                    .col(json_null(SystemUsers::LastVerification))
                    .primary_key(Index::create().col(SystemUsers::TenantId).col(SystemUsers::Environment))
                    .foreign_key(&mut tenant_fk("system_users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(uuid(Credentials::TenantId))
                    .col(string(Credentials::Environment))
                    .col(string(Credentials::Purpose))
                    .col(text(Credentials::AccessToken))
                    .col(text_null(Credentials::RefreshToken))
                    .col(timestamp_with_time_zone(Credentials::AccessExpiresAt))
                    .col(string(Credentials::Subject))
                    .col(timestamp_with_time_zone_null(Credentials::RefreshLeaseUntil))
                    .col(timestamp_with_time_zone(Credentials::UpdatedAt))
                    .primary_key(
                        Index::create().col(Credentials::TenantId).col(Credentials::Environment).col(Credentials::Purpose),
                    )
                    .foreign_key(&mut tenant_fk("credentials"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Credentials::Table.into_iden(),
            SystemUsers::Table.into_iden(),
            ConsentGrants::Table.into_iden(),
            WizardProgress::Table.into_iden(),
            OauthTransactions::Table.into_iden(),
            ConsentStates::Table.into_iden(),
            Invites::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    TenantId,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ConsentStates {
    Table,
    TenantId,
    Environment,
    State,
    Reason,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthTransactions {
    Table,
    StateHash,
    TenantId,
    Environment,
    SessionHash,
    Purpose,
    PkceVerifier,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum WizardProgress {
    Table,
    SessionHash,
    TenantId,
    Environment,
    SignedInUser,
    ChosenPath,
    Candidate,
    Notice,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConsentGrants {
    Table,
    Id,
    TenantId,
    Environment,
    Mode,
    UserSub,
    UserEmail,
    UserName,
    Scopes,
    OrganizationId,
    GrantedAt,
    VerifiedAt,
    Verification,
}

#[derive(DeriveIden)]
enum SystemUsers {
    Table,
    TenantId,
    Environment,
    UserId,
    Email,
    Name,
    AccountId,
    AccountName,
    BaseUri,
    OrganizationId,
    PinnedAt,
    VerifiedAt,
    LastVerification,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    TenantId,
    Environment,
    Purpose,
    AccessToken,
    RefreshToken,
    AccessExpiresAt,
    Subject,
    RefreshLeaseUntil,
    UpdatedAt,
}
