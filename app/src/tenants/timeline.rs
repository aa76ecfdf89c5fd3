//! The tenant page's timeline: one list, newest first, of everything that happened to a tenant —
//! consent transitions and other audit events, invites (including ones that expired unused),
//! setup-check runs and the check changes they recorded, fixes, Connect deliveries and the
//! outgoing webhook events — each with its time, a one-line summary, a readable actor and the
//! detail (before → after). The kind filter and the page cursor live in the page's URL
//! (`?timeline=checks&older=…`), so the chips and "Older entries" are plain links that work with
//! JavaScript off. The server builds the page (`server/src/timeline.rs`); this module holds the
//! wire types and the panel.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::components::{LoadError, format_time, urlencode};
use crate::error::AppError;

/// Entries on one page of the timeline.
pub const TIMELINE_PAGE_SIZE: u64 = 100;

/// What an entry is about; the filter chips offer each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// Consent state transitions, grants, the pinned system user, verifications.
    Consent,
    /// Invites issued, redeemed, revoked, or expired unused.
    Invites,
    /// Setup-check runs and the checks whose result changed; attestations.
    Checks,
    /// Fixes applied from a check's offer.
    Fixes,
    /// What DocuSign Connect delivered to the portal for the tenant.
    Connect,
    /// Outgoing webhook events about the tenant.
    Webhooks,
    /// Every other audit event (tenant edits, archive, integration-API use, …).
    Other,
}

impl TimelineKind {
    /// Every kind, in the order the chips show them.
    pub const ALL: [TimelineKind; 7] = [
        TimelineKind::Consent,
        TimelineKind::Invites,
        TimelineKind::Checks,
        TimelineKind::Fixes,
        TimelineKind::Connect,
        TimelineKind::Webhooks,
        TimelineKind::Other,
    ];

    /// The wire and URL name (`?timeline=checks`).
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Consent => "consent",
            TimelineKind::Invites => "invites",
            TimelineKind::Checks => "checks",
            TimelineKind::Fixes => "fixes",
            TimelineKind::Connect => "connect",
            TimelineKind::Webhooks => "webhooks",
            TimelineKind::Other => "other",
        }
    }

    /// Parses the URL name; `None` for anything else (the page then shows every kind).
    pub fn parse(value: &str) -> Option<TimelineKind> {
        TimelineKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The chip's text.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Consent => "Consent",
            TimelineKind::Invites => "Invites",
            TimelineKind::Checks => "Setup checks",
            TimelineKind::Fixes => "Fixes",
            TimelineKind::Connect => "Connect",
            TimelineKind::Webhooks => "Webhooks",
            TimelineKind::Other => "Other",
        }
    }

    /// The kind of an audit event, by its action name. The server filters audit rows by the same
    /// prefixes (`server/src/timeline.rs`), so a row is shown under exactly one kind.
    pub fn of_action(action: &str) -> TimelineKind {
        if action.starts_with("consent.") {
            TimelineKind::Consent
        } else if action.starts_with("invite.") {
            TimelineKind::Invites
        } else if action == "setup.fix_applied" {
            TimelineKind::Fixes
        } else if action.starts_with("setup.") {
            TimelineKind::Checks
        } else {
            TimelineKind::Other
        }
    }
}

/// Which table an entry comes from. With its `id` it names the entry, and it breaks ties
/// between entries of the same instant so the order (and so the cursor) is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineSource {
    Audit,
    Invite,
    CheckRun,
    Connect,
    Webhook,
}

impl TimelineSource {
    /// Every source, in tie-break order.
    pub const ALL: [TimelineSource; 5] =
        [TimelineSource::Audit, TimelineSource::Invite, TimelineSource::CheckRun, TimelineSource::Connect, TimelineSource::Webhook];

    /// The name in a cursor.
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineSource::Audit => "audit",
            TimelineSource::Invite => "invite",
            TimelineSource::CheckRun => "run",
            TimelineSource::Connect => "connect",
            TimelineSource::Webhook => "webhook",
        }
    }

    /// Parses a cursor's source name.
    pub fn parse(value: &str) -> Option<TimelineSource> {
        TimelineSource::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One thing that happened to the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub source: TimelineSource,
    /// The row's id in its source (an audit event's number, a run's or invite's UUID, …).
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    /// The audit action, for entries that are audit events.
    pub action: Option<String>,
    /// One line in plain words ("Consent: Consented → Verified").
    pub summary: String,
    /// Who or what did it, readable ("config@isv.test", "customer admin", "scheduled check",
    /// "DocuSign (Connect)", "API client …").
    pub actor: String,
    /// What changed (`state: consented → verified`) or further facts, one line each.
    pub detail: Vec<String>,
    pub request_id: Option<String>,
}

/// What the timeline shows: one kind or all, from a cursor or the newest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineQuery {
    #[serde(default)]
    pub kind: Option<TimelineKind>,
    /// The cursor of the page to show (from [`TimelinePage::older`]); none for the newest.
    #[serde(default)]
    pub older: Option<String>,
}

impl TimelineQuery {
    /// The tenant page's address showing this query (the cursor only when `older` is given).
    pub fn link(&self, tenant: Uuid, older: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(format!("timeline={}", k.as_str()));
        }
        if let Some(o) = older {
            parts.push(format!("older={}", urlencode(o)));
        }
        if parts.is_empty() { format!("/tenants/{tenant}") } else { format!("/tenants/{tenant}?{}", parts.join("&")) }
    }
}

/// One page of the timeline, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    /// The cursor of the next (older) page, if there is one.
    pub older: Option<String>,
}

/// A position in the timeline: the last entry shown. Entries are ordered by time, then source,
/// then id (all descending), so the cursor names one place however many entries share a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: DateTime<Utc>,
    pub source: TimelineSource,
    pub id: String,
}

impl TimelineCursor {
    /// The cursor of `entry`.
    pub fn of(entry: &TimelineEntry) -> TimelineCursor {
        TimelineCursor { at: entry.at, source: entry.source, id: entry.id.clone() }
    }

    /// `<nanoseconds since the epoch>.<source>.<id>`: URL-safe, and exact (SQLite keeps the
    /// nanoseconds it was given; a cursor rounded to microseconds could skip a row).
    pub fn encode(&self) -> String {
        let nanos = self.at.timestamp_nanos_opt().unwrap_or(i64::MAX);
        format!("{nanos}.{}.{}", self.source.as_str(), self.id)
    }

    /// Parses [`encode`](Self::encode)'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<TimelineCursor> {
        let mut parts = text.splitn(3, '.');
        let nanos: i64 = parts.next()?.parse().ok()?;
        let source = TimelineSource::parse(parts.next()?)?;
        let id = parts.next()?;
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return None;
        }
        Some(TimelineCursor { at: DateTime::from_timestamp_nanos(nanos), source, id: id.to_owned() })
    }
}

/// The timeline's query as the page's URL holds it (`?timeline=<kind>&older=<cursor>`); an
/// unknown kind shows every kind.
pub fn query_from_url(q: &leptos_router::params::ParamsMap) -> TimelineQuery {
    TimelineQuery { kind: q.get("timeline").and_then(|k| TimelineKind::parse(&k)), older: q.get("older").filter(|o| !o.is_empty()) }
}

/// The tenant page's timeline panel: the kind chips, one page of entries and the pager, all
/// plain links.
pub fn timeline_panel(tenant_id: Uuid, current: TimelineQuery, page: Result<TimelinePage, AppError>) -> impl IntoView {
    let body = match page {
        Err(e) => view! { <LoadError error=e /> }.into_any(),
        Ok(page) => {
            let paged = current.older.is_some();
            let empty = page.entries.is_empty();
            view! {
                {empty.then(|| view! { <p class="empty">"Nothing of this kind yet."</p> })}
                <ol class="events timeline" data-testid="audit-events">
                    {page.entries.into_iter().map(entry_view).collect_view()}
                </ol>
                <nav class="pager" aria-label="Timeline pages">
                    {paged.then(|| view! { <a href=current.link(tenant_id, None)>"Newest entries"</a> })}
                    {page.older.map(|o| view! {
                        <a rel="next" href=current.link(tenant_id, Some(&o)) data-testid="timeline-older">"Older entries"</a>
                    })}
                </nav>
            }
            .into_any()
        }
    };
    view! {
        <section class="panel" id="timeline">
            <div class="panel-head">
                <h2>"Timeline"</h2>
                <a href=format!("/audit?tenant={tenant_id}")>"Full audit log"</a>
            </div>
            {kind_chips(tenant_id, &current)}
            {body}
        </section>
    }
}

/// The kind filter: "All" and one link per kind, the chosen one marked. Links, not buttons, so
/// they work before hydration and with JavaScript off; choosing a kind starts from the newest.
fn kind_chips(tenant: Uuid, current: &TimelineQuery) -> impl IntoView + use<> {
    let chosen = current.kind;
    let chip = move |kind: Option<TimelineKind>| {
        let here = chosen == kind;
        let href = TimelineQuery { kind, older: None }.link(tenant, None);
        let label = kind.map(TimelineKind::label).unwrap_or("All");
        let test_id = format!("timeline-{}", kind.map(TimelineKind::as_str).unwrap_or("all"));
        view! {
            <li class:chosen=here>
                <a href=href aria-current=here.then_some("true") data-testid=test_id>{label}</a>
            </li>
        }
    };
    let chips = std::iter::once(None).chain(TimelineKind::ALL.into_iter().map(Some)).map(chip).collect_view();
    view! { <nav class="filters" aria-label="Timeline kind"><ul>{chips}</ul></nav> }
}

/// One entry: when, what, who, and what changed. Every text is a text node (escaped).
fn entry_view(e: TimelineEntry) -> impl IntoView {
    view! {
        <li class=format!("kind-{}", e.kind.as_str())>
            <time datetime=e.at.to_rfc3339()>{format_time(e.at)}</time>
            " "<span class="badge">{e.kind.label()}</span>
            " "<span class="what">{e.summary}</span>
            <span class="who">" by " {e.actor}</span>
            {(!e.detail.is_empty()).then(|| view! {
                <ul class="changes">{e.detail.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
            })}
            {e.request_id.map(|r| view! { <span class="rid">"request " <code>{r}</code></span> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_and_nonsense_is_refused() {
        let c = TimelineCursor {
            at: DateTime::from_timestamp_nanos(1_765_000_000_123_456_789),
            source: TimelineSource::CheckRun,
            id: Uuid::nil().to_string(),
        };
        assert_eq!(TimelineCursor::decode(&c.encode()), Some(c));
        for bad in ["", "x.audit.1", "1.nope.1", "1.audit.", "1.audit.a b", "1.audit.<script>"] {
            assert_eq!(TimelineCursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_audit_action_falls_under_exactly_one_kind() {
        assert_eq!(TimelineKind::of_action("consent.state_changed"), TimelineKind::Consent);
        assert_eq!(TimelineKind::of_action("invite.redeemed"), TimelineKind::Invites);
        assert_eq!(TimelineKind::of_action("setup.fix_applied"), TimelineKind::Fixes);
        assert_eq!(TimelineKind::of_action("setup.check_changed"), TimelineKind::Checks);
        assert_eq!(TimelineKind::of_action("tenant.updated"), TimelineKind::Other);
        for k in TimelineKind::ALL {
            assert_eq!(TimelineKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn links_keep_the_kind_and_drop_the_cursor_unless_asked() {
        let t = Uuid::nil();
        let q = TimelineQuery { kind: Some(TimelineKind::Checks), older: Some("1.audit.5".into()) };
        assert_eq!(q.link(t, None), format!("/tenants/{t}?timeline=checks"));
        assert_eq!(q.link(t, Some("1.audit.4")), format!("/tenants/{t}?timeline=checks&older=1.audit.4"));
        assert_eq!(TimelineQuery::default().link(t, None), format!("/tenants/{t}"));
    }
}
