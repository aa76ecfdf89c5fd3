//! Request counting and fault injection: a middleware on every sandbox route (not the control
//! API) that counts requests per endpoint and, when the control API asked for it, adds latency,
//! fails with 5xx, hangs, answers malformed JSON or reports the rate limit as exhausted.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::limits::{self, Exceeded, Usage};
use super::state::AppState;
use super::wire;

/// Which host family a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every host.
    #[default]
    All,
    /// The account server (`/oauth/...`).
    Oauth,
    /// eSignature REST on the base URIs.
    Esign,
    /// The Admin API.
    Admin,
    /// The sandbox's own Connect deliveries to a listener (never matched by `all`): `timeout`
    /// makes an attempt time out, `fail_5xx_ratio` makes the listener seem to answer 503; either
    /// way nothing is sent, and the attempt lands in the Connect log and failure log.
    Connect,
}

/// How long a "timeout" fault keeps the request hanging.
const HANG: Duration = Duration::from_secs(300);

/// One fault rule, as posted to `POST /control/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Host family the rule applies to.
    pub scope: Scope,
    /// Only this endpoint, labelled as in the request counts (e.g. `POST /oauth/token`).
    pub endpoint: Option<String>,
    /// Added before answering.
    pub latency_ms: u64,
    /// Share of requests (0.0–1.0) answered with 503.
    pub fail_5xx_ratio: f64,
    /// Never answer (the request hangs for five minutes).
    pub timeout: bool,
    /// Answer 200 with a truncated JSON body instead of running the endpoint.
    pub malformed_json: bool,
    /// Answer as if the hourly rate limit were used up.
    pub rate_limit_exhausted: bool,
    /// Apply to this many matching requests only, then remove the rule.
    pub remaining: Option<u64>,
}

/// How a Connect delivery fault makes an attempt fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFault {
    /// As if the listener never answered.
    Timeout,
    /// As if the listener answered 503.
    Unavailable,
}

/// The first `connect` fault rule that fires for a delivery of `connect_id` (its `endpoint`, when
/// set, names the configuration: `"connect 1001"`), counting it against the rule's `remaining`.
pub fn delivery_fault(faults: &mut Vec<Fault>, connect_id: &str) -> Option<DeliveryFault> {
    let label = format!("connect {connect_id}");
    let i = faults
        .iter()
        .position(|f| f.scope == Scope::Connect && f.endpoint.as_deref().is_none_or(|e| e == label))?;
    let f = faults[i].clone();
    let fault = if f.timeout {
        DeliveryFault::Timeout
    } else if f.fail_5xx_ratio > 0.0 && rand::thread_rng().gen_bool(f.fail_5xx_ratio.clamp(0.0, 1.0)) {
        DeliveryFault::Unavailable
    } else {
        return None;
    };
    if let Some(n) = faults[i].remaining.as_mut() {
        *n = n.saturating_sub(1);
        if *n == 0 {
            faults.remove(i);
        }
    }
    Some(fault)
}

enum Action {
    Pass,
    Hang,
    Malformed,
    Fail,
    RateLimited,
}

/// The middleware: count, then apply the first matching fault rule.
pub async fn traffic(State((state, scope)): State<(AppState, Scope)>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    let label = format!("{} {}", req.method(), path);
    let (latency, action) = {
        let mut world = state.world();
        world.count(label.clone());
        let found = world.faults.iter().position(|f| {
            (f.scope == Scope::All || f.scope == scope) && f.endpoint.as_deref().is_none_or(|e| e == label)
        });
        match found {
            None => (0, Action::Pass),
            Some(i) => {
                let f = world.faults[i].clone();
                let action = if f.timeout {
                    Action::Hang
                } else if f.malformed_json {
                    Action::Malformed
                } else if f.rate_limit_exhausted {
                    Action::RateLimited
                } else if f.fail_5xx_ratio > 0.0 && rand::thread_rng().gen_bool(f.fail_5xx_ratio.clamp(0.0, 1.0)) {
                    Action::Fail
                } else {
                    Action::Pass
                };
                let fired = f.latency_ms > 0 || !matches!(action, Action::Pass);
                if fired && let Some(n) = world.faults[i].remaining.as_mut() {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        world.faults.remove(i);
                    }
                }
                (f.latency_ms, action)
            }
        }
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match action {
        Action::Pass => next.run(req).await,
        Action::Hang => {
            tokio::time::sleep(HANG).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Action::Malformed => {
            let mut r = (StatusCode::OK, "{\"malformed\": tru").into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Action::Fail => match scope {
            Scope::Esign => wire::esign_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The service is temporarily unavailable (sandbox fault injection).",
            ),
            _ => wire::admin_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "The service is temporarily unavailable (sandbox fault injection).",
            ),
        },
        Action::RateLimited => {
            let now = state.clock.now();
            let l = &state.fixture.limits;
            let usage = Usage {
                hourly_limit: l.hourly,
                hourly_remaining: 0,
                hourly_reset: now - now.rem_euclid(3600) + 3600,
                burst_limit: l.burst,
                burst_remaining: l.burst,
                burst_reset: now - now.rem_euclid(l.burst_window_seconds.max(1)) + l.burst_window_seconds.max(1),
            };
            limits::exceeded_response(l, Exceeded::Hourly, &usage, now, state.fixture.vary)
        }
    }
}
