//! The claimed-domains check: organization admin consent covers only users of the
//! organization's active claimed domains, so the system user's e-mail domain must be one; pending
//! claims come with the DNS TXT record to publish, and staff may attest what the portal cannot read.

use app::checks::{CheckId, RUN_CHECK};
use app::onboarding::model::ConsentMode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CheckOutcome, CheckStatus};

const DOMAINS_PLACE: &str = "DocuSign Admin (admin.docusign.com) → Domains";

/// A reserved (claimed) domain of the organization, as the Admin API reports it (`DomainResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedDomainFacts {
    /// Domain GUID.
    pub id: String,
    /// `unknown`, `pending`, `active`, `deactivated` or `rejected`.
    pub status: String,
    /// The domain, e.g. `example.com`.
    pub host_name: String,
    /// The token to publish as a DNS TXT record while the claim is pending.
    #[serde(default)]
    pub txt_token: Option<String>,
}

/// A staff member's statement that the domain prerequisites hold when the portal cannot read them
/// (no organization visible, no Admin API access). It counts only while the automated check
/// cannot run; each run checks again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Who attested (staff e-mail).
    pub by: String,
    /// Why the staff member is confident (required; an empty one is ignored).
    pub justification: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The DNS TXT record a pending domain needs, for a copy button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtRecord {
    /// The reserved domain's id (to re-check that one domain).
    pub domain_id: String,
    /// Where to publish the record: the domain itself.
    pub host_name: String,
    /// The record's value; `None` when DocuSign did not return the token.
    pub value: Option<String>,
}

/// Why the claimed domains cannot be read, and exactly what would make them readable (the
/// skipped check's remediation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What stands in the way, in words.
    pub reason: String,
    /// What would make the check able to read them.
    pub checkable_when: String,
}

impl Unreadable {
    /// With organization admin consent: its own Admin API scopes were not usable.
    pub fn organization_consent(reason: impl Into<String>) -> Unreadable {
        Unreadable {
            reason: reason.into(),
            checkable_when: format!(
                "Grant the portal the Admin API scopes (organization_read domain_read) with organization admin consent, or \
                 check the domains yourself in {DOMAINS_PLACE}."
            ),
        }
    }

    /// With individual consent: the consenting user is not an organization administrator who
    /// granted the read scopes.
    pub fn individual_consent(reason: impl Into<String>) -> Unreadable {
        Unreadable {
            reason: reason.into(),
            checkable_when: "This check can read the domains when an administrator of the DocuSign organization grants the \
                 consent in the invite wizard: signing in, they let the portal read the organization, and their individual \
                 consent then includes organization_read and domain_read (or they grant organization admin consent)."
                .to_owned(),
        }
    }
}

/// The TXT records to publish, one per `pending` domain.
pub fn pending_txt_records(domains: &[ReservedDomainFacts]) -> Vec<TxtRecord> {
    domains
        .iter()
        .filter(|d| d.status.trim().eq_ignore_ascii_case("pending"))
        .map(|d| TxtRecord {
            domain_id: d.id.clone(),
            host_name: normalize_domain(&d.host_name),
            value: d.txt_token.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        })
        .collect()
}

/// Lowercase, trimmed, without a trailing root dot.
fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The domain of an e-mail address (`None` when there is no `@` or nothing after it).
fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = normalize_domain(domain);
    (!domain.is_empty()).then_some(domain)
}

fn txt_instruction(record: &TxtRecord) -> String {
    match &record.value {
        Some(value) => format!(
            "publish a DNS TXT record at {} with the value {value:?}, wait for DNS to update, choose Validate on the \
             domain in {DOMAINS_PLACE}",
            record.host_name
        ),
        None => format!(
            "publish the DNS TXT record shown for {} in {DOMAINS_PLACE} (DocuSign did not return its token here), then \
             choose Validate on the domain",
            record.host_name
        ),
    }
}

/// Checks the organization's claimed domains, which organization admin consent needs: at least
/// one `active` domain, and the system user's e-mail domain among the active ones (admin consent
/// covers only users of active claimed domains).
///
/// - `org_id`: the account's organization, `None` when it has none.
/// - `admin_access`: the reserved domains, or why they could not be read and what would make
///   them readable.
/// - `mode`: how consent was granted. With individual consent nothing depends on the domains,
///   so the check passes and reports whether organization consent would cover the system user
///   (and the TXT records still to publish).
///
/// Skipped (with the reason) when there is no organization or no access, unless staff attested:
/// then Pass with the attestation as evidence. Otherwise Fail when no domain is active, Warn when
/// the system user's domain is not an active one, Pass when it is; pending domains add the TXT
/// record to publish to the evidence and the remediation. Error when the system user's e-mail has
/// no domain (the portal's data is wrong).
pub fn domains_check(
    org_id: Option<&str>,
    admin_access: Result<&[ReservedDomainFacts], &Unreadable>,
    system_user_email: &str,
    attestation: Option<&Attestation>,
    mode: ConsentMode,
) -> CheckOutcome {
    let attestation = attestation.filter(|a| !a.justification.trim().is_empty() && !a.by.trim().is_empty());

    let org_id = org_id.map(str::trim).filter(|id| !id.is_empty());
    let unavailable = match (org_id, admin_access) {
        (None, _) => Some((
            "The account belongs to no DocuSign organization, so it has no claimed domains.".to_owned(),
            format!(
                "Organization admin consent needs a DocuSign organization with a claimed, active domain; individual \
                 consent does not. To use admin consent, set up an organization and claim your domain in \
                 {DOMAINS_PLACE}."
            ),
        )),
        (Some(_), Err(unreadable)) => Some((
            format!("The portal cannot read the organization's claimed domains: {}", unreadable.reason.trim()),
            unreadable.checkable_when.clone(),
        )),
        (Some(_), Ok(_)) => None,
    };
    if let Some((reason, remediation)) = unavailable {
        return match attestation {
            Some(a) => {
                let mut outcome = CheckOutcome::new(
                    CheckId::ClaimedDomains,
                    CheckStatus::Pass,
                    vec![reason, "Confirmed outside the automated check.".to_owned(), "The automated check runs again on the next run.".to_owned()],
                );
                outcome.staff_evidence =
                    vec![format!("Manually attested by {} on {}: {}", a.by.trim(), a.at.format("%Y-%m-%d %H:%M UTC"), a.justification.trim())];
                outcome
            }
            None => {
                let mut outcome = CheckOutcome::new(CheckId::ClaimedDomains, CheckStatus::Skipped, vec![reason]);
                // The customer admin reads this too: the staff-only attestation is offered by the
                // staff page's own form, not in this text.
                outcome.remediation = Some(remediation);
                outcome
            }
        };
    }
    let domains = admin_access.unwrap_or_default();

    let mut evidence = Vec::new();
    if domains.is_empty() {
        evidence.push("The organization has no claimed domains.".to_owned());
    }
    let records = pending_txt_records(domains);
    for d in domains {
        let host = normalize_domain(&d.host_name);
        let status = d.status.trim().to_ascii_lowercase();
        match records.iter().find(|r| r.domain_id == d.id && status == "pending") {
            Some(TxtRecord { value: Some(token), .. }) => {
                evidence.push(format!("{host}: pending; TXT record to publish at {host}: {token:?}"));
            }
            Some(_) => evidence.push(format!("{host}: pending; DocuSign returned no TXT token")),
            None => evidence.push(format!("{host}: {status}")),
        }
    }
    let mut staff_evidence = Vec::new();
    if let Some(a) = attestation {
        staff_evidence.push(format!("A manual attestation by {} is not used: the domains were read from DocuSign.", a.by.trim()));
    }

    let active: Vec<String> =
        domains.iter().filter(|d| d.status.trim().eq_ignore_ascii_case("active")).map(|d| normalize_domain(&d.host_name)).collect();
    let user_domain = email_domain(system_user_email);

    if mode == ConsentMode::Individual {
        evidence.push("Individual consent does not depend on claimed domains.".to_owned());
        evidence.push(match &user_domain {
            Some(user) if active.contains(user) => format!("Organization consent would also cover the system user: {user} is active."),
            Some(user) => format!("Organization consent would not cover the system user: {user} is not an active claimed domain."),
            None => format!("The system user's e-mail {system_user_email:?} has no domain."),
        });
        let mut outcome = CheckOutcome::new(CheckId::ClaimedDomains, CheckStatus::Pass, evidence);
        outcome.staff_evidence = staff_evidence;
        if !records.is_empty() {
            let mut remediation = vec!["Nothing is needed for individual consent; to make organization consent possible:".to_owned()];
            remediation.extend(records.iter().map(|r| format!("For {}: {}.", r.host_name, txt_instruction(r))));
            remediation.push(format!("Then press “{RUN_CHECK}”."));
            outcome.remediation = Some(remediation.join(" "));
        }
        return outcome;
    }

    let mut remediation = Vec::new();
    let status = if active.is_empty() {
        remediation.push(if records.is_empty() {
            format!(
                "Organization admin consent needs at least one active claimed domain: claim your e-mail domain in \
                 {DOMAINS_PLACE} (Claim Domain)."
            )
        } else {
            "Organization admin consent needs at least one active claimed domain; finish claiming a pending one."
                .to_owned()
        });
        CheckStatus::Fail
    } else {
        match &user_domain {
            None => {
                evidence.push(format!("The system user's e-mail {system_user_email:?} has no domain."));
                remediation.push("The portal has no usable e-mail for the system user: designate the system user again.".to_owned());
                CheckStatus::Error
            }
            Some(user) if active.contains(user) => {
                evidence.push(format!("The system user's domain {user} is claimed and active."));
                CheckStatus::Pass
            }
            Some(user) => {
                let claim = domains.iter().find(|d| normalize_domain(&d.host_name) == *user);
                let state = claim.map(|d| d.status.trim().to_ascii_lowercase());
                evidence.push(match &state {
                    Some(s) => format!("The system user's domain {user} is {s}, not active."),
                    None => format!("The system user's domain {user} is not claimed."),
                });
                if let Some(parent) = active.iter().find(|a| user.ends_with(&format!(".{a}"))) {
                    evidence.push(format!("Its parent domain {parent} is active; this check counts only the exact domain."));
                }
                match state.as_deref() {
                    Some("pending") => {} // the pending instructions below say what to do
                    Some(s) => remediation.push(format!(
                        "The claim on {user} is {s}: claim it again in {DOMAINS_PLACE}, or designate a system user \
                         whose e-mail domain is active ({}).",
                        active.join(", ")
                    )),
                    None => remediation.push(format!(
                        "Admin consent does not cover the system user: claim {user} in {DOMAINS_PLACE} (Claim Domain), or \
                         designate a system user whose e-mail domain is active ({}).",
                        active.join(", ")
                    )),
                }
                CheckStatus::Warn
            }
        }
    };
    if status == CheckStatus::Pass && !records.is_empty() {
        remediation.push("Nothing is needed for the system user; to finish claiming the other domains:".to_owned());
    }
    for record in &records {
        remediation.push(format!("For {}: {}.", record.host_name, txt_instruction(record)));
    }

    let mut outcome = CheckOutcome::new(CheckId::ClaimedDomains, status, evidence);
    outcome.staff_evidence = staff_evidence;
    if !remediation.is_empty() {
        remediation.push(format!("Then press “{RUN_CHECK}”."));
        outcome.remediation = Some(remediation.join(" "));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn domain(id: &str, status: &str, host: &str, token: Option<&str>) -> ReservedDomainFacts {
        ReservedDomainFacts { id: id.into(), status: status.into(), host_name: host.into(), txt_token: token.map(str::to_owned) }
    }

    fn attestation(justification: &str) -> Attestation {
        Attestation {
            by: "staff@isv.example".into(),
            justification: justification.into(),
            at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
        }
    }

    const ORG: Option<&str> = Some("9dd9d6cd-7ad1-461a-a432-a4653c6d6700");
    const ORG_MODE: ConsentMode = ConsentMode::Organization;

    #[test]
    fn domains_pass_when_the_system_users_domain_is_claimed_and_active() {
        let domains = [domain("1", "active", "Acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada.admin@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Pass, "{:?}", outcome.evidence);
        assert!(outcome.evidence.contains(&"acme.example: active".to_owned()));
        assert_eq!(outcome.remediation, None);
    }

    #[test]
    fn domains_fail_when_no_domain_is_active() {
        let domains = [domain("1", "rejected", "acme.example", None), domain("2", "deactivated", "acme.test", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.remediation.unwrap().contains("Claim Domain"));
        let outcome = domains_check(ORG, Ok(&[]), "ada@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.evidence.contains(&"The organization has no claimed domains.".to_owned()));
    }

    #[test]
    fn domains_warn_when_the_system_users_domain_is_not_claimed() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "sam@stark.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.contains(&"The system user's domain stark.example is not claimed.".to_owned()));
        assert!(outcome.remediation.unwrap().contains("claim stark.example"));
    }

    #[test]
    fn domains_warn_when_only_a_parent_of_the_users_domain_is_active() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@eu.acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.iter().any(|e| e.contains("parent domain acme.example is active")));
    }

    #[test]
    fn a_pending_domain_shows_the_txt_record_to_publish_and_asks_for_a_re_check() {
        let domains = [domain("7a2e", "pending", "umbrella.example", Some("docusign=9f8e7d"))];
        let outcome = domains_check(ORG, Ok(&domains), "uma@umbrella.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Fail, "no active domain yet");
        assert!(outcome.evidence.contains(&"umbrella.example: pending; TXT record to publish at umbrella.example: \"docusign=9f8e7d\"".to_owned()));
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("DNS TXT record at umbrella.example with the value \"docusign=9f8e7d\""), "{remediation}");
        assert!(remediation.contains(RUN_CHECK), "{remediation}");
        assert_eq!(
            pending_txt_records(&domains),
            vec![TxtRecord { domain_id: "7a2e".into(), host_name: "umbrella.example".into(), value: Some("docusign=9f8e7d".into()) }]
        );
    }

    #[test]
    fn a_pending_user_domain_beside_an_active_one_warns_with_its_txt_record() {
        let domains = [domain("1", "active", "acme.example", None), domain("2", "pending", "acme.test", Some("docusign=abc"))];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.test", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Warn);
        assert!(outcome.evidence.contains(&"The system user's domain acme.test is pending, not active.".to_owned()));
        assert!(outcome.remediation.unwrap().contains("at acme.test with the value \"docusign=abc\""));
    }

    #[test]
    fn other_pending_domains_are_shown_even_when_the_check_passes() {
        let domains = [domain("1", "active", "acme.example", None), domain("2", "pending", "acme.test", None)];
        let outcome = domains_check(ORG, Ok(&domains), "ada@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(outcome.evidence.contains(&"acme.test: pending; DocuSign returned no TXT token".to_owned()));
        assert!(outcome.remediation.unwrap().starts_with("Nothing is needed for the system user"));
    }

    #[test]
    fn domains_are_skipped_with_the_reason_without_an_organization_and_the_customer_text_names_no_staff_procedure() {
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Skipped);
        assert!(outcome.evidence[0].contains("no DocuSign organization"));
        let remediation = outcome.remediation.unwrap();
        assert!(!remediation.to_lowercase().contains("attest") && !remediation.contains("ISV staff"), "{remediation}");
    }

    #[test]
    fn domains_are_skipped_with_the_reason_without_admin_api_access() {
        let outcome = domains_check(ORG, Err(&Unreadable::organization_consent("the token lacks the domain_read scope")), "ada@acme.example", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Skipped);
        assert_eq!(outcome.evidence, vec!["The portal cannot read the organization's claimed domains: the token lacks the domain_read scope"]);
    }

    #[test]
    fn an_attestation_turns_a_skipped_domain_check_into_a_pass_with_the_attestation_as_staff_only_evidence() {
        let a = attestation("Checked on a screen share: acme.example is active.");
        let outcome = domains_check(ORG, Err(&Unreadable::organization_consent("no Admin API consent")), "ada@acme.example", Some(&a), ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Pass);
        assert!(outcome.staff_evidence.contains(
            &"Manually attested by staff@isv.example on 2025-03-04 05:06 UTC: Checked on a screen share: acme.example is active.".to_owned()
        ));
        assert!(outcome.evidence.iter().any(|e| e.contains("runs again")));
        assert!(!outcome.evidence.iter().any(|e| e.to_lowercase().contains("attest")), "the customer's evidence: {:?}", outcome.evidence);
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", Some(&a), ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Pass);
    }

    #[test]
    fn an_attestation_without_justification_is_ignored() {
        let outcome = domains_check(None, Ok(&[]), "ada@acme.example", Some(&attestation("  ")), ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Skipped);
    }

    #[test]
    fn an_attestation_does_not_override_what_docusign_reports() {
        let a = attestation("trust me");
        let outcome = domains_check(ORG, Ok(&[]), "ada@acme.example", Some(&a), ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Fail);
        assert!(outcome.staff_evidence.iter().any(|e| e.contains("attestation by staff@isv.example is not used")));
    }

    #[test]
    fn a_system_user_email_without_a_domain_is_an_error() {
        let domains = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&domains), "not-an-email", None, ORG_MODE);
        assert_eq!(outcome.status, CheckStatus::Error);
    }

    #[test]
    fn with_individual_consent_the_domains_pass_and_say_whether_organization_consent_would_cover_the_system_user() {
        let domains = [domain("1", "pending", "umbrella.example", Some("docusign=9f8e"))];
        let outcome = domains_check(ORG, Ok(&domains), "uma@umbrella.example", None, ConsentMode::Individual);
        assert_eq!(outcome.status, CheckStatus::Pass, "nothing on the individual path depends on the domains");
        assert!(outcome.evidence.iter().any(|e| e.contains("would not cover the system user")), "{:?}", outcome.evidence);
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.starts_with("Nothing is needed for individual consent") && remediation.contains("\"docusign=9f8e\""), "{remediation}");
        let active = [domain("1", "active", "acme.example", None)];
        let outcome = domains_check(ORG, Ok(&active), "ada@acme.example", None, ConsentMode::Individual);
        assert!(outcome.evidence.iter().any(|e| e.contains("would also cover the system user")));
        assert_eq!(outcome.remediation, None);
    }

    #[test]
    fn an_unreadable_organization_is_skipped_with_exactly_what_would_make_it_checkable() {
        let why = Unreadable::individual_consent("individual consent was granted without organization_read and domain_read");
        let outcome = domains_check(ORG, Err(&why), "mia@initech.example", None, ConsentMode::Individual);
        assert_eq!(outcome.status, CheckStatus::Skipped);
        assert!(outcome.evidence[0].ends_with("without organization_read and domain_read"));
        let remediation = outcome.remediation.unwrap();
        assert!(remediation.contains("administrator of the DocuSign organization") && remediation.contains("organization_read and domain_read"), "{remediation}");
    }
}
