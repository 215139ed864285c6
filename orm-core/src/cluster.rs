//! Parent locks a multi-primary cluster certifies (MariaDB Galera, MySQL
//! Group Replication in multi-primary mode).
//!
//! Every association writer that runs several statements locks its parent
//! row first (`SELECT .. FOR UPDATE` on MySQL; see the README's concurrency
//! section), so two of them on one parent run one after the other. A
//! multi-primary cluster honours that lock on the node that took it only: two
//! `set_*` on one parent, on two nodes, can both commit, and the association
//! end as the union of the two sets. What such a cluster orders across nodes is
//! writes to one row: the second to commit fails certification (a deadlock
//! error, which [`retry`](fn@crate::retry) runs again).
//!
//! With [`certify_locks`] on, every parent lock on MySQL also writes a row
//! of the lock table, `orm_locks`, keyed by the parent's table and key
//! (`INSERT .. ON DUPLICATE KEY UPDATE n = n + 1`). Two writers on one
//! parent then write the same row, and the cluster lets one of them commit:
//! the writers of a parent are serial across nodes as they are on one
//! server. It costs one statement per locked writer and one small row per
//! parent ever locked.
//!
//! ```rust,ignore
//! // once, in a migration: the lock table
//! Schema::new().model::<Event>().model::<User>().lock_table().create_all(conn)?;
//! // at startup, before the first writer runs
//! orm_core::cluster::certify_locks(true);
//! // each writer in `retry`, which runs the loser of a conflict again
//! orm_core::retry(conn, &Retry::default(), |conn| party.set_guests(&guests, conn))?;
//! ```
//!
//! With the switch on, [`retry`](fn@crate::retry) also guards each run on
//! MySQL: a Galera node (MariaDB 10.11) can roll back a transaction that lost
//! a conflict while it ran a `SELECT` and report nothing, so that the
//! statements after it would run outside any transaction and commit one by
//! one. A guarded run turns `autocommit` off for its length and ends by
//! releasing a savepoint it took first: a run whose transaction is gone
//! fails there, rolls back whatever it wrote since, and runs again. Three
//! round trips more per run; run the writers in `retry` on a cluster.
//!
//! The switch is for the whole process (a deployment is on a cluster or it
//! is not); it changes nothing on PostgreSQL and SQLite, whose locks are
//! already the whole database's.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error, QueryResult};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType};

use crate::backend::{Dialect, OrmBackend};
use crate::model::Model;
use crate::schema::{ColumnDef, ColumnDefault, ColumnType, TableDef};

static CERTIFY: AtomicBool = AtomicBool::new(false);

/// Makes every parent lock on MySQL also write its row of the lock table
/// (`on = true`), or only lock the parent row (`false`, the default). See
/// the [module docs](self); the table must exist first
/// ([`Schema::lock_table`](crate::Schema::lock_table)).
pub fn certify_locks(on: bool) {
    CERTIFY.store(on, Ordering::Relaxed);
}

/// Whether parent locks write the lock table ([`certify_locks`]).
pub fn certifies_locks() -> bool {
    CERTIFY.load(Ordering::Relaxed)
}

/// Whether [`retry`](fn@crate::retry) guards its runs on a connection of
/// `dialect`: on MySQL with [`certify_locks`] on. A Galera node (MariaDB
/// 10.11) can roll back a transaction that lost a conflict while it ran a
/// `SELECT` and report nothing: the `SELECT` returns its rows, and the
/// statements after it run outside any transaction, each committed on its
/// own. A guarded run turns `autocommit` off, so that nothing commits but
/// its `COMMIT`, and ends by releasing a savepoint it took first
/// ([`RUN_START`], [`RUN_END`]): a run whose transaction is gone fails
/// there, with an error `retry` runs again, and rolls back.
pub(crate) fn guards_runs(dialect: Dialect) -> bool {
    dialect == Dialect::Mysql && certifies_locks()
}

/// What a guarded run starts with, inside its `BEGIN`.
pub(crate) const RUN_START: &str = "SET autocommit = 0; SAVEPOINT orm_run";
/// What a guarded run ends with, before its `COMMIT`.
pub(crate) const RUN_END: &str = "RELEASE SAVEPOINT orm_run";
/// What follows a guarded run, committed or rolled back.
pub(crate) const RUN_AFTER: &str = "SET autocommit = 1";

/// A guarded run's outcome from its body's `value` and the release of its
/// savepoint (`end`): a savepoint gone means the transaction was lost, and
/// that (retryable) error wins over whatever the body met after the loss
/// (a foreign key to a row the lost transaction wrote, a row not found).
pub(crate) fn run_result<T>(value: QueryResult<T>, end: QueryResult<()>) -> QueryResult<T> {
    match (value, end) {
        (_, Err(lost)) if crate::is_retryable(&lost) => Err(lost),
        (Ok(value), end) => end.map(|()| value),
        (Err(error), _) => Err(error),
    }
}

/// The lock table: one row per parent ever locked, its key a hash of the
/// parent's table and primary key, `n` the number of times it was locked.
pub const LOCK_TABLE: TableDef = TableDef {
    name: "orm_locks",
    columns: &[
        ColumnDef {
            name: "lock_key",
            ty: ColumnType::BigInt,
            nullable: false,
            auto_increment: false,
            default: ColumnDefault::None,
        },
        ColumnDef {
            name: "n",
            ty: ColumnType::BigInt,
            nullable: false,
            auto_increment: false,
            default: ColumnDefault::None,
        },
    ],
    primary_key: &["lock_key"],
};

/// `INSERT INTO orm_locks (lock_key, n) SELECT ?, 1 FROM DUAL WHERE
/// @@in_transaction = 1 ON DUPLICATE KEY UPDATE n = n + 1`: the certified
/// write of one parent's lock (MySQL). It writes nothing outside a
/// transaction, which the lock turns into an error: after a conflict, a
/// Galera node can leave a retried run outside any transaction without an
/// error (seen with MariaDB 10.11), and the writer's statements would then
/// commit one by one, unlocked.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct CertifiedLock {
    key: i64,
}

impl CertifiedLock {
    /// The lock of the row of `M` with key `id`.
    pub fn of<M: Model>(id: &M::Id) -> Self {
        CertifiedLock {
            key: lock_key(M::TABLE.name, id),
        }
    }
}

impl<DB> QueryFragment<DB> for CertifiedLock
where
    DB: OrmBackend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let [key, n] = [LOCK_TABLE.columns[0].name, LOCK_TABLE.columns[1].name];
        out.push_sql("INSERT INTO ");
        out.push_identifier(LOCK_TABLE.name)?;
        out.push_sql(" (");
        out.push_identifier(key)?;
        out.push_sql(", ");
        out.push_identifier(n)?;
        out.push_sql(") SELECT ");
        out.push_bind_param::<BigInt, _>(&self.key)?;
        out.push_sql(", 1 FROM DUAL WHERE @@in_transaction = 1 ON DUPLICATE KEY UPDATE ");
        out.push_identifier(n)?;
        out.push_sql(" = ");
        out.push_identifier(n)?;
        out.push_sql(" + 1");
        Ok(())
    }
}

/// `Ok` if the certified lock wrote its row (`rows`, its count); an `Err`
/// [`retry`](fn@crate::retry) runs again if it did not, which means the
/// connection is outside a transaction the writer believes it is in.
pub(crate) fn written(rows: usize) -> QueryResult<()> {
    if rows > 0 {
        return Ok(());
    }
    Err(Error::DatabaseError(
        DatabaseErrorKind::SerializationFailure,
        Box::new(
            "the server ended the transaction before its parent lock (a cluster node rolled it \
             back for a conflict): run it again, as `orm_core::retry` does"
                .to_string(),
        ),
    ))
}

/// The lock table's key for the row `id` of `table`: FNV-1a over the table
/// name and the key's `Hash` stream, so that every process (and every
/// build) computes the same key for one parent. Two parents that share a
/// key only share a lock.
fn lock_key<K: Hash + ?Sized>(table: &str, id: &K) -> i64 {
    let mut hasher = Fnv1a(0xcbf2_9ce4_8422_2325);
    table.hash(&mut hasher);
    id.hash(&mut hasher);
    hasher.finish() as i64
}

/// 64-bit FNV-1a: a hasher with no random seed.
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_depends_on_the_table_and_the_key_only() {
        assert_eq!(lock_key("events", &7), lock_key("events", &7));
        assert_ne!(lock_key("events", &7), lock_key("events", &8));
        assert_ne!(lock_key("events", &7), lock_key("users", &7));
        assert_ne!(lock_key("events", &(1, 2)), lock_key("events", &(2, 1)));
        assert_ne!(lock_key("a", "bc"), lock_key("ab", "c"));
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn the_lock_writes_one_row_inside_a_transaction_only() {
        // Rendered by SQLite's query builder (which quotes as MySQL does);
        // the statement runs on MySQL only.
        let lock = CertifiedLock { key: 42 };
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&lock).to_string();
        assert_eq!(
            sql,
            "INSERT INTO `orm_locks` (`lock_key`, `n`) SELECT ?, 1 FROM DUAL \
             WHERE @@in_transaction = 1 ON DUPLICATE KEY UPDATE `n` = `n` + 1 \
             -- binds: [42]"
        );
    }

    #[test]
    fn no_row_written_is_an_error_retry_runs_again() {
        assert!(written(1).is_ok() && written(2).is_ok());
        let error = written(0).unwrap_err();
        assert!(crate::is_retryable(&error), "{error:?}");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn the_schema_creates_the_lock_table_once() {
        let sql = crate::Schema::new()
            .lock_table()
            .lock_table()
            .sql(crate::Dialect::Mysql)
            .unwrap();
        assert_eq!(
            sql,
            ["CREATE TABLE `orm_locks` (\n  `lock_key` BIGINT PRIMARY KEY,\n  `n` BIGINT NOT NULL\n)"]
        );
    }

    #[test]
    fn a_lost_transaction_outweighs_what_the_run_met_after() {
        let lost = || -> QueryResult<()> {
            Err(Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("SAVEPOINT orm_run does not exist".to_string()),
            ))
        };
        let fk = || -> QueryResult<i32> {
            Err(Error::DatabaseError(
                DatabaseErrorKind::ForeignKeyViolation,
                Box::new("a foreign key constraint fails".to_string()),
            ))
        };
        assert_eq!(run_result(Ok(1), Ok(())), Ok(1));
        assert!(crate::is_retryable(&run_result(Ok(1), lost()).unwrap_err()));
        assert!(crate::is_retryable(&run_result(fk(), lost()).unwrap_err()));
        assert_eq!(
            run_result(fk(), Ok(())).unwrap_err().to_string(),
            "a foreign key constraint fails"
        );
        assert_eq!(
            run_result(Err::<i32, _>(Error::NotFound), Ok(())),
            Err(Error::NotFound)
        );
    }

    #[test]
    fn the_hash_is_fnv1a_of_the_bytes() {
        // FNV-1a's published test vector: "a" -> 0xaf63dc4c8601ec8c.
        let mut hasher = Fnv1a(0xcbf2_9ce4_8422_2325);
        hasher.write(b"a");
        assert_eq!(hasher.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
