//! The wizard's plain OAuth routes: `POST /oauth/start` (invite session only) sends the browser
//! to DocuSign; `GET /oauth/callback/{demo|production}` completes the round trip on that
//! environment's own redirect URI and answers with a redirect to the clean `/wizard` address (or,
//! after an organization member's sign-in, on to DocuSign for their read consent), so no code or
//! state stays in the history or a Referer.

use std::sync::Arc;

use app::ssr::RequestCtx;
use app::environment::Environment;
use app::onboarding::model::{Notice, NoticeKind};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use http::StatusCode;
use sea_orm::EntityTrait;
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
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Session ended · Consent Portal</title>\
         <link rel=\"stylesheet\" href=\"/pkg/consent-portal.css\"></head><body><main><section class=\"panel narrow\">\
         <h1>Your wizard session has ended</h1><p>{}</p></section></main></body></html>",
        app::onboarding::model::SESSION_ENDED
    );
    (StatusCode::UNAUTHORIZED, Html(page)).into_response()
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
    // A consent link the integration API handed out: no invite session, nothing to exchange.
    if let Some(tenant) = query.state.as_deref().and_then(|s| crate::isv_api::consent_checks::verify_link_state(&portal, s)) {
        return user_consent_landing(&portal, tenant, &query).await;
    }
    let Some(invitee) = ctx.invitee.clone() else { return session_ended() };
    let Some(deps) = portal.deps(env) else {
        return Redirect::to("/wizard").into_response();
    };
    match callback::complete(deps, &invitee, query, &ctx.request_id).await {
        // A sign-in of an organization's member continues with the admin's read consent.
        Ok(outcome) => Redirect::to(outcome.next.as_ref().map_or("/wizard", |u| u.as_str())).into_response(),
        Err(e) => crate::http::middleware::error_response(&e.into_app(&ctx.request_id), Some(&ctx.request_id)),
    }
}

/// Where a user lands after a consent link (see `isv_api::consent_checks`): DocuSign's answer
/// in words, and nothing else to do. The code is not exchanged: the JWT grant proves consent.
async fn user_consent_landing(portal: &Portal, tenant: uuid::Uuid, query: &CallbackQuery) -> Response {
    let page = |status: StatusCode, title: &str, text: String| {
        let e = |s: &str| html_escape::encode_text(s).into_owned();
        (
            status,
            [(http::header::CACHE_CONTROL, "no-store")],
            Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>{} · Consent Portal</title><link rel=\"stylesheet\" href=\"/pkg/consent-portal.css\"></head><body><main id=\"main\">\
                 <section class=\"panel narrow\"><h1>{}</h1><p>{}</p></section></main></body></html>",
                e(title),
                e(title),
                e(&text)
            )),
        )
            .into_response()
    };
    let name = match crate::db::entities::tenant::Entity::find_by_id(tenant).one(&portal.db).await {
        Ok(Some(t)) => t.display_name,
        _ => "the integration".into(),
    };
    match (&query.error, &query.code) {
        (None, Some(_)) => page(StatusCode::OK, "Consent granted", format!("Thank you. DocuSign recorded your consent, so {name}'s integration can now act for you. You can close this window.")),
        (Some(error), _) => {
            let said = query.error_description.as_deref().map(|d| format!(" DocuSign said: “{}”.", d.chars().take(300).collect::<String>())).unwrap_or_default();
            page(
                StatusCode::OK,
                "Consent not granted",
                format!("DocuSign did not grant consent ({}).{said} Nothing was changed. If this was a mistake, open the link you received again.", error.chars().take(64).collect::<String>()),
            )
        }
        (None, None) => page(StatusCode::BAD_REQUEST, "Incomplete answer from DocuSign", "DocuSign's answer carried neither consent nor an error. Open the link you received again.".into()),
    }
}
