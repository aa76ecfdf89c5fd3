//! `api_clients`: keys of the ISV's backend for the REST API (only the SHA-256 of each secret).

use app::api_clients::ApiScope;
use app::environment::Environment;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// The key's public part, unique: how a presented key finds its row.
    #[sea_orm(unique)]
    pub key_id: String,
    /// Hex SHA-256 of the key's secret part.
    pub secret_hash: String,
    /// Environments by wire name, space-separated; read with [`Model::environments`].
    pub environments: String,
    /// [`ApiScope`]s by wire name, space-separated; read with [`Model::scopes`].
    pub scopes: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The environments this client may use. An unknown value is an error naming the row.
    pub fn environments(&self) -> ServiceResult<Vec<Environment>> {
        self.environments
            .split_whitespace()
            .map(|e| Environment::parse(e).ok_or_else(|| ServiceError::unexpected(format!("api client {}: unknown environment `{e}`", self.id))))
            .collect()
    }

    /// The scopes this client holds. An unknown value is an error naming the row.
    pub fn scopes(&self) -> ServiceResult<Vec<ApiScope>> {
        self.scopes
            .split_whitespace()
            .map(|s| ApiScope::parse(s).ok_or_else(|| ServiceError::unexpected(format!("api client {}: unknown scope `{s}`", self.id))))
            .collect()
    }
}
