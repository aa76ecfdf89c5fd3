//! The HTTP surface: the axum router with the Leptos app, server functions, static files and
//! plain routes, wrapped in the middleware that every request passes (request id, tracing, body
//! limit, compression, security headers, cross-site request refusal, session, access gate).

pub mod connect;
pub mod exports;
pub mod middleware;
pub mod oauth;

use std::sync::Arc;
use std::time::Duration;

use app::auth::api::AuthPort;
use app::onboarding::api::OnboardingPort;
use app::security::FormActionOrigins;
use app::staff::api::StaffPort;
use app::tenants::api::TenantsPort;
use app::{App, shell};
use axum::Router;
use axum::extract::FromRef;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::Portal;

/// The largest request body accepted (forms and server-function calls are small).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub portal: Arc<Portal>,
}

/// Leptos options for a site whose built files (`pkg/`) are under `site_root`.
pub fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("consent-portal")
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The portal's complete router.
pub fn build_router(portal: Arc<Portal>, leptos_options: LeptosOptions) -> Router {
    let state = AppState { leptos_options: leptos_options.clone(), portal: portal.clone() };
    let context = {
        let portal = portal.clone();
        let form_actions = FormActionOrigins(portal.account_server_origins());
        move || {
            provide_context(form_actions.clone());
            provide_context::<Arc<dyn OnboardingPort>>(portal.clone());
            provide_context::<Arc<dyn app::checks::api::ChecksPort>>(portal.clone());
            provide_context::<Arc<dyn AuthPort>>(portal.clone());
            provide_context::<Arc<dyn TenantsPort>>(portal.clone());
            provide_context::<Arc<dyn StaffPort>>(portal.clone());
            provide_context::<Arc<dyn app::audit::api::AuditPort>>(portal.clone());
            provide_context::<Arc<dyn app::api_clients::api::ApiClientsPort>>(portal.clone());
            provide_context::<Arc<dyn app::webhooks::api::WebhooksPort>>(portal.clone());
            provide_context::<Arc<dyn app::overrides::api::OverridesPort>>(portal.clone());
            leptos::nonce::provide_nonce();
        }
    };
    let app_shell = {
        let options = leptos_options.clone();
        move || shell(options.clone())
    };
    let not_found = leptos_axum::render_app_async_with_context(context.clone(), app_shell.clone());
    let pkg_dir = std::path::Path::new(leptos_options.site_root.as_ref()).join("pkg");
    let static_files = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=300"),
        ))
        .service(ServeDir::new(pkg_dir).precompressed_br().precompressed_gzip());

    // Pages, server functions and the OAuth routes: sessions, the cross-site refusal, the access
    // gate and the small body limit of forms.
    let app_routes = Router::new()
        .route("/oauth/start", axum::routing::post(oauth::start))
        .route("/oauth/callback/{env}", get(oauth::callback))
        .route("/tenants/export.csv", get(exports::tenants))
        .route("/tenants/receipts.csv", get(exports::receipts))
        .route("/audit/export.csv", get(exports::audit))
        .leptos_routes_with_context(&state, route_list(), context, app_shell)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(middleware::access_gate))
        .layer(axum::middleware::from_fn_with_state(portal.clone(), middleware::attach_request_ctx))
        .layer(axum::middleware::from_fn_with_state(portal.config.clone(), middleware::refuse_cross_site))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        // A bulkhead: rendering a page is mostly CPU on the runtime's few worker threads, and 32
        // rendering at once queued every other request behind them (bench-pages, 100,000
        // tenants, 2 cores: `/healthz` p99 beside the tenant page 18 ms on SQLite and 27 ms on
        // PostgreSQL without it, 11 and 14 ms at eight at once). Past the limit requests wait
        // here, holding no connection, and the routes merged beside these answer at once.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(portal.config.page_concurrency as usize));
    // DocuSign's Connect messages: authenticated by their signature, and may carry documents.
    let connect_routes = Router::new()
        .route("/connect/{tenant_id}", axum::routing::post(connect::receive))
        .layer(RequestBodyLimitLayer::new(connect::CONNECT_BODY_LIMIT_BYTES));
    // Outermost last: every answer, including a 408 from the timeout and a 413 from a body
    // limit, passes the security headers.
    // The integration API: API keys, never sessions; no cookies, so no cross-site refusal.
    let api_routes = Router::new().nest("/api/v1", crate::isv_api::router(portal.clone())).layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES));
    Router::new()
        .route("/healthz", get(health))
        .merge(api_routes)
        .nest_service("/pkg", static_files)
        .merge(connect_routes)
        .merge(app_routes)
        .layer(CompressionLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(u64::from(portal.config.request_timeout_seconds)),
        ))
        .layer(axum::middleware::from_fn_with_state(portal.config.clone(), middleware::security_headers))
        .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
        .layer(axum::middleware::from_fn(middleware::request_id))
        .with_state(state)
}

/// The app's routes, generated once per process.
///
/// Generating them renders the app once with resource loading suppressed through a
/// process-global flag in leptos_server 0.8 (`SuppressResourceLoad`): while it is set, every
/// `Resource` first polled on any thread parks forever (upstream leptos issue #4773). Building a
/// second router while a page renders (tests build one router each, in parallel) therefore hung
/// that page until the request timeout. Generating the list once, before any router exists,
/// means no page can render during the generation.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::LazyLock::new(|| generate_route_list(App));
    ROUTES.clone()
}

/// Liveness and database reachability. Public.
async fn health(axum::extract::State(portal): axum::extract::State<Arc<Portal>>) -> impl IntoResponse {
    match portal.db.ping().await {
        Ok(()) => (http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
