//! Retrying a transaction that the database aborted for concurrency's sake:
//! a serialization failure, a deadlock, a lock wait that timed out, or a
//! Galera certification failure. Such a transaction wrote nothing, and the
//! same work run again usually succeeds; every other error is returned at
//! once.
//!
//! ```rust,ignore
//! let done = orm_core::retry(&mut conn, &Retry::default(), |conn| {
//!     party.set_guests([&ann, &bob], conn)?;
//!     post.add_tags([&rust, &orm], conn)
//! })?;
//! println!("{} after {} attempt(s)", done.value, done.attempts);
//! ```

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error, QueryResult};

#[cfg(feature = "async")]
use crate::exec::{Async, BoxFuture, TransactionGuard};
use crate::exec::{Blocking, Transact};
use crate::{cluster, Dialect};

/// How [`retry`] and `retry_async` (feature `async`) retry: at most `attempts` runs, and
/// between two runs a pause that doubles from `base_delay` up to
/// `max_delay`, each drawn at random below that bound ("full jitter"), so
/// that the transactions that collided do not collide again in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The most runs of the closure, the first included (at least 1).
    pub attempts: u32,
    /// The bound of the first pause.
    pub base_delay: Duration,
    /// The largest bound a pause can reach.
    pub max_delay: Duration,
}

impl Default for Retry {
    /// 10 attempts, pauses from below 2 ms up to below 200 ms.
    fn default() -> Self {
        Retry {
            attempts: 10,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(200),
        }
    }
}

impl Retry {
    /// The pause before run `attempt + 1` (after `attempt` failed runs).
    fn pause(&self, attempt: u32) -> Duration {
        let bound = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(self.max_delay);
        // Full jitter: uniform below the bound. The clock's nanoseconds,
        // mixed, are random enough to keep colliding callers apart.
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(jitter() % nanos)
    }
}

/// A pseudo-random `u64` from the clock and the thread.
fn jitter() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

/// What a retried closure returned, and how many runs it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried<T> {
    /// The closure's value, from the run that committed.
    pub value: T,
    /// The runs it took, 1 if the first committed.
    pub attempts: u32,
}

/// Whether `error` means the database aborted the transaction for
/// concurrency's sake, so that running it again may succeed:
///
/// | error | backend |
/// | --- | --- |
/// | serialization failure (SQLSTATE 40001) | PostgreSQL |
/// | deadlock detected (40P01) | PostgreSQL |
/// | deadlock (1213, SQLSTATE 40001), which is also how Galera reports a certification failure | MySQL, MariaDB |
/// | lock wait timeout (1205) | MySQL, MariaDB |
/// | `SAVEPOINT .. does not exist` (1305) on releasing a savepoint of diesel's, or the one a guarded run of [`retry`] takes on a cluster (see [`cluster`]), which means the server rolled back the transaction around it: how a Galera node reports a certification failure that struck between two statements | MySQL, MariaDB |
/// | database is locked / busy (`SQLITE_BUSY`) | SQLite |
///
/// diesel reports 40001 and 1213 as
/// [`DatabaseErrorKind::SerializationFailure`]; the others by their
/// message (PostgreSQL's in its default English). Nothing else is
/// retryable: a constraint violation, a syntax error, `NotFound` or a
/// closed connection would fail the same way again, or may have
/// committed (a connection lost during `COMMIT`), which a retry could
/// write twice.
pub fn is_retryable(error: &Error) -> bool {
    match error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.starts_with("deadlock detected")
                || message.starts_with("Lock wait timeout exceeded")
                || message.starts_with("Deadlock found")
                || (message.starts_with("SAVEPOINT diesel_savepoint_")
                    && message.ends_with(" does not exist"))
                || message == "SAVEPOINT orm_run does not exist"
                || message == "database is locked"
        }
        _ => false,
    }
}

/// Runs `body` in a transaction on `conn`, and again (after a pause, see
/// [`Retry`]) while it fails with an error [`is_retryable`] says a new run
/// may not meet, at most `policy.attempts` times. Each run is its own
/// transaction, rolled back when it fails: what a failed run wrote is
/// gone, so the closure must only write through `conn` (what it does
/// outside the database is done again on every run).
///
/// Returns the value with the number of runs it took, or the last error:
/// a retryable one once the attempts are spent, any other at once. Inside
/// a transaction it is an `Err` before any statement: a database that
/// aborts a transaction aborts the outer one too, which only its owner can
/// run again.
pub fn retry<C, T>(
    conn: &mut C,
    policy: &Retry,
    mut body: impl FnMut(&mut C) -> QueryResult<T>,
) -> QueryResult<Retried<T>>
where
    C: diesel::Connection + Transact<Blocking>,
{
    not_in_transaction(conn.in_transaction())?;
    let guarded = cluster::guards_runs(crate::write::dialect::<C, Blocking>());
    let mut attempt = 1;
    loop {
        let run = conn.transaction(|conn| {
            if !guarded {
                return body(conn);
            }
            conn.batch_execute(cluster::RUN_START)?;
            let value = body(conn);
            let end = conn.batch_execute(cluster::RUN_END);
            cluster::run_result(value, end)
        });
        if guarded {
            conn.batch_execute(cluster::RUN_AFTER)?;
        }
        match run {
            Ok(value) => {
                return Ok(Retried {
                    value,
                    attempts: attempt,
                })
            }
            Err(e) if is_retryable(&e) && attempt < policy.attempts => {
                forget_statements(conn);
                std::thread::sleep(policy.pause(attempt));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Drops the prepared statements a MySQL/MariaDB connection cached. After
/// a statement failed at certification on a Galera node, libmariadb waits
/// forever for a reply when diesel runs the same cached statement again
/// (seen with MariaDB 10.11 and libmariadb 3.3); prepared afresh, it runs.
/// Other backends keep their cache.
fn forget_statements<C: diesel::Connection + Transact<Blocking>>(conn: &mut C) {
    use diesel::connection::CacheSize;
    if crate::write::dialect::<C, Blocking>() == Dialect::Mysql {
        conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        conn.set_prepared_statement_cache_size(CacheSize::Unbounded);
    }
}

fn not_in_transaction(inside: bool) -> QueryResult<()> {
    if inside {
        return Err(Error::QueryBuilderError(
            "orm_core::retry runs its own transaction: call it outside any transaction (a database that aborts a transaction aborts the outer one too)".into(),
        ));
    }
    Ok(())
}

#[cfg(feature = "async")]
/// [`retry`] on a diesel-async connection. `body` returns a boxed future
/// (`|conn| Box::pin(async move { .. })`); `sleep` is the pause of your
/// runtime (`tokio::time::sleep`): orm-core runs on any.
pub async fn retry_async<C, T, S, F>(
    conn: &mut C,
    policy: &Retry,
    sleep: impl Fn(Duration) -> S,
    mut body: F,
) -> QueryResult<Retried<T>>
where
    C: Transact<Async>,
    S: std::future::Future<Output = ()>,
    F: for<'c> FnMut(&'c mut C) -> BoxFuture<'c, QueryResult<T>>,
{
    not_in_transaction(conn.in_transaction())?;
    let mut attempt = 1;
    let guarded = cluster::guards_runs(crate::write::dialect::<C, Async>());
    loop {
        let guard = TransactionGuard::<C, Async>::begin(conn).await?;
        let result = async {
            if !guarded {
                return body(&mut *guard.conn).await;
            }
            guard.conn.run_sql(cluster::RUN_START).await?;
            let value = body(&mut *guard.conn).await;
            let end = guard.conn.run_sql(cluster::RUN_END).await;
            cluster::run_result(value, end)
        }
        .await;
        let run = guard.finish(result).await;
        if guarded {
            conn.run_sql(cluster::RUN_AFTER).await?;
        }
        match run {
            Ok(value) => {
                return Ok(Retried {
                    value,
                    attempts: attempt,
                })
            }
            Err(e) if is_retryable(&e) && attempt < policy.attempts => {
                sleep(policy.pause(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
