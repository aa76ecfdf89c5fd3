//! `webhook_events`: the outbox, one row per event, written in the transaction of the state
//! change that caused it.

use app::webhooks::WebhookEventType;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// A [`WebhookEventType`]; read it through [`Model::event_type`].
    pub event_type: String,
    pub tenant_id: Uuid,
    pub environment: String,
    /// The exact JSON body every attempt sends and signs.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The event's type. A stored value the portal does not know is an error naming the row.
    pub fn event_type(&self) -> ServiceResult<WebhookEventType> {
        WebhookEventType::parse(&self.event_type).ok_or_else(|| {
            ServiceError::unexpected(format!("webhook event {}: unknown type `{}` in the database", self.id, self.event_type))
        })
    }
}
