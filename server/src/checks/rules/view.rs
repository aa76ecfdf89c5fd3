//! The setup check as the browser sees it: the mapping from a rule's outcome and fix offer to the
//! wire types in `app::checks`.

use app::checks::api::CheckScope;
use app::checks::{CheckResultView, FixView};

use super::{CheckOutcome, FixOffer};

/// A check's outcome as shown on the page: staff also see the staff-only evidence; the customer
/// admin (`CheckScope::Invitee`) does not.
pub fn check_view(o: &CheckOutcome, audience: CheckScope) -> CheckResultView {
    let url_of = |configuration: &serde_json::Value| configuration.get("urlToPublishTo").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let fix = o.fix.as_ref().map(|f| {
        let details = match f {
            FixOffer::ApplySettings { changes } => changes.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect(),
            FixOffer::CreateConnect { configuration } => vec![format!("urlToPublishTo = {}", url_of(configuration))],
            FixOffer::RepairConnect { connect_id, configuration } => {
                vec![format!("connectId = {connect_id}"), format!("urlToPublishTo = {}", url_of(configuration))]
            }
            FixOffer::AcceptBaseUri { new_base_uri } => vec![format!("base_uri = {new_base_uri}")],
        };
        // The label is the kind's, the same one the remediation texts name.
        FixView { kind: f.kind(), label: f.kind().label().to_owned(), details }
    });
    let mut evidence = o.evidence.clone();
    if matches!(audience, CheckScope::Staff(_)) {
        evidence.extend(o.staff_evidence.iter().cloned());
    }
    CheckResultView { id: o.id, title: o.title.clone(), status: o.status, evidence, remediation: o.remediation.clone(), fix }
}
