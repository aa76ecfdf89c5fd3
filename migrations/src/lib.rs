//! The portal's schema, one migration per step, each with a real `down`.
//!
//! The server runs `Migrator::up` at start-up; `consent-portal migrate` and this crate's CLI run
//! it on demand.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_staff;
mod m20261124_000002_create_tenants;
mod m20261124_000003_create_audit_events;
mod m20261124_000004_create_consent;
mod m20261124_000005_create_checks;
mod m20261124_000006_create_check_schedules;
mod m20261202_000007_hardening;
mod m20261206_000008_api_clients;
mod m20261206_000009_webhooks;
mod m20261206_000010_timeline_indexes;
mod m20261207_000011_overrides;
mod m20261207_000012_org_prerequisites;
mod m20261207_000013_tenant_search;
mod m20261207_000014_invite_link_requests;
mod m20261207_000015_consent_state_statistics;
mod m20261207_000016_latest_check_runs;

/// The foreign key from `table.tenant_id` to `tenants.id`, deleting with the tenant.
pub(crate) fn tenant_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_tenant"))
        .from(Alias::new(table), Alias::new("tenant_id"))
        .to(m20261124_000002_create_tenants::Tenants::Table, m20261124_000002_create_tenants::Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_staff::Migration),
            Box::new(m20261124_000002_create_tenants::Migration),
            Box::new(m20261124_000003_create_audit_events::Migration),
            Box::new(m20261124_000004_create_consent::Migration),
            Box::new(m20261124_000005_create_checks::Migration),
            Box::new(m20261124_000006_create_check_schedules::Migration),
            Box::new(m20261202_000007_hardening::Migration),
            Box::new(m20261206_000008_api_clients::Migration),
            Box::new(m20261206_000009_webhooks::Migration),
            Box::new(m20261206_000010_timeline_indexes::Migration),
            Box::new(m20261207_000011_overrides::Migration),
            Box::new(m20261207_000012_org_prerequisites::Migration),
            Box::new(m20261207_000013_tenant_search::Migration),
            Box::new(m20261207_000014_invite_link_requests::Migration),
            Box::new(m20261207_000015_consent_state_statistics::Migration),
            Box::new(m20261207_000016_latest_check_runs::Migration),
        ]
    }
}
