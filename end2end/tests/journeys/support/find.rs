//! Provides the locators: every element a journey touches, found the way a person finds it, by
//! role and accessible name or by its label, and by `data-testid` only where the page marks a
//! value for tests (a count, a state, a receipt). No CSS paths where a role or a label works.
//! A locator finds nothing by itself; `action` acts on it and `check` waits on it.
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

use playwright_rs::{AriaRole, GetByRoleOptions, Locator, Page};

// Any page.

/// The button whose accessible name is exactly `name`.
pub fn button(page: &Page, name: &str) -> Locator {
    page.get_by_role(AriaRole::Button, Some(GetByRoleOptions::default().name(name).exact(true)))
}

/// The tenants list's consent-state filter option for `state` (a wire name, or `all`).
pub fn state_filter(page: &Page, state: &str) -> Locator {
    page.get_by_test_id(&format!("state-{state}"))
}

/// The element the page marks for tests with `test_id` (a count, a number that links).
pub fn marked(page: &Page, test_id: &str) -> Locator {
    page.get_by_test_id(test_id)
}

/// The overview's card of one environment (`demo` or `production`).
pub fn overview_card(page: &Page, environment: &str) -> Locator {
    page.get_by_test_id(&format!("overview-{environment}"))
}

/// The audit log page's table of events.
pub fn audit_log(page: &Page) -> Locator {
    page.get_by_test_id("audit-log")
}

/// The link whose accessible name is exactly `name`.
pub fn link(page: &Page, name: &str) -> Locator {
    page.get_by_role(AriaRole::Link, Some(GetByRoleOptions::default().name(name).exact(true)))
}

/// The form control whose label is exactly `label`.
pub fn field(page: &Page, label: &str) -> Locator {
    page.get_by_label(label, true)
}

/// The checkbox whose label contains `text`.
pub fn checkbox(page: &Page, text: &str) -> Locator {
    page.get_by_role(AriaRole::Checkbox, Some(GetByRoleOptions::default().name(text).exact(false)))
}

/// The API key shown once after creating an API client.
pub fn new_api_key(page: &Page) -> Locator {
    page.get_by_test_id("new-api-key").locator("code.secret")
}

/// The in-page confirmation the page is asking, if one is open (`role="alertdialog"`).
pub fn confirmation(page: &Page) -> Locator {
    page.get_by_role(AriaRole::Alertdialog, None)
}

/// The in-page confirmation whose accessible name (its heading) is exactly `question`.
pub fn confirmation_asking(page: &Page, question: &str) -> Locator {
    page.get_by_role(AriaRole::Alertdialog, Some(GetByRoleOptions::default().name(question).exact(true)))
}

/// The element that has the keyboard focus, anywhere on the page. A CSS `:focus` on purpose:
/// playwright-rs 0.20.1 checks focus (`to_be_focused`) with `querySelectorAll`, which cannot run
/// role locators, so a journey reads the focused element and asserts what it is.
pub fn focused(page: &Page) -> Locator {
    page.locator(":focus")
}

/// The element that has the keyboard focus inside the open confirmation.
pub fn focused_in_confirmation(page: &Page) -> Locator {
    confirmation(page).locator(":focus")
}

/// The button named exactly `name` inside the open confirmation.
pub fn confirmation_button(page: &Page, name: &str) -> Locator {
    confirmation(page).get_by_role(AriaRole::Button, Some(GetByRoleOptions::default().name(name).exact(true)))
}

/// The page's title: its level-1 heading (the portal's pages and the DocuSign sandbox's).
pub fn title(page: &Page) -> Locator {
    page.get_by_role(AriaRole::Heading, Some(GetByRoleOptions::default().level(1)))
}

/// The form-level notice (`role=alert`) of a refused submission.
pub fn alert(page: &Page) -> Locator {
    page.get_by_role(AriaRole::Alert, None)
}

/// The message under the form field named `field` (`email`, `slug`, `user`, …).
pub fn field_error(page: &Page, field: &str) -> Locator {
    page.get_by_test_id(&format!("error-{field}"))
}

/// The document body, which carries `data-hydrated="true"` once the wasm took over the page
/// (no role names the body, so this one is a tag).
pub fn body(page: &Page) -> Locator {
    page.locator("body")
}

// Staff pages.

/// The signed-in staff member's e-mail address in the header.
pub fn whoami(page: &Page) -> Locator {
    page.get_by_test_id("whoami")
}

/// The tenants list's table.
pub fn tenant_table(page: &Page) -> Locator {
    page.get_by_role(AriaRole::Table, None)
}

/// The tenants list's "N of M tenants" line.
pub fn tenant_count(page: &Page) -> Locator {
    page.get_by_test_id("tenant-count")
}

/// The tenant page's name.
pub fn tenant_name(page: &Page) -> Locator {
    page.get_by_test_id("tenant-name")
}

/// The tenant page's audit events.
pub fn audit_events(page: &Page) -> Locator {
    page.get_by_test_id("audit-events")
}

/// The tenant's DocuSign consent state ("Not started", "Invited", "Verified", …).
pub fn consent_state(page: &Page) -> Locator {
    page.get_by_test_id("consent-state")
}

/// The tenant's consent receipt (who consented, when, for what).
pub fn consent_receipt(page: &Page) -> Locator {
    page.get_by_test_id("consent-receipt")
}

/// The invite link just created, shown once in a read-only field.
pub fn invite_link(page: &Page) -> Locator {
    field(page, "Invite link")
}

// Staff pages and the wizard.

/// The system user and account the integration acts as.
pub fn system_user(page: &Page) -> Locator {
    page.get_by_test_id("system-user")
}

// The customer admin's wizard.

/// The wizard itself (present on every step).
pub fn wizard(page: &Page) -> Locator {
    page.get_by_test_id("wizard")
}

/// "Signed in to DocuSign as …" on the path step.
pub fn signed_in_as(page: &Page) -> Locator {
    page.get_by_test_id("signed-in-as")
}

/// The wizard's advice on which consent path fits this DocuSign user.
pub fn path_advice(page: &Page) -> Locator {
    page.get_by_test_id("path-advice")
}

/// The user the integration will act as, on the account step.
/// The wizard's organization screen (organization consent's prerequisites), with its verdict
/// in `data-verdict`.
pub fn organization_check(page: &Page) -> Locator {
    page.get_by_test_id("organization-check")
}

/// The organization screen's DNS TXT record rows (one per pending claimed domain).
pub fn txt_records(page: &Page) -> Locator {
    page.get_by_test_id("txt-records")
}

/// The system user the wizard will act as, once looked up.
pub fn candidate(page: &Page) -> Locator {
    page.get_by_test_id("candidate")
}

/// The choice of the DocuSign account whose label contains `name`.
pub fn account_choice(page: &Page, name: &str) -> Locator {
    page.get_by_label(name, false)
}

/// The notice on the wizard's last step that consent is verified.
pub fn wizard_done(page: &Page) -> Locator {
    page.get_by_test_id("wizard-done")
}

/// One result of the setup check, by the check's stable id (`account_settings`,
/// `connect_configuration`, `connect_delivery`, …). A result has no accessible name of its
/// own, so it is found by the `data-check` id the page gives it for exactly this purpose.
pub fn setup_check(page: &Page, id: &str) -> Locator {
    page.get_by_test_id("check-results").locator(format!("[data-check=\"{id}\"]"))
}
