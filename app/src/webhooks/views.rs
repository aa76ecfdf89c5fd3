//! The webhooks page (administrators, `/settings/webhooks`): add an endpoint (its secret is shown
//! once), list and disable endpoints, and read one endpoint's delivery log with "Redeliver".

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::WebhookEventType;
use super::api::*;
use crate::components::{ErrorNotice, FieldMessages, LoadError, RequireStaff, format_time};
use crate::environment::Environment;

/// Webhook endpoints, the form to add one, and the delivery log of the one chosen by `?endpoint=`.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhookEndpoint>::new();
    let disable = ServerAction::<DisableWebhookEndpoint>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let endpoints = Resource::new(move || (create.version().get(), disable.version().get()), |_| list_webhook_endpoints());
    let query = use_query_map();
    let chosen = move || query.read().get("endpoint").and_then(|v| Uuid::parse_str(v.trim()).ok());
    let log = Resource::new(move || (chosen(), redeliver.version().get()), |(id, _)| async move {
        match id {
            Some(id) => webhook_deliveries(id).await.map(Some),
            None => Ok(None),
        }
    });
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let action_error = Signal::derive(move || {
        disable.value().get().and_then(Result::err).or_else(|| redeliver.value().get().and_then(Result::err))
    });

    view! {
        <leptos_meta::Title text="Webhooks · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <section class="panel"><h1>"Webhooks"</h1><p class="loading">"Loading endpoints…"</p></section> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) => view! {
                            <section class="panel">
                                <h1>"Webhooks"</h1>
                                <p>"Your backend hears about consent and set-up changes at these endpoints. Every request is signed per the "
                                    <a href="https://www.standardwebhooks.com/" rel="external noopener">"Standard Webhooks"</a>
                                    " specification (headers webhook-id, webhook-timestamp, webhook-signature); verify it with the endpoint's secret."</p>
                                <ErrorNotice error=action_error />
                                {if list.is_empty() {
                                    view! { <p class="empty">"No endpoints yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap"><table>
                                            <thead><tr><th scope="col">"URL"</th><th scope="col">"Environment"</th><th scope="col">"Events"</th>
                                                <th scope="col">"Status"</th><th scope="col">"Added"</th><th scope="col"></th></tr></thead>
                                            <tbody>
                                                {list.into_iter().map(|e| {
                                                    let types = e.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
                                                    let status = match e.disabled_at {
                                                        Some(t) => format!("disabled {}", format_time(t)),
                                                        None => "enabled".to_owned(),
                                                    };
                                                    view! {
                                                        <tr>
                                                            <td class="url">{e.url.clone()}</td>
                                                            <td>{e.environment.as_str()}</td>
                                                            <td>{types}</td>
                                                            <td>{status}</td>
                                                            <td>{format_time(e.created_at)}" by "{e.created_by.clone()}</td>
                                                            <td>
                                                                <a href=format!("/settings/webhooks?endpoint={}", e.id)>"Deliveries"</a>
                                                                {e.disabled_at.is_none().then(|| view! {
                                                                    <ActionForm action=disable>
                                                                        <input type="hidden" name="id" value=e.id.to_string() />
                                                                        <button type="submit" class="link-button">"Disable"</button>
                                                                    </ActionForm>
                                                                })}
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table></div>
                                    }.into_any()
                                }}
                            </section>
                            <DeliveryLog log redeliver />
                            <section class="panel narrow">
                                <h2>"Add an endpoint"</h2>
                                <ErrorNotice error=error />
                                <ActionForm action=create attr:class="form">
                                    <div class="field">
                                        <label for="webhook-environment">"Environment"</label>
                                        <select id="webhook-environment" name="input[environment]">
                                            {Environment::ALL.into_iter().map(|e| view! { <option value=e.as_str()>{e.label()}</option> }).collect_view()}
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="webhook-url">"URL"</label>
                                        <input id="webhook-url" name="input[url]" type="url" required placeholder="https://api.example.com/webhooks/consent"
                                            aria-describedby="webhook-url-error" />
                                        <FieldMessages id="webhook-url" field="url" error=error />
                                    </div>
                                    <fieldset class="field" aria-describedby="webhook-event_types-error">
                                        <legend>"Events"</legend>
                                        {WebhookEventType::ALL.into_iter().enumerate().map(|(i, t)| view! {
                                            <label class="checkbox">
                                                <input type="checkbox" name=format!("input[event_types][{i}]") value=t.as_str() checked=true />
                                                <code>{t.as_str()}</code>" — "{t.description()}
                                            </label>
                                        }).collect_view()}
                                        <FieldMessages id="webhook-event_types" field="event_types" error=error />
                                    </fieldset>
                                    <button type="submit" class="primary">"Add endpoint"</button>
                                </ActionForm>
                                {move || create.value().get().and_then(Result::ok).map(|created| view! {
                                    <div class="notice ok" role="status" data-testid="webhook-secret">
                                        <p>"Endpoint added. Its signing secret:"</p>
                                        <p><code>{created.secret}</code></p>
                                        <p><strong>"Copy it now: it will not be shown again."</strong>
                                            " If it is lost, disable this endpoint and add a new one."</p>
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

/// The delivery log of the chosen endpoint, with "Redeliver" on each row.
#[component]
fn DeliveryLog(
    log: Resource<Result<Option<Vec<DeliveryView>>, crate::error::AppError>>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(Some(rows)) => view! {
                        <section class="panel" aria-labelledby="delivery-log">
                            <h2 id="delivery-log">"Deliveries"</h2>
                            {move || redeliver.value().get().and_then(Result::ok).map(|_| view! {
                                <p class="notice ok" role="status">"Redelivery queued."</p>
                            })}
                            {if rows.is_empty() {
                                view! { <p class="empty">"Nothing was sent to this endpoint yet."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap"><table>
                                        <thead><tr><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th>
                                            <th scope="col">"Last response"</th><th scope="col">"Time"</th><th scope="col"></th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|d| {
                                                let response = match (d.last_status_code, d.last_error.clone()) {
                                                    (Some(code), _) => format!("HTTP {code}"),
                                                    (None, Some(e)) => e,
                                                    (None, None) => "—".to_owned(),
                                                };
                                                let time = match (d.delivered_at, d.next_attempt_at) {
                                                    (Some(t), _) => format!("delivered {}", format_time(t)),
                                                    (None, Some(t)) => format!("next attempt {}", format_time(t)),
                                                    (None, None) => format!("updated {}", format_time(d.updated_at)),
                                                };
                                                view! {
                                                    <tr>
                                                        <td><code>{d.event_type.as_str()}</code><br /><small>{d.event_id.to_string()}</small></td>
                                                        <td>{d.status.as_str()}</td>
                                                        <td>{d.attempts}</td>
                                                        <td>{response}</td>
                                                        <td>{time}</td>
                                                        <td>
                                                            <ActionForm action=redeliver>
                                                                <input type="hidden" name="delivery_id" value=d.id.to_string() />
                                                                <button type="submit" class="link-button">"Redeliver"</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
