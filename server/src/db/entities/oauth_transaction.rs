//! `oauth_transactions`: one authorization request in flight, keyed by the hash of its `state`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub tenant_id: Uuid,
    pub environment: String,
    /// Hash of the browser session that started it; a callback from another session is refused.
    pub session_hash: String,
    /// `sign_in`, `individual` or `organization`.
    pub purpose: String,
    /// The PKCE verifier, encrypted.
    #[sea_orm(column_type = "Text")]
    pub pkce_verifier: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
