//! The Consent Portal backend: configuration, database, domain services, HTTP routes, and the
//! DocuSign sandbox (which the portal reaches only over HTTP).

pub mod api_clients;
pub mod assets;
pub mod audit;
pub mod bench;
pub mod bench_api;
pub mod bench_console;
pub mod bench_pages;
pub mod checks;
pub mod cli;
pub mod config;
pub mod connect_listener;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod exports;
pub mod http;
pub mod isv_api;
pub mod list_counts;
pub mod onboarding;
pub mod ports;
pub mod providers;
pub mod rate_limit;
pub mod retention;
pub mod sandbox;
pub mod scope;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod staff;
pub mod telemetry;
pub mod tenants;
pub mod token_cache;
pub mod timeline;
pub mod webhooks;
