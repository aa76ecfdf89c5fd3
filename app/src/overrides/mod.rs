//! Manual overrides: staff accept, for a while and with a reason, that one setup check of a
//! tenant (or the tenant's consent) does not pass when no automated check can prove otherwise (a
//! Connect delivery that only happens in production, an account DocuSign cannot be asked about).
//!
//! An override is an overlay, never a rewrite: the check's own result and the consent state stay
//! what the portal saw; the override is shown beside them everywhere (list badge, overview count,
//! tenant page) until it ends. It ends when its expiry passes, when staff withdraw it, or when a
//! later run sees the check pass (or the consent verified), whichever comes first.
//!
//! This differs from an attestation (`checks/attest`): an attestation supplies a fact the claimed
//! domains check cannot read and is weighed by that check's rule on every run; an override leaves
//! every rule alone and records a decision about a verdict.

pub mod api;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checks::CheckId;

/// The shortest justification accepted (the same bar as an attestation's).
pub const MIN_JUSTIFICATION: usize = 10;
/// The longest justification accepted.
pub const MAX_JUSTIFICATION: usize = 1000;
/// The shortest expiry, in days.
pub const MIN_DAYS: u32 = 1;
/// The longest expiry, in days: an override is a stopgap, so it has to be renewed on purpose.
pub const MAX_DAYS: u32 = 90;

/// What an override stands in for: one setup check, or the tenant's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OverrideSubject {
    /// The tenant's consent (its state is not `verified`).
    Consent,
    /// One setup check (its latest result is not a pass).
    Check(CheckId),
}

impl OverrideSubject {
    /// Every subject, in the order pages list them.
    pub fn all() -> impl Iterator<Item = OverrideSubject> {
        std::iter::once(OverrideSubject::Consent).chain(CheckId::ALL.into_iter().map(OverrideSubject::Check))
    }

    /// The wire and database name: `consent` or the check's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideSubject::Consent => "consent",
            OverrideSubject::Check(id) => id.as_str(),
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<OverrideSubject> {
        OverrideSubject::all().find(|s| s.as_str() == value)
    }

    /// The title people see.
    pub fn title(self) -> &'static str {
        match self {
            OverrideSubject::Consent => "Consent",
            OverrideSubject::Check(id) => id.title(),
        }
    }
}

impl TryFrom<String> for OverrideSubject {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OverrideSubject::parse(value.trim()).ok_or_else(|| format!("unknown override subject `{value}`"))
    }
}

impl From<OverrideSubject> for String {
    fn from(value: OverrideSubject) -> Self {
        value.as_str().to_owned()
    }
}

/// What staff send to override something. Strings on the wire (a form posts text): the server
/// parses and bounds each field and names the one that is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideInput {
    /// `consent` or a check's wire name.
    #[serde(default)]
    pub subject: String,
    /// Why staff accept it (required).
    #[serde(default)]
    pub justification: String,
    /// For how many days, `MIN_DAYS..=MAX_DAYS`.
    #[serde(default)]
    pub expires_in_days: String,
}

/// An [`OverrideInput`] that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOverride {
    pub subject: OverrideSubject,
    pub justification: String,
    pub days: u32,
}

impl OverrideInput {
    /// Checks every field, reporting each bad one by name (nothing is stored unless all pass).
    pub fn validate(&self) -> Result<ValidOverride, crate::error::AppError> {
        let mut errors = crate::error::FieldErrors::default();
        let subject = OverrideSubject::parse(self.subject.trim());
        if subject.is_none() {
            errors.entry("subject".to_owned()).or_default().push("Choose the consent or one of the setup checks to override.".to_owned());
        }
        let justification = self.justification.trim().to_owned();
        let chars = justification.chars().count();
        if chars < MIN_JUSTIFICATION {
            errors
                .entry("justification".to_owned())
                .or_default()
                .push(format!("Explain in a sentence why this is acceptable (at least {MIN_JUSTIFICATION} characters)."));
        } else if chars > MAX_JUSTIFICATION {
            errors.entry("justification".to_owned()).or_default().push(format!("Keep the justification to {MAX_JUSTIFICATION} characters."));
        }
        let days = self.expires_in_days.trim().parse::<u32>().ok().filter(|d| (MIN_DAYS..=MAX_DAYS).contains(d));
        if days.is_none() {
            errors
                .entry("expires_in_days".to_owned())
                .or_default()
                .push(format!("Give the number of days the override lasts, from {MIN_DAYS} to {MAX_DAYS}."));
        }
        match (subject, days) {
            (Some(subject), Some(days)) if errors.is_empty() => Ok(ValidOverride { subject, justification, days }),
            _ => Err(crate::error::AppError::Validation { fields: errors }),
        }
    }
}

/// An override in force, as the tenant page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideView {
    pub id: Uuid,
    pub subject: OverrideSubject,
    /// The check's status (`fail`, …) or consent state when staff overrode it.
    pub overridden_status: String,
    pub justification: String,
    /// Staff e-mail.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The overrides panel of a tenant: what is in force, and whether the caller may decide (set and
/// withdraw), so the server renders the right controls without waiting for the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantOverrides {
    pub overrides: Vec<OverrideView>,
    pub can_manage: bool,
}

/// An override in force as a list row shows it: what, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideBadge {
    pub subject: OverrideSubject,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(subject: &str, justification: &str, days: &str) -> OverrideInput {
        OverrideInput { subject: subject.into(), justification: justification.into(), expires_in_days: days.into() }
    }

    #[test]
    fn a_subject_is_the_consent_or_a_check_by_its_wire_name() {
        assert_eq!(OverrideSubject::parse("consent"), Some(OverrideSubject::Consent));
        assert_eq!(OverrideSubject::parse("connect_delivery"), Some(OverrideSubject::Check(CheckId::ConnectDelivery)));
        assert_eq!(OverrideSubject::parse("everything"), None);
        for s in OverrideSubject::all() {
            assert_eq!(OverrideSubject::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_valid_override_needs_a_subject_a_justification_and_an_expiry_within_bounds() {
        let ok = input("connect_delivery", "  Production-only listener; verified on a call.  ", "30").validate().unwrap();
        assert_eq!(ok.subject, OverrideSubject::Check(CheckId::ConnectDelivery));
        assert_eq!(ok.justification, "Production-only listener; verified on a call.");
        assert_eq!(ok.days, 30);
        for days in ["0", "91", "-1", "ten", ""] {
            let err = input("consent", "A long enough reason.", days).validate().unwrap_err();
            assert_eq!(err.field_messages("expires_in_days").len(), 1, "{days:?}");
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = input("nope", "short", "400").validate().unwrap_err();
        for field in ["subject", "justification", "expires_in_days"] {
            assert_eq!(err.field_messages(field).len(), 1, "{field}");
        }
        let long = "x".repeat(MAX_JUSTIFICATION + 1);
        assert_eq!(input("consent", &long, "1").validate().unwrap_err().field_messages("justification").len(), 1);
    }
}
