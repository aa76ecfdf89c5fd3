//! Database access: connecting (SQLite or PostgreSQL), running migrations, starting write
//! transactions, and the sea-orm entities. Services take a `&DatabaseConnection` (or a
//! transaction) explicitly.
//!
//! SQLite runs in WAL mode with a pool of connections: readers never wait for each other or for
//! the writer, and writes are serialized by SQLite itself. Every transaction the portal opens
//! goes through [`begin`], which on SQLite starts it `IMMEDIATE` (it takes the write lock at
//! `BEGIN`, waiting up to [`SQLITE_BUSY_TIMEOUT`] for it): a deferred transaction that read first
//! and then tried to write after another writer committed would fail at once with
//! `SQLITE_BUSY_SNAPSHOT`, which no waiting can cure. A write that still cannot get the lock in
//! time is answered 503 with `Retry-After` (see `error::is_busy`), like a pool that has no
//! connection to give.

pub mod entities;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::sea_query::{Alias, Expr, IntoIden, SelectStatement};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult, SqliteTransactionMode,
    TransactionOptions, TransactionTrait, TryGetError,
};

/// How long a request waits for a database connection before the portal answers 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a SQLite write waits for the write lock before giving up (then 503).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// Bytes of the SQLite file each connection reads through a memory map rather than `pread`
/// into its own page cache. Under load every page a read fetched went through a system call and
/// through the page cache's one process-wide lock (the bundled SQLite is built with
/// `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which makes all connections share it): a third of the
/// portal's CPU on the tenant list at 100,000 tenants (perf). Mapped pages are the operating
/// system's file cache, shared and reclaimable, not memory the portal allocates.
pub const SQLITE_MMAP_SIZE: u64 = 1 << 30;

/// Connections in the SQLite pool: readers run side by side in WAL mode, one writer at a time.
pub const SQLITE_POOL: u32 = 8;

/// Connections in the PostgreSQL pool of one instance.
pub const POSTGRES_POOL: u32 = 16;

/// PostgreSQL's `parallel_setup_cost` for the portal's sessions (see [`connect_with`]).
pub const PARALLEL_SETUP_COST: u32 = 10_000;

/// Connects and brings the schema up to date.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, ACQUIRE_TIMEOUT).await
}

/// [`connect_and_migrate`] with another connection-acquire timeout (the test harness waits
/// longer, so a loaded test machine queues rather than answering 503; the 503 has its own test).
pub async fn connect_with(url: &str, acquire_timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    let sqlite = url.starts_with("sqlite:");
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
    if sqlite {
        // Every pooled connection gets the same settings (a PRAGMA run once would reach only one).
        options.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .pragma("mmap_size", SQLITE_MMAP_SIZE.to_string())
        });
        // Each connection to `:memory:` is a database of its own: a pool would split it.
        let size = if url.contains(":memory:") { 1 } else { SQLITE_POOL };
        options.max_connections(size).min_connections(1);
    } else {
        options.max_connections(POSTGRES_POOL);
        // The portal's reads are pages that stop after 50 rows. PostgreSQL's default setup cost
        // for a parallel worker (1000) let it choose a parallel plan for a filtered page whose
        // cost estimate was close to the serial one, and starting the worker took longer than
        // the query: 16.8 ms against 4.4 ms serial (EXPLAIN ANALYZE, failing-check filter at
        // 100,000 tenants). At this setting pages plan serially and the full-table counts,
        // estimated a hundred times dearer, may still use a worker.
        options.map_sqlx_postgres_opts(|o| o.options([("parallel_setup_cost", PARALLEL_SETUP_COST)]));
    }
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite (see the module docs), a plain `BEGIN`
/// on PostgreSQL. Every transaction of the portal starts here.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() })
        .await
}

/// Selects every column of `E` as `{prefix}{column}`, for reading several tables' rows from one.
pub fn columns_as<E: EntityTrait>(q: &mut SelectStatement, prefix: &str) {
    for c in E::Column::iter() {
        q.expr_as(Expr::col((E::default().into_iden(), c.into_iden())), Alias::new(format!("{prefix}{}", c.as_str())));
    }
}

/// The row of a left-joined table, `None` where the join found none (its columns are null).
pub fn joined<M: FromQueryResult>(row: &QueryResult, prefix: &str) -> Result<Option<M>, DbErr> {
    match M::from_query_result_nullable(row, prefix) {
        Ok(m) => Ok(Some(m)),
        Err(TryGetError::Null(_)) => Ok(None),
        Err(TryGetError::DbErr(e)) => Err(e),
    }
}
