//! The tenants list of the staff console: which tenants a viewer may see that match a query
//! (scope, search, consent, setup-check, failing-check, manager, override and "stuck" filters),
//! one keyset page of them with what each row shows, and the aggregates around the page (total,
//! each filter option's count, the overview). Exports walk the same pages.

use app::auth::{Role, StaffPrincipal};
use app::error::AppError;
use app::onboarding::model::{ConsentMode, ConsentState};
use app::checks::{CheckId, CheckStatus, RunOverall};
use app::tenants::api::{CheckFilter, EnvironmentOverview, Overview, StateCount, TENANT_PAGE_SIZE, TenantPage, TenantQuery, TenantSummary};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::audit;
use crate::config::OnboardingSla;
use crate::db::entities::{check_result, consent_state, invite, latest_check_run, staff_user, system_user, tenant};
use crate::error::{ServiceError, ServiceResult};

/// Tenants `viewer` may see: all for config staff and admins, assigned ones for account managers.
pub async fn list<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, include_archived: bool, sla: &OnboardingSla) -> ServiceResult<Vec<TenantSummary>> {
    // Walked in pages of 500 like an export: bounded statements (the overrides look up each
    // page's ids).
    let mut query = TenantQuery { include_archived, ..TenantQuery::default() };
    let mut out = Vec::new();
    loop {
        let (items, next) = page_of(db, viewer, &query, 500, sla).await?;
        out.extend(items);
        match next {
            Some(next) => query.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// Tenant rows as the list shows them: the tenants `select` reads (filtered, ordered and
/// limited by the caller), each with its consent state, mode and system user in its own
/// environment, its latest setup-check run, its manager, its last activity and an open request
/// for a fresh invite link. One statement reads them all: the page's own query with the state and
/// system user joined on their primary keys and the rest as correlated lookups each answered by
/// one index step; then one more reads the overrides in force. (Each statement is a round trip
/// to the database's worker, and on SQLite every row of it a hand-over between threads: the
/// page's rows are read once, not once for the page and again by id.)
async fn summaries<C: ConnectionTrait>(db: &C, select: sea_orm::Select<tenant::Entity>, sla: &OnboardingSla) -> ServiceResult<Vec<TenantSummary>> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Order, Query};
    use sea_orm::{FromQueryResult, QueryTrait};

    use crate::db::entities::{audit_event, consent_grant};

    let own = |table: Alias, tenant_col: &str, env_col: &str| {
        Expr::col((table.clone(), Alias::new(tenant_col)))
            .equals((tenant::Entity, tenant::Column::Id))
            .and(Expr::col((table, Alias::new(env_col))).equals((tenant::Entity, tenant::Column::Environment)))
    };
    let (cs, su, lr, m) = (Alias::new("cs"), Alias::new("su"), Alias::new("lr"), Alias::new("m"));
    let newest_mode = Query::select()
        .column(consent_grant::Column::Mode)
        .from(consent_grant::Entity)
        .and_where(Expr::col((consent_grant::Entity, consent_grant::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(Expr::col((consent_grant::Entity, consent_grant::Column::Environment)).equals((tenant::Entity, tenant::Column::Environment)))
        .order_by((consent_grant::Entity, consent_grant::Column::GrantedAt), Order::Desc)
        .limit(1)
        .to_owned();
    let last_activity = Query::select()
        .expr(Func::max(Expr::col((audit_event::Entity, audit_event::Column::OccurredAt))))
        .from(audit_event::Entity)
        .and_where(Expr::col((audit_event::Entity, audit_event::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .to_owned();
    // A customer's request for a fresh invite link is open while no invite is newer than it.
    let newest_invite = |column: invite::Column| {
        Query::select()
            .expr(Func::max(Expr::col((invite::Entity, column))))
            .from(invite::Entity)
            .and_where(Expr::col((invite::Entity, invite::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
            .to_owned()
    };
    let sub = |q: sea_orm::sea_query::SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let query = select
        .into_query()
        .expr_as(Expr::col((cs.clone(), consent_state::Column::State)), Alias::new("state"))
        .expr_as(Expr::col((cs.clone(), consent_state::Column::Reason)), Alias::new("reason"))
        .expr_as(Expr::col((cs.clone(), consent_state::Column::UpdatedAt)), Alias::new("state_since"))
        .expr_as(Expr::col((su.clone(), system_user::Column::Email)), Alias::new("su_email"))
        .expr_as(Expr::col((su.clone(), system_user::Column::AccountName)), Alias::new("account_name"))
        .expr_as(Expr::col((su.clone(), system_user::Column::AccountId)), Alias::new("account_id"))
        .expr_as(Expr::col((m.clone(), staff_user::Column::Email)), Alias::new("manager_email"))
        .expr_as(sub(newest_mode), Alias::new("mode"))
        .expr_as(Expr::col((lr.clone(), latest_check_run::Column::Overall)), Alias::new("overall"))
        .expr_as(Expr::col((lr.clone(), latest_check_run::Column::StartedAt)), Alias::new("run_started_at"))
        .expr_as(sub(last_activity), Alias::new("last_activity"))
        .expr_as(sub(newest_invite(invite::Column::LinkRequestedAt)), Alias::new("link_requested"))
        .expr_as(sub(newest_invite(invite::Column::CreatedAt)), Alias::new("last_invite"))
        .join_as(JoinType::LeftJoin, consent_state::Entity, cs.clone(), own(cs, "tenant_id", "environment"))
        .join_as(JoinType::LeftJoin, system_user::Entity, su.clone(), own(su, "tenant_id", "environment"))
        .join_as(JoinType::LeftJoin, latest_check_run::Entity, lr.clone(), own(lr, "tenant_id", "environment"))
        .join_as(
            JoinType::LeftJoin,
            staff_user::Entity,
            m.clone(),
            Expr::col((m.clone(), staff_user::Column::Id))
                .equals((tenant::Entity, tenant::Column::AccountManagerId))
                .and(Expr::col((m, staff_user::Column::Role)).eq(Role::AccountManager.as_str())),
        )
        .to_owned();
    let rows = db.query_all(&query).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let tenants = rows.iter().map(|row| tenant::Model::from_query_result(row, "")).collect::<Result<Vec<_>, _>>()?;
    let now = Utc::now();
    let mut overrides = crate::checks::overrides::badges_of(db, tenants.iter().map(|t| t.id).collect(), now).await?;

    tenants
        .into_iter()
        .zip(&rows)
        .map(|(t, row)| {
            let stored_state: Option<String> = row.try_get("", "state")?;
            let consent_state = match stored_state.as_deref() {
                Some(stored) => ConsentState::parse(stored).ok_or_else(|| ServiceError::unexpected(format!("consent_states: unknown state `{stored}`")))?,
                None => ConsentState::NotStarted,
            };
            let consent_since: Option<chrono::DateTime<Utc>> = row.try_get("", "state_since")?;
            let mode: Option<String> = row.try_get("", "mode")?;
            let overall: Option<String> = row.try_get("", "overall")?;
            let link_requested: Option<chrono::DateTime<Utc>> = row.try_get("", "link_requested")?;
            let last_invite: Option<chrono::DateTime<Utc>> = row.try_get("", "last_invite")?;
            Ok(TenantSummary {
                stuck: consent_since.is_some_and(|since| is_stuck(sla, consent_state, since, now)),
                overrides: overrides.remove(&(t.id, t.environment.clone())).unwrap_or_default(),
                id: t.id,
                account_manager_email: row.try_get("", "manager_email")?,
                environment: t.environment()?,
                consent_state,
                consent_reason: row.try_get("", "reason")?,
                consent_since,
                consent_mode: mode
                    .as_deref()
                    .map(|m| ConsentMode::parse(m).ok_or_else(|| ServiceError::unexpected(format!("consent_grants: unknown mode `{m}`"))))
                    .transpose()?,
                system_user_email: row.try_get("", "su_email")?,
                account_name: row.try_get("", "account_name")?,
                account_id: row.try_get("", "account_id")?,
                check_overall: overall
                    .as_deref()
                    .map(|o| RunOverall::parse(o).ok_or_else(|| ServiceError::unexpected(format!("check_runs: unknown overall result `{o}`"))))
                    .transpose()?,
                check_started_at: row.try_get("", "run_started_at")?,
                last_activity_at: row.try_get("", "last_activity")?,
                link_requested_at: link_requested.filter(|requested| last_invite.is_none_or(|issued| *requested > issued)),
                display_name: t.display_name,
                slug: t.slug,
                contact_email: t.contact_email,
                archived: t.archived_at.is_some(),
                updated_at: t.updated_at,
            })
        })
        .collect()
}

/// A cursor is the last row's sort key (name, id), base64url so it is one opaque URL value.
fn encode_cursor(name: &str, id: Uuid) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{id}\u{1f}{name}"))
}

fn decode_cursor(cursor: &str) -> ServiceResult<(String, Uuid)> {
    use base64::Engine as _;
    let bad = || AppError::bad_request("This page link is not valid; start again from the first page.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, name) = text.split_once('\u{1f}').ok_or_else(bad)?;
    Ok((name.to_owned(), Uuid::parse_str(id).map_err(|_| bad())?))
}

/// Tenants whose name, slug, contact e-mail or system user's e-mail (in the tenant's own
/// environment) contain `q`, ignoring case. From three characters on, the trigram index of
/// migration 000013 answers it (FTS5 on SQLite, `pg_trgm` on PostgreSQL, both kept by triggers);
/// a shorter text has no trigram to look up, so it is matched by scanning the columns.
fn search(backend: sea_orm::DbBackend, q: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::Condition;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query};

    let needle = q.to_lowercase();
    if needle.chars().count() >= 3 {
        let id = Expr::col((tenant::Entity, tenant::Column::Id));
        match backend {
            sea_orm::DbBackend::Sqlite => {
                // One FTS5 string (a double quote doubled): with the trigram tokenizer, a substring.
                let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
                let docs = Query::select()
                    .expr(Expr::cust("rowid"))
                    .from(Alias::new("tenant_search"))
                    .and_where(Expr::cust_with_values("tenant_search MATCH ?", [phrase]))
                    .to_owned();
                return id.in_subquery(
                    Query::select()
                        .column(Alias::new("tenant_id"))
                        .from(Alias::new("tenant_search_docs"))
                        .and_where(Expr::col(Alias::new("docid")).in_subquery(docs))
                        .to_owned(),
                );
            }
            sea_orm::DbBackend::Postgres => {
                return id.in_subquery(
                    Query::select()
                        .column(Alias::new("tenant_id"))
                        .from(Alias::new("tenant_search"))
                        .and_where(Expr::col(Alias::new("body")).like(LikeExpr::new(like_pattern(&needle)).escape('\\')))
                        .to_owned(),
                );
            }
            _ => {}
        }
    }
    let pattern = like_pattern(&needle);
    let lower_like = |col: tenant::Column| Expr::expr(Func::lower(Expr::col((tenant::Entity, col)))).like(LikeExpr::new(pattern.clone()).escape('\\'));
    // The system user's e-mail too: staff often know a customer by its integration user.
    let system_user_matches = Query::select()
        .expr(Expr::val(1))
        .from(system_user::Entity)
        .and_where(Expr::col((system_user::Entity, system_user::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(Expr::col((system_user::Entity, system_user::Column::Environment)).equals((tenant::Entity, tenant::Column::Environment)))
        .and_where(Expr::expr(Func::lower(Expr::col((system_user::Entity, system_user::Column::Email)))).like(LikeExpr::new(pattern.clone()).escape('\\')))
        .to_owned();
    Condition::any()
        .add(lower_like(tenant::Column::DisplayName))
        .add(lower_like(tenant::Column::Slug))
        .add(lower_like(tenant::Column::ContactEmail))
        .add(Expr::exists(system_user_matches))
        .into()
}

/// `%` and `_` typed by a person are matched literally.
fn like_pattern(needle: &str) -> String {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of the tenants `viewer` may see, by name then id (keyset: `after` is the previous
/// page's last key), matching `query`, with each tenant's consent state in its environment.
pub async fn page<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<TenantPage> {
    let (items, next) = page_of(db, viewer, query, TENANT_PAGE_SIZE, sla).await?;
    Ok(list_counts(db, viewer, query, sla).await?.into_page(items, next))
}

/// The list's aggregates for a query (its cursor ignored): how many tenants match in all, and
/// each filter option's count under the other filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCounts {
    pub total: u64,
    pub state_counts: Vec<StateCount>,
    pub stuck_count: u64,
    pub check_counts: Vec<(CheckFilter, u64)>,
    pub failing_counts: Vec<(CheckId, u64)>,
    pub manager_counts: Vec<(Option<Uuid>, Option<String>, u64)>,
    pub overridden_count: u64,
}

impl ListCounts {
    /// A page of the list: these counts around its rows.
    pub fn into_page(self, items: Vec<TenantSummary>, next: Option<String>) -> TenantPage {
        let ListCounts { total, state_counts, stuck_count, check_counts, failing_counts, manager_counts, overridden_count } = self;
        TenantPage { items, total, next, state_counts, stuck_count, check_counts, failing_counts, manager_counts, overridden_count }
    }
}

/// See [`ListCounts`]. All of them are sums over one grouped statement ([`groups`]) that reads
/// every tenant `viewer` may see; the port keeps them a few seconds (`crate::list_counts`).
pub async fn list_counts<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<ListCounts> {
    // Refused exactly as the page refuses it (the groups read only part of the query).
    matching(db.get_database_backend(), viewer, query, sla)?;
    let groups = groups(db, viewer, query, sla).await?;
    let total = groups.count(|g| g.matches(query));
    // Each option counts under every other filter; "stuck" is one of the state options.
    let others_than_state = TenantQuery { state: None, reason: None, stuck: false, ..query.clone() };
    let state_counts = groups.state_counts(|g| g.matches(&others_than_state));
    let stuck_count = groups.count(|g| g.matches(&others_than_state) && g.stuck);
    let others_than_check = TenantQuery { check: None, ..query.clone() };
    let check_counts = CheckFilter::ALL
        .into_iter()
        .map(|f| (f, groups.count(|g| g.matches(&others_than_check) && g.reads(f))))
        .filter(|(_, n)| *n > 0)
        .collect();
    let others_than_failing = TenantQuery { failing: None, ..query.clone() };
    let failing_counts = groups.failing_per_check(|g| g.matches(&others_than_failing)).into_iter().filter(|(_, n)| *n > 0).collect();
    let others_than_manager = TenantQuery { manager: None, ..query.clone() };
    let mut per_manager: Vec<(Option<Uuid>, u64)> = Vec::new();
    for g in groups.0.iter().filter(|g| g.matches(&others_than_manager)) {
        match per_manager.iter_mut().find(|(m, _)| *m == g.manager) {
            Some((_, n)) => *n += g.n,
            None => per_manager.push((g.manager, g.n)),
        }
    }
    let emails = manager_emails(db).await?;
    let mut manager_counts: Vec<(Option<Uuid>, Option<String>, u64)> =
        per_manager.into_iter().map(|(id, n)| (id, id.and_then(|m| emails.get(&m).cloned()), n)).collect();
    // By e-mail, unassigned last.
    manager_counts.sort_by(|a, b| (a.1.is_none(), &a.1).cmp(&(b.1.is_none(), &b.1)));
    let overridden_count = groups.count(|g| g.matches(query) && g.overridden);
    Ok(ListCounts { total, state_counts, stuck_count, check_counts, failing_counts, manager_counts, overridden_count })
}

/// `SELECT 1` from the latest setup-check run of the outer `tenants` row in its own environment
/// (`latest_check_runs`, kept by triggers on the runs), correlated on that table's primary key;
/// callers add what the run must be.
fn own_latest_run() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Query::select()
        .expr(Expr::val(1))
        .from(latest_check_run::Entity)
        .and_where(Expr::col((latest_check_run::Entity, latest_check_run::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(Expr::col((latest_check_run::Entity, latest_check_run::Column::Environment)).equals((tenant::Entity, tenant::Column::Environment)))
        .to_owned()
}

/// Whether the outer tenant's latest run reads as `filter` (no latest run: never run).
fn check_reads(filter: CheckFilter) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let overall = Expr::col((latest_check_run::Entity, latest_check_run::Column::Overall));
    match filter.overall() {
        Some(wanted) => Expr::exists(own_latest_run().and_where(overall.eq(wanted.as_str())).to_owned()),
        None if filter == CheckFilter::Running => Expr::exists(own_latest_run().and_where(overall.is_null()).to_owned()),
        None => Expr::exists(own_latest_run()).not(),
    }
}

/// Whether `check` failed in the outer tenant's latest run (its result found by primary key).
fn check_fails(check: CheckId) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let c = |col: check_result::Column| Expr::col((check_result::Entity, col));
    Expr::exists(
        own_latest_run()
            .inner_join(
                check_result::Entity,
                c(check_result::Column::RunId)
                    .equals((latest_check_run::Entity, latest_check_run::Column::RunId))
                    .and(c(check_result::Column::CheckId).eq(check.as_str()))
                    .and(c(check_result::Column::Status).eq(CheckStatus::Fail.as_str())),
            )
            .to_owned(),
    )
}

/// The tenants `viewer` may see that match `query`'s scope, archive, search and environment,
/// in groups that agree on everything a filter option asks of a tenant, with each group's size.
/// Every option's count is a sum over these groups (see [`Groups`]), so one grouped statement
/// over the tenants answers the whole list's counts: each tenant's consent state and stuck flag,
/// its latest run's overall and failing checks, its manager and whether an override is in force,
/// each read by one primary-key or index step.
async fn groups<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<Groups> {
    use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, JoinType, Query};
    use sea_orm::{QuerySelect, QueryTrait};

    let backend = db.get_database_backend();
    // The option filters are applied to the groups; only what narrows every count is in SQL.
    let base = TenantQuery { q: query.q.clone(), environment: query.environment, include_archived: query.include_archived, ..TenantQuery::default() };
    let now = Utc::now();
    let l = |col: latest_check_run::Column| Expr::col((latest_check_run::Entity, col));
    let r = |col: check_result::Column| Expr::col((check_result::Entity, col));
    let failing_ids = match backend {
        sea_orm::DbBackend::Postgres => Func::cust(Alias::new("string_agg")).arg(r(check_result::Column::CheckId)).arg(","),
        _ => Func::cust(Alias::new("group_concat")).arg(r(check_result::Column::CheckId)),
    };
    let failing = Query::select()
        .expr(failing_ids)
        .from(check_result::Entity)
        .and_where(r(check_result::Column::RunId).equals((latest_check_run::Entity, latest_check_run::Column::RunId)))
        .and_where(r(check_result::Column::Status).eq(CheckStatus::Fail.as_str()))
        .to_owned();
    let per_tenant = matching(backend, viewer, &base, sla)?
        .select_only()
        .expr_as(Expr::col((consent_state::Entity, consent_state::Column::State)), "state")
        .expr_as(Expr::col((consent_state::Entity, consent_state::Column::Reason)), "reason")
        .expr_as(Expr::expr(late(sla, now)), "stuck")
        .expr_as(l(latest_check_run::Column::Overall), "overall")
        .expr_as(l(latest_check_run::Column::RunId).is_not_null(), "ran")
        .expr_as(Expr::SubQuery(None, Box::new(failing.into())), "failing")
        .expr_as(Expr::col((tenant::Entity, tenant::Column::AccountManagerId)), "manager")
        .expr_as(Expr::exists(crate::checks::overrides::in_force_row(now)), "overridden")
        .expr_as(Expr::col((tenant::Entity, tenant::Column::Environment)), "environment")
        .into_query()
        .join(
            JoinType::LeftJoin,
            consent_state::Entity,
            Expr::col((consent_state::Entity, consent_state::Column::TenantId))
                .equals((tenant::Entity, tenant::Column::Id))
                .and(Expr::col((consent_state::Entity, consent_state::Column::Environment)).equals((tenant::Entity, tenant::Column::Environment))),
        )
        .join(
            JoinType::LeftJoin,
            latest_check_run::Entity,
            l(latest_check_run::Column::TenantId)
                .equals((tenant::Entity, tenant::Column::Id))
                .and(l(latest_check_run::Column::Environment).equals((tenant::Entity, tenant::Column::Environment))),
        )
        .to_owned();
    // Grouped by the derived table's columns: PostgreSQL would not match a grouped expression
    // with bound values to the same expression in the select list.
    let g = Alias::new("g");
    let columns = ["state", "reason", "stuck", "overall", "ran", "failing", "manager", "overridden", "environment"];
    let mut grouped = Query::select();
    grouped.from_subquery(per_tenant, g.clone()).expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"));
    for c in columns {
        grouped.expr_as(Expr::col((g.clone(), Alias::new(c))), Alias::new(c)).add_group_by([Expr::col((g.clone(), Alias::new(c)))]);
    }
    let mut out = Vec::new();
    for row in db.query_all(&grouped).await? {
        let state: Option<String> = row.try_get("", "state")?;
        let overall: Option<String> = row.try_get("", "overall")?;
        let failing: Option<String> = row.try_get("", "failing")?;
        let n: i64 = row.try_get("", "n")?;
        let environment: String = row.try_get("", "environment")?;
        out.push(Group {
            environment: app::environment::Environment::parse(&environment)
                .ok_or_else(|| ServiceError::unexpected(format!("tenants: unknown environment `{environment}` while counting")))?,
            state: match state.as_deref() {
                None => ConsentState::NotStarted,
                Some(stored) => ConsentState::parse(stored).ok_or_else(|| ServiceError::unexpected(format!("consent_states: unknown state `{stored}` while counting")))?,
            },
            reason: row.try_get("", "reason")?,
            // NULL for a tenant with no state row: not stuck.
            stuck: row.try_get::<Option<bool>>("", "stuck")?.unwrap_or(false),
            overall: overall
                .as_deref()
                .map(|o| RunOverall::parse(o).ok_or_else(|| ServiceError::unexpected(format!("check_runs: unknown overall result `{o}` while counting"))))
                .transpose()?,
            ran: row.try_get("", "ran")?,
            failing: failing
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| CheckId::parse(c).ok_or_else(|| ServiceError::unexpected(format!("check_results: unknown check `{c}` while counting"))))
                .collect::<ServiceResult<_>>()?,
            manager: row.try_get("", "manager")?,
            overridden: row.try_get("", "overridden")?,
            n: n as u64,
        });
    }
    Ok(Groups(out))
}

/// Tenants that agree on everything a filter option asks, and how many they are.
struct Group {
    environment: app::environment::Environment,
    state: ConsentState,
    reason: Option<String>,
    stuck: bool,
    overall: Option<RunOverall>,
    ran: bool,
    failing: Vec<CheckId>,
    manager: Option<Uuid>,
    overridden: bool,
    n: u64,
}

impl Group {
    /// Whether these tenants pass `query`'s option filters, as [`matching`] reads each of them
    /// (`in_state`, `stuck`, `check_reads`, `check_fails`, the manager and the overrides in force).
    fn matches(&self, query: &TenantQuery) -> bool {
        query.state.is_none_or(|s| self.state == s && query.reason.as_deref().is_none_or(|r| self.reason.as_deref() == Some(r)))
            && (!query.stuck || self.stuck)
            && query.check.is_none_or(|f| self.reads(f))
            && query.failing.is_none_or(|c| self.failing.contains(&c))
            && query.manager.is_none_or(|m| self.manager == Some(m))
            && (!query.overridden || self.overridden)
    }

    /// Whether their latest run reads as `filter` (no latest run: never run).
    fn reads(&self, filter: CheckFilter) -> bool {
        match filter.overall() {
            Some(overall) => self.overall == Some(overall),
            None if filter == CheckFilter::Running => self.ran && self.overall.is_none(),
            None => !self.ran,
        }
    }
}

/// The groups of [`groups`], summed under filters.
struct Groups(Vec<Group>);

impl Groups {
    /// How many tenants pass `keep`.
    fn count(&self, keep: impl Fn(&Group) -> bool) -> u64 {
        self.0.iter().filter(|g| keep(g)).map(|g| g.n).sum()
    }

    /// Tenants whose latest run fails each check, among those that pass `keep`: every check, in
    /// the order of [`CheckId::ALL`], zero included.
    fn failing_per_check(&self, keep: impl Fn(&Group) -> bool) -> Vec<(CheckId, u64)> {
        CheckId::ALL.into_iter().map(|c| (c, self.count(|g| keep(g) && g.failing.contains(&c)))).collect()
    }

    /// Tenants per consent state (and, for those that need attention, reason) among those that
    /// pass `keep`, in the order of [`ConsentState::ALL`].
    fn state_counts(&self, keep: impl Fn(&Group) -> bool) -> Vec<StateCount> {
        let mut counts: Vec<StateCount> = Vec::new();
        for g in self.0.iter().filter(|g| keep(g)) {
            // A reason only tells apart tenants that need attention; elsewhere it is history.
            let reason = if g.state == ConsentState::NeedsAttention { g.reason.clone() } else { None };
            match counts.iter_mut().find(|c| c.state == g.state && c.reason == reason) {
                Some(c) => c.count += g.n,
                None => counts.push(StateCount { state: g.state, reason, count: g.n }),
            }
        }
        counts.sort_by(|a, b| {
            let order = |s: ConsentState| ConsentState::ALL.iter().position(|x| *x == s);
            order(a.state).cmp(&order(b.state)).then_with(|| a.reason.cmp(&b.reason))
        });
        counts
    }
}


/// How many of the newest events the overview shows.
const OVERVIEW_RECENT: u64 = 10;

/// The overview of the tenants `viewer` may see (archived ones left out): per environment the
/// tenants per state and reason and how many are stuck, and the newest activity.
pub async fn overview<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, sla: &OnboardingSla) -> ServiceResult<Overview> {
    let groups = groups(db, viewer, &TenantQuery::default(), sla).await?;
    let mut environments = Vec::new();
    for environment in app::environment::Environment::ALL {
        let here = |g: &Group| g.environment == environment;
        environments.push(EnvironmentOverview {
            environment,
            counts: groups.state_counts(here),
            stuck: groups.count(|g| here(g) && g.stuck),
            overridden: groups.count(|g| here(g) && g.overridden),
            failing: groups.failing_per_check(here),
        });
    }
    let recent = audit::log(db, viewer, &app::audit::log::AuditQuery::default(), OVERVIEW_RECENT).await?.items;
    Ok(Overview { environments, recent })
}

/// How many tenants `viewer` may see that match `query` (its cursor ignored).
pub async fn count<C: ConnectionTrait>(db: &C, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(matching(db.get_database_backend(), viewer, query, sla)?.count(db).await?)
}

/// The ids of the tenants `viewer` may see that match `query`'s filters, as a subquery.
pub fn matching_ids(backend: sea_orm::DbBackend, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<sea_orm::sea_query::SelectStatement> {
    use sea_orm::{QuerySelect, QueryTrait};
    Ok(matching(backend, viewer, query, sla)?.select_only().column(tenant::Column::Id).into_query())
}

/// The tenants `viewer` may see that match `query`'s filters (not its cursor): an account
/// manager only their assigned tenants, archived ones only when asked, the search anywhere in
/// name, slug, contact e-mail or system-user e-mail; the consent, setup-check, failing-check,
/// manager and override filters each as one correlated condition on the tenant row.
fn matching(backend: sea_orm::DbBackend, viewer: &StaffPrincipal, query: &TenantQuery, sla: &OnboardingSla) -> ServiceResult<sea_orm::Select<tenant::Entity>> {
        use sea_orm::sea_query::Expr;

    let mut select = tenant::Entity::find();
    if viewer.role == Role::AccountManager {
        select = select.filter(tenant::Column::AccountManagerId.eq(viewer.id));
    }
    if !query.include_archived {
        select = select.filter(tenant::Column::ArchivedAt.is_null());
    }
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if q.chars().count() > 200 {
            return Err(AppError::field("q", "Search for at most 200 characters.").into());
        }
        select = select.filter(search(backend, q));
    }
    if let Some(manager) = query.manager {
        select = select.filter(tenant::Column::AccountManagerId.eq(manager));
    }
    if let Some(env) = query.environment {
        select = select.filter(tenant::Column::Environment.eq(env.as_str()));
    }
    if query.reason.is_some() && query.state != Some(ConsentState::NeedsAttention) {
        return Err(AppError::field("reason", "A reason narrows only the tenants that need attention.").into());
    }
    if query.reason.as_deref().is_some_and(|r| r.chars().count() > 64) {
        return Err(AppError::field("reason", "This reason is not one the portal records.").into());
    }
    if let Some(state) = query.state {
        select = select.filter(in_state(state, query.reason.as_deref()));
    }
    if query.stuck {
        select = select.filter(stuck(sla, Utc::now()));
    }
    if let Some(filter) = query.check {
        select = select.filter(check_reads(filter));
    }
    if let Some(check) = query.failing {
        select = select.filter(check_fails(check));
    }
    if query.overridden {
        select = select.filter(Expr::exists(crate::checks::overrides::in_force_row(Utc::now())));
    }
    Ok(select)
}

/// The states a tenant can be stuck in, each with the longest it may stay there.
fn sla_limits(sla: &OnboardingSla) -> [(ConsentState, chrono::Duration); 3] {
    [
        (ConsentState::Invited, chrono::Duration::days(i64::from(sla.invited_days))),
        (ConsentState::InProgress, chrono::Duration::days(i64::from(sla.in_progress_days))),
        (ConsentState::NeedsAttention, chrono::Duration::hours(i64::from(sla.needs_attention_hours))),
    ]
}

/// Whether a consent state, entered at `since`, is past the onboarding SLA at `now`.
pub fn is_stuck(sla: &OnboardingSla, state: ConsentState, since: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> bool {
    sla_limits(sla).iter().any(|(s, limit)| *s == state && since < now - *limit)
}

/// Whether a tenant has been in its (own environment's) state longer than the SLA allows.
fn stuck(sla: &OnboardingSla, now: chrono::DateTime<Utc>) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Expr;
    Expr::exists(own_state_row().cond_where(late(sla, now)).to_owned())
}

/// Whether the `consent_states` row in scope has been in its state longer than the SLA allows.
fn late(sla: &OnboardingSla, now: chrono::DateTime<Utc>) -> sea_orm::Condition {
    use sea_orm::Condition;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let mut late = Condition::any();
    for (state, limit) in sla_limits(sla) {
        late = late.add(
            Condition::all()
                .add(Expr::col((consent_state::Entity, consent_state::Column::State)).eq(state.as_str()))
                .add(Expr::col((consent_state::Entity, consent_state::Column::UpdatedAt)).lt(now - limit)),
        );
    }
    late
}

/// `SELECT 1` from the tenant's state row in its own environment, correlated with the outer
/// `tenants` row (a primary-key lookup); callers add what the state must be.
pub(crate) fn own_state_row() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Query::select()
        .expr(Expr::val(1))
        .from(consent_state::Entity)
        .and_where(Expr::col((consent_state::Entity, consent_state::Column::TenantId)).equals((tenant::Entity, tenant::Column::Id)))
        .and_where(Expr::col((consent_state::Entity, consent_state::Column::Environment)).equals((tenant::Entity, tenant::Column::Environment)))
        .to_owned()
}

/// Whether a tenant is in `state` (with `reason`, when given) in its own environment: a
/// correlated lookup on the state table's primary key. No state row means `not_started`.
pub(crate) fn in_state(state: ConsentState, reason: Option<&str>) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let mut row = own_state_row();
    if state == ConsentState::NotStarted {
        row.and_where(Expr::col((consent_state::Entity, consent_state::Column::State)).ne(ConsentState::NotStarted.as_str()));
        return Expr::exists(row.to_owned()).not();
    }
    row.and_where(Expr::col((consent_state::Entity, consent_state::Column::State)).eq(state.as_str()));
    if let Some(reason) = reason {
        row.and_where(Expr::col((consent_state::Entity, consent_state::Column::Reason)).eq(reason));
    }
    Expr::exists(row.to_owned())
}

/// Up to `size` tenants after `query`'s cursor, by name then id, each with its consent state,
/// and the cursor of the next page if there is one. The list pages and the export both walk
/// the list this way, so an export at 100,000 tenants holds one page in memory at a time.
pub async fn page_of<C: ConnectionTrait>(
    db: &C,
    viewer: &StaffPrincipal,
    query: &TenantQuery,
    size: u64,
    sla: &OnboardingSla,
) -> ServiceResult<(Vec<TenantSummary>, Option<String>)> {
    use sea_orm::{Condition, QuerySelect};
    let mut select = matching(db.get_database_backend(), viewer, query, sla)?;
    if let Some(cursor) = query.after.as_deref() {
        let (name, id) = decode_cursor(cursor)?;
        select = select.filter(
            Condition::any()
                .add(tenant::Column::DisplayName.gt(name.clone()))
                .add(Condition::all().add(tenant::Column::DisplayName.eq(name)).add(tenant::Column::Id.gt(id))),
        );
    }
    let select = select.order_by_asc(tenant::Column::DisplayName).order_by_asc(tenant::Column::Id).limit(size + 1);
    let mut items = summaries(db, select, sla).await?;
    let next = if items.len() as u64 > size {
        items.truncate(size as usize);
        items.last().map(|t| encode_cursor(&t.display_name, t.id))
    } else {
        None
    };
    Ok((items, next))
}

/// Account managers by id, with their e-mail (the list names a tenant's manager by it).
async fn manager_emails<C: ConnectionTrait>(db: &C) -> ServiceResult<std::collections::HashMap<Uuid, String>> {
    let rows = staff_user::Entity::find().filter(staff_user::Column::Role.eq(Role::AccountManager.as_str())).all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.email)).collect())
}
