//! The ISV's setup profile: the account settings its integration needs and the Connect
//! configuration the portal's listener expects, as the portal's configuration declares them
//! (one profile per environment). The setup check compares a tenant's DocuSign account with it,
//! and the fixes write it (reference sections 5 and 6).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// The placeholder in [`ConnectProfile::listener_url_template`] replaced by the tenant id.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// What the ISV's integration needs from a customer's DocuSign account.
///
/// Every field has a default ([`SetupProfile::default`]); a configured field replaces the default
/// as a whole (a configured `required_settings` map is the complete list, not an addition), so
/// the ISV can also drop a setting it does not need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetupProfile {
    /// Account settings by their eSignature v2.1 name, with the value the integration needs, as
    /// DocuSign's typed string fields (`"true"`, `"false"` or an enum string such as
    /// `"login_not_required"`). Names are case-sensitive.
    pub required_settings: BTreeMap<String, String>,
    /// The account-level Connect configuration the portal's listener needs.
    pub connect: ConnectProfile,
}

/// The Connect (webhook) configuration the portal expects on each customer account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectProfile {
    /// The listener URL with `{tenant}` where the tenant id goes, e.g.
    /// `https://portal.example.com/connect/{tenant}`. DocuSign publishes only to `https`.
    pub listener_url_template: String,
    /// The configuration's name as shown in eSignature Admin → Connect, e.g. `Consent Portal
    /// listener`. Also how the check recognises an older configuration of the portal that still
    /// points to a previous listener URL.
    pub name: String,
    /// JSON SIM event names the configuration must send, e.g. `envelope-completed`.
    pub events: Vec<String>,
    /// `eventData.includeData` entries the configuration must carry, e.g. `recipients`.
    /// Default: none, because the listener reads only the event name, account, envelope and
    /// time, which every message carries; more data would ship personal data for nothing.
    pub include_data: Vec<String>,
}

impl Default for SetupProfile {
    fn default() -> Self {
        let required_settings = [
            // Connect's on/off switch: without it no configuration publishes anything.
            ("envelopeIntegrationEnabled", "true"),
            ("inSessionEnabled", "true"),
            ("enableSequentialSigningAPI", "true"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        Self { required_settings, connect: ConnectProfile::default() }
    }
}

impl Default for ConnectProfile {
    fn default() -> Self {
        Self {
            listener_url_template: "https://portal.example.com/connect/{tenant}".to_owned(),
            name: "Consent Portal listener".to_owned(),
            events: [
                "envelope-sent",
                "envelope-delivered",
                "envelope-completed",
                "envelope-declined",
                "envelope-voided",
                "recipient-completed",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            include_data: Vec::new(),
        }
    }
}

impl SetupProfile {
    /// Checks the profile when the configuration is loaded, so a typo fails at startup rather
    /// than in every tenant's check. Returns every problem found, one message each.
    ///
    /// # Errors
    /// A setting with an empty name or value, or any problem of [`ConnectProfile::validate`].
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        for (name, value) in &self.required_settings {
            if name.trim().is_empty() {
                problems.push("required_settings has a setting with an empty name".to_owned());
            } else if value.trim().is_empty() {
                problems.push(format!("required_settings.{name} has an empty value"));
            }
        }
        if let Err(more) = self.connect.validate() {
            problems.extend(more);
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

impl ConnectProfile {
    /// The listener URL for one tenant: the template with `{tenant}` replaced by the tenant id
    /// (lowercase, hyphenated).
    pub fn listener_url(&self, tenant_id: Uuid) -> String {
        self.listener_url_template.replace(TENANT_PLACEHOLDER, &tenant_id.to_string())
    }

    /// The `connectCustomConfiguration` body that creates (`existing_connect_id` = `None`, for
    /// `POST …/connect`) or repairs (`Some(id)`, for `PUT …/connect`, which names the
    /// configuration in the body because its path has no id) the tenant's configuration, as in
    /// the reference's JSON SIM example. The same inputs always give the same body, so applying
    /// it twice changes nothing the second time.
    pub fn desired_configuration(&self, tenant_id: Uuid, existing_connect_id: Option<&str>) -> Value {
        let mut configuration = json!({
            "configurationType": "custom",
            "urlToPublishTo": self.listener_url(tenant_id),
            "allUsers": "true",
            "name": self.name,
            "deliveryMode": "SIM",
            "allowEnvelopePublish": "true",
            "enableLog": "true",
            "includeHMAC": "true",
            "requiresAcknowledgement": "true",
            "eventData": {
                "version": "restv2.1",
                "format": "json",
                "includeData": self.include_data,
            },
            "events": self.events,
        });
        if let (Some(id), Some(object)) = (existing_connect_id, configuration.as_object_mut()) {
            object.insert("connectId".to_owned(), Value::String(id.to_owned()));
        }
        configuration
    }

    /// Checks the template, name and events (see [`SetupProfile::validate`]).
    ///
    /// # Errors
    /// A template without `{tenant}` (every tenant would share one listener and the portal could
    /// not tell whose key signs a message), one that is not an absolute `https` URL (plain
    /// `http` is allowed only on loopback, for the sandbox), an empty name, or no events.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if !self.listener_url_template.contains(TENANT_PLACEHOLDER) {
            problems.push(format!("connect.listener_url_template must contain {TENANT_PLACEHOLDER}"));
        }
        if let Err(problem) = check_listener_url(&self.listener_url(Uuid::nil())) {
            problems.push(format!("connect.listener_url_template: {problem}"));
        }
        if self.name.trim().is_empty() {
            problems.push("connect.name must not be empty".to_owned());
        }
        if self.events.iter().all(|e| e.trim().is_empty()) {
            problems.push("connect.events must name at least one event".to_owned());
        }
        if self.events.iter().any(|e| e.trim().is_empty()) {
            problems.push("connect.events has an empty event name".to_owned());
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// Whether a listener URL is one DocuSign can publish to: absolute, `https` (or `http` on a
/// loopback host, which only the sandbox reaches), with a host. Returns the parsed URL.
///
/// # Errors
/// A sentence saying what is wrong, fit for evidence or a startup error.
pub fn check_listener_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not an absolute URL ({e})"))?;
    if parsed.host().is_none() {
        return Err(format!("`{url}` has no host"));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        _ => Err(format!("`{url}` is not https; DocuSign publishes only to https listeners")),
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1`. Kept local (not the provider client's helper)
/// so the checks do not depend on the client module.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Uuid {
        Uuid::parse_str("6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10").unwrap()
    }

    #[test]
    fn the_default_profile_requires_connect_embedded_signing_and_sequential_signing() {
        let profile = SetupProfile::default();
        assert_eq!(profile.required_settings.get("envelopeIntegrationEnabled").map(String::as_str), Some("true"));
        assert_eq!(profile.required_settings.get("inSessionEnabled").map(String::as_str), Some("true"));
        assert_eq!(profile.required_settings.get("enableSequentialSigningAPI").map(String::as_str), Some("true"));
        assert_eq!(profile.required_settings.len(), 3);
        assert_eq!(profile.connect.events.len(), 6);
        assert!(profile.connect.events.contains(&"recipient-completed".to_owned()));
        assert!(profile.validate().is_ok());
    }

    #[test]
    fn a_partial_configuration_keeps_the_defaults_of_the_fields_it_omits() {
        let profile: SetupProfile = serde_json::from_value(json!({
            "connect": {"listener_url_template": "https://isv.example/hooks/{tenant}"}
        }))
        .unwrap();
        assert_eq!(profile.required_settings, SetupProfile::default().required_settings);
        assert_eq!(profile.connect.name, "Consent Portal listener");
        assert_eq!(profile.connect.events, ConnectProfile::default().events);
        assert_eq!(profile.connect.listener_url_template, "https://isv.example/hooks/{tenant}");
    }

    #[test]
    fn configured_required_settings_replace_the_default_list() {
        let profile: SetupProfile =
            serde_json::from_value(json!({"required_settings": {"usesAPI": "true"}})).unwrap();
        assert_eq!(profile.required_settings.len(), 1);
        assert_eq!(profile.required_settings["usesAPI"], "true");
    }

    #[test]
    fn a_misspelt_profile_field_is_rejected() {
        let err = serde_json::from_value::<SetupProfile>(json!({"required_setting": {}})).unwrap_err();
        assert!(err.to_string().contains("required_setting"), "{err}");
    }

    #[test]
    fn the_listener_url_puts_the_tenant_id_in_the_template() {
        let url = ConnectProfile::default().listener_url(tenant());
        assert_eq!(url, "https://portal.example.com/connect/6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10");
    }

    #[test]
    fn the_desired_configuration_for_creation_matches_the_json_sim_example() {
        let profile = ConnectProfile { include_data: vec!["recipients".into()], ..ConnectProfile::default() };
        let body = profile.desired_configuration(tenant(), None);
        assert_eq!(
            body,
            json!({
                "configurationType": "custom",
                "urlToPublishTo": "https://portal.example.com/connect/6a0d7c43-5d3f-4c8e-9a55-0e2b7f1c9d10",
                "allUsers": "true",
                "name": "Consent Portal listener",
                "deliveryMode": "SIM",
                "allowEnvelopePublish": "true",
                "enableLog": "true",
                "includeHMAC": "true",
                "requiresAcknowledgement": "true",
                "eventData": {"version": "restv2.1", "format": "json", "includeData": ["recipients"]},
                "events": ["envelope-sent", "envelope-delivered", "envelope-completed",
                           "envelope-declined", "envelope-voided", "recipient-completed"],
            })
        );
        assert!(body.get("connectId").is_none());
    }

    #[test]
    fn the_desired_configuration_for_repair_names_the_existing_configuration() {
        let profile = ConnectProfile::default();
        let body = profile.desired_configuration(tenant(), Some("2001"));
        assert_eq!(body["connectId"], "2001");
        let mut without_id = body.clone();
        without_id.as_object_mut().unwrap().remove("connectId");
        assert_eq!(without_id, profile.desired_configuration(tenant(), None));
    }

    #[test]
    fn a_template_without_the_tenant_placeholder_is_invalid() {
        let profile = ConnectProfile { listener_url_template: "https://portal.example.com/connect".into(), ..ConnectProfile::default() };
        let problems = profile.validate().unwrap_err();
        assert!(problems.iter().any(|p| p.contains("{tenant}")), "{problems:?}");
    }

    #[test]
    fn a_plain_http_listener_is_invalid_except_on_loopback() {
        let remote = ConnectProfile { listener_url_template: "http://portal.example.com/c/{tenant}".into(), ..ConnectProfile::default() };
        assert!(remote.validate().unwrap_err().iter().any(|p| p.contains("not https")));
        for local in ["http://127.0.0.1:3000/c/{tenant}", "http://localhost/c/{tenant}", "http://[::1]:8080/c/{tenant}"] {
            let profile = ConnectProfile { listener_url_template: local.into(), ..ConnectProfile::default() };
            assert!(profile.validate().is_ok(), "{local}");
        }
    }

    #[test]
    fn a_profile_without_events_or_name_is_invalid() {
        let profile = SetupProfile {
            required_settings: BTreeMap::from([("inSessionEnabled".to_owned(), " ".to_owned())]),
            connect: ConnectProfile { name: String::new(), events: Vec::new(), ..ConnectProfile::default() },
        };
        let problems = profile.validate().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
