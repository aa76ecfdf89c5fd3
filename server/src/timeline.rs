//! A tenant's timeline: what happened to it, newest first, merged from every table that records
//! something about it — audit events (consent transitions, invites issued/redeemed/revoked, check
//! changes, fixes, edits, integration-API use), invites that expired unused (no audit row marks an
//! expiry), setup-check runs, the Connect delivery counters and the outgoing webhook events.
//!
//! Paging is keyset over the merged order (time, source, id; all descending): each source runs
//! one query for at most `size + 1` rows past the cursor, the rows are merged in memory and the
//! first `size` kept. Whatever the other sources hold, the first `size` of the merge are the
//! first `size` of the whole timeline, so a page costs `sources × size` rows, never more, and
//! entries added meanwhile (always newer) never shift a page.

use std::cmp::Ordering;

use app::audit::describe_action;
use app::audit::log::changes;
use app::checks::{CheckId, CheckStatus, FixKind, RunOverall, RunTrigger};
use app::error::AppError;
use app::onboarding::model::ConsentState;
use app::tenants::timeline::{TimelineCursor, TimelineEntry, TimelineKind, TimelinePage, TimelineQuery, TimelineSource};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::{audit_event, check_run, connect_delivery, invite, webhook_event};
use crate::error::ServiceResult;

/// The actor of what DocuSign Connect delivered.
pub const CONNECT_ACTOR: &str = "DocuSign (Connect)";
/// The actor of deliveries the listener refused: it could not tell who sent them.
pub const REFUSED_CONNECT_ACTOR: &str = "unverified sender (Connect)";
/// The actor of outgoing webhook events.
pub const WEBHOOK_ACTOR: &str = "Consent Portal (outgoing webhook)";
/// The actor of an invite that expired.
pub const EXPIRY_ACTOR: &str = "Consent Portal (link expired)";

/// One page of the timeline of a tenant the viewer may see. `now` decides which unused invites
/// have expired.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    tenant: &crate::scope::Visible,
    query: &TimelineQuery,
    size: u64,
    now: DateTime<Utc>,
) -> ServiceResult<TimelinePage> {
    let tenant_id = tenant.id;
    let cursor = match query.older.as_deref() {
        None => None,
        Some(text) => Some(TimelineCursor::decode(text).ok_or_else(damaged_cursor)?),
    };
    let cursor = cursor.as_ref();
    let wants = |kind: TimelineKind| query.kind.is_none_or(|k| k == kind);
    let fetch = size + 1;

    let mut entries = Vec::new();
    if !matches!(query.kind, Some(TimelineKind::Connect | TimelineKind::Webhooks)) {
        entries.extend(audit_events(db, tenant_id, query.kind, cursor, fetch).await?);
    }
    if wants(TimelineKind::Invites) {
        entries.extend(expired_invites(db, tenant_id, cursor, fetch, now).await?);
    }
    if wants(TimelineKind::Checks) {
        entries.extend(check_runs(db, tenant_id, cursor, fetch).await?);
    }
    if wants(TimelineKind::Connect) {
        entries.extend(connect_deliveries(db, tenant_id, cursor).await?);
    }
    if wants(TimelineKind::Webhooks) {
        entries.extend(webhook_events(db, tenant_id, cursor, fetch).await?);
    }

    entries.sort_by(newest_first);
    let older = if entries.len() as u64 > size {
        entries.truncate(size as usize);
        entries.last().map(|e| TimelineCursor::of(e).encode())
    } else {
        None
    };
    Ok(TimelinePage { entries, older })
}

fn damaged_cursor() -> AppError {
    AppError::field("older", "This link to older entries is damaged; start again from the newest.")
}

/// An entry's id as its source orders it: audit events and the Connect counters by number, the
/// rest by UUID (bytewise, as both databases order a UUID column).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortId {
    Number(i64),
    Uuid(Uuid),
    Text(String),
}

fn sort_id(source: TimelineSource, id: &str) -> SortId {
    let parsed = match source {
        TimelineSource::Audit | TimelineSource::Connect => id.parse().ok().map(SortId::Number),
        TimelineSource::Invite | TimelineSource::CheckRun | TimelineSource::Webhook => Uuid::parse_str(id).ok().map(SortId::Uuid),
    };
    parsed.unwrap_or_else(|| SortId::Text(id.to_owned()))
}

/// The timeline's order: newest first; at the same instant by source, then id (descending), so the
/// order is total and a cursor names one place in it.
fn newest_first(a: &TimelineEntry, b: &TimelineEntry) -> Ordering {
    (b.at, b.source, sort_id(b.source, &b.id)).cmp(&(a.at, a.source, sort_id(a.source, &a.id)))
}

/// The rows of `source` that come after `cursor` in the timeline's order, as a condition on the
/// row's `time` and `id` columns; `id` is the cursor's id as this source's column value.
fn past_cursor<T: ColumnTrait, I: ColumnTrait>(
    cursor: Option<&TimelineCursor>,
    source: TimelineSource,
    time: T,
    id: I,
) -> ServiceResult<Condition> {
    let Some(c) = cursor else { return Ok(Condition::all()) };
    Ok(match source.cmp(&c.source) {
        // A lower source at the cursor's instant comes after the cursor; a higher one before it.
        Ordering::Less => Condition::all().add(time.lte(c.at)),
        Ordering::Greater => Condition::all().add(time.lt(c.at)),
        Ordering::Equal => {
            let id_before = match source {
                TimelineSource::Audit | TimelineSource::Connect => id.lt(c.id.parse::<i64>().map_err(|_| damaged_cursor())?),
                _ => id.lt(Uuid::parse_str(&c.id).map_err(|_| damaged_cursor())?),
            };
            Condition::any().add(time.lt(c.at)).add(Condition::all().add(time.eq(c.at)).add(id_before))
        }
    })
}

/// Whether an entry made in memory comes after `cursor` (the rows that are not queried).
fn is_past(entry: &TimelineEntry, cursor: Option<&TimelineCursor>) -> bool {
    cursor.is_none_or(|c| {
        let at_cursor = TimelineEntry { at: c.at, source: c.source, id: c.id.clone(), ..entry.clone() };
        newest_first(&at_cursor, entry) == Ordering::Less
    })
}

/// The audit actions of `kind` (the same split as [`TimelineKind::of_action`]); `None` for every
/// action.
fn audit_kind(kind: Option<TimelineKind>) -> Option<Condition> {
    let action = audit_event::Column::Action;
    Some(match kind? {
        TimelineKind::Consent => Condition::all().add(action.starts_with("consent.")),
        TimelineKind::Invites => Condition::all().add(action.starts_with("invite.")),
        TimelineKind::Fixes => Condition::all().add(action.eq("setup.fix_applied")),
        TimelineKind::Checks => Condition::all().add(action.starts_with("setup.")).add(action.ne("setup.fix_applied")),
        TimelineKind::Other => Condition::all()
            .add(action.not_like("consent.%"))
            .add(action.not_like("invite.%"))
            .add(action.not_like("setup.%")),
        // No audit row is of these kinds; the caller does not ask.
        TimelineKind::Connect | TimelineKind::Webhooks => Condition::any(),
    })
}

async fn audit_events<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    kind: Option<TimelineKind>,
    cursor: Option<&TimelineCursor>,
    limit: u64,
) -> ServiceResult<Vec<TimelineEntry>> {
    let mut select = audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant_id))
        .filter(past_cursor(cursor, TimelineSource::Audit, audit_event::Column::OccurredAt, audit_event::Column::Id)?);
    if let Some(only) = audit_kind(kind) {
        select = select.filter(only);
    }
    // By time, not id alone: concurrent writers may commit ids slightly out of time order, and the
    // merge (and its cursor) orders by time.
    let rows = select.order_by_desc(audit_event::Column::OccurredAt).order_by_desc(audit_event::Column::Id).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(audit_entry).collect())
}

/// An audit event as a timeline entry.
pub fn audit_entry(r: audit_event::Model) -> TimelineEntry {
    TimelineEntry {
        source: TimelineSource::Audit,
        id: r.id.to_string(),
        at: r.occurred_at,
        kind: TimelineKind::of_action(&r.action),
        summary: audit_summary(&r.action, r.before.as_ref(), r.after.as_ref()),
        actor: readable_actor(&r.actor_label),
        detail: changes(r.before.as_ref(), r.after.as_ref()),
        action: Some(r.action),
        request_id: r.request_id,
    }
}

/// The audit log's actor labels in the words the tenant page uses. Staff appear by e-mail and API
/// clients by name and key id, as recorded.
pub fn readable_actor(label: &str) -> String {
    match label {
        "customer admin (invite)" => "customer admin".to_owned(),
        "token refresh" => "Consent Portal (token refresh)".to_owned(),
        other => other.to_owned(),
    }
}

fn text<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a str> {
    value?.get(key)?.as_str()
}

fn consent_label(value: Option<&Value>) -> String {
    let state = text(value, "state").map(|s| ConsentState::parse(s).map(|c| c.label().to_owned()).unwrap_or_else(|| s.to_owned()));
    match (state, text(value, "reason")) {
        (Some(s), Some(r)) => format!("{s} ({})", r.replace('_', " ")),
        (Some(s), None) => s,
        (None, _) => "—".to_owned(),
    }
}

fn check_title(value: Option<&Value>) -> String {
    match text(value, "check") {
        Some(c) => CheckId::parse(c).map(|c| c.title().to_owned()).unwrap_or_else(|| c.to_owned()),
        None => "a check".to_owned(),
    }
}

/// What an override's audit row is about (`consent` or a check), by its title.
fn subject_title(value: Option<&Value>) -> String {
    match text(value, "subject") {
        Some(s) => app::overrides::OverrideSubject::parse(s).map(|s| s.title().to_owned()).unwrap_or_else(|| s.to_owned()),
        None => "a check".to_owned(),
    }
}

fn status_label(value: Option<&Value>) -> Option<String> {
    let raw = value?.get("status")?;
    Some(serde_json::from_value::<CheckStatus>(raw.clone()).map(|s| s.label().to_owned()).unwrap_or_else(|_| raw.to_string()))
}

/// One line for an audit event; the fields it names are in the entry's detail too.
fn audit_summary(action: &str, before: Option<&Value>, after: Option<&Value>) -> String {
    match action {
        "consent.state_changed" => format!("Consent: {} → {}", consent_label(before), consent_label(after)),
        "setup.check_changed" => match status_label(before) {
            Some(was) => format!("Check “{}”: {was} → {}", check_title(after), status_label(after).unwrap_or_default()),
            None => format!("Check “{}”: {}", check_title(after), status_label(after).unwrap_or_default()),
        },
        "setup.fix_applied" => {
            let fix = before.and_then(|b| b.get("fix")).and_then(|f| serde_json::from_value::<FixKind>(f.clone()).ok());
            match fix {
                Some(f) => format!("Fix applied to “{}”: {}", check_title(before), f.label()),
                None => format!("Fix applied to “{}”", check_title(before)),
            }
        }
        "setup.attested" => format!("Check “{}” attested by staff", check_title(after)),
        "setup.overridden" | "consent.overridden" => format!(
            "{} overridden ({}) until {}: {}",
            subject_title(after),
            text(after, "status").unwrap_or("—").replace('_', " "),
            text(after, "expires_at").and_then(|t| t.get(..10)).unwrap_or("—"),
            text(after, "justification").unwrap_or_default()
        ),
        "setup.override_cleared" | "consent.override_cleared" => format!("Override of {} cleared: it passes now", subject_title(before)),
        "setup.override_expired" | "consent.override_expired" => format!("Override of {} expired", subject_title(before)),
        "setup.override_withdrawn" | "consent.override_withdrawn" => format!("Override of {} withdrawn", subject_title(before)),
        other => describe_action(other),
    }
}

/// Invites that expired unused: the one invite event with no audit row (nothing happens at
/// expiry), dated when the link stopped working.
async fn expired_invites<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    cursor: Option<&TimelineCursor>,
    limit: u64,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<TimelineEntry>> {
    let rows = invite::Entity::find()
        .filter(invite::Column::TenantId.eq(tenant_id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.lte(now))
        .filter(past_cursor(cursor, TimelineSource::Invite, invite::Column::ExpiresAt, invite::Column::Id)?)
        .order_by_desc(invite::Column::ExpiresAt)
        .order_by_desc(invite::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| TimelineEntry {
            source: TimelineSource::Invite,
            id: r.id.to_string(),
            at: r.expires_at,
            kind: TimelineKind::Invites,
            action: None,
            summary: "Invite expired unused".to_owned(),
            actor: EXPIRY_ACTOR.to_owned(),
            detail: vec![format!("issued {} by {}", r.created_at.format("%Y-%m-%d %H:%M UTC"), readable_actor(&r.created_by))],
            request_id: None,
        })
        .collect())
}

/// Setup-check runs, dated when they started, with their overall result. The checks whose result
/// a run changed are its `setup.check_changed` audit events, listed beside it.
async fn check_runs<C: ConnectionTrait>(db: &C, tenant_id: Uuid, cursor: Option<&TimelineCursor>, limit: u64) -> ServiceResult<Vec<TimelineEntry>> {
    let rows = check_run::Entity::find()
        .filter(check_run::Column::TenantId.eq(tenant_id))
        .filter(past_cursor(cursor, TimelineSource::CheckRun, check_run::Column::StartedAt, check_run::Column::Id)?)
        .order_by_desc(check_run::Column::StartedAt)
        .order_by_desc(check_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let summary = match r.overall()? {
                Some(RunOverall::Pass) => "Setup check run: all passed".to_owned(),
                Some(RunOverall::Abandoned) => "Setup check run abandoned unfinished".to_owned(),
                Some(o) => format!("Setup check run: {}", overall_words(o)),
                None => "Setup check run (not finished)".to_owned(),
            };
            let actor = match r.trigger()? {
                RunTrigger::Scheduled => "scheduled check".to_owned(),
                RunTrigger::Bench => "bench".to_owned(),
                RunTrigger::Manual => readable_actor(&r.requested_by),
            };
            let mut detail = vec![format!("environment: {}", r.environment)];
            if let Some(f) = r.finished_at {
                detail.push(format!("finished {}", f.format("%Y-%m-%d %H:%M:%S UTC")));
            }
            Ok(TimelineEntry {
                source: TimelineSource::CheckRun,
                id: r.id.to_string(),
                at: r.started_at,
                kind: TimelineKind::Checks,
                action: None,
                summary,
                actor,
                detail,
                request_id: None,
            })
        })
        .collect()
}

fn overall_words(o: RunOverall) -> &'static str {
    match o {
        RunOverall::Pass => "all passed",
        RunOverall::Warn => "warnings",
        RunOverall::Fail => "failures",
        RunOverall::Error => "some checks could not run",
        RunOverall::Skipped => "skipped",
        RunOverall::Abandoned => "abandoned",
    }
}

/// What Connect delivered: the portal keeps counters per tenant, not each message, so this is at
/// most two entries — the latest accepted delivery and the latest refused one, with the totals.
/// (One row by primary key; the cursor is applied here.)
async fn connect_deliveries<C: ConnectionTrait>(db: &C, tenant_id: Uuid, cursor: Option<&TimelineCursor>) -> ServiceResult<Vec<TimelineEntry>> {
    let Some(row) = connect_delivery::Entity::find_by_id(tenant_id).one(db).await? else { return Ok(Vec::new()) };
    let entry = |id: &str, at: DateTime<Utc>, summary: String, actor: &str, detail: Vec<String>| TimelineEntry {
        source: TimelineSource::Connect,
        id: id.to_owned(),
        at,
        kind: TimelineKind::Connect,
        action: None,
        summary,
        actor: actor.to_owned(),
        detail,
        request_id: None,
    };
    let mut out = Vec::new();
    if let Some(at) = row.last_verified_at {
        let mut detail = Vec::new();
        if let Some(envelope) = &row.last_envelope_id {
            detail.push(format!("envelope {envelope}"));
        }
        detail.push(format!("{} accepted in all", row.verified_count));
        let summary = format!("Connect delivery received: {}", row.last_event.as_deref().unwrap_or("an event"));
        out.push(entry("1", at, summary, CONNECT_ACTOR, detail));
    }
    if let Some(at) = row.last_rejected_at {
        let detail = vec![format!("{} refused in all", row.rejected_count)];
        out.push(entry("0", at, "Connect delivery refused (not signed by DocuSign for this account)".to_owned(), REFUSED_CONNECT_ACTOR, detail));
    }
    out.retain(|e| is_past(e, cursor));
    Ok(out)
}

/// The outgoing webhook events about the tenant (whatever became of their deliveries: the
/// webhooks page shows those).
async fn webhook_events<C: ConnectionTrait>(db: &C, tenant_id: Uuid, cursor: Option<&TimelineCursor>, limit: u64) -> ServiceResult<Vec<TimelineEntry>> {
    let rows = webhook_event::Entity::find()
        .filter(webhook_event::Column::TenantId.eq(tenant_id))
        .filter(past_cursor(cursor, TimelineSource::Webhook, webhook_event::Column::CreatedAt, webhook_event::Column::Id)?)
        .order_by_desc(webhook_event::Column::CreatedAt)
        .order_by_desc(webhook_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let kind = r.event_type()?;
            Ok(TimelineEntry {
                source: TimelineSource::Webhook,
                id: r.id.to_string(),
                at: r.created_at,
                kind: TimelineKind::Webhooks,
                action: None,
                summary: format!("Webhook event {}: {}", kind.as_str(), kind.description()),
                actor: WEBHOOK_ACTOR.to_owned(),
                detail: vec![format!("environment: {}", r.environment)],
                request_id: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64, source: TimelineSource, id: &str) -> TimelineEntry {
        TimelineEntry {
            source,
            id: id.to_owned(),
            at: DateTime::from_timestamp(at, 0).unwrap(),
            kind: TimelineKind::Other,
            action: None,
            summary: String::new(),
            actor: String::new(),
            detail: Vec::new(),
            request_id: None,
        }
    }

    #[test]
    fn the_order_is_newest_first_then_by_source_then_id_numerically() {
        let mut entries =
            [entry(1, TimelineSource::Audit, "9"), entry(2, TimelineSource::Audit, "10"), entry(2, TimelineSource::Webhook, &Uuid::nil().to_string()), entry(2, TimelineSource::Audit, "9")];
        entries.sort_by(newest_first);
        let order: Vec<_> = entries.iter().map(|e| (e.at.timestamp(), e.source, e.id.as_str())).collect();
        assert_eq!(order[0].1, TimelineSource::Webhook);
        assert_eq!(&order[1..], [(2, TimelineSource::Audit, "10"), (2, TimelineSource::Audit, "9"), (1, TimelineSource::Audit, "9")]);
    }

    #[test]
    fn in_memory_entries_past_the_cursor_are_the_older_ones() {
        let cursor = TimelineCursor { at: DateTime::from_timestamp(5, 0).unwrap(), source: TimelineSource::Connect, id: "1".into() };
        assert!(!is_past(&entry(5, TimelineSource::Connect, "1"), Some(&cursor)), "the cursor's own entry was shown");
        assert!(is_past(&entry(5, TimelineSource::Connect, "0"), Some(&cursor)));
        assert!(is_past(&entry(4, TimelineSource::Connect, "1"), Some(&cursor)));
        assert!(!is_past(&entry(6, TimelineSource::Connect, "0"), Some(&cursor)));
        assert!(is_past(&entry(6, TimelineSource::Connect, "0"), None));
    }

    #[test]
    fn consent_transitions_read_as_before_and_after_states() {
        let b = serde_json::json!({ "state": "consented", "reason": null });
        let a = serde_json::json!({ "state": "needs_attention", "reason": "consent_missing" });
        let line = audit_summary("consent.state_changed", Some(&b), Some(&a));
        assert_eq!(line, format!("Consent: {} → {} (consent missing)", ConsentState::Consented.label(), ConsentState::NeedsAttention.label()));
        assert_eq!(readable_actor("customer admin (invite)"), "customer admin");
    }
}
