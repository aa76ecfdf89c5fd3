//! The account-settings check: the account's eSignature settings against the setup profile's
//! required ones, with a fix that writes only the differing settings the user who will apply it
//! may edit: a setting is editable when its metadata says so *and* that user is not merely a
//! member of the account (DocuSign reports a setting's rights without regard to who asks, so a
//! member sees "editable" settings that every change of theirs is refused).

use std::collections::BTreeMap;

use app::checks::{CheckId, FixKind, RUN_CHECK};
use app::onboarding::model::AccountRole;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{CONNECT_PLACE, CONNECT_SWITCH, CheckOutcome, CheckStatus, FixOffer, is_bool_text};
use crate::checks::profile::SetupProfile;

const SETTINGS_PLACE: &str = "DocuSign eSignature Admin → Settings";

/// One required setting compared with the account (a row of the settings diff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingDiff {
    /// eSignature v2.1 setting name.
    pub name: String,
    /// The value the profile requires.
    pub expected: String,
    /// The account's value; `None` when the account does not report the setting.
    pub actual: Option<String>,
    /// Whether the user who will apply the fix may change it: `<name>Metadata.rights` is
    /// `"editable"` and the user is not merely a member of the account. `false` when the rights are
    /// `"read_only"` or not reported, or the user is a member.
    pub editable: bool,
    /// Whether the account's value is the required one.
    pub ok: bool,
}

/// Compares the account's settings (`GET …/settings`, the `accountSettingsInformation` object)
/// with the profile's required settings.
///
/// Pass when every setting matches; Fail otherwise, with one evidence line per setting, a fix
/// writing only the differing editable settings (none when no differing setting is editable),
/// and a remediation that sends read-only ones to DocuSign support or a higher-privileged admin.
/// `"true"`/`"false"` compare without regard to case; other values must be equal.
///
/// `applier` is the role in the account of the user a fix acts as (the system user): a member
/// can change no setting whatever the metadata says, so a member gets no fix and a remediation
/// that sends the change to an administrator of the account; `Unknown` leaves the metadata to
/// decide.
pub fn settings_check(profile: &SetupProfile, actual: &Map<String, Value>, applier: AccountRole) -> (CheckOutcome, Vec<SettingDiff>) {
    let member = applier == AccountRole::Member;
    let diffs: Vec<SettingDiff> = profile
        .required_settings
        .iter()
        .map(|(name, expected)| {
            let value = actual.get(name).and_then(setting_text);
            let ok = value.as_deref().is_some_and(|v| same_setting_value(v, expected));
            let editable = !member && rights(actual, name) == Rights::Editable;
            SettingDiff { name: name.clone(), expected: expected.clone(), actual: value, editable, ok }
        })
        .collect();

    let mut evidence = Vec::with_capacity(diffs.len().max(1));
    if diffs.is_empty() {
        evidence.push("The setup profile requires no account settings.".to_owned());
    }
    for d in &diffs {
        if d.ok {
            evidence.push(format!("{}: {:?} as required", d.name, d.expected));
        } else {
            let actual_text = d.actual.as_ref().map_or_else(|| "not set".to_owned(), |a| format!("{a:?}"));
            let rights_text = match rights(actual, &d.name) {
                _ if member => "not editable by a member of the account",
                Rights::Editable => "editable",
                Rights::ReadOnly => "read-only for this user",
                Rights::Unknown => "rights not reported (treated as read-only)",
            };
            evidence.push(format!("{}: expected {:?}, actual {actual_text}, {rights_text}", d.name, d.expected));
        }
    }

    let wrong: Vec<&SettingDiff> = diffs.iter().filter(|d| !d.ok).collect();
    if wrong.is_empty() {
        return (CheckOutcome::new(CheckId::AccountSettings, CheckStatus::Pass, evidence), diffs);
    }

    let changes: BTreeMap<String, String> =
        wrong.iter().filter(|d| d.editable).map(|d| (d.name.clone(), d.expected.clone())).collect();
    let locked: Vec<&str> = wrong.iter().filter(|d| !d.editable).map(|d| d.name.as_str()).collect();
    let mut remediation = Vec::new();
    if member {
        evidence.push("The system user is a member, not an administrator, of this account (DocuSign: isAdmin false): DocuSign refuses their changes to its settings.".to_owned());
        remediation.push(format!(
            "An administrator of this account must set {} in {SETTINGS_PLACE}, or make the system user an account administrator in \
             DocuSign eSignature Admin → Users; then the portal can set {} itself.",
            locked.join(", "),
            if locked.len() == 1 { "it" } else { "them" },
        ));
    }
    if !changes.is_empty() {
        let names = changes.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
        remediation.push(format!(
            "Press “{}” to set {names}, or change them yourself in {SETTINGS_PLACE}.",
            FixKind::ApplySettings.label(),
        ));
    }
    if !locked.is_empty() && !member {
        remediation.push(format!(
            "{} cannot be changed with your rights (read-only in {SETTINGS_PLACE}): ask DocuSign support, or an \
             account administrator with higher rights (a DocuSign system administrator), to set {}.",
            locked.join(", "),
            if locked.len() == 1 { "it" } else { "them" },
        ));
    }
    if wrong.iter().any(|d| d.name == CONNECT_SWITCH) {
        remediation.push(format!("{CONNECT_SWITCH} is Connect's on/off switch, found in {CONNECT_PLACE}."));
    }
    remediation.push(format!("Then press “{RUN_CHECK}”."));

    let mut outcome = CheckOutcome::new(CheckId::AccountSettings, CheckStatus::Fail, evidence);
    outcome.remediation = Some(remediation.join(" "));
    outcome.fix = (!changes.is_empty()).then_some(FixOffer::ApplySettings { changes });
    (outcome, diffs)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rights {
    Editable,
    ReadOnly,
    Unknown,
}

/// `<name>Metadata.rights`. Unknown rights count as read-only: offering a write DocuSign then
/// refuses is worse than sending the person to an admin.
fn rights(settings: &Map<String, Value>, name: &str) -> Rights {
    let rights = settings.get(&format!("{name}Metadata")).and_then(|m| m.get("rights")).and_then(Value::as_str);
    match rights {
        Some(r) if r.eq_ignore_ascii_case("editable") => Rights::Editable,
        Some(r) if r.eq_ignore_ascii_case("read_only") => Rights::ReadOnly,
        _ => Rights::Unknown,
    }
}

/// A setting's value as text. v2.1 settings are strings; other JSON is tolerated so a fake (or a
/// future API change) sending a bare boolean is still compared rather than reported as missing.
fn setting_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn same_setting_value(actual: &str, expected: &str) -> bool {
    let (actual, expected) = (actual.trim(), expected.trim());
    actual == expected || (is_bool_text(actual) && is_bool_text(expected) && actual.eq_ignore_ascii_case(expected))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn settings_pass_when_every_required_setting_matches() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "true", "envelopeIntegrationEnabledMetadata": {"rights": "read_only"},
            "inSessionEnabled": "TRUE", "enableSequentialSigningAPI": "true", "usesAPI": "false",
        }));
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &actual, AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(diffs.iter().all(|d| d.ok));
        assert_eq!(outcome.fix, None);
        assert_eq!(outcome.remediation, None);
        assert!(outcome.evidence.contains(&"inSessionEnabled: \"true\" as required".to_owned()));
    }

    #[test]
    fn settings_fail_with_a_diff_of_expected_actual_and_editability() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "false", "envelopeIntegrationEnabledMetadata": {"rights": "editable"},
            "inSessionEnabled": "true",
            "enableSequentialSigningAPI": "false", "enableSequentialSigningAPIMetadata": {"rights": "read_only"},
        }));
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &actual, AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert_eq!(
            diffs.iter().find(|d| d.name == "envelopeIntegrationEnabled").unwrap(),
            &SettingDiff {
                name: "envelopeIntegrationEnabled".into(),
                expected: "true".into(),
                actual: Some("false".into()),
                editable: true,
                ok: false,
            }
        );
        assert!(outcome.evidence.contains(&"envelopeIntegrationEnabled: expected \"true\", actual \"false\", editable".to_owned()));
        assert!(
            outcome.evidence.contains(&"enableSequentialSigningAPI: expected \"true\", actual \"false\", read-only for this user".to_owned()),
            "{:?}",
            outcome.evidence
        );
    }

    #[test]
    fn the_settings_fix_writes_only_the_differing_editable_settings() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "false", "envelopeIntegrationEnabledMetadata": {"rights": "editable"},
            "inSessionEnabled": "true", "inSessionEnabledMetadata": {"rights": "editable"},
            "enableSequentialSigningAPI": "false", "enableSequentialSigningAPIMetadata": {"rights": "read_only"},
        }));
        let (outcome, _) = settings_check(&SetupProfile::default(), &actual, AccountRole::Unknown);
        let expected = BTreeMap::from([("envelopeIntegrationEnabled".to_owned(), "true".to_owned())]);
        assert_eq!(outcome.fix, Some(FixOffer::ApplySettings { changes: expected }));
    }

    #[test]
    fn read_only_settings_are_sent_to_docusign_support_or_a_higher_admin() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "true", "inSessionEnabled": "true",
            "enableSequentialSigningAPI": "false", "enableSequentialSigningAPIMetadata": {"rights": "read_only"},
        }));
        let (outcome, _) = settings_check(&SetupProfile::default(), &actual, AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert_eq!(outcome.fix, None, "nothing the user may change");
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("DocuSign eSignature Admin → Settings"), "{remediation}");
        assert!(remediation.contains("DocuSign support"), "{remediation}");
        assert!(remediation.contains("higher rights"), "{remediation}");
        assert!(remediation.contains("enableSequentialSigningAPI"), "{remediation}");
    }

    #[test]
    fn a_missing_setting_without_rights_is_reported_and_not_offered_as_a_fix() {
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &Map::new(), AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(diffs.iter().all(|d| d.actual.is_none() && !d.editable && !d.ok));
        assert!(outcome.evidence.iter().any(|e| e.contains("actual not set, rights not reported")), "{:?}", outcome.evidence);
        assert_eq!(outcome.fix, None);
    }

    #[test]
    fn an_enum_setting_must_match_exactly() {
        let profile = SetupProfile {
            required_settings: BTreeMap::from([("signerLoginRequirements".to_owned(), "login_not_required".to_owned())]),
            ..SetupProfile::default()
        };
        let actual = settings(json!({
            "signerLoginRequirements": "login_required_if_account_holder",
            "signerLoginRequirementsMetadata": {"rights": "editable"},
        }));
        let (outcome, _) = settings_check(&profile, &actual, AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Fail);
        let changes = BTreeMap::from([("signerLoginRequirements".to_owned(), "login_not_required".to_owned())]);
        assert_eq!(outcome.fix, Some(FixOffer::ApplySettings { changes }));
    }

    #[test]
    fn a_member_of_the_account_is_offered_no_fix_though_the_metadata_says_editable_and_is_sent_to_an_administrator() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "true", "envelopeIntegrationEnabledMetadata": {"rights": "editable"},
            "inSessionEnabled": "false", "inSessionEnabledMetadata": {"rights": "editable"},
            "enableSequentialSigningAPI": "true", "enableSequentialSigningAPIMetadata": {"rights": "editable"},
        }));
        let (admin, _) = settings_check(&SetupProfile::default(), &actual, AccountRole::Admin);
        assert!(admin.fix.is_some(), "an administrator gets the fix");
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &actual, AccountRole::Member);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert_eq!(outcome.fix, None, "every change of a member is refused");
        assert!(diffs.iter().all(|d| !d.editable));
        assert!(outcome.evidence.iter().any(|e| e.contains("not editable by a member")), "{:?}", outcome.evidence);
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("An administrator of this account must set inSessionEnabled"), "{remediation}");
        assert!(!remediation.contains("editable") && !remediation.contains("Apply"), "no fix is named: {remediation}");
    }

    #[test]
    fn a_profile_without_required_settings_passes() {
        let profile = SetupProfile { required_settings: BTreeMap::new(), ..SetupProfile::default() };
        let (outcome, diffs) = settings_check(&profile, &Map::new(), AccountRole::Unknown);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(diffs.is_empty());
    }
}
