//! The tenant page's override panel: the overrides in force (what, which status was accepted,
//! why, by whom, until when) and, for staff who run checks, the form to set one and a button to
//! withdraw each. Server-rendered with plain forms, so it works with JavaScript off.

use leptos::prelude::*;
use uuid::Uuid;

use super::api::{CreateOverride, WithdrawOverride, active_overrides};
use super::{MAX_DAYS, MIN_DAYS, OverrideSubject};
use crate::components::{LoadError, format_time};
use crate::error::AppError;

/// One field's messages, or the error itself when it names no field of this form.
fn field_errors(error: Option<AppError>, field: &'static str, fields: &[&str]) -> impl IntoView + use<> {
    let lines = match &error {
        None => Vec::new(),
        Some(e) if field == "form" => {
            if fields.iter().any(|f| !e.field_messages(f).is_empty()) { Vec::new() } else { vec![e.to_string()] }
        }
        Some(e) => e.field_messages(field),
    };
    (!lines.is_empty()).then(|| view! {
        <div class="field-error" role="alert">{lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}</div>
    })
}

/// The panel for one tenant. The form and the withdraw buttons show when the server says the
/// caller may decide (it refuses anyone else regardless).
#[component]
pub fn OverridePanel(tenant_id: Uuid) -> impl IntoView {
    let create = ServerAction::<CreateOverride>::new();
    let withdraw = ServerAction::<WithdrawOverride>::new();
    let overrides = Resource::new(move || (create.version().get(), withdraw.version().get()), move |_| active_overrides(tenant_id));
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let withdraw_error = Signal::derive(move || withdraw.value().get().and_then(Result::err));
    const FIELDS: [&str; 3] = ["subject", "justification", "expires_in_days"];

    // The whole panel waits for the overrides: a tenant the viewer may not see (or that does not
    // exist) shows the page's one "not found" notice, not a stray panel.
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let (list, can_manage) = match overrides.await {
                    Ok(panel) => (panel.overrides, panel.can_manage),
                    Err(AppError::NotFound { .. }) => return ().into_any(),
                    Err(e) => return view! { <section class="panel overrides"><LoadError error=e /></section> }.into_any(),
                };
                view! {
                    <section class="panel overrides" data-testid="overrides">
                        <h2>"Overrides"</h2>
                        <p class="muted">
                            "Staff may accept a setup check or the consent that does not pass, with a reason and an expiry. "
                            "The next setup-check run clears an override when the check passes; it ends at its expiry otherwise."
                        </p>
                        {if list.is_empty() {
                            view! { <p class="empty" data-testid="no-overrides">"No override in force."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="override-list">
                                    {list.into_iter().map(|o| view! {
                                        <li data-subject=o.subject.as_str()>
                                            <p>
                                                <span class="badge overridden">"overridden"</span> " "
                                                <strong>{o.subject.title()}</strong>
                                                " (was " {o.overridden_status.replace('_', " ")} ") until " {format_time(o.expires_at)}
                                            </p>
                                            <p class="justification">{o.justification.clone()}</p>
                                            <p class="muted">"by " {o.created_by.clone()} " on " {format_time(o.created_at)}</p>
                                            {can_manage.then(|| view! {
                                                <ActionForm action=withdraw>
                                                    <input type="hidden" name="tenant_id" value=tenant_id.to_string() />
                                                    <input type="hidden" name="subject" value=o.subject.as_str() />
                                                    <button type="submit">"Withdraw override"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {move || withdraw_error.get().map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })}
                        {can_manage.then(|| view! {
                            <ActionForm action=create attr:class="form override-form">
                                <input type="hidden" name="tenant_id" value=tenant_id.to_string() />
                                <label for="override-subject">"What to override"</label>
                                <select id="override-subject" name="input[subject]" required>
                                    {OverrideSubject::all().map(|s| view! { <option value=s.as_str()>{s.title()}</option> }).collect_view()}
                                </select>
                                {move || field_errors(create_error.get(), "subject", &FIELDS)}
                                <label for="override-justification">"Justification"</label>
                                <textarea id="override-justification" name="input[justification]" rows="2" required
                                    placeholder="Why this is acceptable, and how you know"></textarea>
                                {move || field_errors(create_error.get(), "justification", &FIELDS)}
                                <label for="override-days">"Expires after (days)"</label>
                                <input id="override-days" name="input[expires_in_days]" type="number" min=MIN_DAYS.to_string() max=MAX_DAYS.to_string() value="30" required />
                                {move || field_errors(create_error.get(), "expires_in_days", &FIELDS)}
                                <button type="submit">"Override"</button>
                                {move || field_errors(create_error.get(), "form", &FIELDS)}
                                {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! { <p class="notice ok">"Override recorded."</p> })}
                            </ActionForm>
                        })}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}
