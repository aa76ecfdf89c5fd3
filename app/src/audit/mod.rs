//! Audit events as the UI shows them. Rows are written by the server in the same transaction as
//! the change they record and are never updated or deleted.

pub mod api;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEventView {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_label: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// A plain-words description of an action name (`tenant.created` → "Tenant created").
pub fn describe_action(action: &str) -> String {
    match action {
        "tenant.created" => "Tenant created".into(),
        "tenant.updated" => "Tenant updated".into(),
        "tenant.archived" => "Tenant archived".into(),
        "tenant.restored" => "Tenant restored".into(),
        "invite.issued" => "Invite issued".into(),
        "invite.revoked" => "Invite revoked".into(),
        "invite.redeemed" => "Invite redeemed".into(),
        "invite.link_requested" => "New invite link requested by the customer".into(),
        "consent.state_changed" => "Consent state changed".into(),
        "consent.granted" => "Consent granted".into(),
        "consent.system_user_pinned" => "System user pinned".into(),
        "consent.verified" => "Verification".into(),
        "consent.overridden" => "Consent overridden".into(),
        "setup.overridden" => "Setup check overridden".into(),
        "consent.override_cleared" | "setup.override_cleared" => "Override cleared by a passing run".into(),
        "consent.override_expired" | "setup.override_expired" => "Override expired".into(),
        "consent.override_withdrawn" | "setup.override_withdrawn" => "Override withdrawn".into(),
        other => other.replace(['.', '_'], " "),
    }
}

/// The audit log across tenants: its query (all in the page's URL) and one page of it.
pub mod log {
    use chrono::NaiveDate;
    use serde::{Deserialize, Serialize};
    use uuid::Uuid;

    use super::AuditEventView;

    /// Events on one page of the audit log.
    pub const AUDIT_PAGE_SIZE: u64 = 50;

    /// What the audit log shows: the newest events first, narrowed by these filters.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AuditQuery {
        /// Only this tenant's events.
        #[serde(default)]
        pub tenant: Option<Uuid>,
        /// Only events whose actor label contains this text (case-insensitive).
        #[serde(default)]
        pub actor: Option<String>,
        /// Only actions starting with this (`consent.`, `invite.`, `tenant.updated`, …).
        #[serde(default)]
        pub action: Option<String>,
        /// From this day (UTC), inclusive.
        #[serde(default)]
        pub from: Option<NaiveDate>,
        /// Until this day (UTC), inclusive.
        #[serde(default)]
        pub to: Option<NaiveDate>,
        /// The cursor: only events older than this id (from [`AuditPage::next`]).
        #[serde(default)]
        pub before: Option<i64>,
    }

    impl AuditQuery {
        /// The query's URL parameters (the cursor only when `before` is given).
        pub fn url_params(&self, before: Option<i64>) -> String {
            let enc = crate::components::urlencode;
            let mut parts = Vec::new();
            if let Some(t) = self.tenant {
                parts.push(format!("tenant={t}"));
            }
            if let Some(a) = &self.actor {
                parts.push(format!("actor={}", enc(a)));
            }
            if let Some(a) = &self.action {
                parts.push(format!("action={}", enc(a)));
            }
            if let Some(d) = self.from {
                parts.push(format!("from={d}"));
            }
            if let Some(d) = self.to {
                parts.push(format!("to={d}"));
            }
            if let Some(b) = before {
                parts.push(format!("before={b}"));
            }
            parts.join("&")
        }
    }

    /// One event with the tenant it concerns, as the log lists it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct AuditEntry {
        pub event: AuditEventView,
        pub tenant_id: Option<Uuid>,
        pub tenant_name: Option<String>,
    }

    /// One page of the audit log, newest first (keyset on the event id: stable while events are
    /// added).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct AuditPage {
        pub items: Vec<AuditEntry>,
        /// The cursor of the next (older) page, if there is one.
        pub next: Option<i64>,
    }

    /// What changed between `before` and `after`, one line per field whose value differs
    /// (`state: invited → verified`), for people reading the log.
    pub fn changes(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> Vec<String> {
        let show = |v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => "—".to_owned(),
            Some(serde_json::Value::String(s)) if s.is_empty() => "—".to_owned(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        match (before, after) {
            (Some(serde_json::Value::Object(b)), Some(serde_json::Value::Object(a))) => {
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter()
                    .filter(|k| a.get(*k) != b.get(*k))
                    .map(|k| format!("{k}: {} → {}", show(b.get(k)), show(a.get(k))))
                    .collect()
            }
            (None, Some(serde_json::Value::Object(a))) => a.iter().map(|(k, v)| format!("{k}: {}", show(Some(v)))).collect(),
            (Some(serde_json::Value::Object(b)), None) => b.iter().map(|(k, v)| format!("{k}: {} → —", show(Some(v)))).collect(),
            (b, a) if b.is_some() || a.is_some() => vec![format!("{} → {}", show(b), show(a))],
            _ => Vec::new(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn changes_list_only_the_fields_that_differ() {
            let b = serde_json::json!({ "state": "invited", "environment": "demo", "reason": null });
            let a = serde_json::json!({ "state": "needs_attention", "environment": "demo", "reason": "consent_required" });
            assert_eq!(changes(Some(&b), Some(&a)), ["reason: — → consent_required", "state: invited → needs_attention"]);
            assert_eq!(changes(None, Some(&serde_json::json!({ "slug": "acme" }))), ["slug: acme"]);
            assert!(changes(None, None).is_empty());
        }
    }
}
