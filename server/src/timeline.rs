//! A tenant's timeline: what happened to it, newest first, merged from every table that records
//! something about it — audit events (consent transitions, invites issued/redeemed/revoked, check
//! changes, fixes, edits, integration-API use), invites that expired unused (no audit row marks an
//! expiry), setup-check runs, the Connect delivery counters and the outgoing webhook events.
//!
//! Paging is keyset over the merged order (time, source, id; all descending): each source reads
//! at most `size + 1` rows past the cursor, the rows are merged in memory and the first `size`
//! kept. Whatever the other sources hold, the first `size` of the merge are the first `size` of
//! the whole timeline, so a page costs `sources × size` rows, never more, and entries added
//! meanwhile (always newer) never shift a page.
//!
//! The sources are read in one statement, a `UNION ALL` of one bounded select per source (each
//! statement is a round trip, and the tenant page shows the timeline on every load). Their rows
//! differ in shape, so every branch selects the same [`Slot`]s, each typed, with `NULL` where
//! the source has nothing to put; the source's number in the first column says how to read
//! the rest.

use std::cmp::Ordering;

use app::audit::describe_action;
use app::audit::log::changes;
use app::checks::{CheckId, CheckStatus, FixKind, RunOverall, RunTrigger};
use app::error::AppError;
use app::onboarding::model::ConsentState;
use app::tenants::timeline::{TimelineCursor, TimelineEntry, TimelineKind, TimelinePage, TimelineQuery, TimelineSource};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Asterisk, Expr, IntoColumnRef, Order, Query, SelectStatement, SimpleExpr, UnionType};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::{audit_event, check_run, connect_delivery, invite, webhook_event};
use crate::error::{ServiceError, ServiceResult};
use crate::webhooks::WebhookEventType;

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

    let mut branches = Vec::new();
    if !matches!(query.kind, Some(TimelineKind::Connect | TimelineKind::Webhooks)) {
        branches.push(audit_events(tenant_id, query.kind, cursor, fetch)?);
    }
    if wants(TimelineKind::Invites) {
        branches.push(expired_invites(tenant_id, cursor, fetch, now)?);
    }
    if wants(TimelineKind::Checks) {
        branches.push(check_runs(tenant_id, cursor, fetch)?);
    }
    if wants(TimelineKind::Connect) {
        branches.extend(connect_deliveries(tenant_id));
    }
    if wants(TimelineKind::Webhooks) {
        branches.push(webhook_events(tenant_id, cursor, fetch)?);
    }
    let mut branches = branches.into_iter();
    let Some(mut union) = branches.next() else { return Ok(TimelinePage { entries: Vec::new(), older: None }) };
    for branch in branches {
        union.union(UnionType::All, branch);
    }
    let mut entries = Vec::new();
    for row in db.query_all(&union).await? {
        // The Connect counters are one row, not rows in the timeline's order: their entries are
        // checked against the cursor here.
        let entry = entry_of(&row, tenant_id)?;
        if entry.source != TimelineSource::Connect || is_past(&entry, cursor) {
            entries.push(entry);
        }
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

/// The tenant's audit events (of `kind`, if given).
fn audit_events(tenant_id: Uuid, kind: Option<TimelineKind>, cursor: Option<&TimelineCursor>, limit: u64) -> ServiceResult<SelectStatement> {
    use audit_event::Column as C;
    let mut select = Query::select();
    select.from(audit_event::Entity).and_where(C::TenantId.eq(tenant_id)).cond_where(past_cursor(cursor, TimelineSource::Audit, C::OccurredAt, C::Id)?);
    if let Some(only) = audit_kind(kind) {
        select.cond_where(only);
    }
    shape(&mut select, Source::Audit, &[
        (Slot::Number, col(C::Id)),
        (Slot::At, col(C::OccurredAt)),
        (Slot::What, col(C::Action)),
        (Slot::Who, col(C::ActorLabel)),
        (Slot::Note, col(C::RequestId)),
        (Slot::Before, col(C::Before)),
        (Slot::After, col(C::After)),
    ]);
    // By time, not id alone: concurrent writers may commit ids slightly out of time order, and the
    // merge (and its cursor) orders by time.
    Ok(bounded(select, C::OccurredAt, C::Id, limit))
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

/// An entry of a source other than the audit log: no action and no request id, and its kind is
/// its source's.
fn unaudited(source: TimelineSource, id: String, at: DateTime<Utc>, summary: String, actor: impl Into<String>, detail: Vec<String>) -> TimelineEntry {
    let kind = match source {
        TimelineSource::Invite => TimelineKind::Invites,
        TimelineSource::CheckRun => TimelineKind::Checks,
        TimelineSource::Connect => TimelineKind::Connect,
        TimelineSource::Webhook => TimelineKind::Webhooks,
        // Audit events take their kind from their action (`audit_entry`).
        TimelineSource::Audit => TimelineKind::Other,
    };
    TimelineEntry { source, id, at, kind, action: None, summary, actor: actor.into(), detail, request_id: None }
}

/// Invites that expired unused: the one invite event with no audit row (nothing happens at
/// expiry), dated when the link stopped working.
fn expired_invites(tenant_id: Uuid, cursor: Option<&TimelineCursor>, limit: u64, now: DateTime<Utc>) -> ServiceResult<SelectStatement> {
    use invite::Column as C;
    let mut select = Query::select();
    select
        .from(invite::Entity)
        .and_where(C::TenantId.eq(tenant_id))
        .and_where(C::UsedAt.is_null())
        .and_where(C::RevokedAt.is_null())
        .and_where(C::ExpiresAt.lte(now))
        .cond_where(past_cursor(cursor, TimelineSource::Invite, C::ExpiresAt, C::Id)?);
    shape(&mut select, Source::Invite, &[(Slot::Uuid, col(C::Id)), (Slot::At, col(C::ExpiresAt)), (Slot::OtherAt, col(C::CreatedAt)), (Slot::Who, col(C::CreatedBy))]);
    Ok(bounded(select, C::ExpiresAt, C::Id, limit))
}

fn expired_invite_entry(row: &Row) -> ServiceResult<TimelineEntry> {
    let issued = format!("issued {} by {}", row.get::<DateTime<Utc>>(Slot::OtherAt)?.format("%Y-%m-%d %H:%M UTC"), readable_actor(&row.text(Slot::Who)?));
    Ok(unaudited(TimelineSource::Invite, row.uuid()?.to_string(), row.at()?, "Invite expired unused".to_owned(), EXPIRY_ACTOR, vec![issued]))
}

/// Setup-check runs, dated when they started, with their overall result. The checks whose result
/// a run changed are its `setup.check_changed` audit events, listed beside it.
fn check_runs(tenant_id: Uuid, cursor: Option<&TimelineCursor>, limit: u64) -> ServiceResult<SelectStatement> {
    use check_run::Column as C;
    let mut select = Query::select();
    select
        .from(check_run::Entity)
        .and_where(C::TenantId.eq(tenant_id))
        .cond_where(past_cursor(cursor, TimelineSource::CheckRun, C::StartedAt, C::Id)?);
    shape(&mut select, Source::CheckRun, &[
        (Slot::Uuid, col(C::Id)),
        (Slot::At, col(C::StartedAt)),
        (Slot::OtherAt, col(C::FinishedAt)),
        (Slot::What, col(C::Overall)),
        (Slot::Who, col(C::RequestedBy)),
        (Slot::Note, col(C::Trigger)),
        (Slot::Environment, col(C::Environment)),
    ]);
    Ok(bounded(select, C::StartedAt, C::Id, limit))
}

fn check_run_entry(row: &Row, tenant_id: Uuid) -> ServiceResult<TimelineEntry> {
    let r = check_run::Model {
        id: row.uuid()?,
        tenant_id,
        environment: row.text(Slot::Environment)?,
        trigger: row.text(Slot::Note)?,
        requested_by: row.text(Slot::Who)?,
        started_at: row.at()?,
        finished_at: row.other_at()?,
        overall: row.optional_text(Slot::What)?,
    };
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
    Ok(unaudited(TimelineSource::CheckRun, r.id.to_string(), r.started_at, summary, actor, detail))
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
/// most two entries — the latest accepted delivery and the latest refused one, with the totals —
/// from one row by primary key (its entries are checked against the cursor in memory). The
/// entries' ids are 1 (accepted) and 0 (refused).
fn connect_deliveries(tenant_id: Uuid) -> [SelectStatement; 2] {
    use connect_delivery::Column as C;
    let branch = |id: &str, at: C, slots: &[(Slot, SimpleExpr)]| {
        let mut select = Query::select();
        select.from(connect_delivery::Entity).and_where(C::TenantId.eq(tenant_id)).and_where(at.is_not_null());
        let mut all = vec![(Slot::Number, Expr::cust(format!("CAST({id} AS bigint)"))), (Slot::At, col(at))];
        all.extend_from_slice(slots);
        shape(&mut select, Source::Connect, &all);
        select
    };
    [
        branch("1", C::LastVerifiedAt, &[(Slot::What, col(C::LastEvent)), (Slot::Note, col(C::LastEnvelopeId)), (Slot::Count, col(C::VerifiedCount))]),
        branch("0", C::LastRejectedAt, &[(Slot::Count, col(C::RejectedCount))]),
    ]
}

fn connect_entry(row: &Row) -> ServiceResult<TimelineEntry> {
    let accepted = row.number()? == 1;
    let count = row.count()?;
    let (id, summary, actor, detail) = if accepted {
        let mut detail = Vec::new();
        if let Some(envelope) = row.optional_text(Slot::Note)? {
            detail.push(format!("envelope {envelope}"));
        }
        detail.push(format!("{count} accepted in all"));
        let event = row.optional_text(Slot::What)?;
        ("1", format!("Connect delivery received: {}", event.as_deref().unwrap_or("an event")), CONNECT_ACTOR, detail)
    } else {
        let summary = "Connect delivery refused (not signed by DocuSign for this account)".to_owned();
        ("0", summary, REFUSED_CONNECT_ACTOR, vec![format!("{count} refused in all")])
    };
    Ok(unaudited(TimelineSource::Connect, id.to_owned(), row.at()?, summary, actor, detail))
}

/// The outgoing webhook events about the tenant (whatever became of their deliveries: the
/// webhooks page shows those).
fn webhook_events(tenant_id: Uuid, cursor: Option<&TimelineCursor>, limit: u64) -> ServiceResult<SelectStatement> {
    use webhook_event::Column as C;
    let mut select = Query::select();
    select
        .from(webhook_event::Entity)
        .and_where(C::TenantId.eq(tenant_id))
        .cond_where(past_cursor(cursor, TimelineSource::Webhook, C::CreatedAt, C::Id)?);
    shape(&mut select, Source::Webhook, &[(Slot::Uuid, col(C::Id)), (Slot::At, col(C::CreatedAt)), (Slot::What, col(C::EventType)), (Slot::Environment, col(C::Environment))]);
    Ok(bounded(select, C::CreatedAt, C::Id, limit))
}

fn webhook_entry(row: &Row) -> ServiceResult<TimelineEntry> {
    let (id, stored) = (row.uuid()?, row.text(Slot::What)?);
    let kind = WebhookEventType::parse(&stored)
        .ok_or_else(|| ServiceError::unexpected(format!("webhook event {id}: unknown type `{stored}` in the database")))?;
    let summary = format!("Webhook event {}: {}", kind.as_str(), kind.description());
    Ok(unaudited(TimelineSource::Webhook, id.to_string(), row.at()?, summary, WEBHOOK_ACTOR, vec![format!("environment: {}", row.text(Slot::Environment)?)]))
}

/// Which source a row of the union came from: its first column.
#[derive(Clone, Copy)]
enum Source {
    Audit = 0,
    Invite = 1,
    CheckRun = 2,
    Connect = 3,
    Webhook = 4,
}

/// The union's columns after the source, in order, each with one SQL type in every branch (a
/// branch with nothing for a slot selects a `NULL` cast to it: PostgreSQL types a bare `NULL`
/// in a subquery as text, which no other type unites with).
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    /// An audit event's id; a Connect entry's (1 or 0).
    Number,
    /// The id of an invite, a check run or a webhook event.
    Uuid,
    /// Where the entry sits in the timeline.
    At,
    /// An invite's issue time; a check run's end.
    OtherAt,
    /// An audit action, a run's overall result, a webhook event's type, Connect's last event.
    What,
    /// Who did it, as recorded.
    Who,
    /// An audit event's request id, a run's trigger, the last Connect envelope.
    Note,
    Environment,
    Before,
    After,
    /// Connect's total of accepted or refused deliveries.
    Count,
}

impl Slot {
    const ALL: [Slot; 11] =
        [Slot::Number, Slot::Uuid, Slot::At, Slot::OtherAt, Slot::What, Slot::Who, Slot::Note, Slot::Environment, Slot::Before, Slot::After, Slot::Count];

    fn name(self) -> &'static str {
        match self {
            Slot::Number => "number",
            Slot::Uuid => "uuid",
            Slot::At => "at",
            Slot::OtherAt => "other_at",
            Slot::What => "what",
            Slot::Who => "who",
            Slot::Note => "note",
            Slot::Environment => "environment",
            Slot::Before => "before",
            Slot::After => "after",
            Slot::Count => "count",
        }
    }

    /// The slot's type, by PostgreSQL's names (SQLite takes any name in a cast of `NULL`).
    fn sql_type(self) -> &'static str {
        match self {
            Slot::Number | Slot::Count => "bigint",
            Slot::Uuid => "uuid",
            Slot::At | Slot::OtherAt => "timestamptz",
            Slot::What | Slot::Who | Slot::Note | Slot::Environment => "text",
            Slot::Before | Slot::After => "json",
        }
    }
}

const SOURCE: &str = "source";

fn col(c: impl IntoColumnRef) -> SimpleExpr {
    Expr::col(c).into()
}

/// Selects the source's number and every slot, from `given` or a typed `NULL`.
fn shape(select: &mut SelectStatement, source: Source, given: &[(Slot, SimpleExpr)]) {
    select.expr_as(Expr::cust((source as u8).to_string()), Alias::new(SOURCE));
    for slot in Slot::ALL {
        let expr = match given.iter().find(|(s, _)| *s == slot) {
            Some((_, e)) => e.clone(),
            None => Expr::cust(format!("CAST(NULL AS {})", slot.sql_type())),
        };
        select.expr_as(expr, Alias::new(slot.name()));
    }
}

/// A branch of the union: `select`'s newest `limit` rows by `time` then `id`. Wrapped in a
/// subquery, as SQLite takes `ORDER BY` and `LIMIT` only once in a compound select.
fn bounded(mut select: SelectStatement, time: impl IntoColumnRef, id: impl IntoColumnRef, limit: u64) -> SelectStatement {
    select.order_by(time, Order::Desc).order_by(id, Order::Desc).limit(limit);
    Query::select().column(Asterisk).from_subquery(select, Alias::new("branch")).to_owned()
}

/// A row of the union, read by slot.
struct Row<'a>(&'a QueryResult);

impl Row<'_> {
    fn get<T: sea_orm::TryGetable>(&self, slot: Slot) -> ServiceResult<T> {
        Ok(self.0.try_get("", slot.name())?)
    }
    fn number(&self) -> ServiceResult<i64> {
        self.get(Slot::Number)
    }
    fn uuid(&self) -> ServiceResult<Uuid> {
        self.get(Slot::Uuid)
    }
    fn at(&self) -> ServiceResult<DateTime<Utc>> {
        self.get(Slot::At)
    }
    fn other_at(&self) -> ServiceResult<Option<DateTime<Utc>>> {
        self.get(Slot::OtherAt)
    }
    fn text(&self, slot: Slot) -> ServiceResult<String> {
        self.get(slot)
    }
    fn optional_text(&self, slot: Slot) -> ServiceResult<Option<String>> {
        self.get(slot)
    }
    fn count(&self) -> ServiceResult<i64> {
        self.get(Slot::Count)
    }
}

/// The timeline entry a row of the union stands for.
fn entry_of(row: &QueryResult, tenant_id: Uuid) -> ServiceResult<TimelineEntry> {
    let source: i32 = row.try_get("", SOURCE)?;
    let row = Row(row);
    Ok(match source {
        s if s == Source::Audit as i32 => audit_entry(audit_event::Model {
            id: row.number()?,
            occurred_at: row.at()?,
            actor_id: None,
            actor_label: row.text(Slot::Who)?,
            tenant_id: Some(tenant_id),
            action: row.text(Slot::What)?,
            before: row.get(Slot::Before)?,
            after: row.get(Slot::After)?,
            request_id: row.optional_text(Slot::Note)?,
        }),
        s if s == Source::Invite as i32 => expired_invite_entry(&row)?,
        s if s == Source::CheckRun as i32 => check_run_entry(&row, tenant_id)?,
        s if s == Source::Connect as i32 => connect_entry(&row)?,
        s if s == Source::Webhook as i32 => webhook_entry(&row)?,
        other => return Err(ServiceError::unexpected(format!("timeline: a row of unknown source {other}"))),
    })
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
