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

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Set up as the integration needs.
    Pass,
    /// Works, but something should be cleaned up (e.g. a stale Connect configuration).
    Warn,
    /// Not set up as the integration needs; the remediation says what to do.
    Fail,
    /// The check could not decide (the portal's own configuration or data is wrong).
    Error,
    /// The check does not apply or cannot run (e.g. no organization); the evidence says why.
    Skipped,
}

impl CheckStatus {
    /// The stored and displayed name (`pass`, `warn`, `fail`, `error`, `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }

    /// Rank for [`overall`]: the higher, the worse. A failed setup outranks a check that could not
    /// decide, because the failure is known to need action.
    fn severity(self) -> u8 {
        match self {
            Self::Skipped => 0,
            Self::Pass => 1,
            Self::Warn => 2,
            Self::Error => 3,
            Self::Fail => 4,
        }
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
    fn new(id: &str, title: &str, status: CheckStatus, evidence: Vec<String>) -> Self {
        Self { id: id.to_owned(), title: title.to_owned(), status, evidence, remediation: None, fix: None }
    }
}

/// The worst status among `outcomes`: Fail > Error > Warn > Pass; Skipped only when every check
/// was skipped (or there were none).
pub fn overall(outcomes: &[CheckOutcome]) -> CheckStatus {
    outcomes.iter().map(|o| o.status).max_by_key(|s| s.severity()).unwrap_or(CheckStatus::Skipped)
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

/// True for `"true"` in any case, or a JSON `true`.
fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
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
    let enabled = is_true(connect_enabled.map(|v| Value::String(v.to_owned())).as_ref());
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
                    _ => remediation.push(format!("Then {manual}.")),
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
        remediation.push(format!(
            "Organization admin consent needs at least one active claimed domain: claim your e-mail domain in \
             {DOMAINS_PLACE} (Claim Domain)."
        ));
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
