//! `sessions`: server-side sessions, keyed by the SHA-256 of the cookie value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// `staff` (later also `invite`).
    pub kind: String,
    pub staff_id: Option<Uuid>,
    pub tenant_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// The absolute end of the session, whatever the activity.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The staff member a staff session belongs to (read with the session, in one query).
    #[sea_orm(belongs_to = "super::staff_user::Entity", from = "Column::StaffId", to = "super::staff_user::Column::Id")]
    Staff,
}

impl Related<super::staff_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Staff.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Who a session belongs to: a staff member or a customer admin who redeemed an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Staff,
    Invite,
}

impl SessionKind {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Staff => "staff",
            SessionKind::Invite => "invite",
        }
    }
}

impl Model {
    /// The session's kind. A stored value the portal does not know is an error naming the row.
    pub fn kind(&self) -> crate::error::ServiceResult<SessionKind> {
        match self.kind.as_str() {
            "staff" => Ok(SessionKind::Staff),
            "invite" => Ok(SessionKind::Invite),
            other => Err(crate::error::ServiceError::unexpected(format!("session {}…: unknown kind `{other}` in the database", &self.id_hash[..8.min(self.id_hash.len())]))),
        }
    }
}
