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
    /// What the wizard read of the signed-in admin's organization before consent
    /// (`onboarding::prerequisites::OrganizationFacts`).
    pub organization: Option<Json>,
    /// The access token of the admin's read consent (`organization_read domain_read`), sealed
    /// with the keyring (purpose `directory_token`), for "Check again"; never shown.
    #[sea_orm(column_type = "Text", nullable)]
    pub directory_token: Option<String>,
    /// When that token stops working (DocuSign's `expires_in`).
    pub directory_token_expires_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
