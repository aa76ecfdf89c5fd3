//! The consent and system-user check: the verdict of a fresh verification (JWT grant, userinfo,
//! a call on the pinned account) as a check outcome, offering to store a moved base URI.

use app::checks::CheckId;
use app::onboarding::model::{VerificationOutcome, VerificationView};

use super::{CheckOutcome, CheckStatus, FixOffer};

/// The outcome of the system-user check from what verification found. A provider that could not
/// answer is an error (nothing is known about consent); every other failure is the customer's to
/// fix, with verification's own remediation.
pub fn system_user_check(v: &VerificationView) -> CheckOutcome {
    let status = match v.outcome {
        VerificationOutcome::Verified => CheckStatus::Pass,
        VerificationOutcome::ProviderUnreachable | VerificationOutcome::ProviderError => CheckStatus::Error,
        _ => CheckStatus::Fail,
    };
    let mut evidence = vec![v.title.clone()];
    evidence.extend(v.evidence.iter().cloned());
    let mut o = CheckOutcome::new(CheckId::SystemUser, status, evidence);
    if status != CheckStatus::Pass {
        o.remediation = Some(v.remediation.clone());
    }
    if let Some(new) = &v.new_base_uri {
        o.fix = Some(FixOffer::AcceptBaseUri { new_base_uri: new.clone() });
    }
    o
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn verification(outcome: VerificationOutcome, new_base_uri: Option<&str>) -> VerificationView {
        VerificationView {
            ok: outcome == VerificationOutcome::Verified,
            outcome,
            title: "What verification saw".into(),
            remediation: "What to do".into(),
            checked_at: Utc::now(),
            evidence: vec!["JWT grant: ok".into()],
            new_base_uri: new_base_uri.map(str::to_owned),
        }
    }

    #[test]
    fn a_verified_system_user_passes_with_the_verification_as_evidence() {
        let o = system_user_check(&verification(VerificationOutcome::Verified, None));
        assert_eq!((o.id, o.status), (CheckId::SystemUser, CheckStatus::Pass));
        assert_eq!(o.evidence, vec!["What verification saw".to_owned(), "JWT grant: ok".to_owned()]);
        assert_eq!((o.remediation, o.fix), (None, None));
    }

    #[test]
    fn an_unanswering_provider_is_an_error_and_a_refused_consent_a_failure() {
        for outcome in [VerificationOutcome::ProviderUnreachable, VerificationOutcome::ProviderError] {
            assert_eq!(system_user_check(&verification(outcome, None)).status, CheckStatus::Error, "{outcome:?}");
        }
        let o = system_user_check(&verification(VerificationOutcome::ConsentRevoked, None));
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.remediation.as_deref(), Some("What to do"));
    }

    #[test]
    fn a_moved_account_offers_to_accept_the_new_base_uri() {
        let o = system_user_check(&verification(VerificationOutcome::BaseUriChanged, Some("https://eu.docusign.net")));
        assert_eq!(o.status, CheckStatus::Fail);
        assert_eq!(o.fix, Some(FixOffer::AcceptBaseUri { new_base_uri: "https://eu.docusign.net".into() }));
    }
}
