//! The consent panel on the tenant page: state, receipt, system user, invites, and links to their
//! history in the page's timeline.

use leptos::prelude::*;
use uuid::Uuid;

use super::api::*;
use super::model::*;
use super::wizard_views::{SystemUserFacts, VerificationResult};
use crate::components::{ErrorNotice, format_time};
use crate::error::AppError;
use crate::tenants::timeline::{TimelineKind, TimelineQuery};

/// A plain description of a `needs_attention` reason code.
pub fn reason_text(code: &str) -> &'static str {
    match code {
        "consent_missing" => "The system user has not consented (or is not covered by the organization's consent).",
        "consent_revoked" => "Consent was withdrawn in DocuSign.",
        "unknown_user" => "DocuSign does not know the system user any more.",
        "key_mismatch" => "DocuSign rejected our integration key's signature (ISV configuration).",
        "not_a_member" => "The system user is no longer a member of the pinned account.",
        "base_uri_changed" => "The account moved to another DocuSign host.",
        _ => "Needs a look.",
    }
}

/// The consent panel for staff.
#[component]
pub fn TenantConsentPanel(tenant_id: Uuid) -> impl IntoView {
    let create = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let verify = ServerAction::<StaffVerify>::new();
    let end_sessions = ServerAction::<EndCustomerSessions>::new();
    let consent = Resource::new(
        move || (tenant_id, create.version().get(), revoke.version().get(), verify.version().get()),
        |(id, ..)| tenant_consent(id),
    );
    let action_error = Signal::derive(move || {
        create.value().get().and_then(Result::err)
            .or_else(|| revoke.value().get().and_then(Result::err))
            .or_else(|| verify.value().get().and_then(Result::err))
            .or_else(|| end_sessions.value().get().and_then(Result::err))
    });
    let copied = RwSignal::new(false);

    // The whole panel is inside the Suspend: when the tenant is unknown to this viewer the page
    // itself says so, and this panel shows nothing at all (no heading, no control).
    view! {
            <Suspense fallback=|| view! {
                <section class="panel" data-testid="consent-panel"><h2>"DocuSign consent"</h2><p class="loading">"Loading…"</p></section>
            }>
                {move || Suspend::new(async move {
                    let c = match consent.await {
                        Ok(c) => c,
                        Err(AppError::NotFound { .. } | AppError::Forbidden) => return ().into_any(),
                        Err(e) => return view! {
                            <section class="panel" data-testid="consent-panel"><h2>"DocuSign consent"</h2><p role="alert">{e.to_string()}</p></section>
                        }.into_any(),
                    };
                    let issued = create.value().get().and_then(Result::ok);
                    view! {
                      <section class="panel" data-testid="consent-panel">
                        <h2>"DocuSign consent"</h2>
                        <ErrorNotice error=action_error />
                        <p>
                            <span class=format!("state state-{}", c.status.state.as_str()) data-testid="consent-state">{c.status.state.label()}</span>
                            {c.status.reason.clone().map(|r| view! { <span class="reason">" — " {reason_text(&r)}</span> })}
                            " · " {c.environment.label()}
                        </p>
                        {(!c.environment_configured).then(|| view! {
                            <p class="notice error">"This DocuSign environment is not configured: customers cannot consent until it is."</p>
                        })}
                        {c.receipt.clone().map(|r| view! {
                            <h3>"Consent receipt"</h3>
                            <dl class="facts" data-testid="consent-receipt">
                                <dt>"Mode"</dt><dd>{r.mode.label()}</dd>
                                <dt>"Granted by"</dt><dd>{r.user_name} " (" {r.user_email} ") " <code>{r.user_sub}</code></dd>
                                <dt>"Scopes"</dt><dd><code>{r.scopes}</code></dd>
                                <dt>"Organization"</dt><dd>{r.organization_id.unwrap_or_else(|| "none".into())}</dd>
                                <dt>"Granted"</dt><dd>{format_time(r.granted_at)}</dd>
                                <dt>"Verified"</dt><dd>{r.verified_at.map(format_time).unwrap_or_else(|| "not yet".into())}</dd>
                                <dt>"How"</dt><dd>{r.verification.unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                        })}
                        {c.system_user.clone().map(|s| view! { <h3>"System user"</h3><SystemUserFacts s=s /> })}
                        {c.last_verification.clone().map(|v| {
                            let action = crate::tenants::api::staff_next_action(c.status.state, c.status.reason.as_deref());
                            view! { <h3>"Last verification"</h3><VerificationResult v=v staff_action=action /> }
                        })}
                        {(c.can_manage && c.system_user.is_some()).then(|| view! {
                            <ActionForm action=verify>
                                <input type="hidden" name="tenant_id" value=c.tenant_id.to_string() />
                                <button type="submit">"Verify again"</button>
                            </ActionForm>
                        })}
                        <h3>"Invites"</h3>
                        {c.link_request.map(|at| view! {
                            <p class="notice" role="status" data-testid="link-request">
                                <strong>"The customer asked for a new invite link " {format_time(at)} "."</strong>
                                " Their link was used or has expired (their wizard session ended). Issue a new invite link below and send it to them."
                            </p>
                        })}
                        {issued.map(|i| view! {
                            <div class="notice ok" data-testid="invite-link">
                                <p>"Send this link to the customer's DocuSign administrator. It is shown only now and works once, until " {format_time(i.expires_at)} "."</p>
                                <p class="link-row">
                                    <input readonly value=i.link.clone() aria-label="Invite link" id="invite-link" />
                                    <button type="button" on:click={
                                        let link = i.link.clone();
                                        move |_| { copy_to_clipboard(&link); copied.set(true); }
                                    }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                                </p>
                            </div>
                        })}
                        {(!c.invites.is_empty()).then(|| view! {
                            <div class="table-wrap"><table data-testid="invites">
                                <thead><tr><th scope="col">"Status"</th><th scope="col">"Issued"</th><th scope="col">"By"</th><th scope="col">"Expires"</th><th scope="col"></th></tr></thead>
                                <tbody>
                                    {c.invites.iter().cloned().map(|i| view! {
                                        <tr>
                                            <td><span class="badge">{i.status.label()}</span></td>
                                            <td>{format_time(i.created_at)}</td>
                                            <td>{i.created_by}</td>
                                            <td>{format_time(i.expires_at)}</td>
                                            <td>{(c.can_manage && i.status == InviteStatus::Pending).then(|| view! {
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="invite_id" value=i.id.to_string() />
                                                    <button type="submit" class="link-button">"Revoke"</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        })}
                        {c.older_invites.then(|| view! {
                            <p class="hint" data-testid="older-invites">"Older invites are in the "
                                <a href=history_link(c.tenant_id, TimelineKind::Invites)>"invites timeline"</a>"."</p>
                        })}
                        {c.can_manage.then(|| view! {
                            <ActionForm action=create>
                                <input type="hidden" name="tenant_id" value=c.tenant_id.to_string() />
                                <button type="submit" class="primary">
                                    {if c.invites.iter().any(|i| i.status == InviteStatus::Pending) { "Issue a new invite link" } else { "Create invite link" }}
                                </button>
                            </ActionForm>
                            <ActionForm action=end_sessions attr:class="inline-form">
                                <input type="hidden" name="tenant_id" value=c.tenant_id.to_string() />
                                <button type="submit" class="link-button">"End the customer's wizard sessions"</button>
                            </ActionForm>
                            {move || end_sessions.value().get().and_then(Result::ok).map(|n| view! {
                                <p class="notice ok" role="status">{format!("{n} wizard session(s) ended.")}</p>
                            })}
                        })}
                        // The history is the page's timeline, shown once: these open it on
                        // the kinds this panel is about.
                        <p class="hint" data-testid="consent-history">"History: "
                            <a href=history_link(c.tenant_id, TimelineKind::Consent) data-testid="history-consent">"consent"</a>" · "
                            <a href=history_link(c.tenant_id, TimelineKind::Invites) data-testid="history-invites">"invites"</a>
                            " (in the timeline below)"</p>
                      </section>
                    }.into_any()
                })}
            </Suspense>
    }
}

/// The tenant page with its timeline showing only `kind`, scrolled to it.
fn history_link(tenant_id: Uuid, kind: TimelineKind) -> String {
    format!("{}#timeline", TimelineQuery { kind: Some(kind), older: None }.link(tenant_id, None))
}

fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
