//! Proves the foundation in the browser, against `consent-portal serve`: a private page sends a
//! visitor to sign-in and back; a wrong password is refused inline; a bad slug is refused by the
//! browser before anything is sent, a slug already in use by the server; the tenant created is
//! audited with who created it; the tenants list shows it and its filter responds (the page is
//! hydrated); the edit form hydrates on a full load and saves; the list's CSV export downloads and
//! parses; archiving asks in an in-page confirmation; no page error happens.
//!
//! Run: `source scripts/env.sh; cargo test -p end2end --locked -- --test-threads=1 foundation::`
//! after `cargo leptos build` (or `./scripts/test.sh`).

use crate::support::{Browser, Portal, action, check, screenshot};

#[tokio::test]
async fn only_signed_in_staff_create_a_tenant_and_only_with_a_valid_unused_slug_and_the_creation_is_audited() {
    let portal = Portal::start(&[]).await;
    let password = portal.add_staff("config@isv.test", "config_staff").await;
    let b = Browser::launch().await;
    let page = &b.page;

    // A private page sends the visitor to sign-in, keeping the address.
    action::open(page, &portal.at("/tenants/new")).await;
    check::title_is(page, "Sign in").await;
    check::address_is(page, &portal.at("/login?next=/tenants/new")).await;
    action::sign_in(page, "config@isv.test", "wrong-password-123").await;
    check::alert_says(page, "Please correct").await;
    check::field_error_says(page, "email", "do not match an active account").await;

    action::sign_in(page, "config@isv.test", &password).await;
    check::arrives_at(page, "**/tenants/new").await;
    check::signed_in_staff_is(page, "config@isv.test").await;

    // The browser checks the slug before anything is sent.
    action::create_tenant(page, "Acme Corporation", "Acme Corp", "it@acme.test").await;
    check::field_error_says(page, "slug", "Use only lower-case letters, digits and hyphens").await;
    screenshot(page, "foundation-bad-slug").await;

    action::correct_slug(page, "acme-corp").await;
    check::arrives_at(page, &portal.at("/tenants/*")).await;
    check::tenant_page_of(page, "Acme Corporation").await;
    // Read once the tenant page shows (the glob above also matches `/tenants/new` itself).
    let tenant_page = page.url();
    check::audit_events_mention(page, "Tenant created").await;
    check::audit_events_mention(page, "config@isv.test").await;

    // The full audit log of the tenant says what the creation set, and who did it.
    action::follow(page, "Full audit log").await;
    check::arrives_at(page, "**/audit?tenant=*").await;
    check::audit_log_shows(page, "slug: acme-corp").await;
    check::audit_log_shows(page, "config@isv.test").await;
    screenshot(page, "foundation-audit-log").await;
    action::open(page, &tenant_page).await;
    screenshot(page, "foundation-tenant-page").await;

    // The server is the authority: the same slug again is a field error from the server.
    action::open(page, &portal.at("/tenants/new")).await;
    action::create_tenant(page, "Acme Again", "acme-corp", "it@acme.test").await;
    check::field_error_says(page, "slug", "already used by another tenant").await;

    // The list shows it, and its filter responds to typing (the page is hydrated).
    action::open(page, &portal.at("/tenants")).await;
    check::tenant_list_shows(page, "acme-corp").await;
    check::tenant_count_is(page, "1 of 1 tenants").await;
    action::filter_tenants(page, "zzz-no-match").await;
    check::tenant_count_is(page, "0 of 1 tenants").await;
    // The filter reads only this page, so an empty result points to the search of every tenant.
    check::page_shows(page, "No tenant on this page matches “zzz-no-match”. Search all tenants").await;
    screenshot(page, "foundation-tenant-list").await;

    // The consent-state filter counts it as not started; choosing "Verified" lists nothing.
    check::state_filter_counts(page, "not_started", 1).await;
    check::state_filter_counts(page, "verified", 0).await;
    action::choose_state(page, "verified").await;
    check::arrives_at(page, "**/tenants?state=verified").await;
    check::tenant_count_is(page, "No tenant matches. Show all tenants").await;

    // The edit form hydrates on a full load (it once panicked there) and saves.
    action::open(page, &format!("{tenant_page}/edit")).await;
    action::fill(page, "Display name", "Acme Corporation Ltd").await;
    action::press(page, "Save changes").await;
    check::arrives_at(page, &tenant_page).await;
    check::tenant_page_of(page, "Acme Corporation Ltd").await;

    // The list's export arrives as a download and parses as CSV with the tenant in it.
    action::open(page, &portal.at("/tenants?q=acme")).await;
    let csv = action::download_export(page).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().get(2), Some("slug"), "{csv}");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV row")).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!((&rows[0][1], &rows[0][2]), ("Acme Corporation Ltd", "acme-corp"));

    // The overview counts the tenant; its "needs attention" number opens exactly that list.
    action::open(page, &portal.at("/overview")).await;
    check::overview_shows(page, "Not started").await;
    screenshot(page, "foundation-overview").await;
    action::follow_test_id(page, "needs-attention-demo").await;
    check::arrives_at(page, "**/tenants?state=needs_attention&env=demo").await;
    check::tenant_count_is(page, "No tenant matches. Show all tenants").await;

    // Archiving asks first, in the page (no browser dialog); the dialog's own button archives.
    action::open(page, &tenant_page).await;
    action::press(page, "Archive").await;
    check::confirmation_asks(page, "Archive this tenant?").await;
    action::confirm(page, "Archive").await;
    check::page_shows(page, "Restore").await;

    // A tenant that does not exist is "not found", with no panel or control of a tenant beside it.
    action::open(page, &portal.at("/tenants/00000000-0000-4000-8000-000000000000")).await;
    check::alert_says(page, "not found").await;
    check::no_tenant_panels(page).await;

    check::no_page_errors(&b);
    b.close().await;
}
