//! What the concurrent tests share: a pool per server, on a fresh schema
//! or database, and the retry of the errors a server may ask to retry.
#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::r2d2::{
    ConnectionManager, CustomizeConnection, ManageConnection, Pool, PoolError, PooledConnection,
};
use diesel::PgConnection;
use orm_core::prelude::*;
use orm_tests::*;

/// Writers per test.
pub const THREADS: usize = 8;

/// Puts every pooled connection in the test's schema.
#[derive(Debug)]
pub struct InSchema(pub String);

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for InSchema {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!("SET search_path TO {}", self.0))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// A pool of a connection per thread and one for the checks, on a fresh
/// schema with the test tables; the returned `PgTest` drops the schema when
/// the test ends.
pub fn pg_pool(test: &str) -> Option<(PgTest, PgPool)> {
    let setup = postgres(test)?;
    let url = postgres_url(test)?;
    let pool = Pool::builder()
        .max_size(THREADS as u32 + 1)
        .connection_customizer(Box::new(InSchema(setup.schema().to_string())))
        .build(ConnectionManager::<PgConnection>::new(url))
        .expect("build the pool");
    Some((setup, pool))
}

/// The same on the test MariaDB's fresh database; `MysqlTest` drops it.
#[cfg(feature = "mysql")]
pub fn mysql_pool(
    test: &str,
) -> Option<(MysqlTest, Pool<ConnectionManager<diesel::MysqlConnection>>)> {
    let setup = mysql(test)?;
    let url = mysql_url(test)?;
    let pool = Pool::builder()
        .max_size(THREADS as u32 + 1)
        .build(ConnectionManager::new(in_database(&url, setup.database())))
        .expect("build the pool");
    Some((setup, pool))
}

/// A pool per node of a multi-primary cluster, taken in turn: consecutive
/// `get`s land on different nodes, so 8 writer threads spread over three.
/// A node that gives no connection within its pool's timeout is skipped.
pub struct Spread<M: ManageConnection> {
    pools: Arc<[Pool<M>]>,
    next: Arc<AtomicUsize>,
}

impl<M: ManageConnection> Clone for Spread<M> {
    fn clone(&self) -> Self {
        Spread {
            pools: Arc::clone(&self.pools),
            next: Arc::clone(&self.next),
        }
    }
}

impl<M: ManageConnection> Spread<M> {
    /// A connection of the next node that gives one.
    pub fn get(&self) -> Result<PooledConnection<M>, PoolError> {
        let mut last = None;
        for _ in 0..self.pools.len() {
            let node = self.next.fetch_add(1, Ordering::Relaxed) % self.pools.len();
            match self.pools[node].get() {
                Ok(conn) => return Ok(conn),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("a cluster of at least one node"))
    }

    /// The pool of node `n` (from 0).
    pub fn node(&self, n: usize) -> &Pool<M> {
        &self.pools[n]
    }
}

/// Where the race tests' threads take their connections: one pool, or a
/// [`Spread`] over a cluster's nodes.
pub trait Connections<M: ManageConnection>: Clone + Send + 'static {
    /// A connection (with a `Spread`, of the next node).
    fn conn(&self) -> Result<PooledConnection<M>, PoolError>;
}

impl<M: ManageConnection> Connections<M> for Pool<M> {
    fn conn(&self) -> Result<PooledConnection<M>, PoolError> {
        self.get()
    }
}

impl<M: ManageConnection> Connections<M> for Spread<M> {
    fn conn(&self) -> Result<PooledConnection<M>, PoolError> {
        self.get()
    }
}

/// Makes a read on a Galera node wait until the node has applied every
/// write the cluster committed before it (`wsrep_sync_wait = 1`): without
/// it, a read on one node right after a commit on another may miss it.
#[cfg(feature = "mysql")]
#[derive(Debug)]
pub struct CausalReads;

#[cfg(feature = "mysql")]
impl CustomizeConnection<diesel::MysqlConnection, diesel::r2d2::Error> for CausalReads {
    fn on_acquire(&self, conn: &mut diesel::MysqlConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("SET SESSION wsrep_sync_wait = 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A fresh database on the three-node Galera cluster `GALERA_URLS` names,
/// made on the first node (the others receive it), and a pool per node on
/// it; `None` when `GALERA_URLS` is not set. Turns on certified parent locks
/// (`orm_core::cluster`) for the test process: every MySQL test database
/// has their table (`mysql_at`).
#[cfg(feature = "mysql")]
pub fn galera_pool(
    test: &str,
) -> Option<(
    MysqlTest,
    Spread<ConnectionManager<diesel::MysqlConnection>>,
)> {
    let urls = galera_urls(test)?;
    orm_core::cluster::certify_locks(true);
    let setup = mysql_at(&urls[0]);
    let pools = urls
        .iter()
        .map(|url| {
            Pool::builder()
                .max_size(THREADS as u32 + 1)
                .connection_timeout(std::time::Duration::from_secs(5))
                .connection_customizer(Box::new(CausalReads))
                .build_unchecked(ConnectionManager::new(in_database(url, setup.database())))
        })
        .collect();
    let spread = Spread {
        pools,
        next: Arc::new(AtomicUsize::new(0)),
    };
    // A causal read on each node waits until it has the new tables.
    for node in 0..spread.pools.len() {
        let mut conn = spread.node(node).get().expect("a connection to each node");
        Event::all(&mut conn).expect("the tables on each node");
    }
    Some((setup, spread))
}

/// A SQLite database file shared by a pool, removed when dropped.
pub struct SqliteFile(std::path::PathBuf);

impl Drop for SqliteFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Foreign keys on and a busy timeout for every pooled SQLite connection.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<diesel::SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut diesel::SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 60000;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool on a fresh SQLite file in WAL mode with the test tables.
pub fn sqlite_pool(
    test: &str,
) -> Option<(
    SqliteFile,
    Pool<ConnectionManager<diesel::SqliteConnection>>,
)> {
    let path = std::env::temp_dir().join(format!("orm-{test}-{}.sqlite", std::process::id()));
    let file = SqliteFile(path.clone());
    drop(SqliteFile(path.clone()));
    let url = path.to_str().expect("a UTF-8 temp path").to_string();
    let mut conn = orm_core::sqlite::open(&url).expect("open the SQLite file");
    conn.batch_execute("PRAGMA journal_mode = WAL")
        .expect("WAL");
    schema()
        .create_all(&mut conn)
        .expect("create the test tables");
    let pool = Pool::builder()
        .max_size(THREADS as u32 + 1)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(ConnectionManager::new(url))
        .expect("build the pool");
    Some((file, pool))
}

/// How the races retry: many short pauses, since 8 writers on one row
/// collide often and each collision is expected.
pub fn race_retry() -> orm_core::Retry {
    orm_core::Retry {
        attempts: 1000,
        base_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(20),
    }
}

/// Runs `op` with `orm_core::retry`, which runs it again while the
/// database reports an error `orm_core::is_retryable` says a new run may
/// not meet (a serialization failure, a deadlock, a Galera certification
/// failure, SQLite's SQLITE_BUSY, which a transaction that read before
/// writing gets when another connection wrote meanwhile: the busy timeout
/// does not wait for it), and adds the runs it took beyond the first to
/// `retries`; any other error fails the test.
pub fn retrying<C, T>(
    conn: &mut C,
    retries: &mut usize,
    op: impl FnMut(&mut C) -> QueryResult<T>,
) -> T
where
    C: diesel::Connection + orm_core::exec::Transact<orm_core::Blocking>,
{
    match orm_core::retry(conn, &race_retry(), op) {
        Ok(done) => {
            *retries += done.attempts as usize - 1;
            done.value
        }
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

/// Appends `line` to the file `ORM_SCALE_OUT_LOG` names, if set: the
/// figures of the replica and cluster tests, which `.ci/run` prints.
pub fn scale_out_log(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    match std::env::var("ORM_SCALE_OUT_LOG") {
        Ok(path) if !path.is_empty() => writeln!(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
            "{line}"
        ),
        _ => Ok(()),
    }
}

/// `n` new users.
pub fn users<C>(n: usize, conn: &mut C) -> QueryResult<Vec<User>>
where
    C: orm_core::ConnKind<Kind = orm_core::Blocking>,
    User: orm_core::Crud<C>,
{
    (0..n)
        .map(|i| {
            User::create(
                NewUser {
                    name: format!("u{i}"),
                },
                conn,
            )
        })
        .collect()
}

/// A small deterministic generator, so a failing run can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}
