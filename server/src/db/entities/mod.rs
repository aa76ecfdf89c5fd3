//! sea-orm entities, one per table. Behaviour lives in the services, not here.

pub mod api_client;
pub mod audit_event;
pub mod check_attestation;
pub mod check_result;
pub mod check_run;
pub mod check_schedule;
pub mod connect_delivery;
pub mod connect_message;
pub mod consent_grant;
pub mod consent_state;
pub mod credential;
pub mod encryption_key;
pub mod invite;
pub mod latest_check_run;
pub mod manual_override;
pub mod oauth_transaction;
pub mod session;
pub mod staff_user;
pub mod system_user;
pub mod tenant;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
pub mod wizard_progress;
