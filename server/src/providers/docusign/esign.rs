//! eSignature REST v2.1 on an account's `base_uri` (reference sections 4–6): account, settings
//! and Connect configurations, and a user's role in the account (`Users:get`, its `isAdmin`;
//! the field is in DocuSign's eSignature SDKs' `UserInformation` model).
//!
//! The `base_uri` comes from userinfo and is untrusted (O14): every call first checks it with
//! [`DocuSignClient::check_base_uri`] and sends nothing when it fails.

use reqwest::Method;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::DocuSignClient;
use super::error::{ProviderError, Surface, clean};
use super::settings::is_loopback;
use super::limits::RateLimitInfo;
use super::transport::{Api, describe, execute, parse};

/// `connectConfigResults`: `{"configurations": [...], "totalRecords": "n"}`.
#[derive(Deserialize)]
struct ConnectResults {
    #[serde(default)]
    configurations: Vec<Value>,
}

/// The role a `userInformation` object gives its user in the account: its `isAdmin` field
/// (a string, `"True"`/`"False"` in DocuSign's answers; compared without regard to case), and
/// `Unknown` when it is missing or anything else. `permissionProfileName` is not read: profiles
/// can be renamed and copied, so only `isAdmin` says what the user may do.
pub fn account_role(user_information: &Value) -> app::onboarding::model::AccountRole {
    use app::onboarding::model::AccountRole;
    match user_information.get("isAdmin") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => AccountRole::Admin,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => AccountRole::Member,
        Some(Value::Bool(true)) => AccountRole::Admin,
        Some(Value::Bool(false)) => AccountRole::Member,
        _ => AccountRole::Unknown,
    }
}

/// One entry of the account's Connect log or failure log (`ConnectLogs.logs[]` /
/// `.failures[]`, each a `ConnectLog`; see the sandbox README's "Connect logs and failures" for
/// the sources). Only these documented fields are read, each as text (cleaned: it may end up in
/// evidence); every one may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectLogEntry {
    /// `connectId`: the configuration that made the attempt.
    pub connect_id: Option<String>,
    /// `configUrl`: the listener it posted to.
    pub config_url: Option<String>,
    /// `created`: when, as DocuSign wrote it (no format is documented).
    pub created: Option<String>,
    /// `envelopeId`.
    pub envelope_id: Option<String>,
    /// `status`: the envelope status the message reported (`Completed`, `Sent`, …).
    pub status: Option<String>,
    /// `error`: "the error that caused the Connect post to fail"; `None` when empty.
    pub error: Option<String>,
}

impl ConnectLogEntry {
    fn from_value(v: &Value) -> Self {
        let text = |name: &str| match v.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(clean(s.trim())),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        ConnectLogEntry {
            connect_id: text("connectId"),
            config_url: text("configUrl"),
            created: text("created"),
            envelope_id: text("envelopeId"),
            status: text("status"),
            error: text("error"),
        }
    }
}

impl DocuSignClient {
    /// Checks a `base_uri` from userinfo: an absolute `https` origin (plain `http` only on a
    /// loopback host), no whitespace or control characters, no credentials, query or fragment,
    /// no path beyond `/`, and a host on
    /// `allowed_base_uri_hosts`. Returns the `…/restapi/v2.1/` root to call.
    pub fn check_base_uri(&self, base_uri: &str) -> Result<Url, ProviderError> {
        let untrusted = || ProviderError::UntrustedBaseUri { base_uri: clean(base_uri).chars().take(120).collect() };
        if base_uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(untrusted());
        }
        let url = Url::parse(base_uri).map_err(|_| untrusted())?;
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => is_loopback(&url),
            _ => false,
        };
        if !scheme_ok
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
            || !matches!(url.path(), "" | "/")
        {
            return Err(untrusted());
        }
        let host = url.host_str().ok_or_else(untrusted)?;
        if !self.inner.settings.base_uri_host_allowed(host) {
            return Err(untrusted());
        }
        let mut root = url.clone();
        root.set_path("/restapi/v2.1/");
        Ok(root)
    }

    /// `{base_uri}/restapi/v2.1/accounts/{account_id}{/rest…}`, each segment percent-encoded.
    fn account_url(&self, base_uri: &str, account_id: &str, rest: &[&str]) -> Result<Url, ProviderError> {
        let root = self.check_base_uri(base_uri)?;
        if account_id.trim().is_empty() {
            return Err(ProviderError::InvalidRequest { detail: "the account id is empty".into() });
        }
        let mut url = root;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| ProviderError::UntrustedBaseUri { base_uri: clean(base_uri) })?;
            segs.pop_if_empty().push("accounts").push(account_id.trim());
            for r in rest {
                segs.push(r);
            }
        }
        Ok(url)
    }

    async fn esign(
        &self,
        method: Method,
        url: Url,
        token: &SecretString,
        body: Option<&Value>,
    ) -> Result<(super::transport::Answer, String), ProviderError> {
        let what = describe(&method, &url);
        let mut req = self
            .inner
            .http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let answer = execute(&self.inner.http, req, Surface::ESignature, self.inner.settings.timeout).await?;
        Ok((answer, what))
    }

    /// `GET /restapi/v2.1/accounts/{accountId}[?include_account_settings=true]`: the
    /// `accountInformation` object (with `accountSettings` when asked).
    pub async fn get_account(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
        include_settings: bool,
    ) -> Result<Api<Value>, ProviderError> {
        let mut url = self.account_url(base_uri, account_id, &[])?;
        if include_settings {
            url.query_pairs_mut().append_pair("include_account_settings", "true");
        }
        let (answer, what) = self.esign(Method::GET, url, token, None).await?;
        let value: Value = parse(&answer.body, &what)?;
        if !value.is_object() {
            return Err(ProviderError::Malformed { detail: format!("{what}: not a JSON object") });
        }
        Ok(Api { value, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `GET …/users/{userId}` (`Users:get`): the user's `userInformation` in this account, whose
    /// `isAdmin` says whether they administer it.
    pub async fn get_user(
        &self,
        base_uri: &str,
        account_id: &str,
        user_id: &str,
        token: &SecretString,
    ) -> Result<Api<Value>, ProviderError> {
        if user_id.trim().is_empty() {
            return Err(ProviderError::InvalidRequest { detail: "the user id is empty".into() });
        }
        let url = self.account_url(base_uri, account_id, &["users", user_id.trim()])?;
        let (answer, what) = self.esign(Method::GET, url, token, None).await?;
        let value: Value = parse(&answer.body, &what)?;
        if !value.is_object() {
            return Err(ProviderError::Malformed { detail: format!("{what}: not a JSON object") });
        }
        Ok(Api { value, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `GET …/settings`: `accountSettingsInformation` (typed string fields plus `…Metadata`).
    pub async fn get_settings(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
    ) -> Result<Api<Map<String, Value>>, ProviderError> {
        let url = self.account_url(base_uri, account_id, &["settings"])?;
        let (answer, what) = self.esign(Method::GET, url, token, None).await?;
        let value: Map<String, Value> = parse(&answer.body, &what)?;
        Ok(Api { value, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `PUT …/settings` with a partial `accountSettingsInformation`; DocuSign answers 200 with
    /// an empty body.
    pub async fn put_settings(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
        partial: &Map<String, Value>,
    ) -> Result<Api<()>, ProviderError> {
        let url = self.account_url(base_uri, account_id, &["settings"])?;
        let body = Value::Object(partial.clone());
        let (answer, _) = self.esign(Method::PUT, url, token, Some(&body)).await?;
        Ok(Api { value: (), limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `GET …/connect`: the account's Connect configurations, unwrapped from
    /// `{"configurations", "totalRecords"}`.
    pub async fn list_connect(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
    ) -> Result<Api<Vec<Value>>, ProviderError> {
        let url = self.account_url(base_uri, account_id, &["connect"])?;
        let (answer, what) = self.esign(Method::GET, url, token, None).await?;
        let results: ConnectResults = parse(&answer.body, &what)?;
        Ok(Api { value: results.configurations, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    /// `POST …/connect` with a `connectCustomConfiguration`; DocuSign answers 201 with the
    /// created configuration (including its `connectId`).
    pub async fn create_connect(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
        config: &Value,
    ) -> Result<Api<Value>, ProviderError> {
        self.write_connect(Method::POST, base_uri, account_id, token, config).await
    }

    /// `PUT …/connect` with a `connectCustomConfiguration` that includes its `connectId`
    /// (the path has none); answers the updated configuration.
    pub async fn update_connect(
        &self,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
        config: &Value,
    ) -> Result<Api<Value>, ProviderError> {
        let has_id = config.get("connectId").is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()) || v.is_number());
        if !has_id {
            return Err(ProviderError::InvalidRequest { detail: "the Connect configuration has no connectId".into() });
        }
        self.write_connect(Method::PUT, base_uri, account_id, token, config).await
    }

    /// `GET …/connect/logs`: the account's Connect log (`ConnectLogs.logs`: the most recent
    /// attempts of configurations with `enableLog` on; account administrators, Connect enabled).
    pub async fn connect_logs(&self, base_uri: &str, account_id: &str, token: &SecretString) -> Result<Api<Vec<ConnectLogEntry>>, ProviderError> {
        self.connect_log_list(base_uri, account_id, token, "logs").await
    }

    /// `GET …/connect/failures`: the account's Connect failure log (`ConnectLogs.failures`:
    /// messages that did not reach their listener).
    pub async fn connect_failures(&self, base_uri: &str, account_id: &str, token: &SecretString) -> Result<Api<Vec<ConnectLogEntry>>, ProviderError> {
        self.connect_log_list(base_uri, account_id, token, "failures").await
    }

    /// `GET …/connect/{list}` and its `ConnectLogs.{list}` array (absent: empty).
    async fn connect_log_list(&self, base_uri: &str, account_id: &str, token: &SecretString, list: &str) -> Result<Api<Vec<ConnectLogEntry>>, ProviderError> {
        let url = self.account_url(base_uri, account_id, &["connect", list])?;
        let (answer, what) = self.esign(Method::GET, url, token, None).await?;
        let value: Value = parse(&answer.body, &what)?;
        let entries = match value.get(list) {
            None | Some(Value::Null) if value.is_object() => Vec::new(),
            Some(Value::Array(items)) => items.iter().filter(|i| i.is_object()).map(ConnectLogEntry::from_value).collect(),
            _ => return Err(ProviderError::Malformed { detail: format!("{what}: no `{list}` list") }),
        };
        Ok(Api { value: entries, limits: RateLimitInfo::from_headers(&answer.headers) })
    }

    async fn write_connect(
        &self,
        method: Method,
        base_uri: &str,
        account_id: &str,
        token: &SecretString,
        config: &Value,
    ) -> Result<Api<Value>, ProviderError> {
        if !config.is_object() {
            return Err(ProviderError::InvalidRequest { detail: "the Connect configuration is not a JSON object".into() });
        }
        let url = self.account_url(base_uri, account_id, &["connect"])?;
        let (answer, what) = self.esign(method, url, token, Some(config)).await?;
        let value: Value = parse(&answer.body, &what)?;
        if !value.is_object() {
            return Err(ProviderError::Malformed { detail: format!("{what}: not a JSON object") });
        }
        Ok(Api { value, limits: RateLimitInfo::from_headers(&answer.headers) })
    }
}

#[cfg(test)]
mod tests {
    use app::onboarding::model::AccountRole;
    use serde_json::json;

    use super::{ConnectLogEntry, account_role};

    #[test]
    fn the_role_comes_from_is_admin_alone_and_anything_else_is_unknown() {
        assert_eq!(account_role(&json!({ "isAdmin": "True" })), AccountRole::Admin);
        assert_eq!(account_role(&json!({ "isAdmin": "false", "permissionProfileName": "Account Administrator" })), AccountRole::Member);
        assert_eq!(account_role(&json!({ "permissionProfileName": "Account Administrator" })), AccountRole::Unknown, "a profile name proves nothing");
        assert_eq!(account_role(&json!({ "isAdmin": "yes" })), AccountRole::Unknown);
        assert_eq!(account_role(&json!({})), AccountRole::Unknown);
    }

    #[test]
    fn a_connect_log_entry_keeps_the_documented_fields_as_text_and_drops_empty_ones() {
        let e = ConnectLogEntry::from_value(&json!({
            "connectId": 1001, "configUrl": " https://l.example/c ", "created": "2025-03-10T11:00:00.0000000Z",
            "envelopeId": "e-1", "status": "Completed", "error": "", "email": "someone@example.com", "unknown": {"x": 1}
        }));
        assert_eq!(e.connect_id.as_deref(), Some("1001"), "a number is read as text");
        assert_eq!(e.config_url.as_deref(), Some("https://l.example/c"));
        assert_eq!(e.error, None, "an empty error is a delivered attempt");
        assert_eq!((e.envelope_id.as_deref(), e.status.as_deref()), (Some("e-1"), Some("Completed")));
        let bare = ConnectLogEntry::from_value(&json!({"error": "line\nbreak"}));
        assert_eq!(bare.error.as_deref(), Some("line break"), "control characters are cleaned");
        assert_eq!(bare.connect_id, None);
    }
}
