//! Proves the customer onboarding in the browser, against `consent-portal demo` (the real binary
//! wired to the built-in DocuSign sandbox over HTTP): staff create a tenant and an invite; the
//! customer admin redeems it in another browser, signs in on the sandbox's pages, consents
//! (individual or organization), picks the account and verifies; staff then see `Verified` with
//! the receipt; the spent link then asks staff for a fresh one; after the wizard, the setup
//! check's offered fixes, each confirmed in an in-page dialog, turn its failures into passes.
//!
//! Run: `source scripts/env.sh; cargo test -p end2end --locked -- --test-threads=1 onboarding::`
//! after `cargo leptos build` (or `./scripts/test.sh`).

use playwright_rs::Page;

use crate::support::{Browser, Portal, action, check, full_page_screenshot, screenshot};

/// Staff sign in, create the tenant `slug` and an invite for it; returns the invite link.
async fn staff_invite_a_new_customer(b: &Browser, portal: &Portal, slug: &str) -> String {
    let page = &b.page;
    action::sign_in_as_demo_config_staff(page, portal).await;
    action::open(page, &portal.at("/tenants/new")).await;
    action::create_tenant(page, &format!("Customer {slug}"), slug, "it@customer.test").await;
    check::consent_state_is(page, "Not started").await;
    action::create_invite_link(page).await;
    check::invite_link_shown(page).await;
    check::consent_state_is(page, "Invited").await;
    screenshot(page, &format!("onboarding-{slug}-invite")).await;
    action::read_invite_link(page).await
}

/// The customer admin opens the invite in their own browser, presses Start, and signs in with
/// DocuSign as `email` (a member of an organization when `organization_member`: then they also
/// allow the portal to read it); returns their page on the wizard's path step.
async fn admin_starts_the_wizard_as(b: &Browser, link: &str, email: &str, organization_member: bool) -> Page {
    let admin = b.other_page().await;
    action::start_wizard(&admin, link).await;
    check::address_lacks(&admin, "onboard", "the invite token leaves the address bar");
    if organization_member {
        action::sign_in_with_docusign_as_organization_member(&admin, email, true).await;
    } else {
        action::sign_in_with_docusign(&admin, email).await;
    }
    check::address_lacks(&admin, "code=", "no code stays in the address bar");
    admin
}

#[tokio::test]
async fn individual_consent_on_the_chosen_account_shows_as_verified_to_staff() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite_a_new_customer(&b, &portal, "initech-e2e").await;

    let admin = admin_starts_the_wizard_as(&b, &link, "mia@initech.example", false).await;
    check::signed_in_to_docusign_as(&admin, "mia@initech.example").await;
    check::advised_path_is(&admin, "Individual consent").await;

    action::grant_individual_consent(&admin, "mia@initech.example").await;
    check::candidate_is(&admin, "mia@initech.example").await;
    // Mia is only a member of Initech EU: the wizard says so before pinning it, and takes it
    // once she ticks "Use it anyway".
    action::choose_account(&admin, "Initech EU").await;
    action::press(&admin, "Use this account").await;
    check::field_error_says(&admin, "account_id", "member, not an administrator").await;
    screenshot(&admin, "member-account-warning").await;
    action::tick(&admin, "Use it anyway").await;
    action::press(&admin, "Use this account").await;
    check::system_user_mentions(&admin, "Initech EU").await;
    action::press(&admin, "Verify now").await;
    check::wizard_done(&admin).await;
    screenshot(&admin, "onboarding-individual-done").await;

    action::reload(&b.page).await;
    check::consent_verified_by(&b.page, "mia@initech.example").await;
    screenshot(&b.page, "onboarding-individual-staff").await;
    // The consent history is the page's one timeline: the consent panel's link opens it on the
    // consent events (in the browser, without a full page load).
    action::follow_test_id(&b.page, "history-consent").await;
    check::arrives_at(&b.page, "**timeline=consent*").await;
    check::audit_events_mention(&b.page, "Consented (not yet verified) → Verified").await;

    // The ISV's backend acts for the new customer: an administrator creates an API key in the
    // portal, and the key gets a DocuSign token for the customer's system user and account.
    let isv = b.other_page().await;
    action::sign_in_as_demo_admin(&isv, &portal).await;
    action::open(&isv, &portal.at("/settings/api")).await;
    let key = action::create_api_client(&isv, "Envelope service", &["tokens:issue", "tenants:read"]).await;
    assert!(key.starts_with("cpk_"), "a key: {key}");
    screenshot(&isv, "api-client-created").await;
    action::reload(&isv).await;
    check::page_lacks(&isv, &key, "the key is shown only once").await;
    check::page_shows(&isv, "Envelope service").await;
    let http = reqwest::Client::new();
    let token = http.post(portal.at("/api/v1/tenants/initech-e2e/access-token")).bearer_auth(&key).send().await.expect("the API answers");
    assert_eq!(token.status(), reqwest::StatusCode::OK);
    let token: serde_json::Value = token.json().await.expect("JSON");
    assert_eq!(token["account_id"], "b1a5decb-c675-4548-9317-41c1c26313d5", "Initech EU, the account Mia chose: {token}");
    assert!(token["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let tenant: serde_json::Value = http.get(portal.at("/api/v1/tenants/initech-e2e")).bearer_auth(&key).send().await.expect("the API answers").json().await.expect("JSON");
    assert_eq!(tenant["consent"]["state"], "verified", "{tenant}");
    assert_eq!(tenant["system_user"]["email"], "mia@initech.example");

    // Days later, on another computer, the spent link is the way back in: it asks for a fresh
    // link, and staff see the request on the tenant page.
    let later = b.other_page().await;
    action::open(&later, &link).await;
    check::alert_says(&later, "already used").await;
    action::press(&later, "Ask for a new link").await;
    check::page_shows(&later, "Request sent.").await;
    screenshot(&later, "spent-link-request-sent").await;
    action::reload(&b.page).await;
    check::page_shows(&b.page, "The customer asked for a new invite link").await;
    check::no_page_errors(&b);
    b.close().await;
}

#[tokio::test]
async fn organization_consent_accepts_only_a_system_user_of_a_claimed_domain_and_shows_as_verified_to_staff() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite_a_new_customer(&b, &portal, "acme-e2e").await;

    let admin = admin_starts_the_wizard_as(&b, &link, "ada.admin@acme.example", true).await;
    check::organization_verdict_is(&admin, "covered").await;
    check::advised_path_is(&admin, "Organization admin consent").await;
    action::grant_organization_consent(&admin, "ada.admin@acme.example").await;

    // A user outside the claimed domain is refused with the reason, inline.
    action::look_up_system_user(&admin, "gina@globex.example").await;
    check::field_error_says(&admin, "user", "not an active claimed domain").await;
    action::look_up_system_user(&admin, "bob.builder@acme.example").await;
    check::candidate_is(&admin, "bob.builder@acme.example").await;
    action::press(&admin, "Use this account").await;
    action::press(&admin, "Verify now").await;
    check::wizard_done(&admin).await;

    action::reload(&b.page).await;
    check::consent_verified_by(&b.page, "ada.admin@acme.example").await;
    check::system_user_mentions(&b.page, "bob.builder@acme.example").await;
    check::no_page_errors(&b);
    b.close().await;
}

#[tokio::test]
async fn an_org_admin_whose_domain_is_pending_sees_the_txt_record_before_any_consent_and_is_verified_with_individual_consent() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite_a_new_customer(&b, &portal, "umbrella-e2e").await;

    let admin = admin_starts_the_wizard_as(&b, &link, "uma@umbrella.example", true).await;
    // Before any consent: the organization's only domain is pending, with its TXT record.
    check::organization_verdict_is(&admin, "pending_only").await;
    check::txt_record_shown(&admin, "umbrella.example", "docusign=9f8e7d6c5b4a39281706f5e4d3c2b1a0").await;
    check::advised_path_is(&admin, "Individual consent").await;
    screenshot(&admin, "onboarding-pending-domain").await;
    action::reload(&b.page).await;
    check::consent_state_is(&b.page, "In progress").await;

    // From the same screen: individual consent, then the usual steps to verified.
    action::grant_individual_consent(&admin, "uma@umbrella.example").await;
    check::candidate_is(&admin, "uma@umbrella.example").await;
    action::press(&admin, "Use this account").await;
    action::press(&admin, "Verify now").await;
    check::wizard_done(&admin).await;

    action::reload(&b.page).await;
    check::consent_verified_by(&b.page, "uma@umbrella.example").await;
    check::no_page_errors(&b);
    b.close().await;
}

#[tokio::test]
async fn after_the_wizard_each_failing_setup_check_passes_once_the_admin_applies_its_offered_fix() {
    let portal = Portal::demo().await;
    let b = Browser::launch().await;
    let link = staff_invite_a_new_customer(&b, &portal, "hooli-e2e").await;

    let admin = admin_starts_the_wizard_as(&b, &link, "hank@hooli.example", false).await;
    action::grant_individual_consent(&admin, "hank@hooli.example").await;
    action::press(&admin, "Use this account").await;
    action::press(&admin, "Verify now").await;
    check::wizard_done(&admin).await;

    action::press(&admin, "Run setup check").await;
    check::setup_check_reported(&admin, "connect_delivery").await;
    check::setup_check_is(&admin, "account_settings", "fail").await;
    check::setup_check_is(&admin, "connect_configuration", "fail").await;
    screenshot(&admin, "setup-check-failing").await;
    // On a phone: the evidence's long listener URL wraps instead of widening the page, and the
    // confirmation below fits too.
    action::narrow_to(&admin, 390).await;
    check::fits_the_width(&admin).await;

    // A fix asks first, in the page: Escape cancels and changes nothing, focus goes back to the
    // button; only the dialog's own button applies it.
    action::press(&admin, "Apply recommended settings").await;
    check::confirmation_asks(&admin, "Apply recommended settings?").await;
    screenshot(&admin, "fix-confirmation").await;
    action::press_escape(&admin).await;
    check::confirmation_closed_with_focus_on(&admin, "Apply recommended settings").await;
    check::setup_check_is(&admin, "account_settings", "fail").await;
    action::press(&admin, "Apply recommended settings").await;
    check::confirmation_asks(&admin, "Apply recommended settings?").await;
    action::confirm(&admin, "Apply recommended settings").await;
    check::setup_check_is(&admin, "account_settings", "pass").await;
    action::press(&admin, "Run setup check").await;
    check::setup_check_reported(&admin, "connect_delivery").await;
    check::setup_check_is(&admin, "connect_configuration", "fail").await;
    action::press(&admin, "Create the Connect configuration").await;
    action::confirm(&admin, "Create the Connect configuration").await;
    check::setup_check_is(&admin, "connect_configuration", "pass").await;
    full_page_screenshot(&admin, "setup-check-fixed").await;
    check::no_page_errors(&b);
    b.close().await;
}
