//! CSV exports for staff (the tenant list, the audit log): what a person may see on a list, as a
//! file a spreadsheet opens.
//!
//! An export is written as RFC 4180 CSV (the `csv` crate quotes every field that needs it) and
//! streamed page by page, so 100,000 rows hold one page in memory. Every cell a spreadsheet
//! would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is
//! prefixed with `'` (OWASP's "CSV injection" advice): tenant names and e-mail addresses are
//! typed by people outside the ISV. The export is scoped exactly like the list (an account
//! manager gets only their assigned tenants) and writes one audit event naming who exported,
//! with which filter, and how many rows matched.

use std::borrow::Cow;

use std::future::Future;

use app::audit::log::{AuditEntry, AuditQuery};
use app::auth::StaffPrincipal;
use app::tenants::api::{TenantQuery, TenantSummary};
use axum::body::Bytes;
use futures::{Stream, StreamExt};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::audit::{self, Actor, Event};
use crate::config::OnboardingSla;
use crate::error::{ServiceError, ServiceResult};

/// Rows read and written per step of a streamed export.
pub const EXPORT_PAGE: u64 = 500;

/// The tenant export's columns, in order.
pub const TENANT_COLUMNS: [&str; 19] = [
    "tenant_id",
    "display_name",
    "slug",
    "environment",
    "contact_email",
    "account_manager",
    "consent_state",
    "consent_reason",
    "consent_since",
    "consent_mode",
    "system_user_email",
    "account_id",
    "account_name",
    "setup_check",
    "setup_check_started_at",
    "last_activity_at",
    "stuck",
    "archived",
    "updated_at",
];

/// The consent-receipt export's columns, in order: one row per consent granted.
pub const RECEIPT_COLUMNS: [&str; 14] = [
    "tenant_id",
    "display_name",
    "slug",
    "environment",
    "mode",
    "granted_by_email",
    "granted_by_name",
    "granted_by_user_id",
    "scopes",
    "organization_id",
    "granted_at",
    "verified_at",
    "verification",
    "receipt_id",
];

/// A time as the export writes it (RFC 3339, UTC, seconds).
fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}

/// A cell as a spreadsheet may safely open it: text that would start a formula gets a leading
/// apostrophe, which spreadsheets show as text and do not evaluate.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The audit export's columns, in order.
pub const AUDIT_COLUMNS: [&str; 10] =
    ["event_id", "occurred_at", "tenant_id", "tenant_name", "actor", "action", "changes", "before", "after", "request_id"];

/// Writes `rows` (and `header` first when `with_header`) as CSV bytes, every cell neutralised.
fn csv_chunk(header: &[&str], rows: &[Vec<String>], with_header: bool) -> ServiceResult<Bytes> {
    let fail = |e: csv::Error| ServiceError::unexpected(format!("writing an export: {e}"));
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(rows.len() * 160));
    if with_header {
        out.write_record(header).map_err(fail)?;
    }
    for row in rows {
        out.write_record(row.iter().map(|cell| neutralize(cell).into_owned())).map_err(fail)?;
    }
    let bytes = out.into_inner().map_err(|e| ServiceError::unexpected(format!("writing an export: {e}")))?;
    Ok(Bytes::from(bytes))
}

/// A streamed CSV body: the header, then the rows of each page `fetch` returns for the cursor
/// it was given, until it returns no next cursor. One page is in memory at a time. A failure
/// part way through ends the stream with an error (the client sees a cut download, never a short
/// file that looks complete) and is logged.
fn paged_csv<S, F, Fut>(
    header: &'static [&'static str],
    start: S,
    request_id: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static
where
    S: Send + 'static,
    F: FnMut(S) -> Fut + Send + 'static,
    Fut: Future<Output = ServiceResult<(Vec<Vec<String>>, Option<S>)>> + Send + 'static,
{
    // Fused: a body layer (compression) may poll once more after the end, which a bare
    // `unfold` answers with a panic.
    futures::stream::unfold((Some(start), true, fetch), move |(cursor, first, mut fetch)| {
        let request_id = request_id.clone();
        async move {
            let cursor = cursor?;
            let step = async {
                let (rows, next) = fetch(cursor).await?;
                Ok::<_, ServiceError>((csv_chunk(header, &rows, first)?, next))
            };
            match step.await {
                Ok((chunk, next)) => Some((Ok(chunk), (next, false, fetch))),
                Err(e) => {
                    tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %e, "an export failed part way");
                    Some((Err(std::io::Error::other("the export could not be completed")), (None, false, fetch)))
                }
            }
        }
    })
    .fuse()
}

/// A tenant as one export row, in [`TENANT_COLUMNS`] order.
fn tenant_row(t: &TenantSummary) -> Vec<String> {
    vec![
        t.id.to_string(),
        t.display_name.clone(),
        t.slug.clone(),
        t.environment.as_str().to_owned(),
        t.contact_email.clone(),
        t.account_manager_email.clone().unwrap_or_default(),
        t.consent_state.as_str().to_owned(),
        t.consent_reason.clone().unwrap_or_default(),
        time(t.consent_since),
        t.consent_mode.map(|m| m.as_str().to_owned()).unwrap_or_default(),
        t.system_user_email.clone().unwrap_or_default(),
        t.account_id.clone().unwrap_or_default(),
        t.account_name.clone().unwrap_or_default(),
        t.check_overall.map(|o| o.as_str().to_owned()).unwrap_or_default(),
        time(t.check_started_at),
        time(t.last_activity_at),
        t.stuck.to_string(),
        t.archived.to_string(),
        time(Some(t.updated_at)),
    ]
}

/// An audit event as one export row, in [`AUDIT_COLUMNS`] order.
fn audit_row(e: &AuditEntry) -> Vec<String> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    vec![
        e.event.id.to_string(),
        time(Some(e.event.occurred_at)),
        e.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
        e.tenant_name.clone().unwrap_or_default(),
        e.event.actor_label.clone(),
        e.event.action.clone(),
        app::audit::log::changes(e.event.before.as_ref(), e.event.after.as_ref()).join("; "),
        json(&e.event.before),
        json(&e.event.after),
        e.event.request_id.clone().unwrap_or_default(),
    ]
}

/// The tenant-list filter an export was asked with, as its audit event records it.
fn list_filter(query: &TenantQuery) -> serde_json::Value {
    json!({
        "q": query.q, "include_archived": query.include_archived, "state": query.state,
        "reason": query.reason, "environment": query.environment, "stuck": query.stuck, "manager": query.manager,
        "check": query.check, "failing": query.failing, "overridden": query.overridden,
    })
}

/// Records that `viewer` exported `what` with `filter`, `rows` rows.
async fn audit_export(db: &DatabaseConnection, viewer: &StaffPrincipal, request_id: Option<&str>, action: &str, filter: serde_json::Value, rows: u64) -> ServiceResult<()> {
    let actor = Actor { id: Some(viewer.id), label: viewer.email.clone() };
    let after = json!({ "format": "csv", "filter": filter, "rows": rows });
    audit::record(db, Event { actor: &actor, tenant_id: None, action, before: None, after: Some(after), request_id }).await
}

/// Starts an export of the tenants `viewer` may see that match `query` (its cursor ignored):
/// audits it, then returns the body as a stream of CSV chunks.
pub async fn tenants_csv(
    db: DatabaseConnection,
    viewer: StaffPrincipal,
    request_id: Option<String>,
    mut query: TenantQuery,
    sla: OnboardingSla,
) -> ServiceResult<impl Stream<Item = Result<Bytes, std::io::Error>>> {
    query.after = None;
    let rows = crate::tenants::count(&db, &viewer, &query, &sla).await?;
    let filter = list_filter(&query);
    audit_export(&db, &viewer, request_id.as_deref(), "tenants.exported", filter, rows).await?;
    Ok(paged_csv(&TENANT_COLUMNS, query, request_id, move |query: TenantQuery| {
        let (db, viewer) = (db.clone(), viewer.clone());
        async move {
            let (items, next) = crate::tenants::page_of(&db, &viewer, &query, EXPORT_PAGE, &sla).await?;
            let next = next.map(|after| TenantQuery { after: Some(after), ..query });
            Ok((items.iter().map(tenant_row).collect(), next))
        }
    }))
}

/// Starts an export of the consent receipts (every consent granted, oldest first per tenant) of
/// the tenants `viewer` may see that match `query`: audits it, then streams the rows a page of
/// tenants at a time.
pub async fn receipts_csv(
    db: DatabaseConnection,
    viewer: StaffPrincipal,
    request_id: Option<String>,
    mut query: TenantQuery,
    sla: OnboardingSla,
) -> ServiceResult<impl Stream<Item = Result<Bytes, std::io::Error>>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, PaginatorTrait};
    use crate::db::entities::consent_grant;
    query.after = None;
    let tenants = crate::tenants::count(&db, &viewer, &query, &sla).await?;
    let filter = list_filter(&query);
    // How many receipts those tenants hold is what the audit row reports.
    let ids = crate::tenants::matching_ids(db.get_database_backend(), &viewer, &query, &sla)?;
    let rows = consent_grant::Entity::find().filter(consent_grant::Column::TenantId.in_subquery(ids)).count(&db).await?;
    audit_export(&db, &viewer, request_id.as_deref(), "receipts.exported", json!({ "filter": filter, "tenants": tenants }), rows).await?;
    Ok(paged_csv(&RECEIPT_COLUMNS, query, request_id, move |query: TenantQuery| {
        let (db, viewer) = (db.clone(), viewer.clone());
        async move {
            let (items, next) = crate::tenants::page_of(&db, &viewer, &query, EXPORT_PAGE, &sla).await?;
            let by_id: std::collections::HashMap<_, _> = items.iter().map(|t| (t.id, t)).collect();
            let grants = consent_grant::Entity::find()
                .filter(consent_grant::Column::TenantId.is_in(by_id.keys().copied().collect::<Vec<_>>()))
                .order_by_asc(consent_grant::Column::GrantedAt)
                .all(&db)
                .await?;
            // In the list's order, each tenant's receipts oldest first.
            let mut rows = Vec::with_capacity(grants.len());
            for t in &items {
                for g in grants.iter().filter(|g| g.tenant_id == t.id) {
                    rows.push(vec![
                        t.id.to_string(),
                        t.display_name.clone(),
                        t.slug.clone(),
                        g.environment.clone(),
                        g.mode()?.as_str().to_owned(),
                        g.user_email.clone(),
                        g.user_name.clone(),
                        g.user_sub.clone(),
                        g.scopes.clone(),
                        g.organization_id.clone().unwrap_or_default(),
                        time(Some(g.granted_at)),
                        time(g.verified_at),
                        g.verification.clone().unwrap_or_default(),
                        g.id.to_string(),
                    ]);
                }
            }
            let next = next.map(|after| TenantQuery { after: Some(after), ..query });
            Ok((rows, next))
        }
    }))
}

/// Starts an export of the audit events `viewer` may see that match `query` (its cursor
/// ignored), newest first: audits it, then returns the body as a stream of CSV chunks.
pub async fn audit_csv(
    db: DatabaseConnection,
    viewer: StaffPrincipal,
    request_id: Option<String>,
    mut query: AuditQuery,
) -> ServiceResult<impl Stream<Item = Result<Bytes, std::io::Error>>> {
    query.before = None;
    let rows = audit::count(&db, &viewer, &query).await?;
    let filter = json!({ "tenant": query.tenant, "actor": query.actor, "action": query.action, "from": query.from, "to": query.to });
    audit_export(&db, &viewer, request_id.as_deref(), "audit.exported", filter, rows).await?;
    Ok(paged_csv(&AUDIT_COLUMNS, query, request_id, move |query: AuditQuery| {
        let (db, viewer) = (db.clone(), viewer.clone());
        async move {
            let page = audit::log(&db, &viewer, &query, EXPORT_PAGE).await?;
            let next = page.next.map(|before| AuditQuery { before: Some(before), ..query });
            Ok((page.items.iter().map(audit_row).collect(), next))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_start_a_formula_are_prefixed_and_others_are_left_alone() {
        for cell in ["=SUM(A1:A9)", "+1", "-1", "@cmd", "\tx", "\rx"] {
            assert_eq!(neutralize(cell), format!("'{cell}"));
        }
        for cell in ["Acme", "a=b", "", "1-2", "ünïcode"] {
            assert_eq!(neutralize(cell), cell);
        }
    }
}
