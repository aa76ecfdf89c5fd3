//! Tenants: the ISV's customers. Staff create, list, view, edit and archive them; account managers
//! read the ones assigned to them.

pub mod api;
pub mod overview;
pub mod list_filters;
pub mod timeline;
pub mod views;
