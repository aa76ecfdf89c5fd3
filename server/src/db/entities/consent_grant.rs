//! `consent_grants`: consent receipts.

use app::onboarding::model::ConsentMode;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub environment: String,
    /// A [`ConsentMode`] by its wire name (`individual` or `organization`); read it with
    /// [`Model::mode`].
    pub mode: String,
    pub user_sub: String,
    pub user_email: String,
    pub user_name: String,
    pub scopes: String,
    pub organization_id: Option<String>,
    pub granted_at: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub verification: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// How consent was granted. An unknown value is an error naming the row, never a silent
    /// default.
    pub fn mode(&self) -> ServiceResult<ConsentMode> {
        ConsentMode::parse(&self.mode).ok_or_else(|| {
            ServiceError::unexpected(format!("consent_grant {} of tenant {}: unknown mode `{}`", self.id, self.tenant_id, self.mode))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_mode_is_an_error_naming_the_row() {
        let mut row = Model {
            id: Uuid::nil(),
            tenant_id: Uuid::max(),
            environment: "demo".into(),
            mode: "organization".into(),
            user_sub: String::new(),
            user_email: String::new(),
            user_name: String::new(),
            scopes: String::new(),
            organization_id: None,
            granted_at: chrono::Utc::now(),
            verified_at: None,
            verification: None,
        };
        assert_eq!(row.mode().unwrap(), ConsentMode::Organization);
        row.mode = "group".into();
        let err = row.mode().unwrap_err().to_string();
        assert!(err.contains(&Uuid::max().to_string()) && err.contains("`group`"), "{err}");
    }
}
