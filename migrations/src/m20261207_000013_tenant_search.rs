//! The tenants list's search index: one document per tenant (display name, slug, contact e-mail
//! and the system user's e-mail in the tenant's environment), kept by triggers on `tenants` and
//! `system_users` so every write path keeps it true, searched by substring through trigrams.
//!
//! A substring search (`LIKE '%…%'`) cannot use a B-tree index: at 100,000 tenants it read every
//! tenant and its system user for each search. Trigrams turn "contains this text" into an index
//! lookup on both databases:
//! - SQLite: an FTS5 table with the `trigram` tokenizer (case-insensitive), its rowids mapped to
//!   tenants by `tenant_search_docs` (a tenant's own rowid is not stable across `VACUUM`);
//! - PostgreSQL: a plain table with a GIN `gin_trgm_ops` index (extension `pg_trgm`, a trusted
//!   extension shipped with PostgreSQL's contrib package), which answers `LIKE '%…%'`.
//!
//! Both index trigrams, so a search of fewer than three characters cannot use them; the service
//! falls back to scanning for those (`server/src/tenants/list.rs`).

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The document of the tenant whose id is `id` (an SQL expression), lower-cased, fields separated
/// by a newline so a search never matches across two of them.
fn document(id: &str, newline: &str, concat_emails: &str) -> String {
    format!(
        "SELECT lower(t.display_name || {newline} || t.slug || {newline} || t.contact_email || \
         coalesce({newline} || (SELECT {concat_emails} FROM system_users s WHERE s.tenant_id = t.id AND s.environment = t.environment), '')) \
         FROM tenants t WHERE t.id = {id}"
    )
}

fn sqlite_refresh(id: &str) -> String {
    let document = document(id, "char(10)", "group_concat(s.email, char(10))");
    // A system user deleted by the tenant's own deletion (a cascade) refreshes a tenant that is
    // gone: its mapping row goes too, rather than be recreated.
    format!(
        "INSERT OR IGNORE INTO tenant_search_docs (tenant_id) SELECT id FROM tenants WHERE id = {id}; \
         DELETE FROM tenant_search WHERE rowid = (SELECT docid FROM tenant_search_docs WHERE tenant_id = {id}); \
         INSERT INTO tenant_search (rowid, body) SELECT d.docid, ({document}) FROM tenant_search_docs d \
         WHERE d.tenant_id = {id} AND EXISTS (SELECT 1 FROM tenants WHERE id = {id}); \
         DELETE FROM tenant_search_docs WHERE tenant_id = {id} AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = {id});"
    )
}

fn sqlite_forget(id: &str) -> String {
    format!(
        "DELETE FROM tenant_search WHERE rowid = (SELECT docid FROM tenant_search_docs WHERE tenant_id = {id}); \
         DELETE FROM tenant_search_docs WHERE tenant_id = {id};"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared("CREATE TABLE tenant_search_docs (docid INTEGER PRIMARY KEY, tenant_id BLOB NOT NULL UNIQUE)").await?;
                db.execute_unprepared("CREATE VIRTUAL TABLE tenant_search USING fts5(body, tokenize = 'trigram')").await?;
                let triggers = [
                    ("tenant_search_tenant_insert", "AFTER INSERT ON tenants", sqlite_refresh("NEW.id")),
                    (
                        "tenant_search_tenant_update",
                        "AFTER UPDATE OF display_name, slug, contact_email, environment ON tenants",
                        sqlite_refresh("NEW.id"),
                    ),
                    ("tenant_search_tenant_delete", "AFTER DELETE ON tenants", sqlite_forget("OLD.id")),
                    ("tenant_search_user_insert", "AFTER INSERT ON system_users", sqlite_refresh("NEW.tenant_id")),
                    (
                        "tenant_search_user_update",
                        "AFTER UPDATE OF email, environment, tenant_id ON system_users",
                        format!("{} {}", sqlite_refresh("OLD.tenant_id"), sqlite_refresh("NEW.tenant_id")),
                    ),
                    ("tenant_search_user_delete", "AFTER DELETE ON system_users", sqlite_refresh("OLD.tenant_id")),
                ];
                for (name, when, body) in triggers {
                    db.execute_unprepared(&format!("CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN {body} END")).await?;
                }
                db.execute_unprepared("INSERT INTO tenant_search_docs (tenant_id) SELECT id FROM tenants").await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO tenant_search (rowid, body) SELECT d.docid, ({}) FROM tenant_search_docs d",
                    document("d.tenant_id", "char(10)", "group_concat(s.email, char(10))")
                ))
                .await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                db.execute_unprepared(
                    "CREATE TABLE tenant_search (tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE, body text NOT NULL)",
                )
                .await?;
                db.execute_unprepared("CREATE INDEX idx_tenant_search_body ON tenant_search USING gin (body gin_trgm_ops)").await?;
                let document = document("$1", "E'\\n'", "string_agg(s.email, E'\\n')");
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION tenant_search_refresh(uuid) RETURNS void LANGUAGE sql AS $$ \
                     DELETE FROM tenant_search WHERE tenant_id = $1; \
                     INSERT INTO tenant_search (tenant_id, body) SELECT $1, ({document}) WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1); $$"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE FUNCTION tenant_search_tenant_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN PERFORM tenant_search_refresh(NEW.id); RETURN NULL; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE FUNCTION tenant_search_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF TG_OP <> 'INSERT' THEN PERFORM tenant_search_refresh(OLD.tenant_id); END IF; \
                       IF TG_OP <> 'DELETE' THEN PERFORM tenant_search_refresh(NEW.tenant_id); END IF; \
                       RETURN NULL; \
                     END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER tenant_search_tenant AFTER INSERT OR UPDATE OF display_name, slug, contact_email, environment ON tenants \
                     FOR EACH ROW EXECUTE FUNCTION tenant_search_tenant_changed()",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER tenant_search_user AFTER INSERT OR UPDATE OF email, environment, tenant_id OR DELETE ON system_users \
                     FOR EACH ROW EXECUTE FUNCTION tenant_search_user_changed()",
                )
                .await?;
                db.execute_unprepared("SELECT tenant_search_refresh(id) FROM tenants").await?;
            }
            other => return Err(DbErr::Migration(format!("the tenant search index has no form for {other:?}"))),
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                for name in [
                    "tenant_search_tenant_insert",
                    "tenant_search_tenant_update",
                    "tenant_search_tenant_delete",
                    "tenant_search_user_insert",
                    "tenant_search_user_update",
                    "tenant_search_user_delete",
                ] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}")).await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS tenant_search").await?;
                db.execute_unprepared("DROP TABLE IF EXISTS tenant_search_docs").await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS tenant_search_user ON system_users").await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS tenant_search_tenant ON tenants").await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS tenant_search_user_changed(), tenant_search_tenant_changed(), tenant_search_refresh(uuid)").await?;
                db.execute_unprepared("DROP TABLE IF EXISTS tenant_search").await?;
                // pg_trgm stays: other objects may use it, and it is harmless.
            }
        }
        Ok(())
    }
}
