//! `orm_core::Router` on a real PostgreSQL primary and hot standby
//! (`.ci/postgres.sh standby`): plain reads of generated methods and of
//! `query()` run on the replica, every write and every transaction on the
//! primary, read-your-writes by a window, a carried write time or a pin,
//! and a write sent to the replica comes back as an `Err`. Which server
//! answered is PostgreSQL's own `pg_is_in_recovery()`. Skipped (with a
//! printed line) unless `DATABASE_URL` and `PG_REPLICA_URL` are set.
//!
//! The replica's lag behind the primary, as the tests saw it, goes to the
//! file `ORM_SCALE_OUT_LOG` names, if set, for `.ci/run` to print.

mod common;

use std::time::{Duration, Instant};

use common::InSchema;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use orm_core::diesel::result::{DatabaseErrorKind, Error};
use orm_core::prelude::*;
use orm_core::{Router, Served};
use orm_tests::*;

orm_core::diesel::define_sql_function! {
    /// Whether the server answering is a standby.
    fn pg_is_in_recovery() -> Bool;
}

type PgPool = Pool<ConnectionManager<PgConnection>>;

/// The test's tables on the primary, a pool on each server in their schema,
/// and a router over the two (read-your-writes off unless the test sets
/// it); `None` when a URL is missing.
fn setup(test: &str) -> Option<(PgTest, PgPool, PgPool)> {
    let replica_url = postgres_replica_url(test)?;
    let primary = postgres(test)?;
    let url = postgres_url(test)?;
    let pool = |url: &str, size| {
        Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(InSchema(primary.schema().to_string())))
            .build(ConnectionManager::<PgConnection>::new(url))
            .expect("a pool")
    };
    let (primaries, replicas) = (pool(&url, 4), pool(&replica_url, 4));
    // The schema reaches the standby a moment after it was made.
    let mut replica = replicas.get().expect("a replica connection");
    wait_for(|| Event::all(&mut replica).is_ok());
    Some((primary, primaries, replicas))
}

/// Waits until `done`, for at most ten seconds; how long it took.
fn wait_for(mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the replica did not catch up within 10 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    start.elapsed()
}

/// Whether the server that runs a plain read on `conn` is the standby.
fn on_replica<C: orm_core::Conn<orm_core::diesel::pg::Pg>>(conn: &mut C) -> QueryResult<bool> {
    diesel::select(pg_is_in_recovery()).get_result(conn)
}

fn event(title: &str) -> NewEvent {
    NewEvent {
        title: title.into(),
    }
}

#[test]
fn reads_run_on_the_replica_and_writes_on_the_primary() -> TestResult {
    let Some((_primary, primaries, replicas)) = setup("reads_run_on_the_replica") else {
        return Ok(());
    };
    let router = Router::new(primaries, [replicas]).read_your_writes(Duration::ZERO);
    let mut conn = router.get();
    assert!(on_replica(&mut conn)?, "a plain read goes to the replica");
    assert_eq!(
        conn.served(),
        Served {
            primary: 0,
            replica: 1
        }
    );

    // Writes of generated methods run on the primary...
    let party = Event::create(event("launch"), &mut conn)?;
    let ada = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    let bob = User::create(NewUser { name: "Bob".into() }, &mut conn)?;
    party.add_guest(&ada, &mut conn)?;
    assert_eq!(conn.served().replica, 1, "no write reached the replica");
    // ...and their reads on the replica, once it has caught up.
    wait_for(|| party.guests(&mut conn).is_ok_and(|g| g == [ada.clone()]));
    let before = conn.served();
    assert_eq!(party.guests(&mut conn)?, vec![ada.clone()]);
    assert_eq!(party.count_guests(&mut conn)?, 1);
    let query: Vec<Event> = Event::query()
        .filter(events::title.eq("launch"))
        .load(&mut conn)?;
    assert_eq!(query, vec![party.clone()]);
    assert_eq!(
        conn.served(),
        Served {
            primary: before.primary,
            replica: before.replica + 3
        },
        "three reads, all on the replica"
    );

    // A multi-statement writer is one transaction on the primary, its
    // `SELECT .. FOR UPDATE` included.
    let before = conn.served();
    let diff = party.set_guests(std::slice::from_ref(&bob), &mut conn)?;
    assert_eq!((diff.added, diff.removed), (1, 1));
    assert_eq!(conn.served().replica, before.replica);
    assert!(
        conn.served().primary > before.primary + 2,
        "BEGIN .. COMMIT"
    );
    let mut primary = router.primary()?;
    assert_eq!(party.guests(&mut primary)?, vec![bob.clone()]);
    wait_for(|| party.guests(&mut conn).is_ok_and(|g| g == [bob.clone()]));

    // Every statement of a transaction, its reads too, runs on the primary.
    let in_transaction = conn.transaction(on_replica)?;
    assert!(!in_transaction, "a transaction's read runs on the primary");
    Ok(())
}

#[test]
fn a_write_sent_to_the_replica_is_an_error() -> TestResult {
    let Some((_primary, primaries, replicas)) = setup("a_write_sent_to_the_replica") else {
        return Ok(());
    };
    let router = Router::new(primaries, [replicas]);
    let mut primary = router.primary()?;
    let party = Event::create(event("launch"), &mut primary)?;
    let ada = User::create(NewUser { name: "Ada".into() }, &mut primary)?;
    let mut replica = router.replica()?;
    assert!(on_replica(&mut replica)?);
    wait_for(|| User::find(ada.id, &mut replica).is_ok());

    let read_only = |result: QueryResult<_>| match result {
        Err(Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, info)) => {
            assert!(
                info.message().contains("read-only transaction"),
                "{}",
                info.message()
            );
        }
        other => panic!("expected a read-only error, got {other:?}"),
    };
    read_only(Event::create(event("nope"), &mut replica).map(|_| ()));
    read_only(party.add_guest(&ada, &mut replica).map(|_| ()));
    read_only(
        party
            .set_guests(std::slice::from_ref(&ada), &mut replica)
            .map(|_| ()),
    );
    read_only(party.delete(&mut replica).map(|_| ()));
    // The connection is still good for reads, and nothing was written.
    assert_eq!(party.guests(&mut replica)?, vec![]);
    assert_eq!(party.guests(&mut primary)?, vec![]);
    assert_eq!(Event::all(&mut primary)?, vec![party]);
    Ok(())
}

#[test]
fn read_your_writes() -> TestResult {
    let Some((_primary, primaries, replicas)) = setup("read_your_writes") else {
        return Ok(());
    };
    let router = Router::new(primaries, [replicas]).read_your_writes(Duration::from_millis(300));
    let mut conn = router.get();
    assert!(on_replica(&mut conn)?);
    // Right after a write, this connection reads what it wrote: from the
    // primary, for the window.
    let party = Event::create(event("launch"), &mut conn)?;
    assert_eq!(Event::find(party.id, &mut conn)?, party);
    assert!(!on_replica(&mut conn)?);
    // So does a later request that carries the write's time.
    let mut next = router.get_after(conn.last_write());
    assert!(!on_replica(&mut next)?);
    assert_eq!(Event::find(party.id, &mut next)?, party);
    // One that does not, reads the replica.
    assert!(on_replica(&mut router.get())?);
    // After the window, the replica again.
    std::thread::sleep(Duration::from_millis(350));
    assert!(on_replica(&mut conn)?);
    assert!(on_replica(&mut next)?);
    // A pinned connection reads from the primary for good.
    conn.pin_to_primary();
    assert!(!on_replica(&mut conn)?);
    Ok(())
}

#[test]
fn reads_fall_back_to_the_primary_when_no_replica_answers() -> TestResult {
    let Some((_primary, primaries, _)) = setup("reads_fall_back_to_the_primary") else {
        return Ok(());
    };
    // A replica no one listens on.
    let gone = Pool::builder()
        .connection_timeout(Duration::from_millis(300))
        .build_unchecked(ConnectionManager::<PgConnection>::new(
            "postgres://postgres@127.0.0.1:9/postgres",
        ));
    let router = Router::new(primaries, [gone]);
    let mut conn = router.get();
    assert!(!on_replica(&mut conn)?);
    assert_eq!(
        conn.served(),
        Served {
            primary: 1,
            replica: 0
        }
    );
    assert!(router.replica().is_err(), "the replica itself is an error");
    Ok(())
}

/// How long writes take to reach the standby: 100 events created through a
/// router, each read back from the replica as soon as it has it.
#[test]
fn replica_lag() -> TestResult {
    let Some((_primary, primaries, replicas)) = setup("replica_lag") else {
        return Ok(());
    };
    let router = Router::new(primaries, [replicas]).read_your_writes(Duration::ZERO);
    let mut conn = router.get();
    let mut lags = Vec::new();
    for i in 0..100 {
        let created = Event::create(event(&format!("event {i}")), &mut conn)?;
        lags.push(wait_for(|| {
            Event::find(created.id, &mut conn).is_ok_and(|found| found == created)
        }));
    }
    assert_eq!(conn.served().primary, 100, "one INSERT .. RETURNING each");
    lags.sort();
    let line = format!(
        "replica lag: writes={} median_ms={:.2} p95_ms={:.2} max_ms={:.2}",
        lags.len(),
        lags[lags.len() / 2].as_secs_f64() * 1e3,
        lags[lags.len() * 95 / 100].as_secs_f64() * 1e3,
        lags[lags.len() - 1].as_secs_f64() * 1e3,
    );
    eprintln!("{line}");
    common::scale_out_log(&line)?;
    Ok(())
}
