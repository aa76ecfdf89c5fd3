//! The setup check's rules as pure functions of what the portal read from DocuSign: each takes
//! the facts, returns one [`CheckOutcome`] (status, evidence, a remediation a person can act on,
//! and the fix the portal can apply), and does no I/O, so every rule is tested here with plain
//! values. The types are local on purpose: the rules do not depend on the provider client.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::profile::{ConnectProfile, SetupProfile, check_listener_url};

/// Id of the claimed-domains check.
pub const DOMAINS_CHECK: &str = "claimed_domains";
/// Id of the account-settings check.
pub const SETTINGS_CHECK: &str = "account_settings";
/// Id of the Connect-configuration check.
pub const CONNECT_CHECK: &str = "connect_configuration";

const SETTINGS_PLACE: &str = "DocuSign eSignature Admin → Settings";
const CONNECT_PLACE: &str = "DocuSign eSignature Admin → Settings → Connect";
const DOMAINS_PLACE: &str = "DocuSign Admin (admin.docusign.com) → Domains";
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

/// One check's result, as stored with the run and shown to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Stable id ([`DOMAINS_CHECK`], [`SETTINGS_CHECK`], [`CONNECT_CHECK`], …).
    pub id: String,
    /// Human title.
    pub title: String,
    /// The verdict.
    pub status: CheckStatus,
    /// What was observed, one fact per line, in plain words.
    pub evidence: Vec<String>,
    /// What a person should do and where to click in DocuSign; `None` when nothing is to do.
    pub remediation: Option<String>,
    /// The change the portal can make itself, when there is one.
    pub fix: Option<FixOffer>,
}

impl CheckOutcome {
    /// An outcome without remediation or fix (set those fields when there are some).
    pub fn new(id: impl Into<String>, title: impl Into<String>, status: CheckStatus, evidence: Vec<String>) -> Self {
        Self { id: id.into(), title: title.into(), status, evidence, remediation: None, fix: None }
    }
}

/// The worst status among `outcomes`: Fail > Error > Warn > Pass; Skipped only when every check
/// was skipped (or there were none).
pub fn overall(outcomes: &[CheckOutcome]) -> CheckStatus {
    outcomes.iter().map(|o| o.status).max_by_key(|s| severity(*s)).unwrap_or(CheckStatus::Skipped)
}

// ---------------------------------------------------------------------------------------------
// Account settings

/// One required setting compared with the account (a row of the settings diff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingDiff {
    /// eSignature v2.1 setting name.
    pub name: String,
    /// The value the profile requires.
    pub expected: String,
    /// The account's value; `None` when the account does not report the setting.
    pub actual: Option<String>,
    /// Whether the user whose token read the settings may change it (`<name>Metadata.rights` is
    /// `"editable"`). `false` when the rights are `"read_only"` or not reported.
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
pub fn settings_check(profile: &SetupProfile, actual: &Map<String, Value>) -> (CheckOutcome, Vec<SettingDiff>) {
    let diffs: Vec<SettingDiff> = profile
        .required_settings
        .iter()
        .map(|(name, expected)| {
            let value = actual.get(name).and_then(setting_text);
            let ok = value.as_deref().is_some_and(|v| same_setting_value(v, expected));
            SettingDiff { name: name.clone(), expected: expected.clone(), actual: value, editable: rights(actual, name) == Rights::Editable, ok }
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
                Rights::Editable => "editable",
                Rights::ReadOnly => "read-only for this user",
                Rights::Unknown => "rights not reported (treated as read-only)",
            };
            evidence.push(format!("{}: expected {:?}, actual {actual_text}, {rights_text}", d.name, d.expected));
        }
    }

    let wrong: Vec<&SettingDiff> = diffs.iter().filter(|d| !d.ok).collect();
    if wrong.is_empty() {
        return (CheckOutcome::new(SETTINGS_CHECK, "Account settings", CheckStatus::Pass, evidence), diffs);
    }

    let changes: BTreeMap<String, String> =
        wrong.iter().filter(|d| d.editable).map(|d| (d.name.clone(), d.expected.clone())).collect();
    let locked: Vec<&str> = wrong.iter().filter(|d| !d.editable).map(|d| d.name.as_str()).collect();
    let mut remediation = Vec::new();
    if !changes.is_empty() {
        let names = changes.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
        remediation.push(format!(
            "Press \"Apply recommended settings\" to set {names}, or change them yourself in {SETTINGS_PLACE}."
        ));
    }
    if !locked.is_empty() {
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
    remediation.push("Then press \"Re-check\".".to_owned());

    let mut outcome = CheckOutcome::new(SETTINGS_CHECK, "Account settings", CheckStatus::Fail, evidence);
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

fn is_bool_text(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
}

fn same_setting_value(actual: &str, expected: &str) -> bool {
    let (actual, expected) = (actual.trim(), expected.trim());
    actual == expected || (is_bool_text(actual) && is_bool_text(expected) && actual.eq_ignore_ascii_case(expected))
}

// ---------------------------------------------------------------------------------------------
// Connect

/// One requirement of a Connect configuration, checked.
struct Requirement {
    ok: bool,
    line: String,
}

/// Checks every requirement of the profile on one `connectCustomConfiguration`.
fn connect_requirements(config: &Value, profile: &ConnectProfile) -> Vec<Requirement> {
    let mut out = Vec::new();
    let text = |v: Option<&Value>| v.map_or_else(|| "not set".to_owned(), |v| v.as_str().map_or_else(|| v.to_string(), |s| format!("{s:?}")));
    let mut exact = |field: &str, value: Option<&Value>, expected: &str| {
        let ok = match value {
            Some(Value::String(s)) => s.trim().eq_ignore_ascii_case(expected),
            Some(Value::Bool(b)) => is_bool_text(expected) && b.to_string() == expected,
            _ => false,
        };
        let line =
            if ok { format!("{field} is {expected:?}") } else { format!("{field} should be {expected:?} but is {}", text(value)) };
        out.push(Requirement { ok, line });
    };
    let event_data = config.get("eventData");
    exact("configurationType", config.get("configurationType"), "custom");
    exact("allowEnvelopePublish", config.get("allowEnvelopePublish"), "true");
    exact("allUsers", config.get("allUsers"), "true");
    exact("includeHMAC", config.get("includeHMAC"), "true");
    exact("requiresAcknowledgement", config.get("requiresAcknowledgement"), "true");
    exact("deliveryMode", config.get("deliveryMode"), "SIM");
    exact("eventData.format", event_data.and_then(|d| d.get("format")), "json");
    exact("eventData.version", event_data.and_then(|d| d.get("version")), "restv2.1");

    let mut contains_all = |field: &str, have: Option<&Value>, required: &[String]| {
        if required.is_empty() {
            return;
        }
        let have: Vec<&str> = have.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let missing: Vec<&str> = required
            .iter()
            .map(|r| r.trim())
            .filter(|r| !have.iter().any(|h| h.trim().eq_ignore_ascii_case(r)))
            .collect();
        let (ok, line) = if missing.is_empty() {
            (true, format!("{field} include all required: {}", required.join(", ")))
        } else {
            (false, format!("{field} lack {}", missing.join(", ")))
        };
        out.push(Requirement { ok, line });
    };
    contains_all("events", config.get("events"), &profile.events);
    contains_all("eventData.includeData", event_data.and_then(|d| d.get("includeData")), &profile.include_data);
    out
}

/// `connectId` as text (DocuSign sends a string; a number is tolerated).
fn connect_id(config: &Value) -> Option<String> {
    match config.get("connectId") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// `name "…" (connectId …)` for evidence.
fn describe_config(config: &Value) -> String {
    let name = config.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
    match connect_id(config) {
        Some(id) => format!("{name:?} (connectId {id})"),
        None => format!("{name:?} (no connectId)"),
    }
}

fn publish_url(config: &Value) -> &str {
    config.get("urlToPublishTo").and_then(Value::as_str).unwrap_or_default().trim()
}

/// Same listener: scheme, host (case-insensitive, which URL parsing gives), effective port, exact
/// path and query. A trailing slash is a different path, as it is to the listener's router.
fn same_listener(candidate: &str, listener: &url::Url) -> bool {
    url::Url::parse(candidate).is_ok_and(|c| {
        c.scheme() == listener.scheme()
            && c.host_str().map(str::to_ascii_lowercase) == listener.host_str().map(str::to_ascii_lowercase)
            && c.port_or_known_default() == listener.port_or_known_default()
            && c.path() == listener.path()
            && c.query() == listener.query()
    })
}

/// Whether a configuration that does not publish to the listener is nevertheless the portal's:
/// it carries the profile's name or points to the portal's host (an old route or another
/// tenant's listener). Configurations of the customer's other integrations are neither, and the
/// check leaves them alone rather than warning about them forever.
fn looks_like_portal_config(config: &Value, profile: &ConnectProfile, listener: &url::Url) -> bool {
    let name = config.get("name").and_then(Value::as_str).unwrap_or_default().trim();
    let same_name = !name.is_empty() && name.eq_ignore_ascii_case(profile.name.trim());
    let same_host = url::Url::parse(publish_url(config))
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| Some(h) == listener.host_str().map(str::to_ascii_lowercase));
    same_name || same_host
}

/// Checks the account's Connect set-up for the tenant's listener.
///
/// - `connect_enabled`: the account's `envelopeIntegrationEnabled` setting; `None` when DocuSign
///   did not report it, which counts as off.
/// - `configurations`: `connectConfigResults.configurations` from `GET …/connect`.
///
/// Error when the portal's own listener URL is not usable (not https outside loopback). Fail when
/// Connect is off (no fix: the Connect API refuses to work until it is on, and only the settings
/// check knows whether the switch is editable), when no configuration publishes to the listener
/// (fix: create), or when the one that does misses a requirement (fix: repair). Warn when it is
/// fine but another configuration of the portal points elsewhere (stale) or several publish to
/// the listener (each event would arrive several times). Pass otherwise.
pub fn connect_check(
    profile: &ConnectProfile,
    tenant_id: Uuid,
    connect_enabled: Option<&str>,
    configurations: &[Value],
) -> CheckOutcome {
    const TITLE: &str = "Connect configuration";
    let listener_text = profile.listener_url(tenant_id);
    let listener = match check_listener_url(&listener_text) {
        Ok(url) => url,
        Err(problem) => {
            let mut outcome = CheckOutcome::new(
                CONNECT_CHECK,
                TITLE,
                CheckStatus::Error,
                vec![format!("The portal's listener URL is not usable: {problem}")],
            );
            outcome.remediation = Some(
                "This is a problem in the portal's configuration, not in the DocuSign account: ISV staff must set \
                 connect.listener_url_template to the portal's https address. Then press \"Re-check\"."
                    .to_owned(),
            );
            return outcome;
        }
    };

    let mut evidence = Vec::new();
    let enabled = connect_enabled.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    evidence.push(match connect_enabled {
        Some(v) => format!("Connect on the account ({CONNECT_SWITCH}): {v:?}"),
        None => format!("Connect on the account ({CONNECT_SWITCH}): not reported by DocuSign (treated as off)"),
    });

    let mut matching: Vec<(&Value, Vec<Requirement>)> = Vec::new();
    let mut stale: Vec<&Value> = Vec::new();
    let mut others: Vec<&Value> = Vec::new();
    for config in configurations {
        if same_listener(publish_url(config), &listener) {
            matching.push((config, connect_requirements(config, profile)));
        } else if looks_like_portal_config(config, profile, &listener) {
            stale.push(config);
        } else {
            others.push(config);
        }
    }
    // The configuration to judge (and repair) is the one closest to right; ties keep DocuSign's order.
    matching.sort_by_key(|(_, reqs)| reqs.iter().filter(|r| !r.ok).count());

    let mut status = CheckStatus::Pass;
    let mut remediation = Vec::new();
    let mut fix = None;

    if !enabled {
        status = CheckStatus::Fail;
        remediation.push(format!(
            "Connect is off for this account: turn it on in {CONNECT_PLACE} (or with \"Apply recommended settings\" in \
             the account settings check, when it is editable for you; otherwise ask DocuSign support)."
        ));
    }

    match matching.first() {
        None => {
            status = CheckStatus::Fail;
            evidence.push(format!("No Connect configuration publishes to {listener_text}"));
            let steps = format!(
                "In {CONNECT_PLACE}, add a custom configuration named {:?} that publishes to {listener_text} for all \
                 users, with JSON SIM messages (REST v2.1), HMAC signature, require acknowledgement, and the events {}.",
                profile.name,
                profile.events.join(", ")
            );
            if enabled {
                remediation.push(format!("Press \"Create or repair the Connect configuration\", or do it yourself: {steps}"));
                fix = Some(FixOffer::CreateConnect { configuration: profile.desired_configuration(tenant_id, None) });
            } else {
                remediation.push(format!("Then {steps}"));
            }
        }
        Some((config, reqs)) => {
            evidence.push(format!("Configuration {} publishes to {listener_text}", describe_config(config)));
            evidence.extend(reqs.iter().map(|r| r.line.clone()));
            if reqs.iter().any(|r| !r.ok) {
                status = CheckStatus::Fail;
                let wrong = reqs.iter().filter(|r| !r.ok).map(|r| r.line.as_str()).collect::<Vec<_>>().join("; ");
                let manual = format!("edit configuration {} in {CONNECT_PLACE} so that {wrong}", describe_config(config));
                match connect_id(config) {
                    Some(id) if enabled => {
                        remediation.push(format!(
                            "Press \"Create or repair the Connect configuration\", or {manual}."
                        ));
                        fix = Some(FixOffer::RepairConnect {
                            configuration: profile.desired_configuration(tenant_id, Some(&id)),
                            connect_id: id,
                        });
                    }
                    // No usable fix: Connect is off (its API refuses to work), or DocuSign sent no id to PUT.
                    Some(_) => remediation.push(format!("Then {manual}.")),
                    None => {
                        evidence.push("The configuration has no connectId, so the portal cannot repair it.".to_owned());
                        remediation.push(format!("{}{manual}.", if enabled { "Please " } else { "Then " }));
                    }
                }
            }
        }
    }

    if matching.len() > 1 {
        evidence.push(format!(
            "{} configurations publish to the listener, so each event would be delivered {} times: {}",
            matching.len(),
            matching.len(),
            matching.iter().map(|(c, _)| describe_config(c)).collect::<Vec<_>>().join(", ")
        ));
        let extra = matching.iter().skip(1).map(|(c, _)| describe_config(c)).collect::<Vec<_>>().join(", ");
        remediation.push(format!("Delete the duplicate configuration(s) {extra} in {CONNECT_PLACE}."));
    }
    for config in &stale {
        evidence.push(format!(
            "Stale configuration {} publishes to {}, not to this tenant's listener",
            describe_config(config),
            if publish_url(config).is_empty() { "no URL" } else { publish_url(config) }
        ));
    }
    if !stale.is_empty() {
        let names = stale.iter().map(|c| describe_config(c)).collect::<Vec<_>>().join(", ");
        remediation.push(format!(
            "Delete (or turn off) the stale configuration(s) {names} in {CONNECT_PLACE}, so events stop going to an old listener."
        ));
    }
    if (matching.len() > 1 || !stale.is_empty()) && status == CheckStatus::Pass {
        status = CheckStatus::Warn;
    }
    if !others.is_empty() {
        let names = others.iter().map(|c| describe_config(c)).collect::<Vec<_>>().join(", ");
        evidence.push(format!("Other integrations' configurations, left alone: {names}"));
    }

    let mut outcome = CheckOutcome::new(CONNECT_CHECK, TITLE, status, evidence);
    if !remediation.is_empty() {
        remediation.push("Then press \"Re-check\".".to_owned());
        outcome.remediation = Some(remediation.join(" "));
    }
    outcome.fix = fix;
    outcome
}

// ---------------------------------------------------------------------------------------------
// Claimed domains

/// A reserved (claimed) domain of the organization, as the Admin API reports it (`DomainResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedDomainFacts {
    /// Domain GUID.
    pub id: String,
    /// `unknown`, `pending`, `active`, `deactivated` or `rejected`.
    pub status: String,
    /// The domain, e.g. `example.com`.
    pub host_name: String,
    /// The token to publish as a DNS TXT record while the claim is pending.
    #[serde(default)]
    pub txt_token: Option<String>,
}

/// A staff member's statement that the domain prerequisites hold when the portal cannot read them
/// (no organization visible, no Admin API access). It counts only while the automated check
/// cannot run; each run checks again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Who attested (staff e-mail).
    pub by: String,
    /// Why the staff member is confident (required; an empty one is ignored).
    pub justification: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The DNS TXT record a pending domain needs, for a copy button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtRecord {
    /// The reserved domain's id (to re-check that one domain).
    pub domain_id: String,
    /// Where to publish the record: the domain itself.
    pub host_name: String,
    /// The record's value; `None` when DocuSign did not return the token.
    pub value: Option<String>,
}

/// The TXT records to publish, one per `pending` domain.
pub fn pending_txt_records(domains: &[ReservedDomainFacts]) -> Vec<TxtRecord> {
    domains
        .iter()
        .filter(|d| d.status.trim().eq_ignore_ascii_case("pending"))
        .map(|d| TxtRecord {
            domain_id: d.id.clone(),
            host_name: normalize_domain(&d.host_name),
            value: d.txt_token.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        })
        .collect()
}

/// Lowercase, trimmed, without a trailing root dot.
fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The domain of an e-mail address (`None` when there is no `@` or nothing after it).
fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = normalize_domain(domain);
    (!domain.is_empty()).then_some(domain)
}

fn txt_instruction(record: &TxtRecord) -> String {
    match &record.value {
        Some(value) => format!(
            "publish a DNS TXT record at {} with the value {value:?}, wait for DNS to update, choose Validate on the \
             domain in {DOMAINS_PLACE}",
            record.host_name
        ),
        None => format!(
            "publish the DNS TXT record shown for {} in {DOMAINS_PLACE} (DocuSign did not return its token here), then \
             choose Validate on the domain",
            record.host_name
        ),
    }
}

/// Checks the organization's claimed domains, which organization admin consent needs: at least
/// one `active` domain, and the system user's e-mail domain among the active ones (admin consent
/// covers only users of active claimed domains).
///
/// - `org_id`: the account's organization, `None` when it has none.
/// - `admin_access`: the reserved domains, or why they could not be read (no Admin API scope, …).
///
/// Skipped (with the reason) when there is no organization or no access, unless staff attested:
/// then Pass with the attestation as evidence. Otherwise Fail when no domain is active, Warn when
/// the system user's domain is not an active one, Pass when it is; pending domains add the TXT
/// record to publish to the evidence and the remediation. Error when the system user's e-mail has
/// no domain (the portal's data is wrong).
pub fn domains_check(
    org_id: Option<&str>,
    admin_access: Result<&[ReservedDomainFacts], &str>,
    system_user_email: &str,
    attestation: Option<&Attestation>,
) -> CheckOutcome {
    const TITLE: &str = "Claimed domains";
    let attestation = attestation.filter(|a| !a.justification.trim().is_empty() && !a.by.trim().is_empty());

    let org_id = org_id.map(str::trim).filter(|id| !id.is_empty());
    let unavailable = match (org_id, admin_access) {
        (None, _) => Some((
            "The account belongs to no DocuSign organization, so it has no claimed domains.".to_owned(),
            format!(
                "Organization admin consent needs a DocuSign organization with a claimed, active domain; individual \
                 consent does not. To use admin consent, set up an organization and claim your domain in \
                 {DOMAINS_PLACE}."
            ),
        )),
        (Some(_), Err(reason)) => Some((
            format!("The portal cannot read the organization's claimed domains: {}", reason.trim()),
            format!(
                "Grant the portal the Admin API scopes (organization_read domain_read) with organization admin \
                 consent, or check the domains yourself in {DOMAINS_PLACE}."
            ),
        )),
        (Some(_), Ok(_)) => None,
    };
    if let Some((reason, remediation)) = unavailable {
        return match attestation {
            Some(a) => CheckOutcome::new(
                DOMAINS_CHECK,
                TITLE,
                CheckStatus::Pass,
                vec![
                    reason,
                    format!("Manually attested by {} on {}: {}", a.by.trim(), a.at.format("%Y-%m-%d %H:%M UTC"), a.justification.trim()),
                    "The automated check runs again on the next run.".to_owned(),
                ],
            ),
            None => {
                let mut outcome = CheckOutcome::new(DOMAINS_CHECK, TITLE, CheckStatus::Skipped, vec![reason]);
                outcome.remediation =
                    Some(format!("{remediation} ISV staff may record a manual attestation with a justification instead."));
                outcome
            }
        };
    }
    let domains = admin_access.unwrap_or_default();

    let mut evidence = Vec::new();
    if domains.is_empty() {
        evidence.push("The organization has no claimed domains.".to_owned());
    }
    let records = pending_txt_records(domains);
    for d in domains {
        let host = normalize_domain(&d.host_name);
        let status = d.status.trim().to_ascii_lowercase();
        match records.iter().find(|r| r.domain_id == d.id && status == "pending") {
            Some(TxtRecord { value: Some(token), .. }) => {
                evidence.push(format!("{host}: pending; TXT record to publish at {host}: {token:?}"));
            }
            Some(_) => evidence.push(format!("{host}: pending; DocuSign returned no TXT token")),
            None => evidence.push(format!("{host}: {status}")),
        }
    }
    if let Some(a) = attestation {
        evidence.push(format!("A manual attestation by {} is not used: the domains were read from DocuSign.", a.by.trim()));
    }

    let active: Vec<String> =
        domains.iter().filter(|d| d.status.trim().eq_ignore_ascii_case("active")).map(|d| normalize_domain(&d.host_name)).collect();
    let user_domain = email_domain(system_user_email);

    let mut remediation = Vec::new();
    let status = if active.is_empty() {
        remediation.push(if records.is_empty() {
            format!(
                "Organization admin consent needs at least one active claimed domain: claim your e-mail domain in \
                 {DOMAINS_PLACE} (Claim Domain)."
            )
        } else {
            "Organization admin consent needs at least one active claimed domain; finish claiming a pending one."
                .to_owned()
        });
        CheckStatus::Fail
    } else {
        match &user_domain {
            None => {
                evidence.push(format!("The system user's e-mail {system_user_email:?} has no domain."));
                remediation.push("The portal has no usable e-mail for the system user: designate the system user again.".to_owned());
                CheckStatus::Error
            }
            Some(user) if active.contains(user) => {
                evidence.push(format!("The system user's domain {user} is claimed and active."));
                CheckStatus::Pass
            }
            Some(user) => {
                let claim = domains.iter().find(|d| normalize_domain(&d.host_name) == *user);
                let state = claim.map(|d| d.status.trim().to_ascii_lowercase());
                evidence.push(match &state {
                    Some(s) => format!("The system user's domain {user} is {s}, not active."),
                    None => format!("The system user's domain {user} is not claimed."),
                });
                if let Some(parent) = active.iter().find(|a| user.ends_with(&format!(".{a}"))) {
                    evidence.push(format!("Its parent domain {parent} is active; this check counts only the exact domain."));
                }
                match state.as_deref() {
                    Some("pending") => {} // the pending instructions below say what to do
                    Some(s) => remediation.push(format!(
                        "The claim on {user} is {s}: claim it again in {DOMAINS_PLACE}, or designate a system user \
                         whose e-mail domain is active ({}).",
                        active.join(", ")
                    )),
                    None => remediation.push(format!(
                        "Admin consent does not cover the system user: claim {user} in {DOMAINS_PLACE} (Claim Domain), or \
                         designate a system user whose e-mail domain is active ({}).",
                        active.join(", ")
                    )),
                }
                CheckStatus::Warn
            }
        }
    };
    if status == CheckStatus::Pass && !records.is_empty() {
        remediation.push("Nothing is needed for the system user; to finish claiming the other domains:".to_owned());
    }
    for record in &records {
        remediation.push(format!("For {}: {}.", record.host_name, txt_instruction(record)));
    }

    let mut outcome = CheckOutcome::new(DOMAINS_CHECK, TITLE, status, evidence);
    if !remediation.is_empty() {
        remediation.push("Then press \"Re-check\".".to_owned());
        outcome.remediation = Some(remediation.join(" "));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use serde_json::json;

    use super::*;

    fn tenant() -> Uuid {
        Uuid::parse_str("6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10").unwrap()
    }

    fn outcome(status: CheckStatus) -> CheckOutcome {
        CheckOutcome::new("x", "X", status, Vec::new())
    }

    // --- overall -----------------------------------------------------------------------------

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

    // --- settings ----------------------------------------------------------------------------

    fn settings(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn settings_pass_when_every_required_setting_matches() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "true", "envelopeIntegrationEnabledMetadata": {"rights": "read_only"},
            "inSessionEnabled": "TRUE", "enableSequentialSigningAPI": "true", "usesAPI": "false",
        }));
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &actual);
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
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &actual);
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
        let (outcome, _) = settings_check(&SetupProfile::default(), &actual);
        let expected = BTreeMap::from([("envelopeIntegrationEnabled".to_owned(), "true".to_owned())]);
        assert_eq!(outcome.fix, Some(FixOffer::ApplySettings { changes: expected }));
    }

    #[test]
    fn read_only_settings_are_sent_to_docusign_support_or_a_higher_admin() {
        let actual = settings(json!({
            "envelopeIntegrationEnabled": "true", "inSessionEnabled": "true",
            "enableSequentialSigningAPI": "false", "enableSequentialSigningAPIMetadata": {"rights": "read_only"},
        }));
        let (outcome, _) = settings_check(&SetupProfile::default(), &actual);
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
        let (outcome, diffs) = settings_check(&SetupProfile::default(), &Map::new());
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
        let (outcome, _) = settings_check(&profile, &actual);
        assert_eq!(outcome.status, CheckStatus::Fail);
        let changes = BTreeMap::from([("signerLoginRequirements".to_owned(), "login_not_required".to_owned())]);
        assert_eq!(outcome.fix, Some(FixOffer::ApplySettings { changes }));
    }

    #[test]
    fn a_profile_without_required_settings_passes() {
        let profile = SetupProfile { required_settings: BTreeMap::new(), ..SetupProfile::default() };
        let (outcome, diffs) = settings_check(&profile, &Map::new());
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(diffs.is_empty());
    }

    // --- Connect -----------------------------------------------------------------------------

    const LISTENER: &str = "https://portal.example.com/connect/6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10";

    fn good_config(connect_id: &str) -> Value {
        ConnectProfile::default().desired_configuration(tenant(), Some(connect_id))
    }

    fn with(mut config: Value, field: &str, value: Value) -> Value {
        config.as_object_mut().unwrap().insert(field.to_owned(), value);
        config
    }

    fn check(configs: &[Value]) -> CheckOutcome {
        connect_check(&ConnectProfile::default(), tenant(), Some("true"), configs)
    }

    #[test]
    fn connect_passes_when_the_listener_configuration_meets_every_requirement() {
        let outcome = check(&[good_config("11")]);
        assert_eq!(outcome.status, CheckStatus::Pass, "{:?}", outcome.evidence);
        assert_eq!(outcome.fix, None);
        assert_eq!(outcome.remediation, None);
        assert!(outcome.evidence.contains(&"includeHMAC is \"true\"".to_owned()));
        assert!(outcome.evidence.iter().any(|e| e.contains("publishes to") && e.contains("connectId 11")));
    }

    #[test]
    fn connect_fails_with_a_create_fix_when_no_configuration_publishes_to_the_listener() {
        let outcome = check(&[]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&format!("No Connect configuration publishes to {LISTENER}")));
        let configuration = ConnectProfile::default().desired_configuration(tenant(), None);
        assert_eq!(outcome.fix, Some(FixOffer::CreateConnect { configuration }));
        assert!(outcome.remediation.unwrap().contains("Settings → Connect"));
    }

    #[test]
    fn connect_fails_with_a_repair_fix_when_the_listener_configuration_is_wrong() {
        let config = with(with(good_config("2001"), "includeHMAC", json!("false")), "allUsers", json!("false"));
        let outcome = check(&[config]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&"includeHMAC should be \"true\" but is \"false\"".to_owned()), "{:?}", outcome.evidence);
        assert!(outcome.evidence.contains(&"allUsers should be \"true\" but is \"false\"".to_owned()));
        assert_eq!(
            outcome.fix,
            Some(FixOffer::RepairConnect {
                connect_id: "2001".into(),
                configuration: ConnectProfile::default().desired_configuration(tenant(), Some("2001")),
            })
        );
    }

    #[test]
    fn every_connect_requirement_is_checked() {
        let wrong = [
            ("configurationType", json!("customrecipient")),
            ("allowEnvelopePublish", json!("false")),
            ("allUsers", json!("false")),
            ("includeHMAC", json!("false")),
            ("requiresAcknowledgement", json!("false")),
            ("deliveryMode", json!("aggregate")),
            ("eventData", json!({"version": "legacy", "format": "xml"})),
            ("events", json!(["envelope-sent"])),
        ];
        let config = wrong.iter().fold(good_config("5"), |c, (field, value)| with(c, field, value.clone()));
        let outcome = check(&[config]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        for field in [
            "configurationType", "allowEnvelopePublish", "allUsers", "includeHMAC", "requiresAcknowledgement",
            "deliveryMode", "eventData.format", "eventData.version",
        ] {
            assert!(outcome.evidence.iter().any(|e| e.starts_with(&format!("{field} should be"))), "{field}: {:?}", outcome.evidence);
        }
        let events = outcome.evidence.iter().find(|e| e.starts_with("events lack")).unwrap();
        assert!(events.contains("envelope-delivered") && events.contains("recipient-completed") && !events.contains("envelope-sent,"));
    }

    #[test]
    fn extra_events_and_a_missing_flag_are_judged_correctly() {
        let mut events = ConnectProfile::default().events;
        events.push("recipient-sent".into());
        let mut config = with(good_config("5"), "events", json!(events));
        config.as_object_mut().unwrap().remove("requiresAcknowledgement");
        let outcome = check(&[config]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&"requiresAcknowledgement should be \"true\" but is not set".to_owned()));
        assert!(outcome.evidence.iter().any(|e| e.starts_with("events include all required")));
    }

    #[test]
    fn required_include_data_is_checked_when_the_profile_asks_for_it() {
        let profile = ConnectProfile { include_data: vec!["recipients".into()], ..ConnectProfile::default() };
        let config = ConnectProfile::default().desired_configuration(tenant(), Some("5"));
        let outcome = connect_check(&profile, tenant(), Some("true"), &[config]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&"eventData.includeData lack recipients".to_owned()));
    }

    #[test]
    fn the_listener_matches_with_any_host_case_but_the_exact_path() {
        let upper = with(good_config("1"), "urlToPublishTo", json!(LISTENER.replace("portal.example.com", "PORTAL.Example.com")));
        assert_eq!(check(&[upper]).status, CheckStatus::Pass);
        let default_port = with(good_config("1"), "urlToPublishTo", json!(LISTENER.replace(".com/", ".com:443/")));
        assert_eq!(check(&[default_port]).status, CheckStatus::Pass);
        let slash = with(good_config("1"), "urlToPublishTo", json!(format!("{LISTENER}/")));
        let outcome = check(&[slash]);
        assert!(matches!(outcome.fix, Some(FixOffer::CreateConnect { .. })), "a trailing slash is another path");
    }

    #[test]
    fn a_stale_portal_configuration_elsewhere_warns_when_the_listener_one_is_fine() {
        let old = with(good_config("9"), "urlToPublishTo", json!("https://old-listener.example.net/webhook"));
        let other_route = with(
            with(good_config("10"), "urlToPublishTo", json!("https://portal.example.com/hooks/docusign")),
            "name",
            json!("something else"),
        );
        let outcome = check(&[good_config("11"), old, other_route]);
        assert_eq!(outcome.status, CheckStatus::Warn, "{:?}", outcome.evidence);
        assert_eq!(outcome.fix, None);
        let stale: Vec<&String> = outcome.evidence.iter().filter(|e| e.starts_with("Stale configuration")).collect();
        assert_eq!(stale.len(), 2, "{stale:?}");
        assert!(stale[0].contains("https://old-listener.example.net/webhook"));
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("connectId 9") && remediation.contains("connectId 10"), "{remediation}");
    }

    #[test]
    fn the_customers_other_integrations_are_listed_but_do_not_warn() {
        let crm = json!({"connectId": "77", "name": "CRM sync", "urlToPublishTo": "https://crm.customer.example/ds"});
        let outcome = check(&[good_config("11"), crm]);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(outcome.evidence.contains(&"Other integrations' configurations, left alone: \"CRM sync\" (connectId 77)".to_owned()));
    }

    #[test]
    fn a_configuration_that_only_points_to_a_wrong_url_fails_and_is_reported() {
        // The sandbox's connect-wrong-url scenario: the portal's configuration under an old URL.
        let old = with(good_config("3001"), "urlToPublishTo", json!("https://old-listener.wayne.invalid/webhook"));
        let outcome = check(&[old]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(matches!(outcome.fix, Some(FixOffer::CreateConnect { .. })));
        assert!(outcome.evidence.iter().any(|e| e.starts_with("Stale configuration") && e.contains("wayne.invalid")));
    }

    #[test]
    fn several_configurations_for_the_listener_warn_and_the_best_one_is_judged() {
        let broken = with(good_config("1"), "includeHMAC", json!("false"));
        let outcome = check(&[broken, good_config("2")]);
        assert_eq!(outcome.status, CheckStatus::Warn, "{:?}", outcome.evidence);
        assert!(outcome.evidence.iter().any(|e| e.contains("connectId 2") && e.contains("publishes to")));
        assert!(outcome.evidence.iter().any(|e| e.starts_with("2 configurations publish to the listener")));
        assert!(outcome.remediation.unwrap().contains("duplicate configuration(s) \"Consent Portal listener\" (connectId 1)"));
    }

    #[test]
    fn a_wrong_listener_configuration_without_connect_id_is_reported_but_not_repaired() {
        let mut config = with(good_config("1"), "includeHMAC", json!("false"));
        config.as_object_mut().unwrap().remove("connectId");
        let outcome = check(&[config]);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert_eq!(outcome.fix, None, "a PUT needs the id, and a POST would make a duplicate");
        assert!(outcome.evidence.iter().any(|e| e.contains("no connectId")));
    }

    #[test]
    fn connect_fails_without_a_fix_when_connect_is_off_on_the_account() {
        for enabled in [Some("false"), None] {
            let outcome = connect_check(&ConnectProfile::default(), tenant(), enabled, &[]);
            assert_eq!(outcome.status, CheckStatus::Fail);
            assert_eq!(outcome.fix, None, "the Connect API refuses to work while Connect is off");
            let remediation = outcome.remediation.unwrap();
            assert!(remediation.contains("Settings → Connect"), "{remediation}");
            assert!(remediation.contains("turn it on"), "{remediation}");
        }
        let outcome = connect_check(&ConnectProfile::default(), tenant(), Some("false"), &[good_config("1")]);
        assert_eq!(outcome.status, CheckStatus::Fail, "a perfect configuration publishes nothing while Connect is off");
    }

    #[test]
    fn a_listener_url_that_is_not_https_is_an_error_of_the_portal() {
        let profile = ConnectProfile { listener_url_template: "http://portal.example.com/connect/{tenant}".into(), ..ConnectProfile::default() };
        let outcome = connect_check(&profile, tenant(), Some("true"), &[]);
        assert_eq!(outcome.status, CheckStatus::Error);
        assert_eq!(outcome.fix, None);
        assert!(outcome.evidence[0].contains("not https"));
    }

    #[test]
    fn a_loopback_listener_may_use_plain_http() {
        let profile = ConnectProfile { listener_url_template: "http://127.0.0.1:3000/connect/{tenant}".into(), ..ConnectProfile::default() };
        let config = profile.desired_configuration(tenant(), Some("4"));
        assert_eq!(connect_check(&profile, tenant(), Some("true"), &[config]).status, CheckStatus::Pass);
    }

    #[test]
    fn applying_the_repair_makes_the_check_pass() {
        let broken = with(good_config("2001"), "events", json!(["envelope-sent"]));
        let Some(FixOffer::RepairConnect { configuration, .. }) = check(&[broken]).fix else { panic!("no repair") };
        assert_eq!(check(&[configuration]).status, CheckStatus::Pass);
        let Some(FixOffer::CreateConnect { configuration }) = check(&[]).fix else { panic!("no create") };
        let created = with(configuration, "connectId", json!("1"));
        assert_eq!(check(&[created]).status, CheckStatus::Pass);
    }

    // --- domains -----------------------------------------------------------------------------

    fn domain(id: &str, status: &str, host: &str, token: Option<&str>) -> ReservedDomainFacts {
        ReservedDomainFacts { id: id.into(), status: status.into(), host_name: host.into(), txt_token: token.map(str::to_owned) }
    }

    fn attestation(justification: &str) -> Attestation {
        Attestation {
            by: "staff@isv.example".into(),
            justification: justification.into(),
            at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
        }
    }

    const ORG: Option<&str> = Some("9dd9d6cd-7ad1-461a-a432-a4653c6d6700");

    #[test]
    fn domains_pass_when_the_system_users_domain_is_claimed_and_active() {
        let domains = [domain("1", "active", "Acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada.admin@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Pass, "{:?}", outcome.evidence);
        assert!(outcome.evidence.contains(&"acme.example: active".to_owned()));
        assert_eq!(outcome.remediation, None);
    }

    #[test]
    fn domains_fail_when_no_domain_is_active() {
        let domains = [domain("1", "rejected", "acme.example", None), domain("2", "deactivated", "acme.test", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.remediation.unwrap().contains("Claim Domain"));
        let outcome = domains_check(ORG, Ok(&[]), "ada@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&"The organization has no claimed domains.".to_owned()));
    }

    #[test]
    fn domains_warn_when_the_system_users_domain_is_not_claimed() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "sam@stark.example", None);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.contains(&"The system user's domain stark.example is not claimed.".to_owned()));
        assert!(outcome.remediation.unwrap().contains("claim stark.example"));
    }

    #[test]
    fn domains_warn_when_only_a_parent_of_the_users_domain_is_active() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@eu.acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.iter().any(|e| e.contains("parent domain acme.example is active")));
    }

    #[test]
    fn a_pending_domain_shows_the_txt_record_to_publish_and_asks_for_a_re_check() {
        let domains = [domain("7a2e", "pending", "umbrella.example", Some("docusign=9f8e7d"))];
        let outcome = domains_check(ORG, Ok(&domains), "uma@umbrella.example", None);
        assert_eq!(outcome.status, CheckStatus::Fail, "no active domain yet");
        assert!(outcome.evidence.contains(&"umbrella.example: pending; TXT record to publish at umbrella.example: \"docusign=9f8e7d\"".to_owned()));
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("DNS TXT record at umbrella.example with the value \"docusign=9f8e7d\""), "{remediation}");
        assert!(remediation.contains("Re-check"), "{remediation}");
        assert_eq!(
            pending_txt_records(&domains),
            vec![TxtRecord { domain_id: "7a2e".into(), host_name: "umbrella.example".into(), value: Some("docusign=9f8e7d".into()) }]
        );
    }

    #[test]
    fn a_pending_user_domain_beside_an_active_one_warns_with_its_txt_record() {
        let domains = [domain("1", "active", "acme.example", None), domain("2", "pending", "acme.test", Some("docusign=abc"))];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.test", None);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.contains(&"The system user's domain acme.test is pending, not active.".to_owned()));
        assert!(outcome.remediation.unwrap().contains("at acme.test with the value \"docusign=abc\""));
    }

    #[test]
    fn other_pending_domains_are_shown_even_when_the_check_passes() {
        let domains = [domain("1", "active", "acme.example", None), domain("2", "pending", "acme.test", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(outcome.evidence.contains(&"acme.test: pending; DocuSign returned no TXT token".to_owned()));
        assert!(outcome.remediation.unwrap().starts_with("Nothing is needed for the system user"));
    }

    #[test]
    fn domains_are_skipped_with_the_reason_without_an_organization() {
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Skipped);
        assert!(outcome.evidence[0].contains("no DocuSign organization"));
        assert!(outcome.remediation.unwrap().contains("manual attestation"));
    }

    #[test]
    fn domains_are_skipped_with_the_reason_without_admin_api_access() {
        let outcome = domains_check(ORG, Err("the token lacks the domain_read scope"), "ada@acme.example", None);
        assert_eq!(outcome.status, CheckStatus::Skipped);
        assert_eq!(outcome.evidence, vec!["The portal cannot read the organization's claimed domains: the token lacks the domain_read scope"]);
    }

    #[test]
    fn an_attestation_turns_a_skipped_domain_check_into_a_pass_with_the_attestation_as_evidence() {
        let a = attestation("Checked on a screen share: acme.example is active.");
        let outcome = domains_check(ORG, Err("no Admin API consent"), "ada@acme.example", Some(&a));
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(outcome.evidence.contains(
            &"Manually attested by staff@isv.example on 2025-03-04 05:06 UTC: Checked on a screen share: acme.example is active.".to_owned()
        ));
        assert!(outcome.evidence.iter().any(|e| e.contains("runs again")));
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", Some(&a));
        assert_eq!(outcome.status, CheckStatus::Pass);
    }

    #[test]
    fn an_attestation_without_justification_is_ignored() {
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", Some(&attestation("  ")));
        assert_eq!(outcome.status, CheckStatus::Skipped);
    }

    #[test]
    fn an_attestation_does_not_override_what_docusign_reports() {
        let a = attestation("trust me");
        let outcome = domains_check(ORG, Ok(&[]), "ada@acme.example", Some(&a));
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.iter().any(|e| e.contains("attestation by staff@isv.example is not used")));
    }

    #[test]
    fn a_system_user_email_without_a_domain_is_an_error() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "not-an-email", None);
        assert_eq!(outcome.status, CheckStatus::Error);
    }
}
