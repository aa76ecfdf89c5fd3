//! Outgoing webhooks: the event types the ISV's backend can subscribe to and the delivery
//! statuses, shared by the staff page (`/settings/webhooks`) and the server, which signs and
//! delivers them (`server/src/webhooks`).

pub mod api;
pub mod views;

use serde::{Deserialize, Serialize};

/// What happened to a tenant, as the ISV's backend hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEventType {
    /// Consent verified for the first time (from a not-yet-verified state).
    #[serde(rename = "tenant.consent.verified")]
    ConsentVerified,
    /// Consent needs attention (the reason says why).
    #[serde(rename = "tenant.consent.needs_attention")]
    ConsentNeedsAttention,
    /// Consent was withdrawn.
    #[serde(rename = "tenant.consent.revoked")]
    ConsentRevoked,
    /// Verified again after needing attention or being revoked.
    #[serde(rename = "tenant.consent.recovered")]
    ConsentRecovered,
    /// The system user, its account or its base URI changed.
    #[serde(rename = "tenant.system_user.changed")]
    SystemUserChanged,
    /// The overall result of the tenant's setup check changed.
    #[serde(rename = "tenant.setup_check.changed")]
    SetupCheckChanged,
    /// A customer admin redeemed an invite link.
    #[serde(rename = "tenant.invite.redeemed")]
    InviteRedeemed,
}

impl WebhookEventType {
    /// Every event type, in the order the staff page lists them.
    pub const ALL: [WebhookEventType; 7] = [
        WebhookEventType::ConsentVerified,
        WebhookEventType::ConsentNeedsAttention,
        WebhookEventType::ConsentRevoked,
        WebhookEventType::ConsentRecovered,
        WebhookEventType::SystemUserChanged,
        WebhookEventType::SetupCheckChanged,
        WebhookEventType::InviteRedeemed,
    ];

    /// The wire and database name (`tenant.consent.verified`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::ConsentVerified => "tenant.consent.verified",
            WebhookEventType::ConsentNeedsAttention => "tenant.consent.needs_attention",
            WebhookEventType::ConsentRevoked => "tenant.consent.revoked",
            WebhookEventType::ConsentRecovered => "tenant.consent.recovered",
            WebhookEventType::SystemUserChanged => "tenant.system_user.changed",
            WebhookEventType::SetupCheckChanged => "tenant.setup_check.changed",
            WebhookEventType::InviteRedeemed => "tenant.invite.redeemed",
        }
    }

    /// A short description for people.
    pub fn description(self) -> &'static str {
        match self {
            WebhookEventType::ConsentVerified => "Consent verified for the first time",
            WebhookEventType::ConsentNeedsAttention => "Consent needs attention (with the reason)",
            WebhookEventType::ConsentRevoked => "Consent revoked",
            WebhookEventType::ConsentRecovered => "Consent verified again after a problem",
            WebhookEventType::SystemUserChanged => "System user, account or base URI changed",
            WebhookEventType::SetupCheckChanged => "Setup check result changed",
            WebhookEventType::InviteRedeemed => "Invite link redeemed",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<WebhookEventType> {
        WebhookEventType::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

impl std::fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one delivery of an event to an endpoint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt of the retry schedule failed (or the endpoint was disabled).
    Failed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 3] = [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(value: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_wire_names_round_trip_through_parse_and_serde() {
        for t in WebhookEventType::ALL {
            assert_eq!(WebhookEventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
        }
        assert_eq!(WebhookEventType::parse("tenant.consent"), None);
    }
}
