//! The staff overview: per environment the onboarding funnel with step conversion, who needs
//! attention and why, who is stuck past the SLA, how many carry a manual override, which setup
//! checks fail and for how many tenants, and the latest activity. Every number links to
//! the tenant list filtered to exactly those tenants; the funnel chart is an inline SVG drawn on
//! the server, with the same numbers in the table beside it.

use leptos::prelude::*;

use super::api::{EnvironmentOverview, TenantQuery, tenant_overview};
use crate::audit::describe_action;
use crate::checks::CheckId;
use crate::components::{LoadError, RequireStaff, format_time};
use crate::onboarding::model::ConsentState;

/// The list's address for `query`.
fn list(query: TenantQuery) -> String {
    let params = query.url_params(None);
    if params.is_empty() { "/tenants".to_owned() } else { format!("/tenants?{params}") }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| tenant_overview());
    view! {
        <leptos_meta::Title text="Overview · Consent Portal" />
        <RequireStaff>
            <Suspense fallback=|| view! { <p class="loading">"Loading the overview…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(o) => view! {
                            <section class="panel">
                                <h1>"Overview"</h1>
                                <div class="overview-grid">
                                    {o.environments.into_iter().map(|env| view! { <EnvironmentCard env=env /> }).collect_view()}
                                </div>
                            </section>
                            <section class="panel">
                                <div class="panel-head"><h2>"Recent activity"</h2><a href="/audit">"Audit log"</a></div>
                                <ol class="events" data-testid="recent-activity">
                                    {o.recent.into_iter().map(|entry| view! {
                                        <li>
                                            <span class="what">{describe_action(&entry.event.action)}</span>
                                            {entry.tenant_id.map(|id| view! {
                                                " · " <a href=format!("/tenants/{id}")>{entry.tenant_name.clone().unwrap_or_else(|| id.to_string())}</a>
                                            })}
                                            <span class="who">" by " {entry.event.actor_label}</span>
                                            <time>{format_time(entry.event.occurred_at)}</time>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            </section>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </RequireStaff>
    }
}

/// One environment: its funnel, who needs attention by reason, revoked, stuck and overridden
/// tenants, and the failing setup checks.
#[component]
fn EnvironmentCard(env: EnvironmentOverview) -> impl IntoView {
    let environment = env.environment;
    let q = move |state: Option<ConsentState>, reason: Option<String>, stuck: bool| TenantQuery {
        environment: Some(environment),
        state,
        reason,
        stuck,
        ..Default::default()
    };
    let funnel = env.funnel();
    let widest = funnel.first().map(|(_, n)| *n).unwrap_or(0).max(1);
    let attention: Vec<(String, u64)> = env
        .counts
        .iter()
        .filter(|c| c.state == ConsentState::NeedsAttention)
        .map(|c| (c.reason.clone().unwrap_or_default(), c.count))
        .collect();
    let chart_label = funnel.iter().map(|(s, n)| format!("{}: {n}", s.label())).collect::<Vec<_>>().join(", ");
    let rows = funnel.len();
    let failing: Vec<(CheckId, u64)> = env.failing.iter().copied().filter(|(_, n)| *n > 0).collect();
    view! {
        <article class="env-card" data-testid=format!("overview-{}", environment.as_str())>
            <h2>{environment.label()}</h2>
            <svg class="funnel" viewBox=format!("0 0 300 {}", rows * 22) role="img" aria-label=format!("Onboarding funnel: {chart_label}")>
                {funnel.iter().enumerate().map(|(i, (_, n))| {
                    let width = (*n as f64 / widest as f64 * 300.0).max(2.0);
                    view! { <rect x="0" y=(i * 22).to_string() width=format!("{width:.1}") height="18" rx="3"></rect> }
                }).collect_view()}
            </svg>
            <table class="funnel-table">
                <thead><tr><th scope="col">"Reached"</th><th scope="col">"Tenants"</th><th scope="col">"From the step before"</th></tr></thead>
                <tbody>
                    {funnel.iter().enumerate().map(|(i, (state, n))| {
                        let conversion = (i > 0).then(|| {
                            let before = funnel[i - 1].1;
                            if before == 0 { "—".to_owned() } else { format!("{:.0} %", *n as f64 / before as f64 * 100.0) }
                        });
                        let now_in = env.in_state(*state);
                        view! {
                            <tr>
                                <th scope="row">{state.label()}</th>
                                <td>{*n} " " <small class="muted">"(" <a href=list(q(Some(*state), None, false))>{now_in} " now"</a> ")"</small></td>
                                <td>{conversion.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Needs attention"</h3>
            <ul class="plain">
                <li><a href=list(q(Some(ConsentState::NeedsAttention), None, false)) data-testid=format!("needs-attention-{}", environment.as_str())>
                    {env.in_state(ConsentState::NeedsAttention)} " in all"</a></li>
                {attention.into_iter().map(|(reason, n)| view! {
                    <li><a href=list(q(Some(ConsentState::NeedsAttention), Some(reason.clone()), false))>{n} " " {reason.replace('_', " ")}</a></li>
                }).collect_view()}
            </ul>
            <p>
                <a href=list(q(Some(ConsentState::Revoked), None, false))>{env.in_state(ConsentState::Revoked)} " revoked"</a>
                " · "
                <a href=list(q(None, None, true)) data-testid=format!("stuck-{}", environment.as_str())>{env.stuck} " stuck past the onboarding SLA"</a>
                " · "
                <a href=list(TenantQuery { environment: Some(environment), overridden: true, ..Default::default() })
                    class="overridden" data-testid=format!("overridden-{}", environment.as_str())
                    title="Consent or a setup check accepted manually by staff, until the override expires">
                    {env.overridden} " overridden"</a>
            </p>
            <h3>"Failing setup checks"</h3>
            // Per check, the tenants whose latest run fails it (a tenant may fail several).
            {if failing.is_empty() {
                view! { <p class="muted" data-testid=format!("failing-checks-{}", environment.as_str())>"No tenant's latest setup check fails."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain" data-testid=format!("failing-checks-{}", environment.as_str())>
                        {failing.into_iter().map(|(check, n)| view! {
                            <li><a href=list(TenantQuery { environment: Some(environment), failing: Some(check), ..Default::default() })>
                                {format!("{}: {n} {}", check.title(), if n == 1 { "tenant" } else { "tenants" })}</a></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </article>
    }
}
