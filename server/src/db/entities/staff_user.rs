//! `staff_users`: ISV staff accounts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The staff member's role. A stored value the portal does not know is an error naming the
    /// row, never a silent default (a guessed role would grant or withhold the wrong rights).
    pub fn role(&self) -> crate::error::ServiceResult<app::auth::Role> {
        app::auth::Role::parse(&self.role)
            .ok_or_else(|| crate::error::ServiceError::unexpected(format!("staff_user {}: unknown role `{}` in the database", self.id, self.role)))
    }
}
