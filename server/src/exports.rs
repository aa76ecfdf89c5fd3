//! CSV exports for staff: what a person may see on a list, as a file a spreadsheet opens.
//!
//! An export is written as RFC 4180 CSV (the `csv` crate quotes every field that needs it) and
//! streamed page by page, so 100,000 rows hold one page in memory. Every cell a spreadsheet
//! would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is
//! prefixed with `'` (OWASP's "CSV injection" advice): tenant names and e-mail addresses are
//! typed by people outside the ISV. The export is scoped exactly like the list (an account
//! manager gets only their assigned tenants) and writes one audit event naming who exported,
//! with which filter, and how many rows matched.

use std::borrow::Cow;

use app::auth::StaffPrincipal;
use app::tenants::api::{TenantQuery, TenantSummary};
use axum::body::Bytes;
use futures::{Stream, StreamExt};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::audit::{self, Actor, Event};
use crate::error::{ServiceError, ServiceResult};

/// Rows read and written per step of a streamed export.
pub const EXPORT_PAGE: u64 = 500;

/// The tenant export's columns, in order.
pub const TENANT_COLUMNS: [&str; 18] = [
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
    "archived",
    "updated_at",
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

/// Writes `rows` (and the header row first when `header`) as CSV bytes.
fn csv_chunk(rows: &[TenantSummary], header: bool) -> ServiceResult<Bytes> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(rows.len() * 160));
    let fail = |e: csv::Error| ServiceError::unexpected(format!("writing the tenant export: {e}"));
    if header {
        out.write_record(TENANT_COLUMNS).map_err(fail)?;
    }
    for t in rows {
        let id = t.id.to_string();
        let (since, check_started, activity, updated) =
            (time(t.consent_since), time(t.check_started_at), time(t.last_activity_at), time(Some(t.updated_at)));
        let record = [
            id.as_str(),
            &t.display_name,
            &t.slug,
            t.environment.as_str(),
            &t.contact_email,
            t.account_manager_email.as_deref().unwrap_or(""),
            t.consent_state.as_str(),
            t.consent_reason.as_deref().unwrap_or(""),
            &since,
            t.consent_mode.map(|m| m.as_str()).unwrap_or(""),
            t.system_user_email.as_deref().unwrap_or(""),
            t.account_id.as_deref().unwrap_or(""),
            t.account_name.as_deref().unwrap_or(""),
            t.check_overall.map(|o| o.as_str()).unwrap_or(""),
            &check_started,
            &activity,
            if t.archived { "true" } else { "false" },
            &updated,
        ];
        out.write_record(record.iter().map(|cell| neutralize(cell).into_owned())).map_err(fail)?;
    }
    let bytes = out.into_inner().map_err(|e| ServiceError::unexpected(format!("writing the tenant export: {e}")))?;
    Ok(Bytes::from(bytes))
}

/// Starts an export of the tenants `viewer` may see that match `query` (its cursor ignored):
/// audits it, then returns the body as a stream of CSV chunks. A database failure part way
/// through ends the stream with an error (the client sees a cut download, never a short file
/// that looks complete) and is logged.
pub async fn tenants_csv(
    db: DatabaseConnection,
    viewer: StaffPrincipal,
    request_id: Option<String>,
    mut query: TenantQuery,
) -> ServiceResult<impl Stream<Item = Result<Bytes, std::io::Error>>> {
    query.after = None;
    let rows = crate::tenants::count(&db, &viewer, &query).await?;
    let actor = Actor { id: Some(viewer.id), label: viewer.email.clone() };
    audit::record(
        &db,
        Event {
            actor: &actor,
            tenant_id: None,
            action: "tenants.exported",
            before: None,
            after: Some(json!({ "format": "csv", "filter": { "q": query.q, "include_archived": query.include_archived }, "rows": rows })),
            request_id: request_id.as_deref(),
        },
    )
    .await?;

    // State: the next page's query, whether the header is written, and whether the walk ended.
    let start = (query, false, false);
    // Fused: a body layer (compression) may poll once more after the end, which a bare
    // `unfold` answers with a panic.
    Ok(futures::stream::unfold(start, move |(query, header_written, done)| {
        let db = db.clone();
        let viewer = viewer.clone();
        let request_id = request_id.clone();
        async move {
            if done {
                return None;
            }
            let step = async {
                let (items, next) = crate::tenants::page_of(&db, &viewer, &query, EXPORT_PAGE).await?;
                Ok::<_, ServiceError>((csv_chunk(&items, !header_written)?, next))
            };
            match step.await {
                Ok((chunk, next)) => {
                    let finished = next.is_none();
                    let query = TenantQuery { after: next, ..query };
                    Some((Ok(chunk), (query, true, finished)))
                }
                Err(e) => {
                    tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %e, "tenant export failed part way");
                    Some((Err(std::io::Error::other("the export could not be completed")), (query, true, true)))
                }
            }
        }
    })
    .fuse())
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
