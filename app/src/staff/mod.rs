//! Staff accounts: administrators add, list, deactivate and reactivate them.

pub mod api;
pub mod views;
