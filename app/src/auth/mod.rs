//! Who is asking: staff roles, the signed-in principal, sign-in and sign-out.

pub mod api;
pub mod views;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A staff member's role. Roles are cumulative in the order listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads only the tenants assigned to them; never edits.
    AccountManager,
    /// Manages every tenant, invite and check.
    ConfigStaff,
    /// Everything config staff may do, plus managing staff accounts.
    Admin,
}

impl Role {
    /// Every role, for selects and access-matrix tests.
    pub const ALL: [Role; 3] = [Role::AccountManager, Role::ConfigStaff, Role::Admin];

    /// The wire and database name (`account_manager`, `config_staff`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::AccountManager => "account_manager",
            Role::ConfigStaff => "config_staff",
            Role::Admin => "admin",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::AccountManager => "Account manager",
            Role::ConfigStaff => "Configuration staff",
            Role::Admin => "Administrator",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Whether this role may create, edit and archive tenants.
    pub fn manages_tenants(self) -> bool {
        matches!(self, Role::ConfigStaff | Role::Admin)
    }

    /// Whether this role may manage staff accounts.
    pub fn manages_staff(self) -> bool {
        self == Role::Admin
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in staff member, as the UI and the access policy see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPrincipal {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_and_unknown_names_are_rejected() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_config_staff_and_admins_manage_tenants_and_only_admins_manage_staff() {
        assert!(!Role::AccountManager.manages_tenants());
        assert!(Role::ConfigStaff.manages_tenants() && Role::Admin.manages_tenants());
        assert!(!Role::ConfigStaff.manages_staff() && Role::Admin.manages_staff());
    }
}
