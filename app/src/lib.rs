//! Consent Portal UI: the application shell, routes and pages, the DTOs shared by browser and
//! server, and the server functions (thin: decode, authorize, call a backend port).
#![recursion_limit = "256"]

pub mod api_clients;
pub mod audit;
pub mod auth;
pub mod checks;
pub mod components;
pub mod environment;
pub mod error;
pub mod onboarding;
pub mod overrides;
pub mod policy;
pub mod security;
pub mod staff;
pub mod tenants;
pub mod validation;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::{AppFrame, NotFound};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="referrer" content="no-referrer" />
                // No favicon request (and no 404 for it).
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes and the frame around every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    security::set_csp_for_page();
    // Marks the document once the wasm has taken over, so people's tools and browser tests can
    // tell a server-rendered page from an interactive one.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/consent-portal.css" />
        <Title text="Consent Portal" />
        <Router>
            <AppFrame>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=|| view! { <Redirect path="/tenants" /> } />
                    <Route path=path!("/login") view=auth::views::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/tenants") view=tenants::views::TenantListPage ssr=SsrMode::Async />
                    <Route path=path!("/tenants/new") view=tenants::views::TenantNewPage ssr=SsrMode::Async />
                    <Route path=path!("/tenants/:id") view=tenants::views::TenantPage ssr=SsrMode::Async />
                    <Route path=path!("/tenants/:id/edit") view=tenants::views::TenantEditPage ssr=SsrMode::Async />
                    <Route path=path!("/staff") view=staff::views::StaffPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/webhooks") view=webhooks::views::WebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=audit::views::AuditLogPage ssr=SsrMode::Async />
                    <Route path=path!("/settings/api") view=api_clients::views::ApiClientsPage ssr=SsrMode::Async />
                    <Route path=path!("/overview") view=tenants::overview::OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("/onboard/:token") view=onboarding::wizard_views::InviteLandingPage ssr=SsrMode::Async />
                    <Route path=path!("/wizard") view=onboarding::wizard_views::WizardPage ssr=SsrMode::Async />
                </Routes>
            </AppFrame>
        </Router>
    }
}
