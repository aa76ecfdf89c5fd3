//! Consent onboarding: invites, the customer admin's wizard (sign in with DocuSign, choose the
//! consent path, consent, designate the system user and account, verify), and what staff see of
//! it (consent state, history, receipt, system user, invites).

pub mod api;
pub mod model;
pub mod staff_views;
pub mod wizard_views;
