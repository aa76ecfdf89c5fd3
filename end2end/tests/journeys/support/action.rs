//! Provides the user verbs: what staff and customer admins do in the browser (open a page, sign
//! in, create a tenant, create an invite, start the wizard, sign in with DocuSign as a sandbox
//! user, grant consent, pick an account), each built on `find`'s locators. An action only acts
//! and waits for the page it leads to; what must then be true is `check`'s business.
//!
//! Used by every journey; run them with `cargo test -p end2end --locked -- --test-threads=1`
//! after `source scripts/env.sh` and `cargo leptos build` (or simply `./scripts/test.sh`).

use playwright_rs::Page;

use super::{Portal, check, find, portal::{DEMO_ADMIN, DEMO_CONFIG_STAFF}};

// Any page.

/// Opens `url` and waits until the page is hydrated (interactive).
pub async fn open(page: &Page, url: &str) {
    page.goto(url, None).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    check::hydrated(page).await;
}

/// Reloads the page and waits until it is hydrated again.
pub async fn reload(page: &Page) {
    page.reload(None).await.unwrap_or_else(|e| panic!("reload {}: {e}", page.url()));
    check::hydrated(page).await;
}

/// Follows the link named exactly `name`.
pub async fn follow(page: &Page, name: &str) {
    find::link(page, name).click(None).await.unwrap_or_else(|e| panic!("follow {name:?} at {}: {e}", page.url()));
}

/// Follows the link the page marks with `test_id` (a number on the overview).
pub async fn follow_test_id(page: &Page, test_id: &str) {
    find::marked(page, test_id).click(None).await.unwrap_or_else(|e| panic!("follow {test_id} at {}: {e}", page.url()));
}

/// Presses the button named exactly `name`.
pub async fn press(page: &Page, name: &str) {
    find::button(page, name).click(None).await.unwrap_or_else(|e| panic!("press {name:?} at {}: {e}", page.url()));
}

/// Types `value` into the field labelled exactly `label`, replacing what was there.
pub async fn fill(page: &Page, label: &str, value: &str) {
    find::field(page, label).fill(value, None).await.unwrap_or_else(|e| panic!("fill {label:?} at {}: {e}", page.url()));
}

/// Resizes the viewport to `width` CSS pixels (a phone is 390), 844 high.
pub async fn narrow_to(page: &Page, width: u32) {
    page.set_viewport_size(playwright_rs::Viewport { width, height: 844 }).await.unwrap_or_else(|e| panic!("resize to {width} px: {e}"));
}

/// Ticks the checkbox whose label contains `text`.
pub async fn tick(page: &Page, text: &str) {
    find::checkbox(page, text).check(None).await.unwrap_or_else(|e| panic!("tick {text:?} at {}: {e}", page.url()));
}

/// In the open in-page confirmation: presses its button named exactly `name` (the action itself).
pub async fn confirm(page: &Page, name: &str) {
    find::confirmation_button(page, name).click(None).await.unwrap_or_else(|e| panic!("confirm {name:?} at {}: {e}", page.url()));
}

/// Presses Escape on the keyboard (an open confirmation cancels).
pub async fn press_escape(page: &Page) {
    page.keyboard().press("Escape", None).await.unwrap_or_else(|e| panic!("press Escape at {}: {e}", page.url()));
}

// Staff.

/// On the sign-in page: types the e-mail address and the password, and presses "Sign in".
pub async fn sign_in(page: &Page, email: &str, password: &str) {
    fill(page, "E-mail", email).await;
    fill(page, "Password", password).await;
    press(page, "Sign in").await;
}

/// Signs in as the demo's configuration staff member and waits for the tenants list.
pub async fn sign_in_as_demo_config_staff(page: &Page, portal: &Portal) {
    let (email, password) = DEMO_CONFIG_STAFF;
    open(page, &portal.at("/login")).await;
    sign_in(page, email, password).await;
    check::arrives_at(page, "**/tenants").await;
}

/// Signs in as the demo's administrator and waits for the tenants list.
pub async fn sign_in_as_demo_admin(page: &Page, portal: &Portal) {
    let (email, password) = DEMO_ADMIN;
    open(page, &portal.at("/login")).await;
    sign_in(page, email, password).await;
    check::arrives_at(page, "**/tenants").await;
}

/// On the API clients page: creates a client named `name` for the demo environment with the
/// scopes whose labels contain each of `scopes`, and returns the key shown once.
pub async fn create_api_client(page: &Page, name: &str, scopes: &[&str]) -> String {
    fill(page, "Name", name).await;
    find::checkbox(page, "Demo").check(None).await.expect("tick the demo environment");
    for s in scopes {
        find::checkbox(page, s).check(None).await.unwrap_or_else(|e| panic!("tick the scope {s}: {e}"));
    }
    press(page, "Create API client").await;
    let key = find::new_api_key(page);
    key.wait_for(None).await.expect("the new key is shown");
    key.inner_text().await.expect("the key's text")
}

/// On the new-tenant form: fills it in and presses "Create tenant".
pub async fn create_tenant(page: &Page, display_name: &str, slug: &str, contact_email: &str) {
    fill(page, "Display name", display_name).await;
    fill(page, "Slug", slug).await;
    fill(page, "Customer contact e-mail", contact_email).await;
    press(page, "Create tenant").await;
}

/// On the new-tenant form after a refusal: replaces the slug and presses "Create tenant" again.
pub async fn correct_slug(page: &Page, slug: &str) {
    fill(page, "Slug", slug).await;
    press(page, "Create tenant").await;
}

/// On the tenants list: types `text` into the filter.
pub async fn filter_tenants(page: &Page, text: &str) {
    fill(page, "Filter", text).await;
}

/// On the tenants list: chooses the consent-state filter `state` (a wire name).
pub async fn choose_state(page: &Page, state: &str) {
    find::state_filter(page, state).click(None).await.unwrap_or_else(|e| panic!("choose the state {state} at {}: {e}", page.url()));
}

/// On the tenants list: presses "Export CSV" and returns the downloaded file's text.
pub async fn download_export(page: &Page) -> String {
    let waiter = page.expect_download(Some(60_000.0)).await.expect("a download waiter");
    find::link(page, "Export CSV").click(None).await.unwrap_or_else(|e| panic!("press Export CSV at {}: {e}", page.url()));
    let download = waiter.wait().await.expect("the export downloads");
    let path = std::env::temp_dir().join(format!("consent-portal-export-{}.csv", std::process::id()));
    download.save_as(&path).await.expect("the download is saved");
    let text = std::fs::read_to_string(&path).expect("the saved export");
    let _ = std::fs::remove_file(&path);
    text
}

/// On a tenant's page: presses "Create invite link".
pub async fn create_invite_link(page: &Page) {
    press(page, "Create invite link").await;
}

/// On a tenant's page after creating an invite: the link, as staff would copy it.
pub async fn read_invite_link(page: &Page) -> String {
    find::invite_link(page).input_value(None).await.expect("the invite link")
}

// The customer admin.

/// Opens the invite `link`, presses "Start" and waits for the hydrated wizard.
pub async fn start_wizard(page: &Page, link: &str) {
    page.goto(link, None).await.unwrap_or_else(|e| panic!("open the invite link: {e}"));
    check::hydrated(page).await;
    press(page, "Start").await;
    check::arrives_at(page, "**/wizard").await;
    check::hydrated(page).await;
}

/// In the wizard: presses "Sign in with DocuSign" and signs in on the sandbox as `email`.
pub async fn sign_in_with_docusign(page: &Page, email: &str) {
    press(page, "Sign in with DocuSign").await;
    sign_in_at_docusign(page, email).await;
}

/// In the wizard: presses "Sign in with DocuSign" as `email`, a member of a DocuSign
/// organization. After the sign-in DocuSign asks once more, for the read consent with which the
/// wizard reads the organization's claimed domains before any consent; `allow_read` answers it.
/// DocuSign remembers the sign-in, so that second request goes straight to its consent page.
pub async fn sign_in_with_docusign_as_organization_member(page: &Page, email: &str, allow_read: bool) {
    press(page, "Sign in with DocuSign").await;
    check::on_docusign_sign_in(page).await;
    fill(page, "Or e-mail address", email).await;
    press(page, "Sign in").await;
    // Each journey's sandbox is fresh: the sign-in's own scope is not consented yet.
    press(page, "Allow").await;
    check::arrives_at(page, "**organization_read**").await;
    check::page_shows(page, &format!("<{email}>")).await;
    press(page, if allow_read { "Allow" } else { "Deny" }).await;
    check::arrives_at(page, "**/wizard").await;
    check::hydrated(page).await;
}

/// In the wizard: chooses individual consent and gives it on the sandbox as `email`, who signed in
/// to DocuSign from the wizard (DocuSign remembers the sign-in; only the wizard's own sign-in
/// asks for credentials again, with `prompt=login`).
pub async fn grant_individual_consent(page: &Page, email: &str) {
    press(page, "Grant individual consent").await;
    consent_at_docusign(page, email).await;
}

/// In the wizard: chooses organization admin consent and gives it on the sandbox as `email`, who
/// signed in to DocuSign from the wizard.
pub async fn grant_organization_consent(page: &Page, email: &str) {
    press(page, "Grant organization consent").await;
    consent_at_docusign(page, email).await;
}

/// On the DocuSign sandbox's pages: signs in as the sandbox user `email`, then as
/// [`consent_at_docusign`].
pub async fn sign_in_at_docusign(page: &Page, email: &str) {
    check::on_docusign_sign_in(page).await;
    fill(page, "Or e-mail address", email).await;
    press(page, "Sign in").await;
    consent_at_docusign(page, email).await;
}

/// On the DocuSign sandbox's pages, signed in there as `email`: presses "Allow" if a consent page
/// shows (it does unless this user already consented to these scopes) after checking it names
/// `email`; returns once back on the hydrated wizard.
pub async fn consent_at_docusign(page: &Page, email: &str) {
    let allow = find::button(page, "Allow");
    allow
        .or_(&find::wizard(page))
        .wait_for(None)
        .await
        .unwrap_or_else(|e| panic!("neither DocuSign's consent page nor the wizard after signing in as {email}: {e}"));
    if allow.is_visible().await.unwrap_or(false) {
        check::page_shows(page, &format!("<{email}>")).await;
        allow.click(None).await.unwrap_or_else(|e| panic!("press \"Allow\" at {}: {e}", page.url()));
    }
    check::arrives_at(page, "**/wizard").await;
    check::hydrated(page).await;
}

/// In the wizard: asks for the system user `who` (an e-mail address or a DocuSign user id).
pub async fn look_up_system_user(page: &Page, who: &str) {
    fill(page, "System user e-mail or DocuSign user ID", who).await;
    press(page, "Look up this user").await;
}

/// In the wizard: picks the DocuSign account whose label contains `name`.
pub async fn choose_account(page: &Page, name: &str) {
    find::account_choice(page, name).check(None).await.unwrap_or_else(|e| panic!("choose the account {name:?}: {e}"));
}
