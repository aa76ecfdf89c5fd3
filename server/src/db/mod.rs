//! Database access: connecting (SQLite or PostgreSQL), running migrations, and the sea-orm
//! entities. Services take a `&DatabaseConnection` (or a transaction) explicitly.

pub mod entities;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How long a request waits for a database connection before the portal answers 503.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Connects and brings the schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, ACQUIRE_TIMEOUT).await
}

/// [`connect_and_migrate`] with another connection-acquire timeout (the test harness waits
/// longer, so a loaded test machine queues rather than answering 503; the 503 has its own test).
pub async fn connect_with(url: &str, acquire_timeout: std::time::Duration) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    // A request that cannot get a connection soon answers 503 with Retry-After (see
    // `ServiceError::into_app`) instead of queueing for sqlx's default 30 s and failing with 500.
    options.acquire_timeout(acquire_timeout);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's model; a small pool avoids "database is locked".
        options.max_connections(1).min_connections(1);
    } else {
        options.max_connections(16);
    }
    let db = Database::connect(options).await?;
    if url.starts_with("sqlite:") {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;").await?;
    }
    Migrator::up(&db, None).await?;
    Ok(db)
}
