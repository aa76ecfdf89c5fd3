//! The setup check's rules as pure functions of what the portal read from DocuSign, one file per
//! check: each takes the facts, returns one [`CheckOutcome`] (status, evidence, a remediation a
//! person can act on, and the fix the portal can apply), and does no I/O, so every rule is tested
//! in its file with plain values. The fact types are local on purpose: the rules do not depend on
//! the provider client. This file holds what every rule shares: the outcome, the fix offer, and
//! how a run's outcomes add up.

pub mod claimed_domains;
pub mod connect_configuration;
pub mod connect_delivery;
pub mod settings;
pub mod system_user;
pub mod view;

use std::collections::BTreeMap;

use app::checks::{CheckId, FixKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where Connect lives in DocuSign; both the settings and the Connect rule send people there.
const CONNECT_PLACE: &str = "DocuSign eSignature Admin → Settings → Connect";
/// The setting that switches Connect on for the whole account.
const CONNECT_SWITCH: &str = "envelopeIntegrationEnabled";

/// The result of one check: the same type the UI shows (`app::checks::CheckStatus`).
pub use app::checks::CheckStatus;

/// Rank for [`overall`]: the higher, the worse. A failed setup outranks a check that could not
/// decide, because the failure is known to need action.
fn severity(status: CheckStatus) -> u8 {
    match status {
        CheckStatus::Skipped => 0,
        CheckStatus::Pass => 1,
        CheckStatus::Warn => 2,
        CheckStatus::Error => 3,
        CheckStatus::Fail => 4,
    }
}

/// A change the portal can make itself when the person asks for it ("one click"). Every fix is
/// idempotent: applying it again once it succeeded changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FixOffer {
    /// "Apply recommended settings": `PUT …/settings` with exactly these settings (only the
    /// differing ones the user may edit).
    ApplySettings {
        /// Setting name → value to write.
        changes: BTreeMap<String, String>,
    },
    /// "Create the Connect configuration": `POST …/connect` with this body.
    CreateConnect {
        /// A `connectCustomConfiguration` without `connectId`.
        configuration: Value,
    },
    /// "Repair the Connect configuration": `PUT …/connect` with this body (it carries
    /// `connectId`, because the path has none).
    RepairConnect {
        /// The configuration being repaired.
        connect_id: String,
        /// A `connectCustomConfiguration` including `connectId`.
        configuration: Value,
    },
    /// Store the `base_uri` userinfo now reports for the account.
    AcceptBaseUri {
        /// The new base URI.
        new_base_uri: String,
    },
}

impl FixOffer {
    /// Which fix this is, as the browser names it.
    pub fn kind(&self) -> FixKind {
        match self {
            FixOffer::ApplySettings { .. } => FixKind::ApplySettings,
            FixOffer::CreateConnect { .. } => FixKind::CreateConnect,
            FixOffer::RepairConnect { .. } => FixKind::RepairConnect,
            FixOffer::AcceptBaseUri { .. } => FixKind::AcceptBaseUri,
        }
    }
}

/// One check's result, as stored with the run and shown to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Which check.
    pub id: CheckId,
    /// Human title (the id's title; stored with the outcome so old runs read as they were).
    pub title: String,
    /// The verdict.
    pub status: CheckStatus,
    /// What was observed, one fact per line, in plain words.
    pub evidence: Vec<String>,
    /// Facts only ISV staff are shown (their own attestations): the customer admin reads the
    /// same check in the wizard, where a staff-only procedure is noise they cannot act on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff_evidence: Vec<String>,
    /// What a person should do and where to click in DocuSign; `None` when nothing is to do.
    pub remediation: Option<String>,
    /// The change the portal can make itself, when there is one.
    pub fix: Option<FixOffer>,
}

impl CheckOutcome {
    /// An outcome without remediation or fix (set those fields when there are some).
    pub fn new(id: CheckId, status: CheckStatus, evidence: Vec<String>) -> Self {
        Self { id, title: id.title().to_owned(), status, evidence, staff_evidence: Vec::new(), remediation: None, fix: None }
    }
}

/// The worst status among `outcomes`: Fail > Error > Warn > Pass; Skipped only when every check
/// was skipped (or there were none).
pub fn overall(outcomes: &[CheckOutcome]) -> CheckStatus {
    outcomes.iter().map(|o| o.status).max_by_key(|s| severity(*s)).unwrap_or(CheckStatus::Skipped)
}

/// Whether a setting's text is a boolean (DocuSign sends booleans as `"true"`/`"false"` strings,
/// in any case); settings and Connect both compare them without regard to case.
fn is_bool_text(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn outcome(status: CheckStatus) -> CheckOutcome {
        CheckOutcome::new(CheckId::SystemUser, status, Vec::new())
    }

    #[test]
    fn the_overall_status_is_the_worst_one() {
        use CheckStatus::*;
        let all = |list: &[CheckStatus]| overall(&list.iter().map(|s| outcome(*s)).collect::<Vec<_>>());
        assert_eq!(all(&[Pass, Warn, Error, Fail, Skipped]), Fail);
        assert_eq!(all(&[Pass, Warn, Error, Skipped]), Error);
        assert_eq!(all(&[Pass, Warn, Skipped]), Warn);
        assert_eq!(all(&[Pass, Skipped]), Pass);
    }

    #[test]
    fn the_overall_status_is_skipped_only_when_every_check_was_skipped() {
        use CheckStatus::*;
        assert_eq!(overall(&[outcome(Skipped), outcome(Skipped)]), Skipped);
        assert_eq!(overall(&[]), Skipped);
    }

    #[test]
    fn statuses_and_fixes_serialize_in_snake_case_with_a_kind_tag() {
        assert_eq!(serde_json::to_value(CheckStatus::Skipped).unwrap(), json!("skipped"));
        assert_eq!(CheckStatus::Warn.as_str(), "warn");
        let fix = FixOffer::RepairConnect { connect_id: "7".into(), configuration: json!({"connectId": "7"}) };
        let wire = serde_json::to_value(&fix).unwrap();
        assert_eq!(wire, json!({"kind": "repair_connect", "connect_id": "7", "configuration": {"connectId": "7"}}));
        assert_eq!(serde_json::from_value::<FixOffer>(wire).unwrap(), fix);
    }

    #[test]
    fn the_stored_fix_tag_is_the_kind_the_browser_sees() {
        let fixes = [
            FixOffer::ApplySettings { changes: BTreeMap::new() },
            FixOffer::CreateConnect { configuration: json!({}) },
            FixOffer::RepairConnect { connect_id: "7".into(), configuration: json!({}) },
            FixOffer::AcceptBaseUri { new_base_uri: "https://eu.docusign.net".into() },
        ];
        for fix in fixes {
            assert_eq!(serde_json::to_value(&fix).unwrap()["kind"], json!(fix.kind().as_str()));
        }
    }

    #[test]
    fn an_outcome_carries_its_checks_wire_id_and_title() {
        let o = CheckOutcome::new(CheckId::ConnectDelivery, CheckStatus::Warn, vec![]);
        assert_eq!(o.title, "Connect delivery");
        assert_eq!(serde_json::to_value(&o).unwrap()["id"], json!("connect_delivery"));
    }
}
