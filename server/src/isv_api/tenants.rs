//! `GET /tenants` and `GET /tenants/{tenant}`: a tenant's consent, system user, account and latest
//! setup check as the ISV's backend needs them, limited to the environments the key may use.
//!
//! A page is gathered in a fixed number of queries whatever its size: the tenants (keyset by
//! id), then their state rows, system users, latest grants and latest check runs by id list.

use std::collections::HashMap;

use app::environment::Environment;
use app::onboarding::model::ConsentState;
use app::tenants::api::staff_next_action;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use http::StatusCode;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::model::*;
use super::problem::Problem;
use crate::api_clients::ApiCaller;
use crate::db::entities::{check_result, check_run, consent_grant, consent_state, system_user, tenant};
use crate::error::ServiceResult;

/// The default and the largest page size.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// What a list request asks for, checked.
pub struct ListRequest {
    pub environments: Vec<Environment>,
    pub state: Option<ConsentState>,
    pub updated_since: Option<DateTime<Utc>>,
    pub after: Option<Uuid>,
    pub limit: u64,
}

impl ListRequest {
    /// Checks the parameters against the caller's environments; a bad value is a 400 naming it,
    /// an environment the key may not use a 403.
    pub fn parse(caller: &ApiCaller, p: &TenantListParams) -> Result<ListRequest, Problem> {
        let environments = match p.environment.as_deref() {
            None => caller.environments.clone(),
            Some(e) => {
                let env = Environment::parse(e).ok_or_else(|| Problem::bad_request(format!("`environment` must be `demo` or `production`, not `{}`.", clip(e))))?;
                if !caller.may_use(env) {
                    return Err(wrong_environment(env));
                }
                vec![env]
            }
        };
        let state = p
            .state
            .as_deref()
            .map(|s| ConsentState::parse(s).ok_or_else(|| Problem::bad_request(format!("`state` must be one of {}, not `{}`.", states(), clip(s)))))
            .transpose()?;
        let updated_since = p
            .updated_since
            .as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|_| Problem::bad_request(format!("`updated_since` must be an RFC 3339 time such as 2026-01-31T09:00:00Z, not `{}`.", clip(s))))
            })
            .transpose()?;
        let after = p.cursor.as_deref().map(decode_cursor).transpose()?;
        let limit = match p.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(l) => l.parse::<u64>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| Problem::bad_request(format!("`limit` must be a whole number from 1 to {MAX_LIMIT}.")))?,
        };
        Ok(ListRequest { environments, state, updated_since, after, limit })
    }
}

fn states() -> String {
    ConsentState::ALL.iter().map(|s| format!("`{}`", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// At most 64 characters of a caller's value, for echoing it in a message.
fn clip(value: &str) -> String {
    value.chars().take(64).collect()
}

/// The key may not act in `env`.
pub fn wrong_environment(env: Environment) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "wrong-environment",
        "The key may not use this environment",
        format!("This API key is not allowed in the {} environment; an administrator can create a key that is.", env.as_str()),
    )
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<Uuid, Problem> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| Problem::bad_request("`cursor` is not one this API gave out; start again without it."))
}

/// One page of tenants.
pub async fn list<C: ConnectionTrait>(db: &C, portal_url: &url::Url, req: &ListRequest) -> ServiceResult<ApiTenantPage> {
    let mut select = tenant::Entity::find()
        .filter(tenant::Column::ArchivedAt.is_null())
        .filter(tenant::Column::Environment.is_in(req.environments.iter().map(|e| e.as_str())));
    if let Some(state) = req.state {
        select = select.filter(crate::tenants::in_state(state, None));
    }
    if let Some(since) = req.updated_since {
        let changed_state = crate::tenants::own_state_row()
            .and_where(Expr::col((consent_state::Entity, consent_state::Column::UpdatedAt)).gte(since))
            .to_owned();
        select = select.filter(Condition::any().add(tenant::Column::UpdatedAt.gte(since)).add(Expr::exists(changed_state)));
    }
    if let Some(after) = req.after {
        select = select.filter(tenant::Column::Id.gt(after));
    }
    let mut rows = select.order_by_asc(tenant::Column::Id).limit(req.limit + 1).all(db).await?;
    let next_cursor = if rows.len() as u64 > req.limit {
        rows.truncate(req.limit as usize);
        rows.last().map(|t| encode_cursor(t.id))
    } else {
        None
    };
    Ok(ApiTenantPage { items: assemble(db, portal_url, rows).await?, next_cursor })
}

/// A tenant by id or slug, if it exists, is not archived and is in one of the key's
/// environments: otherwise the problem to answer. A tenant in another environment is a 403 (the
/// ISV owns every tenant; the key does not).
pub async fn find<C: ConnectionTrait>(db: &C, caller: &ApiCaller, key: &str, request_id: &str) -> Result<tenant::Model, Problem> {
    let fail = |e: crate::error::ServiceError| Problem::from_service(e, request_id);
    let by = match Uuid::parse_str(key) {
        Ok(id) => tenant::Column::Id.eq(id),
        Err(_) => tenant::Column::Slug.eq(key),
    };
    let found = tenant::Entity::find().filter(by).filter(tenant::Column::ArchivedAt.is_null()).one(db).await.map_err(|e| fail(e.into()))?;
    let t = found.ok_or_else(|| Problem::not_found(format!("No tenant has the id or slug `{}`.", clip(key))))?;
    let env = t.environment().map_err(fail)?;
    if caller.may_use(env) { Ok(t) } else { Err(wrong_environment(env)) }
}

/// One tenant as the API shows it.
pub async fn one<C: ConnectionTrait>(db: &C, portal_url: &url::Url, t: tenant::Model) -> ServiceResult<ApiTenant> {
    Ok(assemble(db, portal_url, vec![t]).await?.pop().expect("one tenant in, one out"))
}

/// The API view of `rows`, in order, in five queries.
async fn assemble<C: ConnectionTrait>(db: &C, portal_url: &url::Url, rows: Vec<tenant::Model>) -> ServiceResult<Vec<ApiTenant>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
    let key = |id: Uuid, env: &str| (id, env.to_owned());
    let states: HashMap<_, _> = consent_state::Entity::find()
        .filter(consent_state::Column::TenantId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (key(s.tenant_id, &s.environment), s))
        .collect();
    let users: HashMap<_, _> = system_user::Entity::find()
        .filter(system_user::Column::TenantId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (key(s.tenant_id, &s.environment), s))
        .collect();
    // The newest grant per tenant and environment: ordered newest first, first wins.
    let mut grants: HashMap<(Uuid, String), consent_grant::Model> = HashMap::new();
    for g in consent_grant::Entity::find()
        .filter(consent_grant::Column::TenantId.is_in(ids.clone()))
        .order_by_desc(consent_grant::Column::GrantedAt)
        .all(db)
        .await?
    {
        grants.entry(key(g.tenant_id, &g.environment)).or_insert(g);
    }
    let runs: HashMap<(Uuid, String), check_run::Model> = crate::checks::run::latest_runs(db, &ids).await?.into_iter().map(|r| (key(r.tenant_id, &r.environment), r)).collect();
    let run_ids: Vec<Uuid> = runs.values().map(|r| r.id).collect();
    let mut failing: HashMap<Uuid, Vec<String>> = HashMap::new();
    if !run_ids.is_empty() {
        for r in check_result::Entity::find()
            .filter(check_result::Column::RunId.is_in(run_ids))
            .filter(check_result::Column::Status.is_in(["warn", "fail", "error"]))
            .order_by_asc(check_result::Column::CheckId)
            .all(db)
            .await?
        {
            failing.entry(r.run_id).or_default().push(r.check_id);
        }
    }
    let base = portal_url.as_str().trim_end_matches('/');
    rows.into_iter()
        .map(|t| {
            let k = key(t.id, &t.environment);
            let state_row = states.get(&k);
            let state = state_row.map(|s| s.state()).transpose()?.unwrap_or(ConsentState::NotStarted);
            let reason = state_row.and_then(|s| s.reason.clone());
            let grant = grants.get(&k);
            let su = users.get(&k);
            let run = runs.get(&k);
            let ready = state == ConsentState::Verified;
            let updated_at = state_row.map_or(t.updated_at, |s| std::cmp::max(s.updated_at, t.updated_at));
            Ok(ApiTenant {
                consent: ApiConsent {
                    state: state.as_str().to_owned(),
                    ready,
                    since: state_row.map(|s| s.updated_at),
                    mode: grant.map(|g| g.mode().map(|m| m.as_str().to_owned())).transpose()?,
                    scopes: grant.map(|g| g.scopes.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
                    organization_id: grant.and_then(|g| g.organization_id.clone()),
                    granted_at: grant.map(|g| g.granted_at),
                    last_verified_at: su.and_then(|s| s.verified_at),
                    reason: reason.clone(),
                },
                system_user: su.map(|s| ApiSystemUser { user_id: s.user_id.clone(), email: s.email.clone(), name: s.name.clone() }),
                account: su.map(|s| ApiAccount { account_id: s.account_id.clone(), account_name: s.account_name.clone(), base_uri: s.base_uri.clone() }),
                setup_check: run
                    .map(|r| -> ServiceResult<ApiSetupCheck> {
                        Ok(ApiSetupCheck {
                            overall: r.overall()?.map(|o| o.as_str().to_owned()),
                            started_at: r.started_at,
                            finished_at: r.finished_at,
                            failing: failing.remove(&r.id).unwrap_or_default(),
                        })
                    })
                    .transpose()?,
                remediation: (!ready).then(|| remediation(base, t.id, state, reason.as_deref())),
                id: t.id,
                slug: t.slug,
                name: t.display_name,
                environment: t.environment,
                updated_at,
            })
        })
        .collect()
}

/// What staff do for a tenant that is not ready, with the portal page where they do it.
pub fn remediation(base: &str, tenant_id: Uuid, state: ConsentState, reason: Option<&str>) -> ApiRemediation {
    let kind = match (state, reason) {
        (ConsentState::Consented, _) | (ConsentState::NeedsAttention, Some("key_mismatch" | "base_uri_changed" | "provider_unreachable" | "provider_error")) => "verify",
        _ => "send_invite",
    };
    ApiRemediation {
        text: staff_next_action(state, reason).to_owned(),
        actions: vec![ApiAction { kind: kind.to_owned(), href: format!("{base}/tenants/{tenant_id}") }],
    }
}
