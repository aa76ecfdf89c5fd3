//! The Connect-configuration check: whether exactly one Connect configuration publishes the
//! events the integration needs to the tenant's listener, how to create or repair it, and which
//! stale configurations of the portal to remove (the customer's other integrations are left alone).

use app::checks::{CheckId, FixKind, RUN_CHECK};
use serde_json::Value;
use uuid::Uuid;

use super::{CONNECT_PLACE, CONNECT_SWITCH, CheckOutcome, CheckStatus, FixOffer, is_bool_text};
use crate::checks::profile::{ConnectProfile, check_listener_url};

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
pub(crate) fn connect_id(config: &Value) -> Option<String> {
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

pub(crate) fn publish_url(config: &Value) -> &str {
    config.get("urlToPublishTo").and_then(Value::as_str).unwrap_or_default().trim()
}

/// Same listener: scheme, host (case-insensitive, which URL parsing gives), effective port, exact
/// path and query. A trailing slash is a different path, as it is to the listener's router.
pub(crate) fn same_listener(candidate: &str, listener: &url::Url) -> bool {
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
    let listener_text = profile.listener_url(tenant_id);
    let listener = match check_listener_url(&listener_text) {
        Ok(url) => url,
        Err(problem) => {
            let mut outcome = CheckOutcome::new(
                CheckId::ConnectConfiguration,
                CheckStatus::Error,
                vec![format!("The portal's listener URL is not usable: {problem}")],
            );
            outcome.remediation = Some(format!(
                "This is a problem in the portal's configuration, not in the DocuSign account: ISV staff must set \
                 connect.listener_url_template to the portal's https address. Then press “{RUN_CHECK}”."
            ));
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
            "Connect is off for this account: turn it on in {CONNECT_PLACE} (or with “{}” in \
             the account settings check, when it is editable for you; otherwise ask DocuSign support).",
            FixKind::ApplySettings.label()
        ));
    }

    match matching.first() {
        None => {
            status = CheckStatus::Fail;
            evidence.push(format!("No Connect configuration publishes to {listener_text}"));
            let steps = format!(
                "in {CONNECT_PLACE}, add a custom configuration named {:?} that publishes to {listener_text} for all \
                 users, with JSON SIM messages (REST v2.1), HMAC signature, require acknowledgement, and the events {}.",
                profile.name,
                profile.events.join(", ")
            );
            if enabled {
                remediation.push(format!("Press “{}”, or do it yourself: {steps}", FixKind::CreateConnect.label()));
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
                        remediation.push(format!("Press “{}”, or {manual}.", FixKind::RepairConnect.label()));
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

    let mut outcome = CheckOutcome::new(CheckId::ConnectConfiguration, status, evidence);
    if !remediation.is_empty() {
        remediation.push(format!("Then press “{RUN_CHECK}”."));
        outcome.remediation = Some(remediation.join(" "));
    }
    outcome.fix = fix;
    outcome
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tenant() -> Uuid {
        Uuid::parse_str("6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10").unwrap()
    }

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
}
