//! Tenant DTOs (validated on both sides), the tenants port and its server functions.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::environment::Environment;
use crate::error::AppError;
use crate::onboarding::model::ConsentState;
use super::timeline::{TimelinePage, TimelineQuery};

/// What staff type to create or edit a tenant. Validated in the browser before submit and again
/// on the server, which is the authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, Default)]
pub struct TenantInput {
    #[validate(length(min = 1, max = 120, message = "Enter a display name of at most 120 characters."))]
    pub display_name: String,
    #[validate(custom(function = "validate_slug"))]
    pub slug: String,
    pub environment: Environment,
    #[validate(custom(function = "crate::validation::email", message = "Enter a valid e-mail address, like admin@customer.com."))]
    pub contact_email: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub account_manager_id: Option<Uuid>,
    #[serde(default)]
    #[validate(length(max = 4000, message = "Notes are limited to 4,000 characters."))]
    pub notes: String,
}

impl TenantInput {
    /// Trims what people type by accident (surrounding spaces) and lower-cases the e-mail.
    pub fn normalized(mut self) -> Self {
        self.display_name = self.display_name.trim().to_owned();
        self.slug = self.slug.trim().to_owned();
        self.contact_email = self.contact_email.trim().to_ascii_lowercase();
        self.notes = self.notes.trim().to_owned();
        self
    }
}

/// A slug is the tenant's short, URL-safe name: 3 to 63 characters of lower-case letters, digits
/// and single hyphens, starting with a letter and not ending with a hyphen.
pub fn validate_slug(slug: &str) -> Result<(), ValidationError> {
    let fail = |msg: &'static str| Err(ValidationError::new("slug").with_message(msg.into()));
    if slug.len() < 3 || slug.len() > 63 {
        return fail("Use 3 to 63 characters.");
    }
    if !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return fail("Use only lower-case letters, digits and hyphens (for example acme-corp).");
    }
    if !slug.as_bytes()[0].is_ascii_lowercase() {
        return fail("Start with a letter.");
    }
    if slug.ends_with('-') || slug.contains("--") {
        return fail("Do not end with a hyphen or use two hyphens in a row.");
    }
    Ok(())
}

fn empty_as_none<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Uuid>, D::Error> {
    let raw: Option<String> = Option::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Uuid::parse_str(s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// One row of the tenant list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: Uuid,
    pub display_name: String,
    pub slug: String,
    pub environment: Environment,
    pub contact_email: String,
    pub account_manager_email: Option<String>,
    pub archived: bool,
    pub updated_at: DateTime<Utc>,
    /// The consent state in the tenant's environment (`not_started` before anything happened).
    #[serde(default = "not_started")]
    pub consent_state: crate::onboarding::model::ConsentState,
    /// Why, when the state is `needs_attention`.
    #[serde(default)]
    pub consent_reason: Option<String>,
    /// Since when the tenant is in its consent state (none before anything happened).
    #[serde(default)]
    pub consent_since: Option<DateTime<Utc>>,
    /// How consent was last granted (organization or individual).
    #[serde(default)]
    pub consent_mode: Option<crate::onboarding::model::ConsentMode>,
    /// The pinned system user's e-mail and account, once pinned.
    #[serde(default)]
    pub system_user_email: Option<String>,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    /// The latest setup-check run's overall status (`None` while it runs or before any run).
    #[serde(default)]
    pub check_overall: Option<crate::checks::RunOverall>,
    /// When the latest setup-check run started.
    #[serde(default)]
    pub check_started_at: Option<DateTime<Utc>>,
    /// The newest audit event of the tenant (anything anyone or anything did to it).
    #[serde(default)]
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Longer in its state than the onboarding SLA allows.
    #[serde(default)]
    pub stuck: bool,
    /// When the customer asked for a fresh invite link, while no newer invite answers it.
    #[serde(default)]
    pub link_requested_at: Option<DateTime<Utc>>,
    /// The overrides in force on the tenant (its consent, or setup checks), in subject order.
    #[serde(default)]
    pub overrides: Vec<crate::overrides::OverrideBadge>,
}

/// What staff do next for a tenant in `state` (with `reason` when it needs attention): the
/// ISV's action, not the customer's.
pub fn staff_next_action(state: ConsentState, reason: Option<&str>) -> &'static str {
    match (state, reason) {
        (ConsentState::NotStarted, _) => "Create an invite link and send it to the customer's DocuSign administrator.",
        (ConsentState::Invited, _) => "Remind the customer's administrator, or issue a new invite link if theirs expired.",
        (ConsentState::InProgress, _) => "Ask the customer's administrator to finish the wizard; a new invite link lets them start again.",
        (ConsentState::Consented, _) => "Verify the consent from the tenant page.",
        (ConsentState::Verified, _) => "Nothing: consent is in place.",
        (ConsentState::Revoked, _) => "Send a new invite link: the customer withdrew consent.",
        (ConsentState::NeedsAttention, Some("consent_missing" | "consent_revoked")) => {
            "Send a new invite link: DocuSign has no consent for the system user any more."
        }
        (ConsentState::NeedsAttention, Some("not_a_member" | "unknown_user")) => {
            "Send a new invite link so the customer's administrator can pin a system user and account that exist."
        }
        (ConsentState::NeedsAttention, Some("key_mismatch")) => "Check the ISV's integration key and RSA key pair for this environment, then verify again.",
        (ConsentState::NeedsAttention, Some("base_uri_changed")) => "Run the setup check and accept the account's new base URI.",
        (ConsentState::NeedsAttention, Some("provider_unreachable" | "provider_error")) => "Verify again later: DocuSign did not answer properly.",
        (ConsentState::NeedsAttention, _) => "Open the tenant, read the last verification and verify again; send a new invite link if it still fails.",
    }
}

fn not_started() -> crate::onboarding::model::ConsentState {
    crate::onboarding::model::ConsentState::NotStarted
}

/// Tenants on one page of the list.
pub const TENANT_PAGE_SIZE: u64 = 50;

/// The list's address for `query` (and a page cursor): beside the query it encodes, so the list
/// page and its filter chips both build links from here.
pub fn list_link(query: &TenantQuery, after: Option<&str>) -> String {
    let params = query.url_params(after);
    if params.is_empty() { "/tenants".to_owned() } else { format!("/tenants?{params}") }
}

/// What the tenant list asks for: all of it lives in the page's URL (`?q=…&archived=1&after=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantQuery {
    #[serde(default)]
    pub include_archived: bool,
    /// Search in name, slug, contact e-mail and the system user's e-mail (case-insensitive,
    /// anywhere in the text).
    #[serde(default, deserialize_with = "empty_as_none_string")]
    pub q: Option<String>,
    /// The opaque cursor of the page to show (from [`TenantPage::next`]); none for the first.
    #[serde(default, deserialize_with = "empty_as_none_string")]
    pub after: Option<String>,
    /// Only tenants in this consent state (in their own environment).
    #[serde(default)]
    pub state: Option<ConsentState>,
    /// With `state = needs_attention`: only this reason (a verification outcome's wire name).
    #[serde(default, deserialize_with = "empty_as_none_string")]
    pub reason: Option<String>,
    /// Only tenants of this environment.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// Only tenants stuck in onboarding: longer than the configured SLA invited, in progress or
    /// needing attention.
    #[serde(default)]
    pub stuck: bool,
    /// Only tenants assigned to this account manager.
    #[serde(default)]
    pub manager: Option<Uuid>,
    /// Only tenants whose latest setup-check run reads so (`?check=fail`, `running`, `never_run`).
    #[serde(default)]
    pub check: Option<CheckFilter>,
    /// Only tenants whose latest setup-check run has this check failing (`?failing=connect_delivery`).
    #[serde(default)]
    pub failing: Option<crate::checks::CheckId>,
    /// Only tenants with an override in force (`?overridden=1`).
    #[serde(default)]
    pub overridden: bool,
}

/// The setup-check filter of the list: a tenant's latest run's overall result, or that its
/// latest run is still running, or that it never ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckFilter {
    Pass,
    Warn,
    Fail,
    Error,
    Skipped,
    Abandoned,
    Running,
    NeverRun,
}

impl CheckFilter {
    /// Every option, in the order the list offers them.
    pub const ALL: [CheckFilter; 8] = [
        CheckFilter::Fail,
        CheckFilter::Error,
        CheckFilter::Warn,
        CheckFilter::Skipped,
        CheckFilter::Pass,
        CheckFilter::Abandoned,
        CheckFilter::Running,
        CheckFilter::NeverRun,
    ];

    /// The URL value.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckFilter::Pass => "pass",
            CheckFilter::Warn => "warn",
            CheckFilter::Fail => "fail",
            CheckFilter::Error => "error",
            CheckFilter::Skipped => "skipped",
            CheckFilter::Abandoned => "abandoned",
            CheckFilter::Running => "running",
            CheckFilter::NeverRun => "never_run",
        }
    }

    /// Parses the URL value; `None` for anything else.
    pub fn parse(value: &str) -> Option<CheckFilter> {
        CheckFilter::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            CheckFilter::Pass => "Pass",
            CheckFilter::Warn => "Warning",
            CheckFilter::Fail => "Fail",
            CheckFilter::Error => "Could not check",
            CheckFilter::Skipped => "Skipped",
            CheckFilter::Abandoned => "Abandoned",
            CheckFilter::Running => "Running",
            CheckFilter::NeverRun => "Never run",
        }
    }

    /// The finished run's overall result this option stands for (`None` for running / never run).
    pub fn overall(self) -> Option<crate::checks::RunOverall> {
        use crate::checks::RunOverall as O;
        match self {
            CheckFilter::Pass => Some(O::Pass),
            CheckFilter::Warn => Some(O::Warn),
            CheckFilter::Fail => Some(O::Fail),
            CheckFilter::Error => Some(O::Error),
            CheckFilter::Skipped => Some(O::Skipped),
            CheckFilter::Abandoned => Some(O::Abandoned),
            CheckFilter::Running | CheckFilter::NeverRun => None,
        }
    }
}

impl TenantQuery {
    /// The query's URL parameters (`q`, `archived`, `state`, `reason`, `env`, `stuck`, `manager`,
    /// `check`, `failing`, `overridden`; the cursor only when
    /// `after` is given), each encoded: the list page and its export link build their addresses
    /// from this one place.
    pub fn url_params(&self, after: Option<&str>) -> String {
        let enc = crate::components::urlencode;
        let mut parts = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("q={}", enc(q)));
        }
        if self.include_archived {
            parts.push("archived=1".to_owned());
        }
        if let Some(state) = self.state {
            parts.push(format!("state={}", state.as_str()));
        }
        if let Some(reason) = &self.reason {
            parts.push(format!("reason={}", enc(reason)));
        }
        if let Some(env) = self.environment {
            parts.push(format!("env={}", env.as_str()));
        }
        if self.stuck {
            parts.push("stuck=1".to_owned());
        }
        if let Some(m) = self.manager {
            parts.push(format!("manager={m}"));
        }
        if let Some(c) = self.check {
            parts.push(format!("check={}", c.as_str()));
        }
        if let Some(f) = self.failing {
            parts.push(format!("failing={}", f.as_str()));
        }
        if self.overridden {
            parts.push("overridden=1".to_owned());
        }
        if let Some(a) = after {
            parts.push(format!("after={}", enc(a)));
        }
        parts.join("&")
    }
}

/// How many tenants are in one consent state (and, for `needs_attention`, one reason) under the
/// list's other filters: the number beside each state filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    pub state: ConsentState,
    pub reason: Option<String>,
    pub count: u64,
}

/// One page of the tenant list, by name: keyset-paged, so a page costs the same anywhere in a
/// list of 100,000 and rows added meanwhile never shift a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantPage {
    pub items: Vec<TenantSummary>,
    /// Tenants matching the query in all (across pages).
    pub total: u64,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// Tenants per consent state (and `needs_attention` reason) under every filter but the
    /// state filter itself, so each state option can show what choosing it would list.
    #[serde(default)]
    pub state_counts: Vec<StateCount>,
    /// How many of the tenants the other filters match are stuck in onboarding.
    #[serde(default)]
    pub stuck_count: u64,
    /// Tenants per setup-check option under every filter but the setup-check filter.
    #[serde(default)]
    pub check_counts: Vec<(CheckFilter, u64)>,
    /// Tenants per failing check under every filter but the failing-check filter (checks that
    /// fail nowhere are left out).
    #[serde(default)]
    pub failing_counts: Vec<(crate::checks::CheckId, u64)>,
    /// Tenants per account manager under every filter but the manager filter: `(id, e-mail,
    /// count)`, `None` for tenants assigned to nobody.
    #[serde(default)]
    pub manager_counts: Vec<(Option<Uuid>, Option<String>, u64)>,
    /// How many of the tenants the other filters match have an override in force.
    #[serde(default)]
    pub overridden_count: u64,
}

fn empty_as_none_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// One environment on the overview: tenants per consent state (and reason), and how many are
/// stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentOverview {
    pub environment: Environment,
    pub counts: Vec<StateCount>,
    pub stuck: u64,
    /// Tenants with an override in force (on their consent or a setup check).
    #[serde(default)]
    pub overridden: u64,
    /// Tenants whose latest setup check fails each check, for every check (zero included).
    #[serde(default)]
    pub failing: Vec<(crate::checks::CheckId, u64)>,
}

impl EnvironmentOverview {
    /// Tenants in `state` (every reason).
    pub fn in_state(&self, state: ConsentState) -> u64 {
        self.counts.iter().filter(|c| c.state == state).map(|c| c.count).sum()
    }

    /// The onboarding funnel: each step with how many tenants reached it or a later step (a
    /// tenant that needs attention had consented; revoked tenants left the funnel).
    pub fn funnel(&self) -> Vec<(ConsentState, u64)> {
        let steps = [ConsentState::NotStarted, ConsentState::Invited, ConsentState::InProgress, ConsentState::Consented, ConsentState::Verified];
        let level = |s: ConsentState| match s {
            ConsentState::NeedsAttention => Some(3),
            ConsentState::Revoked => None,
            other => steps.iter().position(|x| *x == other),
        };
        steps
            .iter()
            .enumerate()
            .map(|(i, step)| (*step, self.counts.iter().filter(|c| level(c.state).is_some_and(|l| l >= i)).map(|c| c.count).sum()))
            .collect()
    }
}

/// The staff overview: the funnel per environment, who needs attention and why, who is stuck,
/// and the latest activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub environments: Vec<EnvironmentOverview>,
    pub recent: Vec<crate::audit::log::AuditEntry>,
}

/// Everything the tenant page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantDetail {
    pub id: Uuid,
    pub display_name: String,
    pub slug: String,
    pub environment: Environment,
    pub contact_email: String,
    pub account_manager_id: Option<Uuid>,
    pub account_manager_email: Option<String>,
    pub notes: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the caller may edit, archive and restore this tenant.
    pub can_manage: bool,
}

impl TenantDetail {
    /// The editable fields, to prefill the edit form.
    pub fn to_input(&self) -> TenantInput {
        TenantInput {
            display_name: self.display_name.clone(),
            slug: self.slug.clone(),
            environment: self.environment,
            contact_email: self.contact_email.clone(),
            account_manager_id: self.account_manager_id,
            notes: self.notes.clone(),
        }
    }
}

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use crate::ssr::RequestCtx;

    /// What the server must provide for tenants. Every method authorizes the caller itself.
    #[async_trait::async_trait]
    pub trait TenantsPort: Send + Sync + 'static {
        /// Tenants the caller may see (account managers: only assigned ones), by name.
        async fn list(&self, ctx: &RequestCtx, include_archived: bool) -> Result<Vec<TenantSummary>, AppError>;
        /// One page of the tenants the caller may see, by name, with their consent state.
        async fn page(&self, ctx: &RequestCtx, query: TenantQuery) -> Result<TenantPage, AppError>;
        /// The overview of the tenants the caller may see.
        async fn overview(&self, ctx: &RequestCtx) -> Result<Overview, AppError>;
        /// One tenant; `NotFound` also when the caller may not see it.
        async fn get(&self, ctx: &RequestCtx, id: Uuid) -> Result<TenantDetail, AppError>;
        /// One page of a tenant's timeline; `NotFound` also when the caller may not see it.
        async fn timeline(&self, ctx: &RequestCtx, id: Uuid, query: TimelineQuery) -> Result<TimelinePage, AppError>;
        /// Creates a tenant; a slug clash is a field error.
        async fn create(&self, ctx: &RequestCtx, input: TenantInput) -> Result<Uuid, AppError>;
        /// Replaces a tenant's editable fields.
        async fn update(&self, ctx: &RequestCtx, id: Uuid, input: TenantInput) -> Result<(), AppError>;
        /// Archives (`archived = true`) or restores a tenant.
        async fn set_archived(&self, ctx: &RequestCtx, id: Uuid, archived: bool) -> Result<(), AppError>;
    }
}
#[cfg(feature = "ssr")]
pub use port::TenantsPort;

/// Lists the tenants the caller may see.
#[server(endpoint = "tenants/list")]
pub async fn list_tenants(include_archived: bool) -> Result<Vec<TenantSummary>, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.list(&ctx, include_archived).await)
}

/// One page of the tenants the caller may see.
#[server(endpoint = "tenants/page")]
pub async fn list_tenant_page(query: TenantQuery) -> Result<TenantPage, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.page(&ctx, query).await)
}

/// The overview of the tenants the caller may see.
#[server(endpoint = "tenants/overview")]
pub async fn tenant_overview() -> Result<Overview, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.overview(&ctx).await)
}

/// One tenant.
#[server(endpoint = "tenants/get")]
pub async fn get_tenant(id: Uuid) -> Result<TenantDetail, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.get(&ctx, id).await)
}

/// One page of a tenant's timeline (newest first, optionally one kind).
#[server(endpoint = "tenants/timeline")]
pub async fn tenant_timeline(id: Uuid, #[server(default)] query: TimelineQuery) -> Result<TimelinePage, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.timeline(&ctx, id, query).await)
}

/// Creates a tenant and returns its id.
#[server(endpoint = "tenants/create")]
pub async fn create_tenant(input: TenantInput) -> Result<Uuid, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.create(&ctx, input).await)
}

/// Updates a tenant's editable fields.
#[server(endpoint = "tenants/update")]
pub async fn update_tenant(id: Uuid, input: TenantInput) -> Result<Uuid, AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.update(&ctx, id, input).await).map(|()| id)
}

/// Archives a tenant (it leaves the default list; nothing is deleted).
#[server(endpoint = "tenants/archive")]
pub async fn archive_tenant(id: Uuid) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.set_archived(&ctx, id, true).await)
}

/// Restores an archived tenant.
#[server(endpoint = "tenants/restore")]
pub async fn restore_tenant(id: Uuid) -> Result<(), AppError> {
    use crate::ssr::*;
    let ctx = request_ctx()?;
    let port = port::<dyn TenantsPort>()?;
    respond(&ctx, port.set_archived(&ctx, id, false).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TenantInput {
        TenantInput {
            display_name: "Acme Corp".into(),
            slug: "acme-corp".into(),
            environment: Environment::Demo,
            contact_email: "admin@acme.test".into(),
            account_manager_id: None,
            notes: String::new(),
        }
    }

    #[test]
    fn a_well_formed_tenant_passes_validation() {
        assert!(input().validate().is_ok());
    }

    #[test]
    fn slugs_must_be_short_lowercase_hyphenated_names() {
        for bad in ["ab", "Acme", "acme corp", "1acme", "acme-", "ac--me", "acme_corp", "äcme"] {
            assert!(validate_slug(bad).is_err(), "{bad:?} must be rejected");
        }
        for good in ["acme", "acme-corp", "a1b2", "x-y-z"] {
            assert!(validate_slug(good).is_ok(), "{good:?} must be accepted");
        }
    }

    #[test]
    fn a_bad_slug_and_a_bad_email_are_reported_on_their_fields() {
        let mut bad = input();
        bad.slug = "Bad Slug".into();
        bad.contact_email = "not-an-email".into();
        let err = AppError::from(bad.validate().unwrap_err());
        assert_eq!(
            err.field_messages("slug"),
            vec!["Use only lower-case letters, digits and hyphens (for example acme-corp)."]
        );
        assert_eq!(err.field_messages("contact_email").len(), 1);
    }

    #[test]
    fn an_empty_account_manager_from_a_form_means_none() {
        let parsed: TenantInput = serde_json::from_value(serde_json::json!({
            "display_name": "A", "slug": "abc", "environment": "demo",
            "contact_email": "a@b.test", "account_manager_id": ""
        }))
        .unwrap();
        assert_eq!(parsed.account_manager_id, None);
    }

    #[test]
    fn normalizing_trims_and_lowercases_the_email() {
        let mut raw = input();
        raw.display_name = "  Acme  ".into();
        raw.contact_email = " Admin@ACME.test ".into();
        let n = raw.normalized();
        assert_eq!(n.display_name, "Acme");
        assert_eq!(n.contact_email, "admin@acme.test");
    }
}

#[cfg(test)]
mod overview_tests {
    use super::*;

    #[test]
    fn the_funnel_counts_tenants_at_a_step_or_beyond_with_needs_attention_as_consented_and_revoked_outside() {
        let count = |state, count| StateCount { state, reason: None, count };
        let env = EnvironmentOverview {
            environment: Environment::Demo,
            counts: vec![
                count(ConsentState::NotStarted, 10),
                count(ConsentState::Invited, 5),
                count(ConsentState::InProgress, 2),
                count(ConsentState::Verified, 4),
                count(ConsentState::NeedsAttention, 1),
                count(ConsentState::Revoked, 3),
            ],
            stuck: 0,
            overridden: 0,
            failing: Vec::new(),
        };
        let reached: Vec<u64> = env.funnel().into_iter().map(|(_, n)| n).collect();
        assert_eq!(reached, [22, 12, 7, 5, 4]);
        assert_eq!(env.in_state(ConsentState::Revoked), 3);
    }
}
