//! Audit events as the UI shows them. Rows are written by the server in the same transaction as
//! the change they record and are never updated or deleted.

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
        "consent.state_changed" => "Consent state changed".into(),
        "consent.granted" => "Consent granted".into(),
        "consent.system_user_pinned" => "System user pinned".into(),
        "consent.verified" => "Verification".into(),
        other => other.replace(['.', '_'], " "),
    }
}
