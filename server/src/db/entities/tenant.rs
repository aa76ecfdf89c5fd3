//! `tenants`: the ISV's customers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    #[sea_orm(unique)]
    pub slug: String,
    /// `demo` or `production`.
    pub environment: String,
    pub contact_email: String,
    pub account_manager_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub notes: String,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The tenant's environment. A stored value the portal does not know is an error naming the
    /// row, never a silent default (falling back to demo would act on the wrong DocuSign).
    pub fn environment(&self) -> crate::error::ServiceResult<app::environment::Environment> {
        app::environment::Environment::parse(&self.environment).ok_or_else(|| {
            crate::error::ServiceError::unexpected(format!("tenant {}: unknown environment `{}` in the database", self.id, self.environment))
        })
    }
}
