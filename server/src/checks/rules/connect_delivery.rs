//! The Connect-delivery check: a configuration can look right and still deliver nothing, so this
//! check weighs two witnesses. The portal's listener says whether a message with a valid HMAC
//! signature arrived lately; DocuSign's Connect log and failure log (read as the system user)
//! say what DocuSign tried for the portal's configuration and what it could not deliver, which
//! is the only way to see a delivery that never reached the listener.

use app::checks::{CheckId, RUN_CHECK};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::{CONNECT_PLACE, CheckOutcome, CheckStatus};

/// How recent a delivery must be for the delivery check to pass, and how far back DocuSign's
/// failures count.
pub const DELIVERY_FRESHNESS: chrono::Duration = chrono::Duration::days(7);

/// How many of DocuSign's entries the evidence lists (the latest ones).
const SHOWN: usize = 3;

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

/// One delivery attempt as DocuSign logged it (a `ConnectLog` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `created`, when it could be read as a date-time.
    pub at: Option<DateTime<Utc>>,
    /// `created` as DocuSign wrote it (shown when it could not be read).
    pub created: Option<String>,
    pub envelope_id: Option<String>,
    /// The envelope status the message reported.
    pub status: Option<String>,
    /// Why it failed; `None` for a delivered message.
    pub error: Option<String>,
}

impl Attempt {
    /// `created` read as a date-time: RFC 3339 (any fraction, any offset), or without a zone
    /// (read as UTC, as DocuSign's API times are). No format is documented, so anything else is
    /// kept as text.
    pub fn parse_time(created: &str) -> Option<DateTime<Utc>> {
        let s = created.trim();
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|d| d.and_utc()))
    }

    /// Within [`DELIVERY_FRESHNESS`] of `now`; an attempt whose time could not be read counts as
    /// recent (DocuSign keeps log entries 15 days only).
    fn recent(&self, now: DateTime<Utc>) -> bool {
        self.at.is_none_or(|t| now - t < DELIVERY_FRESHNESS)
    }

    fn when(&self) -> String {
        match (self.at, &self.created) {
            (Some(t), _) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
            (None, Some(raw)) => raw.clone(),
            (None, None) => "at an unknown time".into(),
        }
    }

    fn line(&self) -> String {
        let envelope = self.envelope_id.as_deref().unwrap_or("(no envelope id)");
        let status = self.status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
        match &self.error {
            None => format!("{}: envelope {envelope}{status} delivered.", self.when()),
            Some(e) => format!("{}: envelope {envelope}{status} not delivered: {}", self.when(), e.trim_end_matches('.')),
        }
    }
}

/// What DocuSign reports about the deliveries of the portal's Connect configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocuSignLog {
    /// Read: the configurations that publish to the tenant's listener, whether all of them keep
    /// a log (`enableLog`), and their entries of the Connect log and of the failure log.
    Read { connect_ids: Vec<String>, logging: bool, attempts: Vec<Attempt>, failures: Vec<Attempt> },
    /// No configuration publishes to the listener: nothing of DocuSign's is the portal's (the
    /// Connect-configuration check says what to do).
    NoConfiguration,
    /// DocuSign refused to show its logs (its words, or ours).
    Unreadable(String),
}

/// The verdict, from the listener's record and DocuSign's logs:
///
/// - Fail: DocuSign could not deliver a message lately (failure log, or a logged attempt with an
///   error) and nothing was delivered since: the listener is unreachable or refuses DocuSign.
/// - Warn: failures, but a later delivery went through (messages are still queued); or nothing
///   was delivered in [`DELIVERY_FRESHNESS`] and nothing failed (maybe nothing was sent yet).
/// - Pass: a delivery lately (a verified message at the listener, or DocuSign logged one) and no
///   failure since.
pub fn delivery_check(listener: Option<&DeliveryFacts>, docusign: &DocuSignLog, listener_url: &str, now: DateTime<Utc>) -> CheckOutcome {
    let mut evidence = Vec::new();
    match listener {
        Some(f) => {
            if let Some(t) = f.last_verified_at {
                evidence.push(format!(
                    "Last verified event at the portal's listener: {} at {}.",
                    f.last_event.clone().unwrap_or_default(),
                    t.format("%Y-%m-%d %H:%M UTC")
                ));
            }
            evidence.push(format!("{} verified, {} rejected message(s) so far.", f.verified_count, f.rejected_count));
        }
        None => evidence.push("No Connect message has reached the portal's listener yet.".into()),
    }
    let last_verified = listener.and_then(|f| f.last_verified_at);
    let fresh_listener = last_verified.is_some_and(|t| now - t < DELIVERY_FRESHNESS);

    let (status, remediation) = match docusign {
        DocuSignLog::Read { connect_ids, logging, attempts, failures } => {
            let ids = connect_ids.join(", ");
            let recent: Vec<&Attempt> = attempts.iter().filter(|a| a.recent(now)).collect();
            let failed: Vec<&Attempt> = failures
                .iter()
                .filter(|a| a.recent(now))
                .chain(recent.iter().copied().filter(|a| a.error.is_some()))
                .collect();
            if recent.is_empty() {
                evidence.push(if *logging {
                    format!("DocuSign's Connect log has no attempt of configuration {ids} in the last 7 days.")
                } else {
                    format!("Configuration {ids} keeps no log (enableLog is not \"true\"), so DocuSign shows only its failures.")
                });
            } else {
                evidence.push(format!("DocuSign's Connect log, configuration {ids}: {} attempt(s) in the last 7 days; the latest:", recent.len()));
                evidence.extend(latest(&recent).map(Attempt::line));
            }
            let recent_failures: Vec<&Attempt> = failures.iter().filter(|a| a.recent(now)).collect();
            if recent_failures.is_empty() {
                evidence.push(format!("DocuSign's failure log has no message of configuration {ids} from the last 7 days."));
            } else {
                evidence.push(format!(
                    "DocuSign's failure log: {} message(s) of configuration {ids} not delivered; the latest:",
                    recent_failures.len()
                ));
                evidence.extend(latest(&recent_failures).map(Attempt::line));
            }

            let delivered_at = recent.iter().filter(|a| a.error.is_none()).filter_map(|a| a.at).chain(last_verified).max();
            let delivered_lately = fresh_listener || recent.iter().any(|a| a.error.is_none());
            if failed.is_empty() {
                if delivered_lately {
                    (CheckStatus::Pass, None)
                } else {
                    (CheckStatus::Warn, Some(nothing_yet(*logging)))
                }
            } else {
                // A failure whose time could not be read counts as the latest event.
                let last_failure = failed.iter().map(|a| a.at).max_by_key(|t| t.map_or(i64::MAX, |t| t.timestamp())).flatten();
                let recovered = matches!((delivered_at, last_failure), (Some(ok), Some(bad)) if ok > bad);
                let error = failed
                    .iter()
                    .max_by_key(|a| a.at.map_or(i64::MAX, |t| t.timestamp()))
                    .and_then(|a| a.error.clone())
                    .unwrap_or_else(|| "DocuSign gave no reason".into());
                if recovered {
                    // One failed message may be in both logs: count envelopes, not entries.
                    let mut envelopes: Vec<Option<&str>> = failed.iter().map(|a| a.envelope_id.as_deref()).collect();
                    envelopes.sort();
                    envelopes.dedup_by(|a, b| a.is_some() && a == b);
                    (
                        CheckStatus::Warn,
                        Some(format!(
                            "Deliveries work again, but DocuSign could not deliver {} message(s) earlier. DocuSign retries \
                             them; to send them now, republish them from the failures list in {CONNECT_PLACE}. Then press “{RUN_CHECK}”.",
                            envelopes.len()
                        )),
                    )
                } else {
                    (
                        CheckStatus::Fail,
                        Some(format!(
                            "DocuSign cannot deliver Connect messages to the portal's listener (latest error: {}). Make sure \
                             {listener_url} is reachable from the internet, and that the configuration signs messages with an \
                             HMAC key the portal knows (the listener refuses any other signature). DocuSign retries failed \
                             messages; press “{RUN_CHECK}” once one went through.",
                            error.trim_end_matches('.')
                        )),
                    )
                }
            }
        }
        DocuSignLog::NoConfiguration => {
            evidence.push("No Connect configuration publishes to the portal's listener, so DocuSign's logs say nothing about it (see the Connect configuration check).".into());
            if fresh_listener { (CheckStatus::Pass, None) } else { (CheckStatus::Warn, Some(nothing_yet(true))) }
        }
        DocuSignLog::Unreadable(why) => {
            evidence.push(format!("DocuSign's Connect logs could not be read: {}.", why.trim_end_matches('.')));
            if fresh_listener { (CheckStatus::Pass, None) } else { (CheckStatus::Warn, Some(nothing_yet(true))) }
        }
    };
    let mut o = CheckOutcome::new(CheckId::ConnectDelivery, status, evidence);
    o.remediation = remediation;
    o
}

/// The latest [`SHOWN`] of `entries` (an entry without a readable time counts as the latest).
fn latest<'a>(entries: &[&'a Attempt]) -> impl Iterator<Item = &'a Attempt> {
    let mut sorted: Vec<&Attempt> = entries.to_vec();
    sorted.sort_by_key(|a| std::cmp::Reverse(a.at.map_or(i64::MAX, |t| t.timestamp())));
    sorted.into_iter().take(SHOWN)
}

/// What would make the check pass when nothing was delivered and nothing failed.
fn nothing_yet(logging: bool) -> String {
    let mut text = format!(
        "Nothing was delivered in the last 7 days: send an envelope (or use the configuration's test in {CONNECT_PLACE}), \
         then press “{RUN_CHECK}”. The check passes once DocuSign logs a delivery to the listener or a message with a valid \
         HMAC signature reaches it."
    );
    if !logging {
        text.push_str(" Turn on logging (enableLog) for the configuration so that DocuSign's log shows every attempt.");
    }
    text
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    const LISTENER: &str = "https://portal.example.com/connect/t";

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

    fn attempt(hours_ago: i64, error: Option<&str>) -> Attempt {
        let at = now() - chrono::Duration::hours(hours_ago);
        Attempt {
            at: Some(at),
            created: Some(at.to_rfc3339()),
            envelope_id: Some(format!("env-{hours_ago}")),
            status: Some("Completed".into()),
            error: error.map(str::to_owned),
        }
    }

    fn read(attempts: Vec<Attempt>, failures: Vec<Attempt>) -> DocuSignLog {
        DocuSignLog::Read { connect_ids: vec!["1001".into()], logging: true, attempts, failures }
    }

    fn empty() -> DocuSignLog {
        read(vec![], vec![])
    }

    #[test]
    fn a_recent_verified_message_and_no_failure_passes_with_what_arrived() {
        let o = delivery_check(Some(&seen(1)), &empty(), LISTENER, now());
        assert_eq!((o.id, o.status), (CheckId::ConnectDelivery, CheckStatus::Pass));
        assert_eq!(o.evidence[0], "Last verified event at the portal's listener: envelope-completed at 2025-03-09 12:00 UTC.");
        assert_eq!(o.evidence[1], "3 verified, 1 rejected message(s) so far.");
        assert_eq!(o.remediation, None);
    }

    #[test]
    fn a_delivery_docusign_logged_passes_and_shows_the_latest_attempts() {
        let log = read(vec![attempt(30, None), attempt(2, None), attempt(5, None), attempt(1, None)], vec![]);
        let o = delivery_check(None, &log, LISTENER, now());
        assert_eq!(o.status, CheckStatus::Pass, "{o:?}");
        let text = o.evidence.join("\n");
        assert!(text.contains("configuration 1001: 4 attempt(s)"), "{text}");
        assert!(text.contains("2025-03-10 11:00 UTC: envelope env-1 (Completed) delivered."), "{text}");
        assert!(!text.contains("env-30"), "only the latest three are listed: {text}");
    }

    #[test]
    fn no_attempt_no_failure_and_no_message_warns_naming_what_would_make_it_pass() {
        let o = delivery_check(None, &empty(), LISTENER, now());
        assert_eq!(o.status, CheckStatus::Warn);
        assert_eq!(o.evidence[0], "No Connect message has reached the portal's listener yet.");
        let remediation = o.remediation.unwrap();
        assert!(remediation.contains("send an envelope") && remediation.contains("HMAC") && remediation.contains(RUN_CHECK), "{remediation}");
        // Only an old message, or only rejected ones: the same warning.
        assert_eq!(delivery_check(Some(&seen(8)), &empty(), LISTENER, now()).status, CheckStatus::Warn);
        let rejected_only = DeliveryFacts { last_verified_at: None, last_event: None, verified_count: 0, rejected_count: 4 };
        assert_eq!(delivery_check(Some(&rejected_only), &empty(), LISTENER, now()).status, CheckStatus::Warn);
        // A configuration without a log is told to turn it on.
        let unlogged = DocuSignLog::Read { connect_ids: vec!["1001".into()], logging: false, attempts: vec![], failures: vec![] };
        let o = delivery_check(None, &unlogged, LISTENER, now());
        assert!(o.remediation.unwrap().contains("enableLog"));
    }

    #[test]
    fn a_recent_failure_with_nothing_delivered_since_fails_with_docusigns_error_and_the_next_action() {
        let failure = attempt(3, Some("The remote server returned an error: (401) Unauthorized."));
        let o = delivery_check(Some(&seen(1)), &read(vec![failure.clone()], vec![failure]), LISTENER, now());
        assert_eq!(o.status, CheckStatus::Fail, "a failure after the last verified message: {o:?}");
        let remediation = o.remediation.unwrap();
        assert!(remediation.contains("(401) Unauthorized") && remediation.contains(LISTENER) && remediation.contains(RUN_CHECK), "{remediation}");
        assert!(o.evidence.join("\n").contains("failure log: 1 message(s) of configuration 1001 not delivered"), "{:?}", o.evidence);
        // A logged attempt with an error counts as a failure even when the failure log is empty.
        let o = delivery_check(None, &read(vec![attempt(1, Some("No response from the listener"))], vec![]), LISTENER, now());
        assert_eq!(o.status, CheckStatus::Fail);
        // A failure whose time cannot be read counts as the latest.
        let undated = Attempt { at: None, created: Some("yesterday".into()), envelope_id: None, status: None, error: Some("timeout".into()) };
        let o = delivery_check(Some(&seen(0)), &read(vec![], vec![undated]), LISTENER, now());
        assert_eq!(o.status, CheckStatus::Fail);
        assert!(o.evidence.join("\n").contains("yesterday: envelope (no envelope id) not delivered: timeout"), "{:?}", o.evidence);
    }

    #[test]
    fn failures_followed_by_a_delivery_warn_that_messages_are_still_queued() {
        let log = read(vec![attempt(1, None)], vec![attempt(20, Some("HTTP 503"))]);
        let o = delivery_check(None, &log, LISTENER, now());
        assert_eq!(o.status, CheckStatus::Warn, "{o:?}");
        assert!(o.remediation.unwrap().contains("republish"));
        // Failures older than a week no longer count.
        let log = read(vec![attempt(1, None)], vec![attempt(24 * 8, Some("HTTP 503"))]);
        assert_eq!(delivery_check(None, &log, LISTENER, now()).status, CheckStatus::Pass);
    }

    #[test]
    fn without_docusigns_logs_the_listener_alone_decides_and_the_evidence_says_why() {
        let o = delivery_check(Some(&seen(1)), &DocuSignLog::Unreadable("USER_NOT_AUTHORIZED: words".into()), LISTENER, now());
        assert_eq!(o.status, CheckStatus::Pass);
        assert!(o.evidence.join("\n").contains("could not be read: USER_NOT_AUTHORIZED: words."));
        let o = delivery_check(None, &DocuSignLog::NoConfiguration, LISTENER, now());
        assert_eq!(o.status, CheckStatus::Warn);
        assert!(o.evidence.join("\n").contains("No Connect configuration publishes"));
    }

    #[test]
    fn docusign_times_are_read_in_the_formats_it_is_seen_to_use_and_anything_else_is_kept_as_text() {
        let t = Utc.with_ymd_and_hms(2025, 3, 10, 11, 0, 0).unwrap();
        for s in ["2025-03-10T11:00:00.0000000Z", "2025-03-10T11:00:00Z", "2025-03-10T11:00:00.000+00:00", "2025-03-10T12:00:00+01:00", "2025-03-10T11:00:00.0000000"] {
            assert_eq!(Attempt::parse_time(s), Some(t), "{s}");
        }
        assert_eq!(Attempt::parse_time("3/10/2025 11:00 AM"), None);
    }
}
