//! sea-orm entities, one per table. Behaviour lives in the services, not here.

pub mod audit_event;
pub mod session;
pub mod staff_user;
pub mod tenant;
