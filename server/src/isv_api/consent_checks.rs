//! `POST /tenants/{tenant}/consent-checks`: has this individual user of the tenant consented to
//! the integration? The ISV asks before sending for someone other than the system user, and gets
//! a link that user can open to consent, without starting an envelope.
//!
//! The proof is the one DocuSign documents: a JWT grant for the user either succeeds (consent is
//! in place) or is refused with `consent_required`. An e-mail address is turned into the user's
//! GUID through the organization's directory (organization consent's Admin API read scopes,
//! acting as the admin who granted it); without that access the caller must send the GUID.
//!
//! The consent link is DocuSign's authorization URL for individual consent with the portal's
//! registered redirect URI and a `state` the portal signed (`uc.<tenant>.<mac>`): the callback
//! recognises it, exchanges nothing (the JWT grant is the proof, not a token) and tells the user
//! that they may close the window.

use app::environment::Environment;
use app::onboarding::model::ConsentMode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::Problem;
use crate::api_clients::ApiCaller;
use crate::audit::{self, Event};
use crate::db::entities::tenant;
use crate::onboarding::records;
use crate::providers::{AuthorizationRequest, ProviderError, new_pkce};
use crate::state::{Deps, Portal};

/// What the caller asks about.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConsentCheckRequest {
    /// The user's DocuSign user ID (GUID) or e-mail address. An e-mail needs the tenant's
    /// organization consent (it is looked up in the organization's directory).
    #[schema(example = "ada@example.com", min_length = 1, max_length = 254, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[^@\\s]+@[^@\\s]+)$")]
    pub user: String,
}

/// The answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentCheckResult {
    /// `consented`, `consent_required`, `not_in_claimed_domain` or `unknown_user`.
    #[schema(example = "consent_required")]
    pub result: String,
    /// The user's GUID, when known.
    pub user_id: Option<String>,
    /// What this means and what to do.
    pub detail: String,
    /// For `consent_required` and `not_in_claimed_domain`: a link the user opens to grant
    /// individual consent (DocuSign's own consent screen).
    pub consent_url: Option<String>,
}

/// The `state` prefix of a consent link.
pub const STATE_PREFIX: &str = "uc.";
const MAC_PURPOSE: &str = "user-consent-link";

/// A signed `state` for `tenant`'s consent links.
fn link_state(portal: &Portal, tenant: Uuid) -> String {
    let mac = portal.keyring.mac(MAC_PURPOSE, tenant.as_bytes());
    format!("{STATE_PREFIX}{}.{}", tenant.simple(), URL_SAFE_NO_PAD.encode(&mac[..16]))
}

/// The tenant a consent link's `state` was signed for, if the portal signed it.
pub fn verify_link_state(portal: &Portal, state: &str) -> Option<Uuid> {
    let (tenant, tag) = state.strip_prefix(STATE_PREFIX)?.split_once('.')?;
    let tenant = Uuid::parse_str(tenant).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let full = portal.keyring.mac(MAC_PURPOSE, tenant.as_bytes());
    (tag.len() == 16 && bool::from(subtle::ConstantTimeEq::ct_eq(&full[..16], &tag[..]))).then_some(tenant)
}

fn looks_like_guid(s: &str) -> bool {
    Uuid::parse_str(s).is_ok() && s.len() == 36
}

fn result(result: &str, user_id: Option<String>, detail: impl Into<String>, consent_url: Option<String>) -> ConsentCheckResult {
    ConsentCheckResult { result: result.to_owned(), user_id, detail: detail.into(), consent_url }
}

/// Checks one user's consent for `t`.
pub async fn check(portal: &Portal, caller: &ApiCaller, t: &tenant::Model, req: ConsentCheckRequest, request_id: &str) -> Result<ConsentCheckResult, Problem> {
    let fail = |e: crate::error::ServiceError| Problem::from_service(e, request_id);
    let user = req.user.trim();
    if user.is_empty() || user.chars().count() > 254 || (!looks_like_guid(user) && !user.contains('@')) {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "The request broke a rule", "`user` must be a DocuSign user ID (GUID) or an e-mail address."));
    }
    let env: Environment = t.environment().map_err(fail)?;
    let deps = portal.require_deps(env).map_err(Problem::from_app)?;
    let grant = records::latest_grant(&portal.db, t.id, env).await.map_err(fail)?;
    let organization = grant.as_ref().filter(|g| g.mode == ConsentMode::Organization.as_str()).and_then(|g| g.organization_id.clone().map(|o| (g.user_sub.clone(), o)));
    let consent_url = || consent_link(portal, deps, t.id);

    // The user's GUID and, with directory access, whether their domain is claimed and active.
    let (user_id, in_active_domain) = if looks_like_guid(user) {
        (user.to_ascii_lowercase(), None)
    } else {
        let Some((admin, org)) = &organization else {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request broke a rule",
                "This tenant consented individually, so the portal cannot look users up by e-mail; send the user's DocuSign user ID (GUID).",
            ));
        };
        match directory_lookup(deps, admin, org, user).await {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(result("unknown_user", None, format!("The tenant's DocuSign organization has no user with the e-mail {user}."), None)),
            Err(e) => return Err(provider_problem(&e)),
        }
    };
    let outcome = match deps.provider.app_token(&user_id, &deps.esign_scopes()).await {
        Ok(_) => result("consented", Some(user_id.clone()), "The user has consented: the integration can act as them.", None),
        Err(ProviderError::ConsentRequired) if organization.is_some() && in_active_domain == Some(false) => result(
            "not_in_claimed_domain",
            Some(user_id.clone()),
            "The tenant's organization consent covers only users in its active claimed domains, and this user's e-mail domain is not one of them. The user can consent individually with the link, or the customer can claim the domain in DocuSign Admin.",
            Some(consent_url()?),
        ),
        Err(ProviderError::ConsentRequired) => result(
            "consent_required",
            Some(user_id.clone()),
            "The user has not consented to the integration. Send them the consent link; after they accept, the integration can act as them.",
            Some(consent_url()?),
        ),
        Err(ProviderError::UserNotFound) => result("unknown_user", Some(user_id.clone()), "DocuSign does not know this user in the tenant's environment.", None),
        Err(e) => return Err(provider_problem(&e)),
    };
    // Who asked about whom, and the answer (never a token).
    audit::record(
        &portal.db,
        Event {
            actor: &caller.actor(),
            tenant_id: Some(t.id),
            action: "api.consent_checked",
            before: None,
            after: Some(json!({ "user_id": outcome.user_id, "result": outcome.result })),
            request_id: Some(request_id),
        },
    )
    .await
    .map_err(fail)?;
    Ok(outcome)
}

/// The user's GUID and whether their e-mail domain is an active claimed domain, from the
/// organization's directory; `None` when the organization has no such user.
async fn directory_lookup(deps: Deps<'_>, admin: &str, org: &str, email: &str) -> Result<Option<(String, Option<bool>)>, ProviderError> {
    let scopes = deps.admin_consent_scopes();
    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let token = deps.provider.cached_app_token(admin, &scopes).await?;
    let Some(profile) = deps.directory.user_by_email(&token.access_token, org, email).await? else {
        return Ok(None);
    };
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let active = deps
        .directory
        .reserved_domains(&token.access_token, org)
        .await
        .ok()
        .map(|ds| ds.iter().any(|d| d.status.eq_ignore_ascii_case("active") && d.host_name.eq_ignore_ascii_case(&domain)));
    Ok(Some((profile.id, active)))
}

fn consent_link(portal: &Portal, deps: Deps<'_>, tenant: Uuid) -> Result<String, Problem> {
    let scopes = deps.esign_scopes().into_iter().map(str::to_owned).collect();
    // DocuSign does not require PKCE; the challenge is sent because the seam always builds one,
    // and its verifier is dropped: this round trip exchanges no code.
    let pkce = new_pkce();
    deps.provider
        .authorization_url(&AuthorizationRequest::IndividualConsent { scopes }, &link_state(portal, tenant), &pkce.challenge)
        .map(|u| u.to_string())
        .map_err(|e| provider_problem(&e))
}

fn provider_problem(e: &ProviderError) -> Problem {
    if e.is_transient() || matches!(e, ProviderError::Malformed { .. }) {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "provider-unavailable", "DocuSign could not be reached", format!("DocuSign did not answer properly ({e}). Nothing was changed; try again shortly.")).retry_after(5)
    } else {
        Problem::new(StatusCode::BAD_GATEWAY, "provider-refused", "DocuSign refused the request", format!("DocuSign refused the request ({e}). If it persists, check the ISV's integration key for this environment."))
    }
}
