//! The Connect-delivery check: a configuration can look right and still deliver nothing, so this
//! check asks whether a message with a valid HMAC signature actually reached the listener lately.

use app::checks::CheckId;
use chrono::{DateTime, Utc};

use super::{CheckOutcome, CheckStatus};

/// How recent a verified Connect delivery must be for the delivery check to pass.
pub const DELIVERY_FRESHNESS: chrono::Duration = chrono::Duration::days(7);

/// What the listener recorded for the tenant (the `connect_deliveries` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFacts {
    /// When the last message with a valid signature arrived.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// That message's event.
    pub last_event: Option<String>,
    pub verified_count: i64,
    pub rejected_count: i64,
}

/// Pass when a verified message arrived within [`DELIVERY_FRESHNESS`] of `now`; Warn otherwise
/// (nothing may have been sent yet, which is not a fault), with what the listener saw.
/// `facts` is `None` when no message ever reached the listener.
pub fn delivery_check(facts: Option<&DeliveryFacts>, now: DateTime<Utc>) -> CheckOutcome {
    let fresh = facts.and_then(|f| f.last_verified_at).filter(|t| now - *t < DELIVERY_FRESHNESS);
    let mut evidence = Vec::new();
    if let Some(f) = facts {
        if let Some(t) = f.last_verified_at {
            evidence.push(format!("Last verified event: {} at {}.", f.last_event.clone().unwrap_or_default(), t.format("%Y-%m-%d %H:%M UTC")));
        }
        evidence.push(format!("{} verified, {} rejected message(s) so far.", f.verified_count, f.rejected_count));
    } else {
        evidence.push("No Connect message has reached the portal's listener yet.".into());
    }
    let status = if fresh.is_some() { CheckStatus::Pass } else { CheckStatus::Warn };
    let mut o = CheckOutcome::new(CheckId::ConnectDelivery, status, evidence);
    if status != CheckStatus::Pass {
        o.remediation = Some(
            "Send an envelope (or, in eSignature Admin → Connect, use the configuration's test), then check again. Messages must carry a valid HMAC signature.".into(),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap()
    }

    fn seen(days_ago: i64) -> DeliveryFacts {
        DeliveryFacts {
            last_verified_at: Some(now() - chrono::Duration::days(days_ago)),
            last_event: Some("envelope-completed".into()),
            verified_count: 3,
            rejected_count: 1,
        }
    }

    #[test]
    fn a_recent_verified_message_passes_with_what_arrived() {
        let o = delivery_check(Some(&seen(1)), now());
        assert_eq!((o.id, o.status), (CheckId::ConnectDelivery, CheckStatus::Pass));
        assert_eq!(o.evidence, vec!["Last verified event: envelope-completed at 2025-03-09 12:00 UTC.", "3 verified, 1 rejected message(s) so far."]);
        assert_eq!(o.remediation, None);
    }

    #[test]
    fn no_message_or_only_an_old_one_warns_with_what_to_do() {
        let o = delivery_check(None, now());
        assert_eq!(o.status, CheckStatus::Warn);
        assert_eq!(o.evidence, vec!["No Connect message has reached the portal's listener yet."]);
        assert!(o.remediation.unwrap().contains("HMAC"));
        assert_eq!(delivery_check(Some(&seen(8)), now()).status, CheckStatus::Warn);
        let rejected_only = DeliveryFacts { last_verified_at: None, last_event: None, verified_count: 0, rejected_count: 4 };
        assert_eq!(delivery_check(Some(&rejected_only), now()).status, CheckStatus::Warn);
    }
}
