//! The API clients page (administrators): the clients with their scopes, environments, expiry and
//! last use; creating one (its key shown once); revoking one.

use leptos::ev::SubmitEvent;
use leptos::form::FromFormData;
use leptos::prelude::*;

use super::ApiScope;
use super::api::*;
use crate::components::{ErrorNotice, FieldMessages, LoadError, RequireStaff, format_time};
use crate::environment::Environment;
use crate::error::AppError;

/// API clients and the form to create one.
#[component]
pub fn ApiClientsPage() -> impl IntoView {
    let create = ServerAction::<CreateApiClient>::new();
    let revoke = ServerAction::<RevokeApiClient>::new();
    let clients = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_clients());
    let client_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || client_error.get().or_else(|| create.value().get().and_then(Result::err)));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let on_submit = move |ev: SubmitEvent| match CreateApiClient::from_event(&ev) {
        Ok(data) => match data.input.check() {
            Ok(()) => client_error.set(None),
            Err(e) => {
                ev.prevent_default();
                client_error.set(Some(e));
            }
        },
        Err(_) => {
            ev.prevent_default();
            client_error.set(Some(AppError::field("name", "Give the client a name.")));
        }
    };

    // Everything is inside the list's Suspend: a role that may not manage API clients sees only
    // "Not allowed", never a form it would fill in for nothing.
    view! {
        <leptos_meta::Title text="API clients · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <section class="panel"><h1>"API clients"</h1><p class="loading">"Loading API clients…"</p></section> }>
                {move || Suspend::new(async move {
                    match clients.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) => view! {
                            <section class="panel">
                                <h1>"API clients"</h1>
                                <p class="hint">
                                    "Keys for the ISV's own backend to read tenants and obtain DocuSign access tokens through "
                                    <code>"/api/v1"</code>". "
                                    <a href="/api/v1/docs">"API reference"</a>" · "<a href="/api/v1/openapi.json">"OpenAPI document"</a>
                                </p>
                                <ErrorNotice error=revoke_error />
                                {if list.is_empty() {
                                    view! { <p>"No API clients yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap"><table>
                                            <thead><tr>
                                                <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Environments"</th>
                                                <th scope="col">"Scopes"</th><th scope="col">"Status"</th><th scope="col">"Expires"</th>
                                                <th scope="col">"Last used"</th><th scope="col">"Created"</th><th scope="col"></th>
                                            </tr></thead>
                                            <tbody>
                                                {list.into_iter().map(|c| view! { <ClientRow client=c revoke /> }).collect_view()}
                                            </tbody>
                                        </table></div>
                                    }.into_any()
                                }}
                            </section>
                            <section class="panel narrow">
                                <h2>"Create an API client"</h2>
                                <ErrorNotice error=error />
                                <ActionForm action=create on:submit=on_submit attr:class="form" attr:novalidate=true>
                                    <div class="field">
                                        <label for="client-name">"Name"</label>
                                        <input id="client-name" name="input[name]" type="text" required maxlength="80"
                                            aria-describedby="client-name-error" placeholder="Envelope service (production)" />
                                        <FieldMessages id="client-name" field="name" error=error />
                                    </div>
                                    <fieldset class="field" aria-describedby="client-environments-error">
                                        <legend>"Environments"</legend>
                                        {Environment::ALL.into_iter().map(|e| {
                                            let name = match e { Environment::Demo => "input[env_demo]", Environment::Production => "input[env_production]" };
                                            view! { <label class="tick"><input type="checkbox" name=name value="on" />" "{e.label()}</label> }
                                        }).collect_view()}
                                        <FieldMessages id="client-environments" field="environments" error=error />
                                    </fieldset>
                                    <fieldset class="field" aria-describedby="client-scopes-error">
                                        <legend>"Scopes"</legend>
                                        {ApiScope::ALL.into_iter().map(|s| view! {
                                            <label class="tick">
                                                <input type="checkbox" name=format!("input[{}]", s.field()) value="on" />
                                                " "<code>{s.as_str()}</code>" · "{s.label()}
                                            </label>
                                        }).collect_view()}
                                        <FieldMessages id="client-scopes" field="scopes" error=error />
                                    </fieldset>
                                    <div class="field">
                                        <label for="client-expiry">"Expires after (days, optional)"</label>
                                        <input id="client-expiry" name="input[expires_in_days]" type="number" min="1" max="730"
                                            aria-describedby="client-expiry-error" />
                                        <FieldMessages id="client-expiry" field="expires_in_days" error=error />
                                    </div>
                                    <button type="submit" class="primary">"Create API client"</button>
                                </ActionForm>
                                {move || create.value().get().and_then(Result::ok).map(|created| view! {
                                    <div class="notice ok" role="status" data-testid="new-api-key">
                                        <p>{format!("API client “{}” created. Copy its key now: it is shown only this once.", created.client.name)}</p>
                                        <p><code class="secret">{created.key}</code></p>
                                        <p>"Send it as "<code>"Authorization: Bearer <key>"</code>"."</p>
                                    </div>
                                })}
                            </section>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireStaff>
    }
}

#[component]
fn ClientRow(client: ApiClientView, revoke: ServerAction<RevokeApiClient>) -> impl IntoView {
    let envs = client.environments.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
    let scopes = client.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    let active = client.status == ApiClientStatus::Active;
    view! {
        <tr>
            <td>{client.name.clone()}</td>
            <td><code>{format!("cpk_{}_…", client.key_id)}</code></td>
            <td>{envs}</td>
            <td><code>{scopes}</code></td>
            <td><span class=format!("badge {}", client.status.label())>{client.status.label()}</span></td>
            <td>{client.expires_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
            <td>{client.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
            <td>{format!("{} by {}", format_time(client.created_at), client.created_by)}</td>
            <td>
                <Show when=move || active>
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=client.id.to_string() />
                        <button type="submit" class="link-button danger">"Revoke"</button>
                    </ActionForm>
                </Show>
            </td>
        </tr>
    }
}
