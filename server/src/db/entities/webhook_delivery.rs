//! `webhook_deliveries`: one event to one endpoint, with its retry schedule and the lease of the
//! worker delivering it.

use app::webhooks::DeliveryStatus;
use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    /// A [`DeliveryStatus`]; read it through [`Model::status`].
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    /// A short reason of the last failure (no secrets, no response body).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Where the delivery stands. A stored value the portal does not know is an error naming the row.
    pub fn status(&self) -> ServiceResult<DeliveryStatus> {
        DeliveryStatus::parse(&self.status).ok_or_else(|| {
            ServiceError::unexpected(format!("webhook delivery {}: unknown status `{}` in the database", self.id, self.status))
        })
    }
}
