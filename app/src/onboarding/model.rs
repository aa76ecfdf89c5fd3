//! Onboarding DTOs shared by browser and server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use validator::Validate;

use crate::environment::Environment;

/// Where a tenant's consent stands in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    NotStarted,
    Invited,
    InProgress,
    Consented,
    Verified,
    NeedsAttention,
    Revoked,
}

impl ConsentState {
    /// Every state.
    pub const ALL: [ConsentState; 7] = [
        ConsentState::NotStarted,
        ConsentState::Invited,
        ConsentState::InProgress,
        ConsentState::Consented,
        ConsentState::Verified,
        ConsentState::NeedsAttention,
        ConsentState::Revoked,
    ];

    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::NotStarted => "not_started",
            ConsentState::Invited => "invited",
            ConsentState::InProgress => "in_progress",
            ConsentState::Consented => "consented",
            ConsentState::Verified => "verified",
            ConsentState::NeedsAttention => "needs_attention",
            ConsentState::Revoked => "revoked",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Option<ConsentState> {
        ConsentState::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ConsentState::NotStarted => "Not started",
            ConsentState::Invited => "Invited",
            ConsentState::InProgress => "In progress",
            ConsentState::Consented => "Consented (not yet verified)",
            ConsentState::Verified => "Verified",
            ConsentState::NeedsAttention => "Needs attention",
            ConsentState::Revoked => "Consent revoked",
        }
    }

    /// Whether no consent is in place yet (or it was revoked): the states an invite moves along.
    pub fn is_before_consent(self) -> bool {
        matches!(self, ConsentState::NotStarted | ConsentState::Invited | ConsentState::InProgress | ConsentState::Revoked)
    }

    /// Whether moving from `self` to `to` is allowed.
    pub fn can_become(self, to: ConsentState) -> bool {
        use ConsentState::*;
        match (self, to) {
            // Staff may always (re)invite: a new invite starts the journey again.
            (_, Invited) => true,
            (Invited | Revoked | NeedsAttention | Consented | Verified | InProgress, InProgress) => true,
            (InProgress | NeedsAttention | Revoked | Consented | Verified, Consented) => true,
            (Consented | NeedsAttention | Verified, Verified) => true,
            (Consented | Verified | NeedsAttention, NeedsAttention) => true,
            (Consented | Verified | NeedsAttention, Revoked) => true,
            _ => false,
        }
    }
}

/// How consent was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// One user consented for themselves.
    Individual,
    /// An organization administrator consented for every user of the organization's claimed
    /// domains.
    Organization,
}

impl ConsentMode {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMode::Individual => "individual",
            ConsentMode::Organization => "organization",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Option<ConsentMode> {
        match value {
            "individual" => Some(ConsentMode::Individual),
            "organization" => Some(ConsentMode::Organization),
            _ => None,
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ConsentMode::Individual => "Individual consent",
            ConsentMode::Organization => "Organization admin consent",
        }
    }
}

/// The consent state with its reason, when it needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentStatus {
    pub state: ConsentState,
    /// A machine code (`consent_missing`, `not_a_member`, …) when the state needs attention.
    pub reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The consent receipt: who granted what, when, and how it was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentReceipt {
    pub mode: ConsentMode,
    pub user_sub: String,
    pub user_email: String,
    pub user_name: String,
    pub scopes: String,
    pub organization_id: Option<String>,
    pub granted_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification: Option<String>,
}

/// The pinned system user and account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemUserView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub account_id: String,
    pub account_name: String,
    pub base_uri: String,
    pub organization_id: Option<String>,
    pub pinned_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// Where an invite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    Pending,
    Used,
    Expired,
    Revoked,
}

impl InviteStatus {
    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Used => "used",
            InviteStatus::Expired => "expired",
            InviteStatus::Revoked => "revoked",
        }
    }
}

/// An invite as staff see it (never the link: it is shown once, when issued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub id: Uuid,
    pub status: InviteStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// When the customer last asked for a fresh link from this link's page.
    #[serde(default)]
    pub link_requested_at: Option<DateTime<Utc>>,
}

/// A newly issued invite: the link, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedInvite {
    pub id: Uuid,
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// What the tenant page shows about consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantConsentView {
    pub tenant_id: Uuid,
    pub environment: Environment,
    /// Whether the ISV configured this DocuSign environment.
    pub environment_configured: bool,
    pub status: ConsentStatus,
    pub receipt: Option<ConsentReceipt>,
    pub system_user: Option<SystemUserView>,
    pub last_verification: Option<VerificationView>,
    /// The newest invites (the one that may still be pending is always among them).
    pub invites: Vec<InviteView>,
    /// Whether the tenant has older invites than those listed (they are in the timeline).
    #[serde(default)]
    pub older_invites: bool,
    /// The customer's open request for a fresh link (made after the newest invite was issued).
    #[serde(default)]
    pub link_request: Option<DateTime<Utc>>,
    /// Whether the caller may issue and revoke invites and re-verify.
    pub can_manage: bool,
}

/// The landing page of an invite link (nothing is consumed by showing it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteLandingView {
    pub tenant_name: String,
    pub environment: Environment,
    pub expires_at: DateTime<Utc>,
    /// This browser already redeemed the link and its wizard session is alive (the admin pressed
    /// Back after Start): send them on to the wizard rather than call the link used.
    #[serde(default)]
    pub resume: bool,
    /// Why the link no longer starts the wizard (used, expired, withdrawn), when it does not;
    /// the page then offers to ask for a fresh link.
    #[serde(default)]
    pub refusal: Option<String>,
    /// When a fresh link was last asked for from this link's page.
    #[serde(default)]
    pub link_requested_at: Option<DateTime<Utc>>,
    /// Until when asking again is refused (one request per link an hour).
    #[serde(default)]
    pub next_request_at: Option<DateTime<Utc>>,
}

/// A DocuSign account as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub account_id: String,
    pub account_name: String,
    pub base_uri: String,
    pub is_default: bool,
    pub organization_id: Option<String>,
    /// The user's role in this account, as DocuSign reports it (`isAdmin` of the user on the
    /// account); `Unknown` until read, or when DocuSign would not say.
    #[serde(default)]
    pub role: AccountRole,
}

/// A user's role in one eSignature account: what decides whether the portal can change the
/// account's settings and Connect while acting as them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// An account administrator (`isAdmin` true).
    Admin,
    /// A member who is not an administrator (`isAdmin` false): can send, cannot change settings
    /// or Connect.
    Member,
    /// Not read, or DocuSign did not say.
    #[default]
    Unknown,
}

impl AccountRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Admin => "admin",
            AccountRole::Member => "member",
            AccountRole::Unknown => "unknown",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            AccountRole::Admin => "administrator",
            AccountRole::Member => "member only",
            AccountRole::Unknown => "role not known",
        }
    }
}

/// A DocuSign user as the wizard shows it (from userinfo; never tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocuSignUserView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub accounts: Vec<AccountView>,
}

impl DocuSignUserView {
    /// Whether any of the user's accounts belongs to a DocuSign organization.
    pub fn has_organization(&self) -> bool {
        self.accounts.iter().any(|a| a.organization_id.is_some())
    }
}

/// The wizard's advice on the consent path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathAdvice {
    pub recommended: ConsentMode,
    /// Plain sentences: why, and what is missing for organization consent.
    pub reasons: Vec<String>,
}

/// What the wizard found about organization consent's prerequisites, read from DocuSign with
/// the signed-in admin's own read consent before any consent is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationVerdict {
    /// An active claimed domain covers the intended system user: organization consent works.
    Covered,
    /// Active domains exist, but the intended system user's e-mail domain is not one of them.
    NotCovered,
    /// Domains are claimed but none is active yet (a TXT record still to publish).
    PendingOnly,
    /// The organization has claimed no domain at all.
    NoClaimedDomain,
    /// The signed-in user administers no DocuSign organization.
    NotAnAdmin,
    /// The admin did not let the portal read the organization (DocuSign did not grant it).
    NotRead,
    /// DocuSign could not be asked, or refused the read (its words are in the evidence).
    Unreadable,
}

impl OrganizationVerdict {
    /// The wire name (`data-verdict` on the page, test assertions).
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationVerdict::Covered => "covered",
            OrganizationVerdict::NotCovered => "not_covered",
            OrganizationVerdict::PendingOnly => "pending_only",
            OrganizationVerdict::NoClaimedDomain => "no_claimed_domain",
            OrganizationVerdict::NotAnAdmin => "not_an_admin",
            OrganizationVerdict::NotRead => "not_read",
            OrganizationVerdict::Unreadable => "unreadable",
        }
    }
}

/// A DNS TXT record a pending claimed domain needs before DocuSign activates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtRecordView {
    /// Where to publish it: the claimed domain itself.
    pub host: String,
    /// The value to publish (DocuSign's `txt_token`); `None` when DocuSign did not return it.
    pub value: Option<String>,
}

/// A claimed domain that is neither active nor pending (`deactivated`, `rejected`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherDomainView {
    pub host: String,
    pub status: String,
}

/// The organization prerequisites screen: what DocuSign reported, whether organization consent
/// would cover the intended system user, and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationCheckView {
    pub verdict: OrganizationVerdict,
    /// The organizations the admin administers (names), as DocuSign listed them.
    pub organizations: Vec<String>,
    /// Active claimed domains: organization consent covers users whose e-mail is in one.
    pub active_domains: Vec<String>,
    /// Pending domains with the TXT record each needs.
    pub pending: Vec<TxtRecordView>,
    /// Other claimed domains and their status.
    pub other_domains: Vec<OtherDomainView>,
    /// Whose coverage is judged: the intended system user's e-mail (the admin's own until they
    /// name another).
    pub intended_email: String,
    /// One sentence: the verdict in words.
    pub headline: String,
    /// What to do next, in plain sentences.
    pub next_steps: Vec<String>,
    /// What DocuSign itself answered when the read failed (shown as text, never parsed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// When DocuSign was read.
    pub checked_at: DateTime<Utc>,
    /// Whether “Check again” can read DocuSign without another sign-in (the read consent's
    /// token is still valid); otherwise the screen offers the read consent again.
    pub can_check_again: bool,
}

impl OrganizationCheckView {
    /// Whether the screen offers the field that judges another intended system user: only once
    /// the organization's domains were read.
    pub fn offers_system_user_field(&self) -> bool {
        matches!(
            self.verdict,
            OrganizationVerdict::Covered | OrganizationVerdict::NotCovered | OrganizationVerdict::PendingOnly | OrganizationVerdict::NoClaimedDomain
        )
    }

    /// The controls the consent step shows with this screen; its texts quote only these.
    pub fn controls(&self) -> Vec<&'static str> {
        let mut c = vec![
            controls::GRANT_ORGANIZATION,
            controls::GRANT_INDIVIDUAL,
            if self.can_check_again { controls::CHECK_AGAIN } else { controls::READ_ORGANIZATION },
        ];
        if self.offers_system_user_field() {
            c.push(controls::CHECK_SYSTEM_USER);
        }
        c
    }
}

/// The organization screen's "whose coverage" field: the intended system user's e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct IntendedSystemUserInput {
    #[validate(email(message = "Enter the system user's e-mail address (name@yourcompany.com)."), length(max = 254, message = "An e-mail address has at most 254 characters."))]
    pub email: String,
}

/// The steps of the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WizardStep {
    Welcome,
    ChoosePath,
    SystemUser,
    Verify,
    Done,
}

impl WizardStep {
    /// Every step, in order, with its label.
    pub const ALL: [(WizardStep, &'static str); 5] = [
        (WizardStep::Welcome, "Welcome"),
        (WizardStep::ChoosePath, "Consent"),
        (WizardStep::SystemUser, "System user"),
        (WizardStep::Verify, "Verify"),
        (WizardStep::Done, "Done"),
    ];
}

/// Whether a notice reports a failure or good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Something was refused or failed (`error`).
    Error,
    /// Something succeeded (`info`).
    Info,
}

/// A message about the last thing that happened (an error from DocuSign, a refused callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub title: String,
    pub message: String,
    /// What DocuSign itself answered (its `error`, `error_description`, `error_uri`), shown as
    /// text beside the message and never parsed: its wording is DocuSign's and may change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// The labels of the wizard's controls. A text that tells the admin to press a control names
/// it through one of these, and the button renders the same constant, so renaming a button
/// cannot leave a text naming a control that no longer exists.
pub mod controls {
    /// The welcome step's button (OAuth purpose `sign_in`).
    pub const SIGN_IN: &str = "Sign in with DocuSign";
    /// The consent step's organization button (also on the verify step when consent is missing).
    pub const GRANT_ORGANIZATION: &str = "Grant organization consent";
    /// The consent step's individual button (also on the verify step when consent is missing).
    pub const GRANT_INDIVIDUAL: &str = "Grant individual consent";
    /// The verify step's button.
    pub const VERIFY_NOW: &str = "Verify now";
    /// The organization screen's button that reads the claimed domains again.
    pub const CHECK_AGAIN: &str = "Check again";
    /// The organization screen's button that asks for the read consent again (OAuth purpose
    /// `organization_read`), when the portal holds no valid read token.
    pub const READ_ORGANIZATION: &str = "Let the portal read your organization";
    /// The organization screen's button that judges coverage for another system user.
    pub const CHECK_SYSTEM_USER: &str = "Check this system user";
    /// The landing page's button.
    pub const START: &str = "Start";
    /// The button on the page of a used, expired or withdrawn link.
    pub const ASK_FOR_LINK: &str = "Ask for a new link";
    /// The account step's checkbox that accepts an account where the user is only a member.
    pub const USE_MEMBER_ACCOUNT: &str = "Use it anyway";
    /// Every label above: a text may quote only these.
    pub const ALL: [&str; 10] = [
        SIGN_IN,
        GRANT_ORGANIZATION,
        GRANT_INDIVIDUAL,
        VERIFY_NOW,
        START,
        CHECK_AGAIN,
        READ_ORGANIZATION,
        CHECK_SYSTEM_USER,
        ASK_FOR_LINK,
        USE_MEMBER_ACCOUNT,
    ];
}

/// What a customer admin whose wizard session ended reads (the wizard page and the plain
/// OAuth routes): the way back in, naming the control on the link's page.
pub const SESSION_ENDED: &str = "Anything you completed, such as consent, is kept. Open the invite link you received again: if it still works, press “Start”; if it says it was used or has expired, press “Ask for a new link” on that page and the people who invited you are told at once.";

/// The control names quoted in `text` (between “ and ”): the names a text tells a person to press.
pub fn quoted_controls(text: &str) -> Vec<&str> {
    text.split('“').skip(1).filter_map(|rest| rest.split_once('”').map(|(name, _)| name)).collect()
}

/// What a verification of the system user found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationOutcome {
    /// The integration can act as the system user on the pinned account.
    Verified,
    /// The system user never consented (or is not covered by organization consent).
    ConsentMissing,
    /// Consent that worked before was withdrawn.
    ConsentRevoked,
    /// The provider does not know the system user.
    UnknownUser,
    /// The provider rejected the integration's key.
    KeyMismatch,
    /// The system user is not a member of the pinned account.
    NotAMember,
    /// The pinned account lives on another host now.
    BaseUriChanged,
    /// The provider could not be reached (nothing was changed).
    ProviderUnreachable,
    /// The provider answered with an unexpected error (nothing was changed).
    ProviderError,
}

impl VerificationOutcome {
    /// The wire name (also the `needs_attention` reason stored with the consent state).
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationOutcome::Verified => "verified",
            VerificationOutcome::ConsentMissing => "consent_missing",
            VerificationOutcome::ConsentRevoked => "consent_revoked",
            VerificationOutcome::UnknownUser => "unknown_user",
            VerificationOutcome::KeyMismatch => "key_mismatch",
            VerificationOutcome::NotAMember => "not_a_member",
            VerificationOutcome::BaseUriChanged => "base_uri_changed",
            VerificationOutcome::ProviderUnreachable => "provider_unreachable",
            VerificationOutcome::ProviderError => "provider_error",
        }
    }

    /// Whether granting consent (again) is the remedy.
    pub fn needs_consent(self) -> bool {
        matches!(self, VerificationOutcome::ConsentMissing | VerificationOutcome::ConsentRevoked)
    }
}

/// The result of verifying the system user, in words a non-developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationView {
    pub ok: bool,
    pub outcome: VerificationOutcome,
    pub title: String,
    pub remediation: String,
    pub checked_at: DateTime<Utc>,
    /// The steps performed and what each saw.
    pub evidence: Vec<String>,
    /// Where userinfo now says the account lives, when it moved.
    #[serde(default)]
    pub new_base_uri: Option<String>,
}

/// Everything the wizard page needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WizardView {
    pub tenant_name: String,
    pub environment: Environment,
    pub environment_configured: bool,
    pub step: WizardStep,
    pub status: ConsentStatus,
    pub signed_in: Option<DocuSignUserView>,
    /// Organization consent's prerequisites, when the signed-in admin's accounts belong to an
    /// organization.
    #[serde(default)]
    pub organization: Option<OrganizationCheckView>,
    pub advice: Option<PathAdvice>,
    pub receipt: Option<ConsentReceipt>,
    pub candidate: Option<DocuSignUserView>,
    pub system_user: Option<SystemUserView>,
    pub verification: Option<VerificationView>,
    pub notice: Option<Notice>,
    /// The scopes the ISV asks for, with what each lets it do.
    pub scopes: Vec<(String, String)>,
}

/// The organization path's system user, named by the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SystemUserInput {
    #[validate(length(min = 3, max = 254, message = "Enter the system user's e-mail address or DocuSign user ID."))]
    pub user: String,
}

/// What a scope lets the ISV do, in plain words.
pub fn explain_scope(scope: &str) -> &'static str {
    match scope {
        "signature" => "Send, sign and manage envelopes through the eSignature API.",
        "impersonation" => "Act as the system user without them being present (JWT grant).",
        "extended" => "Keep access for longer without asking you to sign in again.",
        "openid" => "Know who you are (your name, e-mail and DocuSign accounts).",
        "organization_read" => "Read your DocuSign organization's name and accounts.",
        "domain_read" => "Read which e-mail domains your organization has claimed.",
        "user_read" => "Look up a user of your organization by e-mail.",
        _ => "Access requested by the integration.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_by_name() {
        for s in ConsentState::ALL {
            assert_eq!(ConsentState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn wire_names_of_outcomes_and_notices_are_todays_strings() {
        for o in [
            VerificationOutcome::Verified,
            VerificationOutcome::ConsentMissing,
            VerificationOutcome::ConsentRevoked,
            VerificationOutcome::UnknownUser,
            VerificationOutcome::KeyMismatch,
            VerificationOutcome::NotAMember,
            VerificationOutcome::BaseUriChanged,
            VerificationOutcome::ProviderUnreachable,
            VerificationOutcome::ProviderError,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), serde_json::json!(o.as_str()));
        }
        assert_eq!(serde_json::to_value(NoticeKind::Error).unwrap(), serde_json::json!("error"));
        assert_eq!(serde_json::to_value(NoticeKind::Info).unwrap(), serde_json::json!("info"));
    }

    #[test]
    fn verification_needs_consent_first_and_revocation_needs_a_prior_grant() {
        use ConsentState::*;
        assert!(!NotStarted.can_become(Verified));
        assert!(!Invited.can_become(Consented));
        assert!(!InProgress.can_become(Verified));
        assert!(InProgress.can_become(Consented));
        assert!(Consented.can_become(Verified));
        assert!(Verified.can_become(Revoked));
        assert!(!NotStarted.can_become(Revoked));
        assert!(!InProgress.can_become(Revoked));
        for s in ConsentState::ALL {
            assert!(s.can_become(Invited), "staff can always re-invite from {s:?}");
        }
    }
}
