//! Consent onboarding, server side: the consent state machine and its records, invites, the OAuth
//! transactions of the wizard (authorization code + PKCE, state bound to the browser session),
//! organization consent's prerequisites read before consent, the system user, verification by
//! JWT grant, and kept credentials.

pub mod callback;
pub mod credentials;
pub mod invites;
pub mod prerequisites;
pub mod records;
pub mod state;
pub mod verify;
pub mod wizard;
