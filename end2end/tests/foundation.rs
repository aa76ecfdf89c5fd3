//! Foundation journeys in headless Chromium against the real binary: a staff member signs in,
//! is told inline that a slug is bad, fixes it, finds the tenant in the list, opens it and sees
//! its audit event; the list's filter responds (hydration works); no page error happens.
//!
//! Run through `scripts/test.sh` (it builds the site and sets `PLAYWRIGHT_DRIVER_PATH`).

mod support;

use playwright_rs::expect;
use support::{Browser, Portal};

#[tokio::test]
async fn staff_create_a_tenant_after_fixing_a_bad_slug_and_see_its_audit_event() {
    let portal = Portal::start(&[]).await;
    let password = portal.add_staff("config@isv.test", "config_staff").await;
    let b = Browser::launch().await;
    let page = &b.page;

    // A private page sends the visitor to sign-in, keeping the address.
    b.open(&format!("{}/tenants/new", portal.url)).await;
    expect(page.locator("h1")).to_have_text("Sign in").await.unwrap();
    assert!(page.url().ends_with("/login?next=/tenants/new"), "{}", page.url());
    page.get_by_label("E-mail", true).fill("config@isv.test", None).await.unwrap();
    page.get_by_label("Password", true).fill("wrong-password-123", None).await.unwrap();
    b.button("Sign in").click(None).await.unwrap();
    expect(page.locator("[role=alert]")).to_contain_text("Please correct").await.unwrap();
    expect(page.get_by_test_id("error-email")).to_contain_text("do not match an active account").await.unwrap();

    page.get_by_label("Password", true).fill(&password, None).await.unwrap();
    b.button("Sign in").click(None).await.unwrap();
    page.wait_for_url("**/tenants/new", None).await.unwrap();
    expect(page.get_by_test_id("whoami")).to_have_text("config@isv.test").await.unwrap();

    // The browser checks the slug before anything is sent.
    page.get_by_label("Display name", true).fill("Acme Corporation", None).await.unwrap();
    page.get_by_label("Slug", true).fill("Acme Corp", None).await.unwrap();
    page.get_by_label("Customer contact e-mail", true).fill("it@acme.test", None).await.unwrap();
    b.button("Create tenant").click(None).await.unwrap();
    expect(page.get_by_test_id("error-slug"))
        .to_contain_text("Use only lower-case letters, digits and hyphens")
        .await
        .unwrap();
    b.screenshot("foundation-bad-slug").await;

    page.get_by_label("Slug", true).fill("acme-corp", None).await.unwrap();
    b.button("Create tenant").click(None).await.unwrap();
    page.wait_for_url(&format!("{}/tenants/*", portal.url), None).await.unwrap();
    expect(page.get_by_test_id("tenant-name")).to_contain_text("Acme Corporation").await.unwrap();
    expect(page.get_by_test_id("audit-events")).to_contain_text("Tenant created").await.unwrap();
    expect(page.get_by_test_id("audit-events")).to_contain_text("config@isv.test").await.unwrap();
    b.screenshot("foundation-tenant-page").await;

    // The server is the authority: the same slug again is a field error from the server.
    b.open(&format!("{}/tenants/new", portal.url)).await;
    page.get_by_label("Display name", true).fill("Acme Again", None).await.unwrap();
    page.get_by_label("Slug", true).fill("acme-corp", None).await.unwrap();
    page.get_by_label("Customer contact e-mail", true).fill("it@acme.test", None).await.unwrap();
    b.button("Create tenant").click(None).await.unwrap();
    expect(page.get_by_test_id("error-slug")).to_contain_text("already used by another tenant").await.unwrap();

    // The list shows it, and its filter responds to typing (the page is hydrated).
    b.open(&format!("{}/tenants", portal.url)).await;
    expect(page.locator("table")).to_contain_text("acme-corp").await.unwrap();
    expect(page.get_by_test_id("tenant-count")).to_have_text("1 of 1 tenants").await.unwrap();
    page.get_by_label("Filter", true).fill("zzz-no-match", None).await.unwrap();
    expect(page.get_by_test_id("tenant-count")).to_have_text("0 of 1 tenants").await.unwrap();
    b.screenshot("foundation-tenant-list").await;

    b.assert_no_page_errors();
    b.close().await;
}
