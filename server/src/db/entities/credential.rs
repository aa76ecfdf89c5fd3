//! `credentials`: tokens kept for a tenant, encrypted (see `crypto`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    /// `consent` (the consenting user's code-grant tokens).
    #[sea_orm(primary_key, auto_increment = false)]
    pub purpose: String,
    #[sea_orm(column_type = "Text")]
    pub access_token: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub refresh_token: Option<String>,
    pub access_expires_at: DateTimeUtc,
    /// The DocuSign user the tokens act for.
    pub subject: String,
    /// While set and in the future, one instance is refreshing (single flight).
    pub refresh_lease_until: Option<DateTimeUtc>,
    /// `active`, `reconsent_required` (DocuSign answered `invalid_grant`: no more refreshes) or
    /// `exhausted` (transient failures on too many days).
    pub refresh_state: String,
    /// Calendar days (UTC) on which a refresh failed transiently, since the last success.
    pub refresh_failure_days: i32,
    /// The last such day, `YYYY-MM-DD`.
    pub last_refresh_failure_on: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
