//! The audit log page: every event of the tenants the viewer may see, newest first, with what
//! changed (before → after) and who did it; filters and paging live in the URL, and the same
//! filters export as CSV.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::audit_log;
use super::describe_action;
use super::log::{AuditQuery, changes};
use crate::components::{LoadError, RequireStaff, format_time};

/// The action families the filter offers (the prefix of an action name).
const ACTION_FAMILIES: [(&str, &str); 7] = [
    ("", "Any action"),
    ("tenant.", "Tenants"),
    ("invite.", "Invites"),
    ("consent.", "Consent"),
    ("setup.", "Setup checks"),
    ("staff.", "Staff"),
    ("tenants.exported", "Exports"),
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let audit_query = move || {
        let q = query.read();
        let text = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        AuditQuery {
            tenant: text("tenant").and_then(|t| uuid::Uuid::parse_str(&t).ok()),
            actor: text("actor"),
            action: text("action"),
            from: text("from").and_then(|d| d.parse().ok()),
            to: text("to").and_then(|d| d.parse().ok()),
            before: text("before").and_then(|b| b.parse().ok()),
        }
    };
    let events = Resource::new(audit_query, audit_log);
    let link = move |before: Option<i64>| {
        let params = audit_query().url_params(before);
        if params.is_empty() { "/audit".to_owned() } else { format!("/audit?{params}") }
    };
    let export = move || {
        let params = AuditQuery { before: None, ..audit_query() }.url_params(None);
        if params.is_empty() { "/audit/export.csv".to_owned() } else { format!("/audit/export.csv?{params}") }
    };

    view! {
        <leptos_meta::Title text="Audit log · Consent Portal" />
        <RequireStaff>
            <section class="panel">
                <div class="panel-head">
                    <h1>"Audit log"</h1>
                    <a class="button" href=export download="" rel="external">"Export CSV"</a>
                </div>
                {move || audit_query().tenant.map(|_| {
                    let everyone = AuditQuery { tenant: None, before: None, ..audit_query() }.url_params(None);
                    view! {
                        <p class="notice">"Showing one tenant's events. "
                            <a href=if everyone.is_empty() { "/audit".to_owned() } else { format!("/audit?{everyone}") }>"Show every tenant's events"</a>
                        </p>
                    }
                })}
                <form class="toolbar" method="get" action="/audit" role="search">
                    {move || audit_query().tenant.map(|t| view! { <input type="hidden" name="tenant" value=t.to_string() /> })}
                    <label for="audit-actor">"By"</label>
                    <input id="audit-actor" name="actor" type="search" maxlength="100" placeholder="E-mail or label"
                        value=move || audit_query().actor.unwrap_or_default() />
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action">
                        {move || {
                            let chosen = audit_query().action.unwrap_or_default();
                            ACTION_FAMILIES.into_iter().map(|(value, label)| view! {
                                <option value=value selected=chosen == value>{label}</option>
                            }).collect_view()
                        }}
                    </select>
                    <label for="audit-from">"From"</label>
                    <input id="audit-from" name="from" type="date" value=move || audit_query().from.map(|d| d.to_string()).unwrap_or_default() />
                    <label for="audit-to">"To"</label>
                    <input id="audit-to" name="to" type="date" value=move || audit_query().to.map(|d| d.to_string()).unwrap_or_default() />
                    <button type="submit">"Show"</button>
                    <a href="/audit">"Clear"</a>
                </form>
                <Suspense fallback=|| view! { <p class="loading">"Loading events…"</p> }>
                    {move || Suspend::new(async move {
                        match events.await {
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                            Ok(page) if page.items.is_empty() => view! {
                                <p class="empty" data-testid="audit-count">"No event matches."</p>
                            }.into_any(),
                            Ok(page) => {
                                let first = audit_query().before.is_some();
                                let next = page.next;
                                view! {
                                    <div class="table-wrap">
                                    <table data-testid="audit-log">
                                        <thead><tr>
                                            <th scope="col">"When"</th><th scope="col">"Tenant"</th><th scope="col">"What"</th>
                                            <th scope="col">"By"</th><th scope="col">"Change"</th>
                                        </tr></thead>
                                        <tbody>
                                            {page.items.into_iter().map(|entry| {
                                                let e = entry.event;
                                                let change = changes(e.before.as_ref(), e.after.as_ref());
                                                view! {
                                                    <tr>
                                                        <td><time>{format_time(e.occurred_at)}</time></td>
                                                        <td>{match (entry.tenant_id, entry.tenant_name) {
                                                            (Some(id), name) => view! {
                                                                <a href=format!("/tenants/{id}")>{name.unwrap_or_else(|| id.to_string())}</a>
                                                            }.into_any(),
                                                            (None, _) => view! { "—" }.into_any(),
                                                        }}</td>
                                                        <td>{describe_action(&e.action)}</td>
                                                        <td>{e.actor_label}</td>
                                                        <td><ul class="changes">{change.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                                                            {e.request_id.map(|r| view! { <small class="muted">"request " <code>{r}</code></small> })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    </div>
                                    <nav class="pager" aria-label="Pages">
                                        {first.then(|| view! { <a href=link(None)>"Newest events"</a> })}
                                        {next.map(|n| view! { <a rel="next" href=link(Some(n))>"Older events"</a> })}
                                    </nav>
                                }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </section>
        </RequireStaff>
    }
}
