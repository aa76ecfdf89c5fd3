//! Onboarding journeys in headless Chromium against `consent-portal demo` (the real binary wired
//! to the built-in DocuSign sandbox over HTTP): staff create a tenant and an invite; the customer
//! admin redeems it in another browser, signs in on the sandbox's pages, consents (individual or
//! organization), picks the account and verifies; staff then see `verified` with the receipt.
//!
//! Run through `scripts/test.sh` (it builds the site and sets `PLAYWRIGHT_DRIVER_PATH`).

mod support;

use playwright_rs::{Page, expect};
use support::{Browser, Portal};

fn button(page: &Page, name: &str) -> playwright_rs::Locator {
    let mut options = playwright_rs::GetByRoleOptions::default();
    options.name = Some(name.to_owned());
    options.exact = Some(true);
    page.get_by_role(playwright_rs::AriaRole::Button, Some(options))
}

async fn hydrated(page: &Page) {
    expect(page.locator("body")).to_have_attribute("data-hydrated", "true").await.expect("hydrated");
}

/// Staff sign in, create a tenant and an invite; returns the invite link.
async fn staff_invite(b: &Browser, portal: &Portal, slug: &str) -> String {
    let page = &b.page;
    b.open(&format!("{}/login", portal.url)).await;
    page.get_by_label("E-mail", true).fill("config@demo.test", None).await.unwrap();
    page.get_by_label("Password", true).fill("demo-config-password", None).await.unwrap();
    b.button("Sign in").click(None).await.unwrap();
    page.wait_for_url("**/tenants", None).await.unwrap();
    b.open(&format!("{}/tenants/new", portal.url)).await;
    page.get_by_label("Display name", true).fill(&format!("Customer {slug}"), None).await.unwrap();
    page.get_by_label("Slug", true).fill(slug, None).await.unwrap();
    page.get_by_label("Customer contact e-mail", true).fill("it@customer.test", None).await.unwrap();
    b.button("Create tenant").click(None).await.unwrap();
    expect(page.get_by_test_id("consent-state")).to_have_text("Not started").await.unwrap();
    b.button("Create invite link").click(None).await.unwrap();
    expect(page.get_by_test_id("invite-link")).to_be_visible().await.unwrap();
    expect(page.get_by_test_id("consent-state")).to_have_text("Invited").await.unwrap();
    b.screenshot(&format!("onboarding-{slug}-invite")).await;
    page.locator("#invite-link").input_value(None).await.unwrap()
}

/// The customer admin opens the invite in their own browser, presses Start, and signs in with
/// DocuSign as `email`; returns their page on the wizard's path step.
async fn admin_signs_in(b: &Browser, link: &str, email: &str) -> Page {
    let admin = b.other_page().await;
    admin.on_dialog(|dialog| async move { dialog.accept(None).await }).await.unwrap();
    admin.goto(link, None).await.unwrap();
    hydrated(&admin).await;
    button(&admin, "Start").click(None).await.unwrap();
    admin.wait_for_url("**/wizard", None).await.unwrap();
    hydrated(&admin).await;
    assert!(!admin.url().contains("onboard"), "the invite token leaves the address bar");
    button(&admin, "Sign in with DocuSign").click(None).await.unwrap();
    at_docusign(&admin, email).await;
    assert!(!admin.url().contains("code="), "no code stays in the address bar: {}", admin.url());
    admin
}

/// On the sandbox's pages: sign in as `email` and allow, whatever pages it shows.
async fn at_docusign(page: &Page, email: &str) {
    if expect(page.locator("h1")).to_contain_text("Sign in").await.is_err() {
        let shot = page.screenshot(None).await.unwrap_or_default();
        let _ = std::fs::write(support::workspace().join("target/e2e-screenshots/failure-at-docusign.png"), shot);
        panic!("not on the DocuSign sign-in page: {} {:?}", page.url(), page.locator("body").inner_text().await);
    }
    page.get_by_label("Or e-mail address", true).fill(email, None).await.unwrap();
    button(page, "Sign in").click(None).await.unwrap();
    // A consent page follows unless this user already consented to these scopes.
    let allow = button(page, "Allow");
    for _ in 0..50 {
        if page.url().contains("/wizard") {
            break;
        }
        if allow.is_visible().await.unwrap_or(false) {
            allow.click(None).await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    page.wait_for_url("**/wizard", None).await.unwrap();
    hydrated(page).await;
}

async fn staff_sees_verified(b: &Browser, email: &str) {
    b.page.reload(None).await.unwrap();
    b.wait_hydrated().await;
    expect(b.page.get_by_test_id("consent-state")).to_have_text("Verified").await.unwrap();
    expect(b.page.get_by_test_id("consent-receipt")).to_contain_text(email).await.unwrap();
    expect(b.page.get_by_test_id("system-user")).to_be_visible().await.unwrap();
}

#[tokio::test]
async fn a_customer_admin_grants_individual_consent_picks_an_account_and_staff_see_it_verified() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite(&b, &portal, "initech-e2e").await;

    let admin = admin_signs_in(&b, &link, "mia@initech.example").await;
    expect(admin.get_by_test_id("signed-in-as")).to_contain_text("mia@initech.example").await.unwrap();
    expect(admin.get_by_test_id("path-advice")).to_contain_text("Individual consent").await.unwrap();

    button(&admin, "Grant individual consent").click(None).await.unwrap();
    at_docusign(&admin, "mia@initech.example").await;
    expect(admin.get_by_test_id("candidate")).to_contain_text("mia@initech.example").await.unwrap();
    admin.get_by_label("Initech EU", false).check(None).await.unwrap();
    button(&admin, "Use this account").click(None).await.unwrap();
    expect(admin.get_by_test_id("system-user")).to_contain_text("Initech EU").await.unwrap();
    button(&admin, "Verify now").click(None).await.unwrap();
    expect(admin.get_by_test_id("wizard-done")).to_be_visible().await.unwrap();
    let screenshot = admin.screenshot(None).await.unwrap();
    let _ = std::fs::write(support::workspace().join("target/e2e-screenshots/onboarding-individual-done.png"), screenshot);

    staff_sees_verified(&b, "mia@initech.example").await;
    b.screenshot("onboarding-individual-staff").await;
    b.assert_no_page_errors();
    b.close().await;
}

#[tokio::test]
async fn an_organization_admin_consents_for_the_organization_and_names_the_system_user() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite(&b, &portal, "acme-e2e").await;

    let admin = admin_signs_in(&b, &link, "ada.admin@acme.example").await;
    expect(admin.get_by_test_id("path-advice")).to_contain_text("Organization admin consent").await.unwrap();
    button(&admin, "Grant organization consent").click(None).await.unwrap();
    at_docusign(&admin, "ada.admin@acme.example").await;

    // A user outside the claimed domain is refused with the reason, inline.
    admin.get_by_label("System user e-mail or DocuSign user ID", true).fill("gina@globex.example", None).await.unwrap();
    button(&admin, "Look up this user").click(None).await.unwrap();
    expect(admin.get_by_test_id("error-user")).to_contain_text("not an active claimed domain").await.unwrap();
    admin.get_by_label("System user e-mail or DocuSign user ID", true).fill("bob.builder@acme.example", None).await.unwrap();
    button(&admin, "Look up this user").click(None).await.unwrap();
    expect(admin.get_by_test_id("candidate")).to_contain_text("bob.builder@acme.example").await.unwrap();
    button(&admin, "Use this account").click(None).await.unwrap();
    button(&admin, "Verify now").click(None).await.unwrap();
    expect(admin.get_by_test_id("wizard-done")).to_be_visible().await.unwrap();

    staff_sees_verified(&b, "ada.admin@acme.example").await;
    expect(b.page.get_by_test_id("system-user")).to_contain_text("bob.builder@acme.example").await.unwrap();
    b.assert_no_page_errors();
    b.close().await;
}

#[tokio::test]
async fn after_the_wizard_the_admin_fixes_the_failing_settings_and_connect_checks_with_one_click() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite(&b, &portal, "hooli-e2e").await;

    let admin = admin_signs_in(&b, &link, "hank@hooli.example").await;
    button(&admin, "Grant individual consent").click(None).await.unwrap();
    at_docusign(&admin, "hank@hooli.example").await;
    button(&admin, "Use this account").click(None).await.unwrap();
    button(&admin, "Verify now").click(None).await.unwrap();
    expect(admin.get_by_test_id("wizard-done")).to_be_visible().await.unwrap();

    let check = |id: &str| admin.locator(&format!("[data-testid=check-results] li[data-check={id}]"));
    button(&admin, "Run setup check").click(None).await.unwrap();
    expect(check("connect_delivery")).to_be_visible().await.unwrap();
    expect(check("account_settings")).to_have_attribute("data-status", "fail").await.unwrap();
    expect(check("connect_configuration")).to_have_attribute("data-status", "fail").await.unwrap();
    let shot = admin.screenshot(None).await.unwrap();
    let _ = std::fs::write(support::workspace().join("target/e2e-screenshots/setup-check-failing.png"), shot);

    button(&admin, "Apply recommended settings").click(None).await.unwrap();
    expect(check("account_settings")).to_have_attribute("data-status", "pass").await.unwrap();
    button(&admin, "Run setup check").click(None).await.unwrap();
    expect(check("connect_delivery")).to_be_visible().await.unwrap();
    expect(check("connect_configuration")).to_have_attribute("data-status", "fail").await.unwrap();
    button(&admin, "Create the Connect configuration").click(None).await.unwrap();
    expect(check("connect_configuration")).to_have_attribute("data-status", "pass").await.unwrap();
    let mut full = playwright_rs::ScreenshotOptions::default();
    full.full_page = Some(true);
    let shot = admin.screenshot(Some(full)).await.unwrap_or_default();
    let _ = std::fs::write(support::workspace().join("target/e2e-screenshots/setup-check-fixed.png"), shot);
    b.assert_no_page_errors();
    b.close().await;
}
