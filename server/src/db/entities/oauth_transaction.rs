//! `oauth_transactions`: one authorization request in flight, keyed by the hash of its `state`.

use sea_orm::entity::prelude::*;

use crate::error::{ServiceError, ServiceResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub tenant_id: Uuid,
    pub environment: String,
    /// Hash of the browser session that started it; a callback from another session is refused.
    pub session_hash: String,
    /// A [`Purpose`] by its wire name (`sign_in`, `organization_read`, `individual` or
    /// `organization`); read it with
    /// [`Model::purpose`].
    pub purpose: String,
    /// The scopes asked for, space separated (`None` on transactions started before the column
    /// existed): the consent receipt records exactly these.
    #[sea_orm(column_type = "Text", nullable)]
    pub scopes: Option<String>,
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

impl Model {
    /// Why the transaction was started. An unknown value is an error naming the row, never a
    /// silent default.
    pub fn purpose(&self) -> ServiceResult<Purpose> {
        Purpose::parse(&self.purpose).ok_or_else(|| {
            ServiceError::unexpected(format!("oauth_transaction of tenant {} created {}: unknown purpose `{}`", self.tenant_id, self.created_at, self.purpose))
        })
    }
}

/// Why the wizard sends the admin to DocuSign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Identify the admin (`openid`) to show their accounts and advise on the path.
    SignIn,
    /// The signed-in admin's own read consent to the Admin API (`signature organization_read
    /// domain_read`), asked right after sign-in when their accounts belong to an organization,
    /// so the wizard can read its claimed domains before any consent is attempted.
    OrganizationRead,
    /// Individual consent (`signature impersonation` [+ `extended`], plus the Admin API read
    /// scopes when the admin administers the organization and granted them at sign-in).
    Individual,
    /// Organization admin consent (`openid` + `admin_consent_scope`).
    Organization,
}

impl Purpose {
    /// Parses the form value.
    pub fn parse(value: &str) -> Option<Purpose> {
        match value {
            "sign_in" => Some(Purpose::SignIn),
            "organization_read" => Some(Purpose::OrganizationRead),
            "individual" => Some(Purpose::Individual),
            "organization" => Some(Purpose::Organization),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::OrganizationRead => "organization_read",
            Purpose::Individual => "individual",
            Purpose::Organization => "organization",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_purpose_is_an_error_naming_the_row() {
        let now = chrono::Utc::now();
        let mut row = Model {
            state_hash: String::new(),
            tenant_id: Uuid::nil(),
            environment: "demo".into(),
            session_hash: String::new(),
            purpose: "sign_in".into(),
            scopes: None,
            pkce_verifier: String::new(),
            created_at: now,
            expires_at: now,
            consumed_at: None,
        };
        assert_eq!(row.purpose().unwrap(), Purpose::SignIn);
        row.purpose = "sign_out".into();
        let err = row.purpose().unwrap_err().to_string();
        assert!(err.contains(&Uuid::nil().to_string()) && err.contains("`sign_out`"), "{err}");
    }
}
