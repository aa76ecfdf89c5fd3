//! `credentials`: tokens kept for a tenant, encrypted (see `crypto`).

use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

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
    /// A [`RefreshState`] by its wire name: `active`, `reconsent_required` (DocuSign answered
    /// `invalid_grant`: no more refreshes) or `exhausted` (transient failures on too many days).
    /// Read it with [`Model::refresh_state`].
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

impl Model {
    /// The refresh state. An unknown value is an error naming the row, never a silent default.
    pub fn refresh_state(&self) -> ServiceResult<RefreshState> {
        RefreshState::parse(&self.refresh_state).ok_or_else(|| {
            ServiceError::unexpected(format!("credential of tenant {}: unknown refresh_state `{}`", self.tenant_id, self.refresh_state))
        })
    }
}

/// The refresh state of a kept credential (stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    Active,
    ReconsentRequired,
    Exhausted,
}

impl RefreshState {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshState::Active => "active",
            RefreshState::ReconsentRequired => "reconsent_required",
            RefreshState::Exhausted => "exhausted",
        }
    }

    /// Parses the stored name; `None` for a value the portal does not know (the entity's
    /// `credential::Model::refresh_state` turns that into an error naming the row).
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "active" => Some(RefreshState::Active),
            "reconsent_required" => Some(RefreshState::ReconsentRequired),
            "exhausted" => Some(RefreshState::Exhausted),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_refresh_state_is_an_error_naming_the_row() {
        let now = chrono::Utc::now();
        let mut row = Model {
            tenant_id: Uuid::nil(),
            environment: "demo".into(),
            purpose: "consent".into(),
            access_token: String::new(),
            refresh_token: None,
            access_expires_at: now,
            subject: String::new(),
            refresh_lease_until: None,
            refresh_state: "exhausted".into(),
            refresh_failure_days: 0,
            last_refresh_failure_on: None,
            updated_at: now,
        };
        assert_eq!(row.refresh_state().unwrap(), RefreshState::Exhausted);
        row.refresh_state = "paused".into();
        let err = row.refresh_state().unwrap_err().to_string();
        assert!(err.contains(&Uuid::nil().to_string()) && err.contains("`paused`"), "{err}");
    }
}
