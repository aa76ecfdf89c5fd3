//! The setup check: whether a tenant's DocuSign account is set up the way the ISV's integration
//! needs (consent, claimed domains, account settings, Connect), what to do when it is not, and the
//! fix the portal can apply itself.
//!
//! - `profile`: what the check compares against;
//! - `rules/`: one pure rule per check (no I/O), and the outcome types they share;
//! - `facts`: what each check reads from DocuSign and the portal's records;
//! - `run`: a run's lifecycle (start, one check at a time, close, history);
//! - `fixes`, `attest`: changes people ask for;
//! - `scheduler`, `bulk`: re-checking many tenants.
//!
//! The check ids and the run vocabulary are the wire types in `app::checks`.

pub mod attest;
pub mod bulk;
pub mod facts;
pub mod fixes;
pub mod overrides;
pub mod profile;
pub mod rules;
pub mod run;
pub mod scheduler;

pub use app::checks::{CheckId, FixKind, RunOverall, RunTrigger};
pub use profile::{ConnectProfile, SetupProfile};
pub use rules::claimed_domains::{Attestation, ReservedDomainFacts, TxtRecord, domains_check, pending_txt_records};
pub use rules::connect_configuration::connect_check;
pub use rules::connect_delivery::{DELIVERY_FRESHNESS, DeliveryFacts, delivery_check};
pub use rules::settings::{SettingDiff, settings_check};
pub use rules::system_user::system_user_check;
pub use rules::view::check_view;
pub use rules::{CheckOutcome, CheckStatus, FixOffer, overall};
