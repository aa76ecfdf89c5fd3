//! The setup check as people see it: each check's status, evidence, remediation and fix, run on
//! demand with each result appearing as it completes; for staff on the tenant page and for the
//! customer admin at the end of the wizard.

pub mod api;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    Error,
    Skipped,
}

impl CheckStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
            CheckStatus::Skipped => "skipped",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Pass",
            CheckStatus::Warn => "Warning",
            CheckStatus::Fail => "Fail",
            CheckStatus::Error => "Could not check",
            CheckStatus::Skipped => "Skipped",
        }
    }
}

/// One check of the setup check. The wire and database name is the snake_case variant
/// (`claimed_domains`, …), the same string stored in `check_results.check_id` and
/// `check_attestations.check_id`; adding a check means adding a variant here, its rule, and its
/// facts, and the compiler points at every place that must learn about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// Consent and the pinned system user still work.
    SystemUser,
    /// The organization's claimed domains cover the system user.
    ClaimedDomains,
    /// The account settings the integration needs.
    AccountSettings,
    /// A Connect configuration publishes to the tenant's listener.
    ConnectConfiguration,
    /// A verified Connect message reached the listener recently.
    ConnectDelivery,
}

impl CheckId {
    /// Every check, in the order a run runs (and shows) them.
    pub const ALL: [CheckId; 5] =
        [CheckId::SystemUser, CheckId::ClaimedDomains, CheckId::AccountSettings, CheckId::ConnectConfiguration, CheckId::ConnectDelivery];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::SystemUser => "system_user",
            CheckId::ClaimedDomains => "claimed_domains",
            CheckId::AccountSettings => "account_settings",
            CheckId::ConnectConfiguration => "connect_configuration",
            CheckId::ConnectDelivery => "connect_delivery",
        }
    }

    /// The title people see.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::SystemUser => "Consent and system user",
            CheckId::ClaimedDomains => "Claimed domains",
            CheckId::AccountSettings => "Account settings",
            CheckId::ConnectConfiguration => "Connect configuration",
            CheckId::ConnectDelivery => "Connect delivery",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a run's overall result is stored and shown: the worst check status once every check
/// landed, or `abandoned` when the scheduler closed a run its dead worker left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOverall {
    Pass,
    Warn,
    Fail,
    Error,
    Skipped,
    /// Closed unfinished; the results that landed stay readable.
    Abandoned,
}

impl RunOverall {
    /// Every value, for parsing.
    pub const ALL: [RunOverall; 6] =
        [RunOverall::Pass, RunOverall::Warn, RunOverall::Fail, RunOverall::Error, RunOverall::Skipped, RunOverall::Abandoned];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOverall::Pass => "pass",
            RunOverall::Warn => "warn",
            RunOverall::Fail => "fail",
            RunOverall::Error => "error",
            RunOverall::Skipped => "skipped",
            RunOverall::Abandoned => "abandoned",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<RunOverall> {
        RunOverall::ALL.into_iter().find(|o| o.as_str() == value)
    }
}

impl From<CheckStatus> for RunOverall {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Pass => RunOverall::Pass,
            CheckStatus::Warn => RunOverall::Warn,
            CheckStatus::Fail => RunOverall::Fail,
            CheckStatus::Error => RunOverall::Error,
            CheckStatus::Skipped => RunOverall::Skipped,
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// A person pressed "Run setup check" (staff or the customer admin).
    Manual,
    /// The scheduler's periodic re-check; only these runs are ever closed as abandoned.
    Scheduled,
    /// The load bench (`server bench`).
    Bench,
}

impl RunTrigger {
    /// Every value, for parsing.
    pub const ALL: [RunTrigger; 3] = [RunTrigger::Manual, RunTrigger::Scheduled, RunTrigger::Bench];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Manual => "manual",
            RunTrigger::Scheduled => "scheduled",
            RunTrigger::Bench => "bench",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<RunTrigger> {
        RunTrigger::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// Which fix a check offers (the button and what the portal will do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixKind {
    ApplySettings,
    CreateConnect,
    RepairConnect,
    AcceptBaseUri,
}

impl FixKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::ApplySettings => "apply_settings",
            FixKind::CreateConnect => "create_connect",
            FixKind::RepairConnect => "repair_connect",
            FixKind::AcceptBaseUri => "accept_base_uri",
        }
    }

    /// The fix's button label; texts that tell a person to press it use this too.
    pub fn label(self) -> &'static str {
        match self {
            FixKind::ApplySettings => "Apply recommended settings",
            FixKind::CreateConnect => "Create the Connect configuration",
            FixKind::RepairConnect => "Repair the Connect configuration",
            FixKind::AcceptBaseUri => "Accept the new base URI",
        }
    }

    /// Every fix, for the texts-name-real-controls test.
    pub const ALL: [FixKind; 4] = [FixKind::ApplySettings, FixKind::CreateConnect, FixKind::RepairConnect, FixKind::AcceptBaseUri];
}

/// The setup-check panel's run button; remediation texts that say to check again name it.
pub const RUN_CHECK: &str = "Run setup check";

/// A fix the portal can apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixView {
    pub kind: FixKind,
    /// The button's label.
    pub label: String,
    /// What will change, one line each.
    pub details: Vec<String>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResultView {
    pub id: CheckId,
    pub title: String,
    pub status: CheckStatus,
    pub evidence: Vec<String>,
    pub remediation: Option<String>,
    pub fix: Option<FixView>,
}

/// A run with its results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunView {
    pub run_id: Uuid,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// None while running.
    pub overall: Option<RunOverall>,
    pub results: Vec<CheckResultView>,
    /// The consent state, when it changed after this run started: the results predate it.
    #[serde(default)]
    pub consent_changed: Option<crate::onboarding::model::ConsentStatus>,
}

/// A run just opened, with the checks to run, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedRun {
    pub run_id: Uuid,
    /// `(id, title)` of each check.
    pub checks: Vec<(CheckId, String)>,
}

/// One past run, for the history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: Uuid,
    pub trigger: RunTrigger,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    /// None while running.
    pub overall: Option<RunOverall>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_keep_their_wire_names_and_titles() {
        let names: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["system_user", "claimed_domains", "account_settings", "connect_configuration", "connect_delivery"]);
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), serde_json::json!(id.as_str()));
            assert_eq!(CheckId::parse(id.as_str()), Some(id));
        }
        assert_eq!(CheckId::ClaimedDomains.title(), "Claimed domains");
        assert_eq!(CheckId::parse("Claimed_Domains"), None);
        assert!(serde_json::from_value::<CheckId>(serde_json::json!("no_such_check")).is_err());
    }

    #[test]
    fn run_vocabulary_round_trips_through_its_wire_names() {
        for o in RunOverall::ALL {
            assert_eq!(serde_json::to_value(o).unwrap(), serde_json::json!(o.as_str()));
            assert_eq!(RunOverall::parse(o.as_str()), Some(o));
        }
        for t in RunTrigger::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
            assert_eq!(RunTrigger::parse(t.as_str()), Some(t));
        }
        for k in [FixKind::ApplySettings, FixKind::CreateConnect, FixKind::RepairConnect, FixKind::AcceptBaseUri] {
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
        }
        assert_eq!(RunOverall::from(CheckStatus::Warn), RunOverall::Warn);
        assert_eq!(RunOverall::parse("running"), None);
    }
}
