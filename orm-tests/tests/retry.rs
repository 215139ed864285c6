//! `orm_core::retry`: a transaction the database aborts for concurrency's
//! sake runs again, each run rolled back before the next; other errors come
//! back at once. Real deadlocks and serialization failures on PostgreSQL
//! and (feature `mysql`) MariaDB; skipped (with a printed line) when the
//! server's URL is not set.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use orm_core::diesel::connection::SimpleConnection;
use orm_core::diesel::result::{DatabaseErrorKind, Error};
use orm_core::prelude::*;
use orm_core::{retry, Retried, Retry};
use orm_tests::*;

/// Whether `result` is a serialization failure (SQLSTATE 40001).
fn serialization_failure<T>(result: &QueryResult<T>) -> bool {
    matches!(
        result,
        Err(Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            _
        ))
    )
}

/// The titles of the two events, in id order.
fn titles<C>(conn: &mut C) -> QueryResult<Vec<String>>
where
    C: orm_core::ConnKind<Kind = orm_core::Blocking>,
    Event: orm_core::Crud<C>,
{
    let mut events = Event::all(conn)?;
    events.sort_by_key(|e| e.id);
    Ok(events.into_iter().map(|e| e.title).collect())
}

macro_rules! retry_tests {
    ($pool:path) => {
        /// Two writers take the rows of two events in opposite orders: the
        /// database aborts one (a deadlock), `retry` runs it again, and both
        /// commit. The titles are one writer's, as in some serial order of
        /// the two: the aborted run left nothing behind.
        #[test]
        fn a_deadlock_is_retried_until_both_commit() -> TestResult {
            let Some((_setup, pool)) = $pool("a_deadlock_is_retried_until_both_commit") else {
                return Ok(());
            };
            let mut conn = pool.get()?;
            let new = |title: &str| NewEvent {
                title: title.into(),
            };
            let events = [
                Event::create(new("a"), &mut conn)?,
                Event::create(new("b"), &mut conn)?,
            ];
            drop(conn);
            let both_hold_one = Arc::new(Barrier::new(2));
            let handles: Vec<_> = (0..2)
                .map(|writer| {
                    let (pool, barrier) = (pool.clone(), both_hold_one.clone());
                    let mut order = events.clone();
                    if writer == 1 {
                        order.reverse();
                    }
                    thread::spawn(move || {
                        let mut conn = pool.get().expect("a pooled connection");
                        let runs = AtomicUsize::new(0);
                        let name = format!("writer {writer}");
                        let done = retry(&mut conn, &Retry::default(), |conn| {
                            let mut first = order[0].clone();
                            first.title = name.clone();
                            first.save(conn)?;
                            // Only the first runs wait for each other, so that
                            // each holds one row when it asks for the other.
                            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                                barrier.wait();
                            }
                            let mut second = order[1].clone();
                            second.title = name.clone();
                            second.save(conn)
                        });
                        (done, runs.into_inner())
                    })
                })
                .collect();
            let results: Vec<(QueryResult<Retried<()>>, usize)> = handles
                .into_iter()
                .map(|h| h.join().expect("a writer"))
                .collect();
            let mut attempts = 0;
            for (done, runs) in results {
                let done = done?;
                assert_eq!(
                    done.attempts as usize, runs,
                    "one attempt per run of the closure"
                );
                attempts += done.attempts;
            }
            assert!(
                attempts >= 3,
                "one writer was aborted and ran again: {attempts} runs"
            );
            let titles = titles(&mut pool.get()?)?;
            assert!(
                titles == ["writer 0", "writer 0"] || titles == ["writer 1", "writer 1"],
                "{titles:?}"
            );
            Ok(())
        }

        /// An error no new run could mend comes back after one run, and
        /// what that run wrote is rolled back.
        #[test]
        fn other_errors_come_back_at_once() -> TestResult {
            let Some((_setup, pool)) = $pool("other_errors_come_back_at_once") else {
                return Ok(());
            };
            let mut conn = pool.get()?;
            let taken = Tag::create(
                NewTag {
                    name: "taken".into(),
                },
                &mut conn,
            )?;
            let mut runs = 0;
            let result = retry(&mut conn, &Retry::default(), |conn| {
                runs += 1;
                Event::create(
                    NewEvent {
                        title: "written".into(),
                    },
                    conn,
                )?;
                // The same key again: a unique violation.
                orm_core::diesel::insert_into(tags::table)
                    .values((tags::id.eq(taken.id), tags::name.eq("again")))
                    .execute(conn)
            });
            assert!(
                matches!(
                    result,
                    Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
                ),
                "{result:?}"
            );
            assert_eq!(runs, 1);
            assert_eq!(
                titles(&mut conn)?,
                Vec::<String>::new(),
                "the run's event is rolled back"
            );
            Ok(())
        }
    };
}

mod postgres {
    use super::*;
    retry_tests!(pg_pool);

    /// A real serialization failure on every run (a row another connection
    /// changed after this transaction's snapshot, under REPEATABLE READ):
    /// `retry` stops after the policy's attempts with that error, and each
    /// run's writes are rolled back.
    #[test]
    fn attempts_are_bounded_and_each_run_is_rolled_back() -> TestResult {
        let Some((_setup, pool)) = pg_pool("attempts_are_bounded_and_each_run_is_rolled_back")
        else {
            return Ok(());
        };
        let (mut conn, mut other) = (pool.get()?, pool.get()?);
        let tag = Tag::create(NewTag { name: "t".into() }, &mut conn)?;
        let policy = Retry {
            attempts: 3,
            ..Retry::default()
        };
        let mut runs = 0;
        let result = retry(&mut conn, &policy, |conn| {
            runs += 1;
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")?;
            Event::create(
                NewEvent {
                    title: format!("run {runs}"),
                },
                conn,
            )?;
            let mut mine = Tag::find(tag.id, conn)?;
            // Another connection changes the row after this snapshot.
            let mut theirs = Tag::find(tag.id, &mut other)?;
            theirs.name = format!("theirs {runs}");
            theirs.save(&mut other)?;
            mine.name = "mine".into();
            mine.save(conn)
        });
        assert!(serialization_failure(&result), "{result:?}");
        assert_eq!(runs, 3);
        assert_eq!(
            titles(&mut conn)?,
            Vec::<String>::new(),
            "no run's event is left"
        );
        assert_eq!(Tag::find(tag.id, &mut conn)?.name, "theirs 3");

        // The same work without the other writer commits on its first run.
        let done = retry(&mut conn, &policy, |conn| {
            Event::create(
                NewEvent {
                    title: "alone".into(),
                },
                conn,
            )
        })?;
        assert_eq!((done.value.title.as_str(), done.attempts), ("alone", 1));
        Ok(())
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    retry_tests!(mysql_pool);
}

/// Inside a transaction, `retry` is an `Err` before any statement: an
/// aborted transaction is the outer one's, which only its owner can run
/// again.
#[test]
fn inside_a_transaction_it_refuses() -> TestResult {
    let mut conn = sqlite();
    let mut runs = 0;
    let result: QueryResult<QueryResult<Retried<Event>>> = conn.transaction(|conn| {
        Ok(retry(conn, &Retry::default(), |conn| {
            runs += 1;
            Event::create(NewEvent { title: "e".into() }, conn)
        }))
    });
    let err = result?.unwrap_err().to_string();
    assert!(err.contains("outside any transaction"), "{err}");
    assert_eq!(runs, 0);
    Ok(())
}

/// The retryable errors, as diesel reports them, and some that are not.
#[test]
fn which_errors_are_retryable() {
    use orm_core::is_retryable;
    let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
    assert!(is_retryable(&db(
        DatabaseErrorKind::SerializationFailure,
        "could not serialize access"
    )));
    assert!(is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "deadlock detected"
    )));
    assert!(is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "Lock wait timeout exceeded; try restarting transaction"
    )));
    assert!(is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "database is locked"
    )));
    assert!(is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "SAVEPOINT diesel_savepoint_1 does not exist"
    )));
    // The savepoint `retry` guards a run with on a cluster.
    assert!(is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "SAVEPOINT orm_run does not exist"
    )));
    assert!(!is_retryable(&db(
        DatabaseErrorKind::Unknown,
        "SAVEPOINT my_own does not exist"
    )));
    assert!(!is_retryable(&db(
        DatabaseErrorKind::UniqueViolation,
        "duplicate key"
    )));
    assert!(!is_retryable(&db(
        DatabaseErrorKind::ClosedConnection,
        "server closed the connection"
    )));
    assert!(!is_retryable(&Error::NotFound));
}

/// `retry_async` on diesel-async's PostgreSQL connection: the same real
/// serialization failure on every run (another connection, here a blocking
/// one, changes the row after the snapshot) is retried up to the bound with
/// each run rolled back; alone, the work commits on its first run.
#[test]
fn retry_async_on_postgres() -> TestResult {
    use diesel_async::SimpleAsyncConnection;
    use std::sync::Mutex;
    runtime().block_on(async {
        let Some((setup, mut conn)) = async_postgres("retry_async_on_postgres").await else {
            return Ok(());
        };
        let other = Arc::new(Mutex::new(setup));
        let tag = Tag::create(NewTag { name: "t".into() }, &mut conn).await?;
        let policy = Retry {
            attempts: 3,
            ..Retry::default()
        };
        let sleep = |d| tokio::time::sleep(d);
        let runs = Arc::new(AtomicUsize::new(0));
        let result = orm_core::retry_async(&mut conn, &policy, sleep, |conn| {
            let (other, runs) = (other.clone(), runs.clone());
            Box::pin(async move {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .await?;
                Event::create(
                    NewEvent {
                        title: format!("run {run}"),
                    },
                    conn,
                )
                .await?;
                let mut mine = Tag::find(tag.id, conn).await?;
                {
                    let mut other = other.lock().expect("the other connection");
                    let mut theirs = Tag::find(tag.id, &mut **other)?;
                    theirs.name = format!("theirs {run}");
                    theirs.save(&mut **other)?;
                }
                mine.name = "mine".into();
                mine.save(conn).await
            })
        })
        .await;
        assert!(serialization_failure(&result), "{result:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(
            Event::all(&mut conn).await?,
            vec![],
            "no run's event is left"
        );

        let done = orm_core::retry_async(&mut conn, &policy, sleep, |conn| {
            Box::pin(Event::create(
                NewEvent {
                    title: "alone".into(),
                },
                conn,
            ))
        })
        .await?;
        assert_eq!((done.value.title.as_str(), done.attempts), ("alone", 1));
        Ok(())
    })
}
