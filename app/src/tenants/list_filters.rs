//! The tenant list's setup-check, failing-check, account-manager and override filters, each
//! option a plain link with how many tenants choosing it would list (under every other filter),
//! and the override badge of a row. Links, not form controls: they work before hydration and with
//! JavaScript off, and the address always says what is shown.

use leptos::prelude::*;

use super::api::{CheckFilter, TenantPage, TenantQuery, list_link};
use crate::overrides::OverrideBadge;

/// One chip: a label, its count, whether it is the current choice, and where it leads.
fn chip(label: String, n: Option<u64>, chosen: bool, href: String, test_id: String) -> impl IntoView {
    view! {
        <li class:chosen=chosen>
            <a href=href aria-current=chosen.then_some("true") data-testid=test_id>
                {label} {n.map(|n| view! { " " <span class="n">{n}</span> })}
            </a>
        </li>
    }
}

/// The filters below the consent-state filter. Options no tenant would match are left out,
/// except the current choice (so it can always be seen and undone).
pub fn check_filters(current: &TenantQuery, page: &TenantPage) -> impl IntoView + use<> {
    let base = TenantQuery { after: None, ..current.clone() };

    let any_check = TenantQuery { check: None, ..base.clone() };
    let all_checks: u64 = page.check_counts.iter().map(|(_, n)| n).sum();
    let mut checks = vec![chip("Any".into(), Some(all_checks), current.check.is_none(), list_link(&any_check, None), "check-any".into()).into_any()];
    for filter in CheckFilter::ALL {
        let n = page.check_counts.iter().find(|(f, _)| *f == filter).map(|(_, n)| *n).unwrap_or(0);
        let chosen = current.check == Some(filter);
        if n > 0 || chosen {
            let href = list_link(&TenantQuery { check: Some(filter), ..base.clone() }, None);
            checks.push(chip(filter.label().into(), Some(n), chosen, href, format!("check-{}", filter.as_str())).into_any());
        }
    }

    let mut failing = Vec::new();
    if let Some(chosen) = current.failing {
        failing.push(chip("Any check".into(), None, false, list_link(&TenantQuery { failing: None, ..base.clone() }, None), "failing-any".into()).into_any());
        if !page.failing_counts.iter().any(|(id, _)| *id == chosen) {
            failing.push(chip(chosen.title().into(), Some(0), true, list_link(&base, None), format!("failing-{}", chosen.as_str())).into_any());
        }
    }
    for (id, n) in &page.failing_counts {
        let chosen = current.failing == Some(*id);
        let href = list_link(&TenantQuery { failing: Some(*id), ..base.clone() }, None);
        failing.push(chip(id.title().into(), Some(*n), chosen, href, format!("failing-{}", id.as_str())).into_any());
    }

    let mut managers = Vec::new();
    if current.manager.is_some() {
        managers.push(chip("Anyone".into(), None, false, list_link(&TenantQuery { manager: None, ..base.clone() }, None), "manager-any".into()).into_any());
    }
    for (id, email, n) in &page.manager_counts {
        // Unassigned tenants have no address of their own (the filter names a manager).
        let Some(id) = id else { continue };
        let chosen = current.manager == Some(*id);
        let href = list_link(&TenantQuery { manager: Some(*id), ..base.clone() }, None);
        managers.push(chip(email.clone().unwrap_or_else(|| id.to_string()), Some(*n), chosen, href, format!("manager-{id}")).into_any());
    }
    let unassigned = page.manager_counts.iter().find(|(id, _, _)| id.is_none()).map(|(_, _, n)| *n);

    let overridden_href = list_link(&TenantQuery { overridden: !current.overridden, ..base.clone() }, None);
    view! {
        <nav class="filters" aria-label="Setup check">
            <ul>
                <li class="group">"Setup check:"</li>
                {checks}
                <li class:chosen=current.overridden class="overridden">
                    <a href=overridden_href aria-current=current.overridden.then_some("true") data-testid="overridden"
                        title="Consent or a setup check accepted manually by staff, until the override expires">
                        "Overridden" " " <span class="n">{page.overridden_count}</span>
                    </a>
                </li>
            </ul>
        </nav>
        {(!failing.is_empty()).then(|| view! {
            <nav class="filters" aria-label="Failing check">
                <ul><li class="group">"Failing:"</li>{failing}</ul>
            </nav>
        })}
        {(!managers.is_empty()).then(|| view! {
            <nav class="filters" aria-label="Account manager">
                <ul>
                    <li class="group">"Account manager:"</li>
                    {managers}
                    {unassigned.map(|n| view! { <li class="muted">"unassigned " <span class="n">{n}</span></li> })}
                </ul>
            </nav>
        })}
    }
}

/// A row's overrides in force: one distinct badge each, with its expiry.
pub fn override_badges(badges: &[OverrideBadge]) -> impl IntoView + use<> {
    badges
        .iter()
        .map(|b| {
            let until = b.expires_at.format("%Y-%m-%d").to_string();
            view! {
                <br />
                <span class="badge overridden" data-testid="override-badge" title=format!("Overridden by staff until {until}")>
                    "overridden: " {b.subject.title()}
                </span>
                " " <small class="muted">"until " {until}</small>
            }
        })
        .collect_view()
}

/// Hidden inputs that carry the list's setup-check, failing-check, manager and override filters
/// through a search. Always the same elements (hydration needs the form's children fixed); an
/// unset filter's input is disabled, so the browser leaves it out of the address.
#[component]
pub fn SearchCarries(query: Signal<TenantQuery>) -> impl IntoView {
    let check = move || query.with(|q| q.check.map(|c| c.as_str().to_owned()).unwrap_or_default());
    let failing = move || query.with(|q| q.failing.map(|c| c.as_str().to_owned()).unwrap_or_default());
    let manager = move || query.with(|q| q.manager.map(|m| m.to_string()).unwrap_or_default());
    let stuck = move || query.with(|q| q.stuck);
    let overridden = move || query.with(|q| q.overridden);
    view! {
        <input type="hidden" name="check" value=check disabled=move || check().is_empty() />
        <input type="hidden" name="failing" value=failing disabled=move || failing().is_empty() />
        <input type="hidden" name="manager" value=manager disabled=move || manager().is_empty() />
        <input type="hidden" name="stuck" value="1" disabled=move || !stuck() />
        <input type="hidden" name="overridden" value="1" disabled=move || !overridden() />
    }
}
