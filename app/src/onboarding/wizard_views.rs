//! The customer admin's pages: the invite landing page and the wizard.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::*;
use super::model::*;
use crate::components::{ErrorNotice, FieldMessages, format_time};
use crate::error::AppError;

/// What an invite link opens: who invited, for what, and a Start button. Showing it consumes
/// nothing (mail scanners open links); only pressing Start does.
#[component]
pub fn InviteLandingPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let landing = Resource::new(token, invite_landing);
    let redeem = ServerAction::<RedeemInvite>::new();
    let error = Signal::derive(move || redeem.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = redeem.value().get() {
            // A full load: the new session cookie must reach the server with the next request.
            // It replaces this page in the history, so Back does not return to a spent link.
            go_to("/wizard");
        }
    });

    view! {
        <leptos_meta::Title text="Your DocuSign setup · Consent Portal" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match landing.await {
                    Ok(l) if l.resume => {
                        // Back after Start, or the link opened again, in the browser whose wizard
                        // session is still open: straight to the wizard (the page is the fallback).
                        #[cfg(feature = "ssr")]
                        crate::ssr::see_other("/wizard");
                        view! {
                            <section class="panel narrow">
                                <h1>"Connect DocuSign for " {l.tenant_name.clone()}</h1>
                                <p class="lead">"You already started with this link, and your session is still open in this browser."</p>
                                <p><a class="button primary" href="/wizard">"Continue to the wizard"</a></p>
                            </section>
                        }.into_any()
                    }
                    Ok(l) if l.refusal.is_some() => view! { <SpentLink l=l token=token() /> }.into_any(),
                    Ok(l) => view! {
                        <section class="panel narrow">
                            <h1>"Connect DocuSign for " {l.tenant_name.clone()}</h1>
                            <p class="lead">
                                "You have been invited to connect your organization's DocuSign account ("
                                {l.environment.label()} ") to our integration. It takes a few minutes: you will sign in "
                                "with DocuSign, grant consent, and choose the user and account the integration will use."
                            </p>
                            <p>"This link is valid until " {format_time(l.expires_at)} " and works once."</p>
                            <ErrorNotice error=error />
                            <ActionForm action=redeem>
                                <input type="hidden" name="token" value=token />
                                <button type="submit" class="primary">{controls::START}</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <InviteProblem error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InviteProblem(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(error.status_code());
    let message = match &error {
        AppError::NotFound { .. } => "This invite link is not valid. Check that you copied the whole link.".to_owned(),
        other => other.to_string(),
    };
    view! {
        <section class="panel narrow">
            <h1>"This link cannot be used"</h1>
            <p role="alert">{message}</p>
            <p>"Ask the person who sent you the link for a new one; they can issue it in a minute."</p>
        </section>
    }
}

/// The page of a link that no longer starts the wizard (used, expired, withdrawn): why, and the
/// way back in without calling anyone: ask for a fresh link, which the people who invited the
/// admin see on their page at once. Answered 409, like the refusal it replaces.
#[component]
fn SpentLink(l: InviteLandingView, token: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(409);
    let ask = ServerAction::<RequestInviteLink>::new();
    let asked = Signal::derive(move || matches!(ask.value().get(), Some(Ok(()))));
    let error = Signal::derive(move || ask.value().get().and_then(Result::err));
    // Asked before (in this browser or another) and still within the hour: say so instead of
    // offering a button that would be refused.
    let waiting = l.next_request_at.zip(l.link_requested_at);
    let tenant = l.tenant_name.clone();
    view! {
        <section class="panel narrow" data-testid="spent-link">
            <h1>"This link cannot be used any more"</h1>
            <p role="alert">{l.refusal.clone()}</p>
            <p>"To continue connecting DocuSign for " {tenant} ", ask for a fresh link: the people who invited you see your request at once and send you a new link. You do not need to type anything."</p>
            {move || if asked.get() {
                view! {
                    <p class="notice ok" role="status" data-testid="link-requested">"Request sent. The people who invited you have been told; watch your inbox for a new link. Nothing else is needed from you."</p>
                }.into_any()
            } else if let Some((next, at)) = waiting {
                view! {
                    <p class="notice" role="status" data-testid="link-requested">
                        "A fresh link was asked for " {format_time(at)} "; the people who invited you have been told. You can ask again after " {format_time(next)} "."
                    </p>
                }.into_any()
            } else {
                let token = token.clone();
                view! {
                    <ErrorNotice error=error />
                    <ActionForm action=ask>
                        <input type="hidden" name="token" value=token />
                        <button type="submit" class="primary">{controls::ASK_FOR_LINK}</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}

fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().replace(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// The wizard: one page whose content follows the tenant's progress.
#[component]
pub fn WizardPage() -> impl IntoView {
    let name_user = ServerAction::<NameSystemUser>::new();
    let choose = ServerAction::<ChooseAccount>::new();
    let verify = ServerAction::<WizardVerify>::new();
    let leave = ServerAction::<LeaveWizard>::new();
    let organization = OrganizationActions { check_again: ServerAction::new(), intended: ServerAction::new() };
    let status = Resource::new(
        move || {
            (
                name_user.version().get(),
                choose.version().get(),
                verify.version().get(),
                leave.version().get(),
                organization.check_again.version().get(),
                organization.intended.version().get(),
            )
        },
        |_| wizard_status(),
    );

    view! {
        <leptos_meta::Title text="DocuSign setup wizard · Consent Portal" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(AppError::Unauthorized) => view! {
                        <section class="panel narrow">
                            <h1>"Your session has ended"</h1>
                            <p>{SESSION_ENDED}</p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <section class="panel narrow"><ErrorNotice error=Signal::derive(move || Some(e.clone())) /></section> }.into_any(),
                    Ok(w) => view! {
                        <Wizard w=w name_user=name_user choose=choose verify=verify organization=organization />
                        <ActionForm action=leave attr:class="leave-wizard">
                            <button type="submit" class="link-button">"End this session on this computer"</button>
                        </ActionForm>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Wizard(
    w: WizardView,
    name_user: ServerAction<NameSystemUser>,
    choose: ServerAction<ChooseAccount>,
    verify: ServerAction<WizardVerify>,
    organization: OrganizationActions,
) -> impl IntoView {
    let step = w.step;
    let notice_shown = w.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Info);
    let steps = WizardStep::ALL
        .iter()
        .map(|(s, label)| {
            let current = *s == step;
            view! { <li class:current=current aria-current=current.then_some("step")>{*label}</li> }
        })
        .collect_view();
    let notice = w.notice.clone().map(|n| {
        // DocuSign's own words are text (Leptos escapes them), apart from the portal's message.
        let evidence = (!n.evidence.is_empty()).then(|| {
            view! { <ul class="evidence" data-testid="wizard-notice-evidence">{n.evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul> }
        });
        view! {
            <div class=format!("notice {}", match n.kind { NoticeKind::Error => "error", NoticeKind::Info => "ok" }) role="alert" data-testid="wizard-notice">
                <p><strong>{n.title}</strong> " " {n.message}</p>
                {evidence}
            </div>
        }
    });
    let body = match step {
        WizardStep::Welcome => welcome(&w).into_any(),
        WizardStep::ChoosePath => choose_path(&w, organization).into_any(),
        WizardStep::SystemUser => system_user_step(&w, name_user, choose, notice_shown).into_any(),
        WizardStep::Verify => verify_step(&w, verify).into_any(),
        WizardStep::Done => done(&w).into_any(),
    };
    view! {
        <section class="panel wizard" data-testid="wizard" data-step=format!("{step:?}").to_lowercase()>
            <p class="eyebrow">{w.tenant_name.clone()} " · DocuSign " {w.environment.label()}</p>
            <ol class="steps" aria-label="Progress">{steps}</ol>
            {notice}
            {(!w.environment_configured).then(|| view! {
                <p class="notice error" role="alert">"This DocuSign environment is not set up on our side yet. Please tell the person who invited you."</p>
            })}
            {body}
        </section>
    }
}

fn start_form(purpose: &'static str, label: &'static str, primary: bool) -> impl IntoView {
    view! {
        <form method="post" action="/oauth/start" class="inline">
            <input type="hidden" name="purpose" value=purpose />
            <button type="submit" class:primary=primary>{label}</button>
        </form>
    }
}

fn scope_list(w: &WizardView) -> impl IntoView {
    let items = w
        .scopes
        .iter()
        .map(|(s, what)| view! { <li><code>{s.clone()}</code> " — " {what.clone()}</li> })
        .collect_view();
    view! { <ul class="scopes">{items}</ul> }
}

fn welcome(w: &WizardView) -> impl IntoView {
    view! {
        <h1>"Connect your DocuSign account"</h1>
        <p>"Here is what will happen:"</p>
        <ol>
            <li>"You sign in with DocuSign so we can see which accounts and organization you have."</li>
            <li>"You grant consent: for your whole organization (if you are a DocuSign organization administrator) or for one user."</li>
            <li>"You choose the system user and the account the integration will act as."</li>
            <li>"We check that it works."</li>
        </ol>
        <p>"Once connected, the integration will be able to:"</p>
        {scope_list(w)}
        <p>"You can withdraw consent at any time in DocuSign (Settings → Connected apps)."</p>
        {w.environment_configured.then(|| start_form("sign_in", controls::SIGN_IN, true))}
    }
}

fn choose_path(w: &WizardView, actions: OrganizationActions) -> impl IntoView {
    let user = w.signed_in.clone();
    let advice = w.advice.clone();
    let organization = w.organization.clone().map(|o| view! { <OrganizationCheck o=o actions=actions /> });
    let recommended_org = advice.as_ref().is_some_and(|a| a.recommended == ConsentMode::Organization);
    view! {
        <h1>"Choose how to grant consent"</h1>
        {user.map(|u| view! {
            <p>"Signed in to DocuSign as " <strong data-testid="signed-in-as">{u.name.clone()} " (" {u.email.clone()} ")"</strong> "."</p>
            <AccountsTable accounts=u.accounts.clone() />
        })}
        {organization}
        {advice.map(|a| view! {
            <div class="advice" data-testid="path-advice">
                <p><strong>"We recommend: " {a.recommended.label()}</strong></p>
                <ul>{a.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
            </div>
        })}
        <div class="choices">
            <div class="choice">
                <h2>"Organization admin consent"</h2>
                <p>"Covers every user whose e-mail domain your organization has claimed. You must be a DocuSign organization administrator, and the domain must be verified (active)."</p>
                {start_form("organization", controls::GRANT_ORGANIZATION, recommended_org)}
            </div>
            <div class="choice">
                <h2>"Individual consent"</h2>
                <p>"You consent for yourself; you then become the system user the integration acts as. Always available."</p>
                {start_form("individual", controls::GRANT_INDIVIDUAL, !recommended_org)}
            </div>
        </div>
        <p>"The integration will be able to:"</p>
        {scope_list(w)}
    }
}

/// The organization screen's two actions: read the domains again, and judge another system user.
#[derive(Clone, Copy)]
struct OrganizationActions {
    check_again: ServerAction<CheckOrganization>,
    intended: ServerAction<IntendedSystemUser>,
}

/// Organization consent's prerequisites, read before any consent: active domains (covered
/// users), pending domains with the TXT record to publish, or no claimed domain; the verdict
/// for the intended system user and what to do next.
#[component]
fn OrganizationCheck(o: OrganizationCheckView, actions: OrganizationActions) -> impl IntoView {
    let check_error = Signal::derive(move || actions.check_again.value().get().and_then(Result::err));
    let intended_error = Signal::derive(move || actions.intended.value().get().and_then(Result::err));
    let checking = actions.check_again.pending();
    let verdict = o.verdict;
    let field = o.offers_system_user_field();
    let names = (!o.organizations.is_empty()).then(|| view! { <p>"Organization: " {o.organizations.join(", ")}</p> });
    let active = (!o.active_domains.is_empty()).then(|| {
        view! {
            <h3>"Active claimed domains"</h3>
            <p>"Organization consent covers users whose e-mail is in:"</p>
            <ul data-testid="active-domains">{o.active_domains.iter().map(|d| view! { <li><code>{d.clone()}</code></li> }).collect_view()}</ul>
        }
    });
    let pending = (!o.pending.is_empty()).then(|| {
        view! {
            <h3>"Pending domains: DNS TXT record to publish"</h3>
            <div class="table-wrap"><table data-testid="txt-records">
                <thead><tr><th scope="col">"Host (the domain)"</th><th scope="col">"Type"</th><th scope="col">"Value"</th></tr></thead>
                <tbody>
                    {o.pending.iter().map(|r| view! {
                        <tr data-testid="txt-record">
                            <td><code>{r.host.clone()}</code></td>
                            <td>"TXT"</td>
                            <td>{match r.value.clone() {
                                Some(v) => view! { <code data-testid="txt-value">{v}</code> }.into_any(),
                                None => view! { <span>"DocuSign did not return it: see the domain in DocuSign Admin → Domains."</span> }.into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        }
    });
    let others = (!o.other_domains.is_empty()).then(|| {
        view! {
            <h3>"Other claimed domains"</h3>
            <ul>{o.other_domains.iter().map(|d| view! { <li><code>{d.host.clone()}</code> ": " {d.status.clone()}</li> }).collect_view()}</ul>
        }
    });
    let evidence = (!o.evidence.is_empty())
        .then(|| view! { <ul class="evidence">{o.evidence.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul> });
    let reread = if o.can_check_again {
        view! {
            <ActionForm action=actions.check_again attr:class="inline">
                <button type="submit" disabled=move || checking.get()>{controls::CHECK_AGAIN}</button>
            </ActionForm>
        }
        .into_any()
    } else {
        start_form("organization_read", controls::READ_ORGANIZATION, false).into_any()
    };
    let intended = field.then(|| {
        view! {
            <ActionForm action=actions.intended attr:class="form">
                <div class="field">
                    <label for="intended-system-user">"The system user's e-mail (whose coverage to check)"</label>
                    <input id="intended-system-user" name="input[email]" type="email" required value=o.intended_email.clone() aria-describedby="intended-system-user-error" />
                    <FieldMessages id="intended-system-user" field="email" error=intended_error />
                </div>
                <button type="submit">{controls::CHECK_SYSTEM_USER}</button>
            </ActionForm>
        }
    });
    view! {
        <div class="organization-check" data-testid="organization-check" data-verdict=verdict.as_str()>
            <h2>"Your organization and organization consent"</h2>
            <p class=if verdict == OrganizationVerdict::Covered { "notice ok" } else { "notice" } data-testid="organization-headline"><strong>{o.headline.clone()}</strong></p>
            {names}
            {active}
            {pending}
            {others}
            <ul data-testid="organization-next">{o.next_steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
            {evidence}
            <p class="hint">"Read from DocuSign " {format_time(o.checked_at)} "."</p>
            <ErrorNotice error=check_error />
            {reread}
            {intended}
        </div>
    }
}

#[component]
fn AccountsTable(accounts: Vec<AccountView>) -> impl IntoView {
    view! {
        <div class="table-wrap"><table>
            <thead><tr><th scope="col">"Account"</th><th scope="col">"Account ID"</th><th scope="col">"Organization"</th></tr></thead>
            <tbody>
                {accounts.into_iter().map(|a| view! {
                    <tr>
                        <td>{a.account_name}{a.is_default.then(|| view! { <span class="badge">"default"</span> })}</td>
                        <td><code>{a.account_id}</code></td>
                        <td>{a.organization_id.unwrap_or_else(|| "none".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// `notice_shown`: the page already shows good news above (the callback's "Consent granted."),
/// so the receipt line, which says the same, is left out.
fn system_user_step(w: &WizardView, name_user: ServerAction<NameSystemUser>, choose: ServerAction<ChooseAccount>, notice_shown: bool) -> impl IntoView {
    let org = w.receipt.as_ref().is_some_and(|r| r.mode == ConsentMode::Organization);
    let name_error = Signal::derive(move || name_user.value().get().and_then(Result::err));
    let choose_error = Signal::derive(move || choose.value().get().and_then(Result::err));
    let receipt = w.receipt.clone().filter(|_| !notice_shown).map(|r| view! { <p class="notice ok">{r.mode.label()} " granted by " {r.user_email} "."</p> });
    let naming = org.then(|| {
        view! {
            <h2>"Who is the system user?"</h2>
            <p>"The system user is the DocuSign user the integration acts as. With organization consent it can be any user whose e-mail domain your organization has claimed — often a dedicated user such as docusign-integration@yourcompany.com."</p>
            <ErrorNotice error=name_error />
            <ActionForm action=name_user attr:class="form">
                <div class="field">
                    <label for="system-user">"System user e-mail or DocuSign user ID"</label>
                    <input id="system-user" name="input[user]" required aria-describedby="system-user-error" />
                    <FieldMessages id="system-user" field="user" error=name_error />
                </div>
                <button type="submit">"Look up this user"</button>
            </ActionForm>
        }
    });
    let accounts = w.candidate.clone().map(|c| {
        // Preselect an account the user administers (the default one first): a member account
        // is a choice to make knowingly, never the one already ticked.
        let preselected = c
            .accounts
            .iter()
            .filter(|a| a.role != AccountRole::Member)
            .max_by_key(|a| (a.role == AccountRole::Admin, a.is_default))
            .map(|a| a.account_id.clone());
        let any_member = c.accounts.iter().any(|a| a.role == AccountRole::Member);
        view! {
            <h2>"Which account?"</h2>
            <p>"The integration will act as " <strong data-testid="candidate">{c.name.clone()} " (" {c.email.clone()} ")"</strong> " in this account:"</p>
            {any_member.then(|| view! {
                <p class="notice" role="note">"In an account marked “member only” this user is not an administrator: the integration can act as them there, but the portal cannot change that account's settings or Connect, so its setup check will need an administrator of the account."</p>
            })}
            <ErrorNotice error=Signal::derive(move || choose_error.get().filter(|e| e.field_messages("account_id").is_empty())) />
            <ActionForm action=choose attr:class="form">
                <fieldset class="accounts" aria-describedby="account-error">
                    <legend>"Accounts of this user"</legend>
                    {c.accounts.into_iter().map(|a| {
                        let id = format!("acct-{}", a.account_id);
                        let checked = Some(&a.account_id) == preselected.as_ref();
                        view! {
                            <div class="radio" data-role=a.role.as_str()>
                                <input type="radio" id=id.clone() name="account_id" value=a.account_id.clone() checked=checked />
                                <label for=id>{a.account_name.clone()}
                                    {a.is_default.then(|| view! { <span class="badge">"default"</span> })}
                                    <span class=format!("badge role-{}", a.role.as_str())>{a.role.label()}</span>
                                    <span class="hint">" " {a.account_id.clone()} " · " {a.base_uri.clone()}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <FieldMessages id="account" field="account_id" error=choose_error />
                {any_member.then(|| view! {
                    <div class="checkbox">
                        <input type="checkbox" id="use-member-account" name="use_member_account" />
                        <label for="use-member-account">{controls::USE_MEMBER_ACCOUNT} " (if I choose an account marked “member only”)"</label>
                    </div>
                })}
                <button type="submit" class="primary">"Use this account"</button>
            </ActionForm>
        }
    });
    view! {
        <h1>"Choose the system user and account"</h1>
        {receipt}
        {naming}
        {accounts}
    }
}

fn verify_step(w: &WizardView, verify: ServerAction<WizardVerify>) -> impl IntoView {
    let su = w.system_user.clone();
    let last = w.verification.clone();
    let pending = verify.pending();
    let needs_consent = last.as_ref().is_some_and(|v| v.outcome.needs_consent());
    view! {
        <h1>"Check that it works"</h1>
        {su.map(|s| view! { <SystemUserFacts s=s /> })}
        {last.map(|v| view! { <VerificationResult v=v /> })}
        {needs_consent.then(|| view! {
            <p>"Grant consent again, then check again:"</p>
            {start_form("organization", controls::GRANT_ORGANIZATION, false)}
            {start_form("individual", controls::GRANT_INDIVIDUAL, true)}
        })}
        <ActionForm action=verify>
            <button type="submit" class="primary" disabled=move || pending.get()>
                {move || if pending.get() { "Checking…" } else { controls::VERIFY_NOW }}
            </button>
        </ActionForm>
    }
}

fn done(w: &WizardView) -> impl IntoView {
    let su = w.system_user.clone();
    let receipt = w.receipt.clone();
    view! {
        <h1>"You are connected"</h1>
        <p class="notice ok" data-testid="wizard-done">"Consent is verified: the integration can act as the system user in the chosen account."</p>
        <h2>"Summary"</h2>
        {receipt.map(|r| view! {
            <dl class="facts">
                <dt>"Consent"</dt><dd>{r.mode.label()}</dd>
                <dt>"Granted by"</dt><dd>{r.user_name} " (" {r.user_email} ")"</dd>
                <dt>"Scopes"</dt><dd><code>{r.scopes}</code></dd>
                <dt>"Granted"</dt><dd>{format_time(r.granted_at)}</dd>
            </dl>
        })}
        {su.map(|s| view! { <SystemUserFacts s=s /> })}
        <button type="button" on:click=|_| print_page()>"Print this summary"</button>
        <h2>"Next: check your account's setup"</h2>
        <p>"The integration also needs some account settings and a Connect (webhook) configuration. Run the check; fix what it finds with one click."</p>
        <crate::checks::views::SetupCheckPanel scope=crate::checks::api::CheckScope::Invitee can_run=true />
    }
}

fn print_page() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.print();
    }
}

/// The pinned system user and account.
#[component]
pub fn SystemUserFacts(s: SystemUserView) -> impl IntoView {
    view! {
        <dl class="facts" data-testid="system-user">
            <dt>"System user"</dt><dd>{s.name} " (" {s.email} ")"</dd>
            <dt>"User ID"</dt><dd><code>{s.user_id}</code></dd>
            <dt>"Account"</dt><dd>{s.account_name} " " <code>{s.account_id}</code></dd>
            <dt>"Base URI"</dt><dd><code>{s.base_uri}</code></dd>
            <dt>"Organization"</dt><dd>{s.organization_id.unwrap_or_else(|| "none".into())}</dd>
        </dl>
    }
}

/// One verification outcome with its remediation.
#[component]
pub fn VerificationResult(
    v: VerificationView,
    /// Staff read what the ISV does next instead of the customer's remediation.
    #[prop(optional)]
    staff_action: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class=if v.ok { "notice ok" } else { "notice error" } role="status" data-testid="verification" data-outcome=v.outcome.as_str()>
            <p><strong>{v.title}</strong></p>
            {match staff_action {
                Some(action) => view! { <p><strong>"Next step for the ISV: "</strong>{action}</p> }.into_any(),
                None => view! { <p>{v.remediation}</p> }.into_any(),
            }}
            <details>
                <summary>"What we checked (" {format_time(v.checked_at)} ")"</summary>
                <ul>{v.evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
            </details>
        </div>
    }
}
