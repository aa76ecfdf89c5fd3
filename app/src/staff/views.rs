//! The staff page (administrators): accounts, adding one, deactivating and reactivating.

use leptos::ev::SubmitEvent;
use leptos::form::FromFormData;
use leptos::prelude::*;
use validator::Validate;

use super::api::*;
use crate::auth::Role;
use crate::components::{ErrorNotice, FieldMessages, LoadError, RequireStaff, format_time};
use crate::error::AppError;

/// Staff accounts and the form to add one.
#[component]
pub fn StaffPage() -> impl IntoView {
    let create = ServerAction::<CreateStaff>::new();
    let toggle = ServerAction::<SetStaffActive>::new();
    let end_sessions = ServerAction::<EndStaffSessions>::new();
    let staff = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_staff());
    let client_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || client_error.get().or_else(|| create.value().get().and_then(Result::err)));
    let toggle_error = Signal::derive(move || {
        toggle.value().get().and_then(Result::err).or_else(|| end_sessions.value().get().and_then(Result::err))
    });
    let on_submit = move |ev: SubmitEvent| match CreateStaff::from_event(&ev) {
        Ok(data) => match data.input.validate() {
            Ok(()) => client_error.set(None),
            Err(e) => {
                ev.prevent_default();
                client_error.set(Some(e.into()));
            }
        },
        Err(_) => {
            ev.prevent_default();
            client_error.set(Some(AppError::field("role", "Choose a role.")));
        }
    };

    // Everything is inside the list's Suspend: a role that may not manage staff sees only
    // "Not allowed", never a form it would fill in for nothing.
    view! {
        <leptos_meta::Title text="Staff · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <section class="panel"><h1>"Staff"</h1><p class="loading">"Loading staff…"</p></section> }>
                {move || Suspend::new(async move {
                    match staff.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) => view! {
                                <section class="panel">
                                    <h1>"Staff"</h1>
                                    <ErrorNotice error=toggle_error />
                                    <div class="table-wrap"><table>
                                        <thead><tr><th scope="col">"E-mail"</th><th scope="col">"Role"</th>
                                            <th scope="col">"Status"</th><th scope="col">"Added"</th><th scope="col"></th></tr></thead>
                                        <tbody>
                                            {list.into_iter().map(|s| view! {
                                                <tr>
                                                    <td>{s.email.clone()}</td>
                                                    <td>{s.role.label()}</td>
                                                    <td>{if s.active { "active" } else { "deactivated" }}</td>
                                                    <td>{format_time(s.created_at)}</td>
                                                    <td>
                                                        <ActionForm action=toggle>
                                                            <input type="hidden" name="id" value=s.id.to_string() />
                                                            <input type="hidden" name="active" value=(!s.active).to_string() />
                                                            <button type="submit" class="link-button">
                                                                {if s.active { "Deactivate" } else { "Reactivate" }}
                                                            </button>
                                                        </ActionForm>
                                                        <ActionForm action=end_sessions>
                                                            <input type="hidden" name="id" value=s.id.to_string() />
                                                            <button type="submit" class="link-button">"End sessions"</button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                    {move || end_sessions.value().get().and_then(Result::ok).map(|n| view! {
                                        <p class="notice ok" role="status">{format!("{n} session(s) ended; that person must sign in again.")}</p>
                                    })}
                                </section>
                                <section class="panel narrow">
                                    <h2>"Add a staff member"</h2>
                                    <ErrorNotice error=error />
                                    <ActionForm action=create on:submit=on_submit attr:class="form" attr:novalidate=true>
                                        <div class="field">
                                            <label for="staff-email">"E-mail"</label>
                                            <input id="staff-email" name="input[email]" type="email" required aria-describedby="staff-email-error" />
                                            <FieldMessages id="staff-email" field="email" error=error />
                                        </div>
                                        <div class="field">
                                            <label for="staff-role">"Role"</label>
                                            <select id="staff-role" name="input[role]">
                                                {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label for="staff-password">"Initial password"</label>
                                            <input id="staff-password" name="input[password]" type="password" autocomplete="new-password"
                                                required minlength="12" aria-describedby="staff-password-error" />
                                            <FieldMessages id="staff-password" field="password" error=error />
                                        </div>
                                        <button type="submit" class="primary">"Add staff member"</button>
                                        {move || create.value().get().and_then(Result::ok).map(|_| view! {
                                            <p class="notice ok" role="status">"Staff member added."</p>
                                        })}
                                    </ActionForm>
                                </section>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireStaff>
    }
}
