//! `consent_states`: the consent state of a tenant in one environment.

use app::onboarding::model::ConsentState;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    /// A [`ConsentState`] by its wire name; read it with [`Model::state`].
    pub state: String,
    pub reason: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The stored state. An unknown value is an error naming the row, never a silent default.
    pub fn state(&self) -> ServiceResult<ConsentState> {
        ConsentState::parse(&self.state).ok_or_else(|| {
            ServiceError::unexpected(format!("consent_state of tenant {} ({}): unknown state `{}`", self.tenant_id, self.environment, self.state))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_state_is_an_error_naming_the_row() {
        let mut row = Model { tenant_id: Uuid::nil(), environment: "demo".into(), state: "verified".into(), reason: None, updated_at: chrono::Utc::now() };
        assert_eq!(row.state().unwrap(), ConsentState::Verified);
        row.state = "approved".into();
        let err = row.state().unwrap_err().to_string();
        assert!(err.contains(&Uuid::nil().to_string()) && err.contains("`approved`"), "{err}");
    }
}
