//! `webhook_endpoints`: where the ISV's backend receives webhooks, per environment.

use app::environment::Environment;
use app::webhooks::WebhookEventType;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// An [`Environment`]; read it through [`Model::environment`].
    pub environment: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// Wire names of [`WebhookEventType`]s, comma-separated; read through [`Model::event_types`].
    #[sea_orm(column_type = "Text")]
    pub event_types: String,
    /// The `whsec_…` signing secret sealed with the keyring (never a plain column).
    #[sea_orm(column_type = "Text")]
    pub secret_sealed: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The endpoint's environment. A stored value the portal does not know is an error naming the row.
    pub fn environment(&self) -> ServiceResult<Environment> {
        Environment::parse(&self.environment).ok_or_else(|| {
            ServiceError::unexpected(format!("webhook endpoint {}: unknown environment `{}` in the database", self.id, self.environment))
        })
    }

    /// The subscribed event types. A stored name the portal does not know is an error naming the row.
    pub fn event_types(&self) -> ServiceResult<Vec<WebhookEventType>> {
        self.event_types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                WebhookEventType::parse(t).ok_or_else(|| {
                    ServiceError::unexpected(format!("webhook endpoint {}: unknown event type `{t}` in the database", self.id))
                })
            })
            .collect()
    }
}
