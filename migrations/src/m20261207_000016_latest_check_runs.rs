//! Each tenant's latest setup-check run per environment, kept by triggers on `check_runs` so
//! every write path (a run started or closed, an abandoned run closed by the scheduler, old runs
//! purged by retention, a tenant deleted) keeps it true; and an index that answers a run's failed
//! checks without reading the results' outcome documents.
//!
//! The console's list, its filters and their counts all ask "what did this tenant's latest run
//! say?". Derived from `check_runs` each time (newest start per tenant, a correlated subquery per
//! tenant), a count over 100,000 tenants took 0.3-7 s. With this table it is one primary-key
//! step per tenant.
//!
//! The latest run is the one with the newest start, its id breaking ties (the order the portal
//! has always used). A run's tenant, environment and start never change once written; only its
//! `overall` does when it closes, so that is the one column an update copies. The table has no
//! foreign key to `tenants`: when a tenant is deleted, the cascade deletes its runs one by one and
//! the delete trigger would otherwise re-point the row at a run of a tenant already gone; without
//! the key the last deletion leaves no row behind.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `columns` of the latest run of the tenant and environment `tenant`/`env` (SQL expressions).
fn latest_of(columns: &str, tenant: &str, env: &str) -> String {
    format!(
        "SELECT {columns} FROM check_runs l WHERE l.tenant_id = {tenant} AND l.environment = {env} \
         ORDER BY l.started_at DESC, l.id DESC LIMIT 1"
    )
}

/// A run as a row of `latest_check_runs`.
const RUN: &str = "l.tenant_id, l.environment, l.id, l.started_at, l.overall";

const COLUMNS: &str = "latest_check_runs (tenant_id, environment, run_id, started_at, overall)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // The columns typed as `check_runs` types them, so a copied value compares as the original.
        manager
            .create_table(
                Table::create()
                    .table(LatestCheckRuns::Table)
                    .col(uuid(LatestCheckRuns::TenantId))
                    .col(string(LatestCheckRuns::Environment))
                    .col(uuid(LatestCheckRuns::RunId).unique_key())
                    .col(timestamp_with_time_zone(LatestCheckRuns::StartedAt))
                    .col(string_null(LatestCheckRuns::Overall))
                    .primary_key(Index::create().col(LatestCheckRuns::TenantId).col(LatestCheckRuns::Environment))
                    .to_owned(),
            )
            .await?;
        // A run's failed checks, read from the index alone: the counts ask it of every tenant's
        // latest run, and a result row also holds its whole outcome document.
        manager
            .create_index(
                Index::create()
                    .name("idx_check_results_run_status")
                    .table(CheckResults::Table)
                    .col(CheckResults::RunId)
                    .col(CheckResults::Status)
                    .col(CheckResults::CheckId)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                let triggers = [
                    (
                        "latest_check_runs_insert",
                        "AFTER INSERT ON check_runs",
                        format!(
                            "INSERT INTO {COLUMNS} VALUES (NEW.tenant_id, NEW.environment, NEW.id, NEW.started_at, NEW.overall) \
                             ON CONFLICT (tenant_id, environment) DO UPDATE SET run_id = excluded.run_id, \
                             started_at = excluded.started_at, overall = excluded.overall \
                             WHERE (excluded.started_at, excluded.run_id) > (latest_check_runs.started_at, latest_check_runs.run_id);"
                        ),
                    ),
                    (
                        "latest_check_runs_update",
                        "AFTER UPDATE OF overall ON check_runs",
                        "UPDATE latest_check_runs SET overall = NEW.overall WHERE run_id = NEW.id;".to_owned(),
                    ),
                    (
                        "latest_check_runs_delete",
                        "AFTER DELETE ON check_runs",
                        format!(
                            "DELETE FROM latest_check_runs WHERE run_id = OLD.id; \
                             INSERT OR IGNORE INTO {COLUMNS} {};",
                            latest_of(RUN, "OLD.tenant_id", "OLD.environment")
                        ),
                    ),
                ];
                for (name, when, body) in triggers {
                    db.execute_unprepared(&format!("CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN {body} END")).await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION latest_check_runs_keep() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF TG_OP = 'INSERT' THEN \
                         INSERT INTO {COLUMNS} VALUES (NEW.tenant_id, NEW.environment, NEW.id, NEW.started_at, NEW.overall) \
                         ON CONFLICT (tenant_id, environment) DO UPDATE SET run_id = EXCLUDED.run_id, \
                         started_at = EXCLUDED.started_at, overall = EXCLUDED.overall \
                         WHERE (EXCLUDED.started_at, EXCLUDED.run_id) > (latest_check_runs.started_at, latest_check_runs.run_id); \
                       ELSIF TG_OP = 'UPDATE' THEN \
                         UPDATE latest_check_runs SET overall = NEW.overall WHERE run_id = NEW.id; \
                       ELSE \
                         DELETE FROM latest_check_runs WHERE run_id = OLD.id; \
                         IF FOUND THEN \
                           INSERT INTO {COLUMNS} {} ON CONFLICT DO NOTHING; \
                         END IF; \
                       END IF; \
                       RETURN NULL; \
                     END $$",
                    latest_of(RUN, "OLD.tenant_id", "OLD.environment")
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER latest_check_runs_keep AFTER INSERT OR UPDATE OF overall OR DELETE ON check_runs \
                     FOR EACH ROW EXECUTE FUNCTION latest_check_runs_keep()",
                )
                .await?;
            }
            other => return Err(DbErr::Migration(format!("the latest check runs have no form for {other:?}"))),
        }
        // The runs already recorded: the newest of each tenant and environment.
        db.execute_unprepared(&format!(
            "INSERT INTO {COLUMNS} SELECT r.tenant_id, r.environment, r.id, r.started_at, r.overall FROM check_runs r \
             WHERE r.id = ({})",
            latest_of("l.id", "r.tenant_id", "r.environment")
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                for name in ["latest_check_runs_insert", "latest_check_runs_update", "latest_check_runs_delete"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}")).await?;
                }
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS latest_check_runs_keep ON check_runs").await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS latest_check_runs_keep()").await?;
            }
        }
        manager.drop_index(Index::drop().name("idx_check_results_run_status").table(CheckResults::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LatestCheckRuns::Table).if_exists().to_owned()).await
    }
}

#[derive(DeriveIden)]
enum CheckResults {
    Table,
    RunId,
    Status,
    CheckId,
}

#[derive(DeriveIden)]
enum LatestCheckRuns {
    Table,
    TenantId,
    Environment,
    RunId,
    StartedAt,
    Overall,
}
