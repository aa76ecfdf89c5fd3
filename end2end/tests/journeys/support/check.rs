//! Provides the assertions: what must be true on a page, each one waiting for it with
//! playwright's auto-retrying `expect` (or the driver's own waiting) instead of sleeping, and
//! failing with what was expected and where.
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

use playwright_rs::{Page, expect, expect_page};

use super::{Browser, find, screenshot};

/// Fails the test with `what` when an auto-waiting assertion timed out.
fn holds(outcome: playwright_rs::Result<()>, what: &str, page: &Page) {
    if let Err(e) = outcome {
        panic!("{what} (at {}): {e}", page.url());
    }
}

// Any page.

/// The current document is hydrated: the wasm took over and buttons work.
pub async fn hydrated(page: &Page) {
    holds(expect(find::body(page)).to_have_attribute("data-hydrated", "true").await, "the page hydrates", page);
}

/// The browser arrives at an address matching the glob `pattern` (`**/wizard`).
pub async fn arrives_at(page: &Page, pattern: &str) {
    let outcome = page.wait_for_url(pattern, None).await;
    if let Err(e) = outcome {
        panic!("the browser arrives at {pattern} (it is at {}): {e}", page.url());
    }
}

/// The address is exactly `url`.
pub async fn address_is(page: &Page, url: &str) {
    holds(expect_page(page).to_have_url(url).await, &format!("the address is {url}"), page);
}

/// The address bar does not contain `fragment`; `why` says what that proves.
pub fn address_lacks(page: &Page, fragment: &str, why: &str) {
    let url = page.url();
    assert!(!url.contains(fragment), "{why}: {url} contains {fragment:?}");
}

/// The page's title (its level-1 heading) is `text`.
pub async fn title_is(page: &Page, text: &str) {
    holds(expect(find::title(page)).to_have_text(text).await, &format!("the title is {text:?}"), page);
}

/// A form-level alert says `text`.
pub async fn alert_says(page: &Page, text: &str) {
    holds(expect(find::alert(page)).to_contain_text(text).await, &format!("an alert says {text:?}"), page);
}

/// The message under the form field `field` says `text`.
pub async fn field_error_says(page: &Page, field: &str, text: &str) {
    holds(expect(find::field_error(page, field)).to_contain_text(text).await, &format!("the {field} field says {text:?}"), page);
}

/// No page error and no `console.error` happened in any page of this browser.
pub fn no_page_errors(browser: &Browser) {
    let errors = browser.errors.lock().expect("lock");
    assert!(errors.is_empty(), "page errors: {errors:?}");
}

// Staff pages.

/// The page shows `text` somewhere.
pub async fn page_shows(page: &Page, text: &str) {
    holds(expect(find::body(page)).to_contain_text(text).await, &format!("the page shows {text:?}"), page);
}

/// The page's text nowhere contains `text` (`why` says what that proves).
pub async fn page_lacks(page: &Page, text: &str, why: &str) {
    let body = find::body(page).inner_text().await.expect("the page's text");
    assert!(!body.contains(text), "{why}: the page at {} still shows it", page.url());
}

/// The header shows `email` as the signed-in staff member.
pub async fn signed_in_staff_is(page: &Page, email: &str) {
    holds(expect(find::whoami(page)).to_have_text(email).await, &format!("{email} is signed in"), page);
}

/// The tenant page is the page of the tenant named `name`.
pub async fn tenant_page_of(page: &Page, name: &str) {
    holds(expect(find::tenant_name(page)).to_contain_text(name).await, &format!("the tenant page is {name:?}'s"), page);
}

/// The tenant page's audit events mention `text`.
pub async fn audit_events_mention(page: &Page, text: &str) {
    holds(expect(find::audit_events(page)).to_contain_text(text).await, &format!("the audit events mention {text:?}"), page);
}

/// The tenants list's table shows `text`.
pub async fn tenant_list_shows(page: &Page, text: &str) {
    holds(expect(find::tenant_table(page)).to_contain_text(text).await, &format!("the tenants list shows {text:?}"), page);
}

/// The tenants list's consent-state filter offers `state` (its wire name) with `count` tenants.
pub async fn state_filter_counts(page: &Page, state: &str, count: u64) {
    holds(expect(find::state_filter(page, state)).to_contain_text(&count.to_string()).await, &format!("the state filter counts {count} {state}"), page);
}

/// No tenant panel (consent, setup check) and no "Run setup check" control shows.
pub async fn no_tenant_panels(page: &Page) {
    for panel in ["consent-panel", "setup-check"] {
        holds(expect(page.get_by_test_id(panel)).to_be_hidden().await, &format!("the {panel} panel is hidden"), page);
    }
    holds(expect(find::button(page, "Run setup check")).to_be_hidden().await, "no setup-check control", page);
}

/// The overview's demo card shows `text`.
pub async fn overview_shows(page: &Page, text: &str) {
    holds(expect(find::overview_card(page, "demo")).to_contain_text(text).await, &format!("the overview shows {text:?}"), page);
}

/// The audit log's table shows `text`.
pub async fn audit_log_shows(page: &Page, text: &str) {
    holds(expect(find::audit_log(page)).to_contain_text(text).await, &format!("the audit log shows {text:?}"), page);
}

/// The tenants list counts exactly `text` ("1 of 1 tenants").
pub async fn tenant_count_is(page: &Page, text: &str) {
    holds(expect(find::tenant_count(page)).to_have_text(text).await, &format!("the tenants list counts {text:?}"), page);
}

/// The tenant's consent state reads exactly `state`.
pub async fn consent_state_is(page: &Page, state: &str) {
    holds(expect(find::consent_state(page)).to_have_text(state).await, &format!("the consent state is {state:?}"), page);
}

/// A newly created invite link is shown.
pub async fn invite_link_shown(page: &Page) {
    holds(expect(find::invite_link(page)).to_be_visible().await, "the invite link is shown", page);
}

/// The tenant's consent is verified, its receipt names `email`, and a system user is recorded.
pub async fn consent_verified_by(page: &Page, email: &str) {
    consent_state_is(page, "Verified").await;
    holds(expect(find::consent_receipt(page)).to_contain_text(email).await, &format!("the receipt names {email}"), page);
    holds(expect(find::system_user(page)).to_be_visible().await, "the system user is shown", page);
}

// Staff pages and the wizard.

/// The system user shown mentions `text` (a user or an account).
pub async fn system_user_mentions(page: &Page, text: &str) {
    holds(expect(find::system_user(page)).to_contain_text(text).await, &format!("the system user mentions {text:?}"), page);
}

// The customer admin's wizard.

/// The wizard says the admin is signed in to DocuSign as `email`.
pub async fn signed_in_to_docusign_as(page: &Page, email: &str) {
    holds(expect(find::signed_in_as(page)).to_contain_text(email).await, &format!("signed in to DocuSign as {email}"), page);
}

/// The wizard advises the consent path `path`.
pub async fn advised_path_is(page: &Page, path: &str) {
    holds(expect(find::path_advice(page)).to_contain_text(path).await, &format!("the wizard advises {path:?}"), page);
}

/// The organization screen's verdict is `verdict` (a wire name: `pending_only`, `covered`, …).
pub async fn organization_verdict_is(page: &Page, verdict: &str) {
    holds(
        expect(find::organization_check(page)).to_have_attribute("data-verdict", verdict).await,
        &format!("the organization screen says {verdict}"),
        page,
    );
}

/// The organization screen shows the DNS TXT record to publish at `host` with `value`.
pub async fn txt_record_shown(page: &Page, host: &str, value: &str) {
    let records = find::txt_records(page);
    holds(expect(records.clone()).to_contain_text(host).await, &format!("a TXT record at {host}"), page);
    holds(expect(records).to_contain_text(value).await, &format!("the TXT value {value}"), page);
}

/// The integration will act as `email`.
pub async fn candidate_is(page: &Page, email: &str) {
    holds(expect(find::candidate(page)).to_contain_text(email).await, &format!("the candidate is {email}"), page);
}

/// The wizard is done: consent is verified.
pub async fn wizard_done(page: &Page) {
    holds(expect(find::wizard_done(page)).to_be_visible().await, "the wizard is done", page);
}

/// The setup check `id` has a result.
pub async fn setup_check_reported(page: &Page, id: &str) {
    holds(expect(find::setup_check(page, id)).to_be_visible().await, &format!("the setup check {id} reports"), page);
}

/// The setup check `id` has the status `status` (`pass`, `fail`, …).
pub async fn setup_check_is(page: &Page, id: &str, status: &str) {
    holds(
        expect(find::setup_check(page, id)).to_have_attribute("data-status", status).await,
        &format!("the setup check {id} is {status}"),
        page,
    );
}

/// Nothing on the page is wider than the viewport (no sideways scrolling): long URLs and ids wrap.
pub async fn fits_the_width(page: &Page) {
    let (scroll, inner): (u32, u32) = page
        .evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]", None::<&()>)
        .await
        .unwrap_or_else(|e| panic!("measure the page at {}: {e}", page.url()));
    if scroll > inner {
        screenshot(page, "failure-too-wide").await;
        panic!("the page is {scroll} px wide in a {inner} px viewport (at {})", page.url());
    }
}

// The in-page confirmation.

/// An in-page confirmation asks `question` (its accessible name), with focus on its Cancel button
/// (the least destructive choice), and no native browser dialog was used.
pub async fn confirmation_asks(page: &Page, question: &str) {
    holds(expect(find::confirmation_asking(page, question)).to_be_visible().await, &format!("an in-page confirmation asks {question:?}"), page);
    holds(expect(find::focused_in_confirmation(page)).to_have_text("Cancel").await, "focus moves into the confirmation, on Cancel", page);
}

/// No confirmation is open, and focus is back on the button named exactly `name` (the one that asked).
pub async fn confirmation_closed_with_focus_on(page: &Page, name: &str) {
    holds(expect(find::confirmation(page)).to_be_hidden().await, "the confirmation closes", page);
    holds(expect(find::focused(page)).to_have_text(name).await, &format!("focus returns to “{name}”"), page);
}

// The DocuSign sandbox.

/// The browser is on the DocuSign sandbox's sign-in page; otherwise saves
/// `failure-at-docusign.png` and fails with the page's address and text.
pub async fn on_docusign_sign_in(page: &Page) {
    if expect(find::title(page)).to_contain_text("Sign in").await.is_err() {
        screenshot(page, "failure-at-docusign").await;
        panic!("not on the DocuSign sign-in page: {} {:?}", page.url(), find::body(page).inner_text().await);
    }
}
