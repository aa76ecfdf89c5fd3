//! The setup check: whether a tenant's DocuSign account is set up the way the ISV's integration
//! needs (claimed domains, account settings, Connect), what to do when it is not, and the fix
//! the portal can apply itself. This module holds the profile the check compares against and the
//! rules as pure functions; running them (provider calls, storage, scheduling) lives elsewhere.

pub mod budget;
pub mod bulk;
pub mod evaluate;
pub mod profile;
pub mod run;
pub mod scheduler;

pub use evaluate::{
    Attestation, CONNECT_CHECK, CheckOutcome, CheckStatus, DOMAINS_CHECK, FixOffer, ReservedDomainFacts, SETTINGS_CHECK,
    SettingDiff, TxtRecord, connect_check, domains_check, overall, pending_txt_records, settings_check,
};
pub use profile::{ConnectProfile, SetupProfile};
