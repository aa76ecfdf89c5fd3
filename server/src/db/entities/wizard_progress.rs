//! `wizard_progress`: what one invitee session has done in the wizard so far.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wizard_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_hash: String,
    pub tenant_id: Uuid,
    pub environment: String,
    /// The DocuSign user who signed in (userinfo, without tokens).
    pub signed_in_user: Option<Json>,
    /// `individual` or `organization`, once consent was granted.
    pub chosen_path: Option<String>,
    /// The system user candidate and its accounts (userinfo of the system user).
    pub candidate: Option<Json>,
    /// The last outcome to show (an error from DocuSign, a refused callback).
    pub notice: Option<Json>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
