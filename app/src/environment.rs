//! The DocuSign environment a tenant's consent lives in: a word the whole product uses (tenants,
//! onboarding, checks, configuration, the API), so it has a module of its own.

use serde::{Deserialize, Serialize};

/// Which DocuSign environment a tenant's consent lives in. Demo and production consent are
/// separate: a tenant onboarded on demo still has to consent on production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// DocuSign's developer environment (account-d).
    #[default]
    Demo,
    /// DocuSign production (account).
    Production,
}

impl Environment {
    /// Both environments, for selects.
    pub const ALL: [Environment; 2] = [Environment::Demo, Environment::Production];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Demo => "demo",
            Environment::Production => "production",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Environment::Demo => "Demo (developer sandbox)",
            Environment::Production => "Production",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|e| e.as_str() == value)
    }
}
