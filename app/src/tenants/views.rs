//! Tenant pages: the list (with a quick filter), the create and edit forms, and the tenant page
//! with its timeline (`timeline.rs`).

use leptos::ev::SubmitEvent;
use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use uuid::Uuid;
use validator::Validate;

use super::api::*;
use crate::auth::Role;
use crate::checks::CheckId;
use crate::environment::Environment;
use crate::onboarding::model::ConsentState;
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::{ErrorNotice, FieldMessages, LoadError, RequireStaff, TextArea, format_time, staff_role_allows};
use leptos::callback::Callback;
use crate::error::AppError;
use crate::staff::api::{StaffOption, account_managers};

/// All tenants the caller may see, with a filter box and an "include archived" switch.
#[component]
pub fn TenantListPage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Tenants · Consent Portal" /> <RequireStaff><TenantList /></RequireStaff> }
}

#[component]
fn TenantList() -> impl IntoView {
    let query = use_query_map();
    // Everything the list shows is in the URL: shareable, survives reload, Back works.
    let tenant_query = move || {
        let q = query.read();
        let state = q.get("state").and_then(|s| ConsentState::parse(&s));
        TenantQuery {
            include_archived: q.get("archived").as_deref() == Some("1"),
            q: q.get("q").filter(|v| !v.trim().is_empty()),
            after: q.get("after").filter(|v| !v.is_empty()),
            state,
            // A reason narrows only "needs attention"; anywhere else it is ignored.
            reason: q.get("reason").filter(|v| !v.is_empty() && state == Some(ConsentState::NeedsAttention)),
            environment: q.get("env").and_then(|e| Environment::parse(&e)),
            stuck: q.get("stuck").as_deref() == Some("1"),
            manager: q.get("manager").and_then(|m| Uuid::parse_str(&m).ok()),
            check: q.get("check").and_then(|c| CheckFilter::parse(&c)),
            failing: q.get("failing").and_then(|c| CheckId::parse(&c)),
            overridden: q.get("overridden").as_deref() == Some("1"),
        }
    };
    let tenants = Resource::new(tenant_query, list_tenant_page);
    let filter = RwSignal::new(String::new());
    let filter_input = NodeRef::<leptos::html::Input>::new();
    let can_create = staff_role_allows(Role::manages_tenants);
    let link = move |after: Option<&str>, archived: bool| list_link(&TenantQuery { include_archived: archived, ..tenant_query() }, after);

    view! {
        <section class="panel">
            <div class="panel-head">
                <h1>"Tenants"</h1>
                <Show when=move || can_create.get()>
                    <a class="button primary" href="/tenants/new">"New tenant"</a>
                </Show>
            </div>
            <form class="toolbar" method="get" action="/tenants" role="search">
                <label for="tenant-search">"Search"</label>
                <input id="tenant-search" name="q" type="search" maxlength="200" placeholder="Name, slug, contact or system-user e-mail"
                    value=move || tenant_query().q.unwrap_or_default() />
                {move || tenant_query().include_archived.then(|| view! { <input type="hidden" name="archived" value="1" /> })}
                {move || tenant_query().state.map(|s| view! { <input type="hidden" name="state" value=s.as_str() /> })}
                {move || tenant_query().reason.map(|r| view! { <input type="hidden" name="reason" value=r /> })}
                {move || tenant_query().environment.map(|e| view! { <input type="hidden" name="env" value=e.as_str() /> })}
                // The newer filters ride along as static inputs whose value and `disabled` change
                // (disabled ones are not sent): new dynamic children here break hydration.
                <super::list_filters::SearchCarries query=Signal::derive(tenant_query) />
                <button type="submit">"Search"</button>
                // A download, not a page: the router must let the browser fetch it.
                <a class="button" href=move || export_link(&tenant_query()) download="" rel="external"
                    data-testid="export-tenants">"Export CSV"</a>
                <a class="button" href=move || receipts_link(&tenant_query()) download="" rel="external"
                    data-testid="export-receipts">"Export consent receipts"</a>
                {move || {
                    if tenant_query().include_archived {
                        view! { <a href=link(None, false)>"Hide archived"</a> }.into_any()
                    } else {
                        view! { <a href=link(None, true)>"Show archived"</a> }.into_any()
                    }
                }}
            </form>
            <div class="toolbar">
                <label for="tenant-filter">"Filter"</label>
                <input
                    id="tenant-filter"
                    node_ref=filter_input
                    type="search"
                    placeholder="Narrow down this page"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading tenants…"</p> }>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) if page.items.is_empty() && tenant_query() == TenantQuery::default() => view! {
                            <p class="empty">"No tenants yet. Staff create one with “New tenant”."</p>
                        }.into_any(),
                        Ok(page) if page.items.is_empty() => view! {
                            {state_filters(&tenant_query(), &page.state_counts, page.stuck_count)}
                            {super::list_filters::check_filters(&tenant_query(), &page)}
                            <p class="empty" data-testid="tenant-count">"No tenant matches. "<a href="/tenants">"Show all tenants"</a></p>
                        }.into_any(),
                        Ok(page) => {
                            let total = page.total;
                            let next = page.next.clone();
                            let first = tenant_query().after.is_some();
                            let filters = state_filters(&tenant_query(), &page.state_counts, page.stuck_count);
                            let more_filters = super::list_filters::check_filters(&tenant_query(), &page);
                            let list = StoredValue::new(page.items);
                            let visible = move || {
                                let needle = filter.get().trim().to_lowercase();
                                list.read_value().iter().filter(|t| row_matches(t, &needle)).cloned().collect::<Vec<_>>()
                            };
                            let archived = tenant_query().include_archived;
                            // The list hydrates after the page: text typed into the filter before
                            // that moment must still narrow it.
                            Effect::new(move || {
                                if let Some(input) = filter_input.get() {
                                    let typed = input.value();
                                    if typed != filter.get_untracked() {
                                        filter.set(typed);
                                    }
                                }
                            });

                            view! {
                                {filters}
                                {more_filters}
                                <p class="count" data-testid="tenant-count">
                                    {move || format!("{} of {} tenants", visible().len(), total)}
                                </p>
                                <div class="table-wrap">
                                <table>
                                    <thead><tr>
                                        <th scope="col">"Tenant"</th><th scope="col">"Environment"</th>
                                        <th scope="col">"Consent"</th><th scope="col">"Mode"</th>
                                        <th scope="col">"System user and account"</th><th scope="col">"Setup check"</th>
                                        <th scope="col">"Account manager"</th><th scope="col">"Last activity"</th>
                                    </tr></thead>
                                    <tbody>
                                        <For each=visible key=|t| t.id let:t>
                                            <tr class:archived=t.archived>
                                                <td><a href=format!("/tenants/{}", t.id)>{t.display_name.clone()}</a>
                                                    {t.archived.then(|| view! { <span class="badge">"archived"</span> })}
                                                    <br /><code class="muted">{t.slug.clone()}</code></td>
                                                <td>{t.environment.as_str()}</td>
                                                <td><span class=format!("badge state-{}", t.consent_state.as_str())>{t.consent_state.label()}</span>
                                                    {t.consent_reason.clone().map(|r| view! { " " <small>{r}</small> })}
                                                    {t.consent_since.map(|at| view! { <br /><small class="muted">"since " {format_time(at)}</small> })}
                                                    {t.link_requested_at.map(|at| view! {
                                                        <br /><span class="badge link-requested" data-testid="link-requested">"new link requested"</span>
                                                        " " <small>"by the customer " {format_time(at)} ": issue a new invite link"</small>
                                                    })}
                                                    {t.stuck.then(|| view! {
                                                        <br /><span class="badge stuck">"stuck"</span>
                                                        " " <small>{staff_next_action(t.consent_state, t.consent_reason.as_deref())}</small>
                                                    })}</td>
                                                <td>{t.consent_mode.map(|m| m.label()).unwrap_or("—")}</td>
                                                <td>{match (t.system_user_email.clone(), t.account_name.clone()) {
                                                    (Some(email), account) => view! {
                                                        {email}<br /><small class="muted">{account.unwrap_or_default()} " " {t.account_id.clone().unwrap_or_default()}</small>
                                                    }.into_any(),
                                                    (None, _) => view! { "—" }.into_any(),
                                                }}</td>
                                                <td>{match t.check_overall {
                                                    Some(o) => view! { <span class=format!("badge check-{}", o.as_str())>{o.as_str()}</span> }.into_any(),
                                                    None if t.check_started_at.is_some() => view! { <span class="badge">"running"</span> }.into_any(),
                                                    None => view! { "—" }.into_any(),
                                                }}
                                                {super::list_filters::override_badges(&t.overrides)}</td>
                                                <td>{t.account_manager_email.clone().unwrap_or_else(|| "—".into())}</td>
                                                <td>{format_time(t.last_activity_at.unwrap_or(t.updated_at))}</td>
                                            </tr>
                                        </For>
                                    </tbody>
                                </table>
                                </div>
                                // The filter narrows only the rows on this page; with thousands of
                                // tenants the one wanted is usually on another page, so say so and
                                // offer the server-side search under the same filters.
                                {move || {
                                    let needle = filter.get().trim().to_owned();
                                    // `try_`: on leaving the page the filter may change after this
                                    // page's rows were disposed; then there is nothing to say.
                                    let lower = needle.to_lowercase();
                                    let none = list.try_with_value(|rows| !rows.iter().any(|t| row_matches(t, &lower)))?;
                                    (!needle.is_empty() && none).then(|| {
                                        let search = TenantQuery { q: Some(needle.clone()), after: None, ..tenant_query() };
                                        view! {
                                            <p class="empty" data-testid="filter-no-match">
                                                {format!("No tenant on this page matches “{needle}”. ")}
                                                <a href=format!("/tenants?{}", search.url_params(None))>"Search all tenants"</a>
                                            </p>
                                        }
                                    })
                                }}
                                <nav class="pager" aria-label="Pages">
                                    {first.then(|| view! { <a href=link(None, archived)>"First page"</a> })}
                                    {next.map(|n| view! { <a rel="next" href=link(Some(&n), archived)>"Next page"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Whether a row of the list's page passes the in-page Filter box (`needle` lower-cased; empty
/// passes everything).
fn row_matches(t: &TenantSummary, needle: &str) -> bool {
    needle.is_empty() || t.display_name.to_lowercase().contains(needle) || t.slug.contains(needle) || t.contact_email.contains(needle)
}

/// The consent receipts (who granted, mode, scopes, organization, when, how verified) of exactly
/// the tenants the list shows.
fn receipts_link(query: &TenantQuery) -> String {
    let params = query.url_params(None);
    if params.is_empty() { "/tenants/receipts.csv".to_owned() } else { format!("/tenants/receipts.csv?{params}") }
}

/// The CSV export of exactly the tenants the list shows (all its filters; every page, not just
/// this one).
fn export_link(query: &TenantQuery) -> String {
    let params = query.url_params(None);
    if params.is_empty() { "/tenants/export.csv".to_owned() } else { format!("/tenants/export.csv?{params}") }
}

/// The consent-state filter: one link per state (and per reason of "needs attention") with how
/// many tenants choosing it would list, under the other filters. Plain links, so it works before
/// hydration and with JavaScript off, and the address says what is shown.
fn state_filters(current: &TenantQuery, counts: &[StateCount], stuck: u64) -> impl IntoView + use<> {
    let all: u64 = counts.iter().map(|c| c.count).sum();
    let base = TenantQuery { state: None, reason: None, after: None, stuck: false, ..current.clone() };
    let stuck_chosen = current.stuck;
    let stuck_link = list_link(&TenantQuery { stuck: true, ..base.clone() }, None);
    let mut options = vec![("All states".to_owned(), None, None, all)];
    for state in ConsentState::ALL {
        let n: u64 = counts.iter().filter(|c| c.state == state).map(|c| c.count).sum();
        options.push((state.label().to_owned(), Some(state), None, n));
        if state == ConsentState::NeedsAttention {
            for c in counts.iter().filter(|c| c.state == state && c.reason.is_some()) {
                let reason = c.reason.clone().unwrap_or_default();
                options.push((format!("… {}", reason.replace('_', " ")), Some(state), Some(reason), c.count));
            }
        }
    }
    let items = options
        .into_iter()
        .map(|(label, state, reason, n)| {
            let chosen = !current.stuck && current.state == state && current.reason == reason;
            let href = list_link(&TenantQuery { state, reason: reason.clone(), ..base.clone() }, None);
            let test_id = match (state, &reason) {
                (None, _) => "state-all".to_owned(),
                (Some(s), None) => format!("state-{}", s.as_str()),
                (Some(s), Some(r)) => format!("state-{}-{r}", s.as_str()),
            };
            view! {
                <li class:chosen=chosen>
                    <a href=href aria-current=chosen.then_some("true") data-testid=test_id>{label} " " <span class="n">{n}</span></a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="filters" aria-label="Consent state">
            <ul>
                {items}
                <li class:chosen=stuck_chosen class="stuck">
                    <a href=stuck_link aria-current=stuck_chosen.then_some("true") data-testid="state-stuck"
                        title="Longer than the onboarding SLA invited, in progress or needing attention">
                        "Stuck" " " <span class="n">{stuck}</span>
                    </a>
                </li>
            </ul>
        </nav>
    }
}

/// The create form, for staff who manage tenants: anyone else is told so before typing (the
/// account-manager options it loads first are refused to them).
#[component]
pub fn TenantNewPage() -> impl IntoView {
    let managers = account_manager_options();
    view! {
        <leptos_meta::Title text="New tenant · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match managers.await {
                        Ok(managers) => view! {
                            <section class="panel narrow">
                                <h1>"New tenant"</h1>
                                <TenantForm existing=None managers=managers />
                            </section>
                        }.into_any(),
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireStaff>
    }
}

/// The edit form, prefilled. The tenant and the account-manager options are awaited together
/// in one Suspend, so the form itself holds no Suspense (one nested in the outer Suspend, inside
/// a `<select>`, broke hydration on every full load of this page).
#[component]
pub fn TenantEditPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| Uuid::parse_str(&s).ok());
    let tenant = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_tenant(id).await,
            None => Err(AppError::not_found("Tenant")),
        }
    });
    let managers = account_manager_options();
    view! {
        <leptos_meta::Title text="Edit tenant · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tenant.await {
                        Ok(t) if !t.can_manage => view! { <LoadError error=AppError::Forbidden /> }.into_any(),
                        Ok(t) => match managers.await {
                            Ok(managers) => view! {
                                <section class="panel narrow">
                                    <h1>"Edit " {t.display_name.clone()}</h1>
                                    <TenantForm existing=Some((t.id, t.to_input())) managers=managers />
                                </section>
                            }.into_any(),
                            Err(e) => view! { <LoadError error=e /> }.into_any(),
                        },
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </RequireStaff>
    }
}

/// The account managers offered by the tenant form.
type ManagerOptions = Resource<Result<Vec<StaffOption>, AppError>>;

/// The account-manager options, for the page to create once and await before building the form.
fn account_manager_options() -> ManagerOptions {
    Resource::new(|| (), |_| account_managers())
}

/// Create (no `existing`) or edit form. Validates in the browser on submit with the same rules
/// the server applies; the server's answer (for example a slug clash) shows on the same fields.
/// Creates no resource and holds no Suspense: it is built inside a Suspend, whose closure runs
/// more than once, with the options already loaded.
#[component]
fn TenantForm(existing: Option<(Uuid, TenantInput)>, managers: Vec<StaffOption>) -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let update = ServerAction::<UpdateTenant>::new();
    let client_error = RwSignal::new(None::<AppError>);
    let is_edit = existing.is_some();
    let error = Signal::derive(move || {
        client_error.get().or_else(|| {
            if is_edit { update.value().get().and_then(Result::err) } else { create.value().get().and_then(Result::err) }
        })
    });
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());

    let navigate = use_navigate();
    Effect::new(move |_| {
        let done = if is_edit { update.value().get() } else { create.value().get() };
        if let Some(Ok(id)) = done {
            navigate(&format!("/tenants/{id}"), Default::default());
        }
    });

    let on_submit = move |ev: SubmitEvent| {
        let parsed = if is_edit {
            UpdateTenant::from_event(&ev).map(|a| a.input)
        } else {
            CreateTenant::from_event(&ev).map(|a| a.input)
        };
        match parsed.map(TenantInput::normalized) {
            Ok(input) => match input.validate() {
                Ok(()) => client_error.set(None),
                Err(errors) => {
                    ev.prevent_default();
                    client_error.set(Some(errors.into()));
                }
            },
            Err(_) => {
                ev.prevent_default();
                client_error.set(Some(AppError::field("environment", "Choose an environment.")));
            }
        }
    };

    let (id, input) = match existing {
        Some((id, input)) => (Some(id), input),
        None => (None, TenantInput::default()),
    };
    let selected_manager = input.account_manager_id;
    let environment = input.environment;

    let fields = view! {
        {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string() /> })}
        <div class="field">
            <label for="display_name">"Display name"</label>
            <input id="display_name" name="input[display_name]" value=input.display_name required maxlength="120"
                aria-describedby="display_name-error" />
            <FieldMessages id="display_name" field="display_name" error=error />
        </div>
        <div class="field">
            <label for="slug">"Slug"</label>
            <input id="slug" name="input[slug]" value=input.slug required aria-describedby="slug-hint slug-error" />
            <p class="hint" id="slug-hint">"Short name used in links: lower-case letters, digits and hyphens."</p>
            <FieldMessages id="slug" field="slug" error=error />
        </div>
        <div class="field">
            <label for="environment">"DocuSign environment"</label>
            <select id="environment" name="input[environment]">
                {Environment::ALL.into_iter().map(|e| view! {
                    <option value=e.as_str() selected=e == environment>{e.label()}</option>
                }).collect_view()}
            </select>
            <FieldMessages id="environment" field="environment" error=error />
        </div>
        <div class="field">
            <label for="contact_email">"Customer contact e-mail"</label>
            <input id="contact_email" name="input[contact_email]" type="email" value=input.contact_email required
                aria-describedby="contact_email-error" />
            <FieldMessages id="contact_email" field="contact_email" error=error />
        </div>
        <div class="field">
            <label for="account_manager_id">"Account manager"</label>
            <select id="account_manager_id" name="input[account_manager_id]">
                <option value="">"None"</option>
                {managers.into_iter().map(|m| view! {
                    <option value=m.id.to_string() selected=Some(m.id) == selected_manager>{m.email}</option>
                }).collect_view()}
            </select>
            <FieldMessages id="account_manager_id" field="account_manager_id" error=error />
        </div>
        <div class="field">
            <label for="notes">"Notes"</label>
            <TextArea id="notes" name="input[notes]" rows=4 maxlength=4000 value=input.notes />
            <FieldMessages id="notes" field="notes" error=error />
        </div>
        <div class="actions">
            <button type="submit" class="primary" disabled=pending>
                {if is_edit { "Save changes" } else { "Create tenant" }}
            </button>
            <a href=id.map(|id| format!("/tenants/{id}")).unwrap_or_else(|| "/tenants".into())>"Cancel"</a>
        </div>
    };

    view! {
        <ErrorNotice error=error />
        {if is_edit {
            view! { <ActionForm action=update on:submit=on_submit attr:class="form" attr:novalidate=true>{fields}</ActionForm> }.into_any()
        } else {
            view! { <ActionForm action=create on:submit=on_submit attr:class="form" attr:novalidate=true>{fields}</ActionForm> }.into_any()
        }}
    }
}

/// One tenant: its fields, actions for staff who manage it, its consent and latest check, and its
/// timeline.
#[component]
pub fn TenantPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| Uuid::parse_str(&s).ok());
    let archive = ServerAction::<ArchiveTenant>::new();
    let restore = ServerAction::<RestoreTenant>::new();
    let tenant = Resource::new(
        move || (id(), archive.version().get(), restore.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_tenant(id).await,
                None => Err(AppError::not_found("Tenant")),
            }
        },
    );
    let action_error = Signal::derive(move || {
        archive.value().get().and_then(Result::err).or_else(|| restore.value().get().and_then(Result::err))
    });
    let can_run = staff_role_allows(Role::manages_tenants);
    let query = use_query_map();
    let timeline = timeline_resource(id);
    let asking = RwSignal::new(None::<ConfirmRequest>);
    // Made here, with the page, not in the submit handler: a callback belongs to the owner that
    // creates it, and the tenant's view (re-rendered when it reloads) would take it along.
    let archiving = RwSignal::new(None::<Uuid>);
    let archive_confirmed = Callback::new(move |()| {
        if let Some(id) = archiving.get_untracked() {
            archive.dispatch(ArchiveTenant { id });
        }
    });

    view! {
        // Static on purpose: leptos_meta writes a title's text into the server-rendered <title>
        // unescaped, so a tenant's own name (typed by people) must never go there.
        <leptos_meta::Title text="Tenant · Consent Portal" />
        <RequireStaff>
            <ConfirmDialog id="confirm-archive" request=asking />
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let t = match tenant.await {
                        Ok(t) => t,
                        Err(e) => return view! { <LoadError error=e /> }.into_any(),
                    };
                    let archived = t.archived_at.is_some();
                    let tenant_id = t.id;
                    view! {
                        <section class="panel">
                            <div class="panel-head">
                                <h1 data-testid="tenant-name">{t.display_name.clone()}
                                    {archived.then(|| view! { <span class="badge">"archived"</span> })}</h1>
                                <Show when=move || t.can_manage>
                                    <div class="actions">
                                        <a class="button" href=format!("/tenants/{}/edit", t.id)>"Edit"</a>
                                        {if archived {
                                            view! {
                                                <ActionForm action=restore>
                                                    <input type="hidden" name="id" value=t.id.to_string() />
                                                    <button type="submit">"Restore"</button>
                                                </ActionForm>
                                            }.into_any()
                                        } else {
                                            view! {
                                                // Without JavaScript the form submits as it is; in the
                                                // browser the in-page dialog asks first.
                                                <ActionForm action=archive on:submit=move |ev: SubmitEvent| {
                                                    ev.prevent_default();
                                                    archiving.set(Some(tenant_id));
                                                    asking.set(Some(ConfirmRequest {
                                                        title: "Archive this tenant?".into(),
                                                        message: "It leaves the tenant list and its pending invite links stop working; nothing is deleted, and Restore brings it back.".into(),
                                                        confirm_label: "Archive".into(),
                                                        on_confirm: archive_confirmed,
                                                    }));
                                                }>
                                                    <input type="hidden" name="id" value=t.id.to_string() />
                                                    <button type="submit" class="danger">"Archive"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </div>
                                </Show>
                            </div>
                            <ErrorNotice error=action_error />
                            <dl class="facts">
                                <dt>"Slug"</dt><dd><code>{t.slug.clone()}</code></dd>
                                <dt>"Environment"</dt><dd>{t.environment.label()}</dd>
                                <dt>"Customer contact"</dt><dd>{t.contact_email.clone()}</dd>
                                <dt>"Account manager"</dt><dd>{t.account_manager_email.clone().unwrap_or_else(|| "None".into())}</dd>
                                <dt>"Created"</dt><dd>{format_time(t.created_at)}</dd>
                                <dt>"Notes"</dt><dd class="notes">{if t.notes.is_empty() { "—".to_owned() } else { t.notes.clone() }}</dd>
                            </dl>
                        </section>
                    }.into_any()
                })}
            </Suspense>
            // A sibling of the tenant's Suspense, not nested in it: it loads on its own.
            {move || id().map(|id| view! { <crate::onboarding::staff_views::TenantConsentPanel tenant_id=id /> })}
            {move || id().map(|id| view! {
                <crate::checks::views::SetupCheckPanel scope=crate::checks::api::CheckScope::Staff(id) can_run=can_run />
            })}
            {move || id().map(|id| view! { <crate::overrides::views::OverridePanel tenant_id=id /> })}
            // The timeline replaces the plain list of audit events (its list keeps their test id).
            // Shown only once the tenant loads, so an unknown or hidden tenant shows one notice. A
            // Transition keeps the entries on screen while a chip or "Older entries" loads the next.
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(t) = tenant.await else { return ().into_any() };
                    let page = timeline.await;
                    super::timeline::timeline_panel(t.id, super::timeline::query_from_url(&query.read()), page).into_any()
                })}
            </Transition>
        </RequireStaff>
    }
}

/// The timeline of the tenant `id` names, for the query in the URL. The page creates it once,
/// outside any Suspend (a resource made inside one is made again on every re-render, and the page
/// would fetch and embed its data more than once).
fn timeline_resource(id: impl Fn() -> Option<Uuid> + Send + Sync + 'static) -> Resource<Result<super::timeline::TimelinePage, AppError>> {
    let query = use_query_map();
    Resource::new(
        move || (id(), super::timeline::query_from_url(&query.read())),
        |(id, q)| async move {
            match id {
                Some(id) => super::api::tenant_timeline(id, q).await,
                None => Err(AppError::not_found("Tenant")),
            }
        },
    )
}
