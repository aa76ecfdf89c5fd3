//! Organization prerequisites read before consent: what the wizard read of the signed-in
//! admin's organization (its reserved domains) and the sealed access token of that read
//! consent, kept with the session's wizard progress for "Check again"; and the scopes each OAuth
//! transaction asked for, so a consent receipt records exactly what DocuSign was asked.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(Table::alter().table(WizardProgress::Table).add_column(json_null(WizardProgress::Organization)).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(WizardProgress::Table).add_column(text_null(WizardProgress::DirectoryToken)).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WizardProgress::Table)
                    .add_column(timestamp_with_time_zone_null(WizardProgress::DirectoryTokenExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(OauthTransactions::Table).add_column(text_null(OauthTransactions::Scopes)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(OauthTransactions::Table).drop_column(OauthTransactions::Scopes).to_owned()).await?;
        for column in [WizardProgress::DirectoryTokenExpiresAt, WizardProgress::DirectoryToken, WizardProgress::Organization] {
            manager.alter_table(Table::alter().table(WizardProgress::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WizardProgress {
    Table,
    Organization,
    DirectoryToken,
    DirectoryTokenExpiresAt,
}

#[derive(DeriveIden)]
enum OauthTransactions {
    Table,
    Scopes,
}
