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

/// A fix the portal can apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixView {
    /// `apply_settings`, `create_connect`, `repair_connect`, `accept_base_uri`.
    pub kind: String,
    /// The button's label.
    pub label: String,
    /// What will change, one line each.
    pub details: Vec<String>,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResultView {
    pub id: String,
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
    pub trigger: String,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub overall: Option<CheckStatus>,
    pub results: Vec<CheckResultView>,
}

/// A run just opened, with the checks to run, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedRun {
    pub run_id: Uuid,
    /// `(id, title)` of each check.
    pub checks: Vec<(String, String)>,
}

/// One past run, for the history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: Uuid,
    pub trigger: String,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    /// `pass`, `warn`, `fail`, `error`, `skipped`, `abandoned`, or none while running.
    pub overall: Option<String>,
}
