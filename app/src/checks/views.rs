//! The setup-check panel: the latest results, a "Run setup check" button whose results appear
//! one by one as each check completes, and one-click fixes (after an in-page confirmation).

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::api::*;
use super::{CheckId, CheckResultView, CheckStatus, RUN_CHECK};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::{ErrorNotice, format_time};
use leptos::callback::Callback;
use crate::error::AppError;

/// The panel. `can_run` hides the buttons from read-only staff.
#[component]
pub fn SetupCheckPanel(scope: CheckScope, #[prop(into)] can_run: Signal<bool>) -> impl IntoView {
    // Loaded in the browser only: the panel is secondary to the page, so rendering the page on
    // the server never waits for it.
    let latest = LocalResource::new(move || latest_for(scope));
    let results = RwSignal::new(None::<Vec<CheckResultView>>);
    let waiting = RwSignal::new(Vec::<(CheckId, String)>::new());
    let run_id = RwSignal::new(None::<Uuid>);
    let running = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);

    let run = move |_| {
        if running.get_untracked() {
            return;
        }
        running.set(true);
        error.set(None);
        results.set(Some(Vec::new()));
        spawn_local(async move {
            match start_for(scope).await {
                Ok(started) => {
                    run_id.set(Some(started.run_id));
                    waiting.set(started.checks.clone());
                    for (id, _) in started.checks {
                        match run_for(scope, started.run_id, id).await {
                            Ok(r) => results.update(|v| v.get_or_insert_with(Vec::new).push(r)),
                            Err(e) => {
                                error.set(Some(e));
                                break;
                            }
                        }
                        waiting.update(|w| w.retain(|(i, _)| *i != id));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            waiting.set(Vec::new());
            running.set(false);
        });
    };

    let attest_action = ServerAction::<Attest>::new();
    let history = LocalResource::new(move || {
        running.get();
        attest_action.version().get();
        async move {
            match scope {
                CheckScope::Staff(t) => run_history(t).await,
                CheckScope::Invitee => Ok(Vec::new()),
            }
        }
    });

    // A fix changes the customer's DocuSign account: asked first, in the page.
    let asking = RwSignal::new(None::<ConfirmRequest>);
    let apply_fix = move |check_id: CheckId| {
        let Some(id) = run_id.get_untracked() else { return };
        running.set(true);
        spawn_local(async move {
            match fix_for(scope, id, check_id).await {
                Ok(r) => results.update(|v| {
                    if let Some(list) = v
                        && let Some(slot) = list.iter_mut().find(|x| x.id == check_id) {
                            *slot = r;
                        }
                }),
                Err(e) => error.set(Some(e)),
            }
            running.set(false);
        });
    };
    // The confirmed fix runs through one callback made with the panel (a callback made in a click
    // handler would belong to whatever owner is current then, and could be gone by the time the
    // person confirms); the check it applies to waits beside it.
    let fixing = RwSignal::new(None::<CheckId>);
    let fix_confirmed = Callback::new(move |()| {
        if let Some(check_id) = fixing.get_untracked() {
            apply_fix(check_id);
        }
    });
    let fix = move |check_id: CheckId, label: String| {
        fixing.set(Some(check_id));
        asking.set(Some(ConfirmRequest {
            title: format!("{label}?"),
            message: "The portal will change this in the DocuSign account now, as the system user. You can change it back in DocuSign.".into(),
            confirm_label: label,
            on_confirm: fix_confirmed,
        }));
    };

    // Hidden, button and all, when the tenant is unknown to this viewer (the page says so).
    let missing = move || matches!(latest.get(), Some(Err(AppError::NotFound { .. } | AppError::Forbidden)));
    view! {
        <section class="panel" data-testid="setup-check" hidden=missing>
            <div class="panel-head">
                <h2>"Setup check"</h2>
                <Show when=move || can_run.get()>
                    <button type="button" class="primary" on:click=run disabled=move || running.get()>
                        {move || if running.get() { "Checking…" } else { RUN_CHECK }}
                    </button>
                </Show>
            </div>
            <p class="hint">"Claimed domains, account settings and Connect: what is right, what is wrong, and what the portal can fix."</p>
            <ConfirmDialog id="confirm-fix" request=asking />
            <ErrorNotice error=Signal::derive(move || error.get()) />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let last = latest.await.ok().flatten();
                    let shown = results.get();
                    let run_info = last.as_ref().map(|r| format!("Last run {} by {}", format_time(r.started_at), r.requested_by));
                    // Results of a run older than the latest consent change are history, not the
                    // current state (a fresh run in this page replaces them).
                    let stale = if shown.is_none() { last.as_ref().and_then(|r| r.consent_changed.clone()) } else { None };
                    if shown.is_none()
                        && let Some(r) = &last {
                            run_id.set(Some(r.run_id));
                        }
                    let list = shown.unwrap_or_else(|| last.map(|r| r.results).unwrap_or_default());
                    view! {
                        {run_info.map(|i| view! { <p class="hint">{i}</p> })}
                        {stale.clone().map(|c| view! {
                            <p class="notice" role="status" data-testid="check-stale">
                                "These results are from before the consent became “" {c.state.label()} "”"
                                {c.updated_at.map(|at| format!(" on {}", format_time(at)))}
                                ". Press “" {RUN_CHECK} "” for the current state."
                            </p>
                        })}
                        <ul class="checks" class:stale=stale.is_some() data-testid="check-results">
                            {list.into_iter().map(|r| {
                                let fix_offer = r.fix.clone();
                                let check_id = r.id;
                                view! {
                                    <li class=format!("check check-{}", r.status.as_str()) data-check=r.id.as_str() data-status=r.status.as_str()>
                                        <p><span class=format!("badge status-{}", r.status.as_str())>{r.status.label()}</span> " " <strong>{r.title}</strong></p>
                                        <ul class="evidence">{r.evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                                        {r.remediation.map(|m| view! { <p class="remediation">{m}</p> })}
                                        {(matches!(scope, CheckScope::Staff(_)) && r.id == CheckId::ClaimedDomains && r.status == CheckStatus::Skipped).then(|| {
                                            let tenant = match scope { CheckScope::Staff(t) => t, CheckScope::Invitee => Uuid::nil() };
                                            view! {
                                                <Show when=move || can_run.get()>
                                                    <ActionForm action=attest_action attr:class="form attest">
                                                        <input type="hidden" name="tenant_id" value=tenant.to_string() />
                                                        <label for="attest-justification">"Attest manually (checked again on every run)"</label>
                                                        <textarea id="attest-justification" name="justification" rows="2" required
                                                            placeholder="How you know the domain is claimed and active"></textarea>
                                                        <button type="submit">"Record attestation"</button>
                                                        {move || attest_action.value().get().map(|r| match r {
                                                            Ok(()) => view! { <p class="notice ok">"Recorded. Run the check again to see it."</p> }.into_any(),
                                                            // The field's own messages when there are some, else the
                                                            // error: one sentence each, never run together.
                                                            Err(e) => {
                                                                let lines = error_lines(&e, "justification");
                                                                view! {
                                                                    <div class="field-error" role="alert">
                                                                        {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
                                                                    </div>
                                                                }.into_any()
                                                            }
                                                        })}
                                                    </ActionForm>
                                                </Show>
                                            }
                                        })}
                                        {fix_offer.map(|f| {
                                            let label = f.label.clone();
                                            let id = check_id;
                                            view! {
                                                <div class="fix">
                                                    <ul>{f.details.into_iter().map(|d| view! { <li><code>{d}</code></li> }).collect_view()}</ul>
                                                    <Show when=move || can_run.get()>
                                                        <button type="button" disabled=move || running.get() on:click={
                                                            let label = label.clone();
                                                            move |_| fix(id, label.clone())
                                                        }>{label.clone()}</button>
                                                    </Show>
                                                </div>
                                            }
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                            {move || waiting.get().into_iter().map(|(_, title)| view! {
                                <li class="check check-pending" aria-busy="true"><p><span class="badge">"Checking…"</span> " " <strong>{title}</strong></p></li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let runs = history.await.unwrap_or_default();
                    (!runs.is_empty()).then(|| view! {
                        <h3>"Past runs"</h3>
                        <div class="table-wrap"><table data-testid="check-history">
                            <thead><tr><th scope="col">"Started"</th><th scope="col">"Trigger"</th><th scope="col">"By"</th><th scope="col">"Result"</th></tr></thead>
                            <tbody>{runs.into_iter().map(|r| view! {
                                <tr>
                                    <td>{format_time(r.started_at)}</td>
                                    <td>{r.trigger.as_str()}</td>
                                    <td>{r.requested_by}</td>
                                    <td>{r.overall.map_or("running", |o| o.as_str())}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    })
                })}
            </Transition>
        </section>
    }
}

/// What a refused form shows: the field's own messages when the error names the field, else the
/// error; each a separate line (a paragraph of its own), so two messages never run together.
pub fn error_lines(e: &AppError, field: &str) -> Vec<String> {
    let messages = e.field_messages(field);
    if messages.is_empty() { vec![e.to_string()] } else { messages }
}

/// Whether every check passed or was skipped.
pub fn all_clear(results: &[CheckResultView]) -> bool {
    results.iter().all(|r| matches!(r.status, CheckStatus::Pass | CheckStatus::Skipped))
}

#[cfg(test)]
mod tests {
    use super::error_lines;
    use crate::error::AppError;

    #[test]
    fn a_refused_attestation_shows_each_message_as_its_own_line() {
        let mut fields = crate::error::FieldErrors::new();
        fields.insert("justification".into(), vec!["Explain in a sentence how you know (at least 10 characters).".into(), "Second.".into()]);
        let lines = error_lines(&AppError::Validation { fields }, "justification");
        assert_eq!(lines.len(), 2, "one line per message: {lines:?}");
        assert!(lines.iter().all(|l| l.ends_with('.')), "each a whole sentence: {lines:?}");
        assert_eq!(error_lines(&AppError::Forbidden, "justification"), vec![AppError::Forbidden.to_string()], "otherwise the error itself");
    }
}
