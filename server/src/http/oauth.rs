//! The wizard's plain OAuth routes: `POST /oauth/start` (invite session only) sends the browser
//! to DocuSign; `GET /oauth/callback/{demo|production}` completes the round trip on that
//! environment's own redirect URI and always answers with a redirect to the clean `/wizard`
//! address, so no code or state stays in the history or a Referer.

use std::sync::Arc;

use app::ssr::RequestCtx;
use app::environment::Environment;
use app::onboarding::model::{Notice, NoticeKind};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use http::StatusCode;
use serde::Deserialize;

use crate::onboarding::callback::{self, CallbackQuery, Purpose};
use crate::onboarding::records;
use crate::state::Portal;

/// The form of the wizard's "Sign in with DocuSign" and consent buttons.
#[derive(Debug, Deserialize)]
pub struct StartForm {
    pub purpose: String,
}

fn session_ended() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Session ended</title>\
             <link rel=\"stylesheet\" href=\"/pkg/consent-portal.css\"></head><body><main><section class=\"panel narrow\">\
             <h1>Your wizard session has ended</h1><p>Open the invite link you received again to continue, \
             or ask the person who sent it for a new one.</p></section></main></body></html>",
        ),
    )
        .into_response()
}

/// Starts an OAuth round trip for the invite session and redirects to DocuSign.
pub async fn start(State(portal): State<Arc<Portal>>, Extension(ctx): Extension<RequestCtx>, Form(form): Form<StartForm>) -> Response {
    let Some(invitee) = ctx.invitee.clone() else { return session_ended() };
    let Some(purpose) = Purpose::parse(&form.purpose) else {
        return (StatusCode::BAD_REQUEST, "unknown purpose").into_response();
    };
    let result = async {
        let env = crate::tenants::environment_of(&portal.db, invitee.tenant_id).await?;
        let Some(deps) = portal.deps(env) else {
            let notice = Notice {
                kind: NoticeKind::Error,
                title: "This DocuSign environment is not configured.".into(),
                message: "Please tell the person who invited you.".into(),
                evidence: Vec::new(),
            };
            records::notify(&portal.db, &invitee.session_hash, invitee.tenant_id, env, notice).await?;
            return Ok(None);
        };
        callback::start(deps, &invitee, purpose).await.map(Some)
    }
    .await;
    match result {
        Ok(Some(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(None) => Redirect::to("/wizard").into_response(),
        Err(e) => crate::http::middleware::error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}

/// Completes a round trip on the environment named by the path and redirects to `/wizard`.
pub async fn callback(
    State(portal): State<Arc<Portal>>,
    Extension(ctx): Extension<RequestCtx>,
    Path(env): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(env) = Environment::parse(&env) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let Some(invitee) = ctx.invitee.clone() else { return session_ended() };
    let Some(deps) = portal.deps(env) else {
        return Redirect::to("/wizard").into_response();
    };
    match callback::complete(deps, &invitee, query, &ctx.request_id).await {
        Ok(_) => Redirect::to("/wizard").into_response(),
        Err(e) => crate::http::middleware::error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}
