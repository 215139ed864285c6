//! What the concurrent tests share: a pool per server, on a fresh schema
//! or database, and the retry of the errors a server may ask to retry.
#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
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
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let pool = Pool::builder()
        .max_size(THREADS as u32 + 1)
        .build(ConnectionManager::new(format!(
            "{base}/{}",
            setup.database()
        )))
        .expect("build the pool");
    Some((setup, pool))
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

/// Runs `op`, retrying it while the database reports an error
/// `orm_core::is_retryable` says a new run may not meet (a serialization
/// failure, a deadlock, SQLite's SQLITE_BUSY, which a transaction that read
/// before writing gets when another connection wrote meanwhile: the busy
/// timeout does not wait for it); any other error fails the test. Each
/// writer is one transaction of its own, so it is run again as it is.
pub fn retrying<C, T>(
    conn: &mut C,
    retries: &mut usize,
    mut op: impl FnMut(&mut C) -> QueryResult<T>,
) -> T {
    loop {
        match op(conn) {
            Ok(value) => return value,
            Err(e) if orm_core::is_retryable(&e) => *retries += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
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
