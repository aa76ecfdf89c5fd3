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
    /// A [`Purpose`] by its wire name (`sign_in`, `individual` or `organization`); read it with
    /// [`Model::purpose`].
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
    /// Individual consent (`signature impersonation` [+ `extended`]).
    Individual,
    /// Organization admin consent (`openid` + `admin_consent_scope`).
    Organization,
}

impl Purpose {
    /// Parses the form value.
    pub fn parse(value: &str) -> Option<Purpose> {
        match value {
            "sign_in" => Some(Purpose::SignIn),
            "individual" => Some(Purpose::Individual),
            "organization" => Some(Purpose::Organization),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
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
