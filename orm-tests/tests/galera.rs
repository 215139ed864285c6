//! A node of the three-node Galera cluster (`.ci/galera.sh`) killed in the
//! middle of a run: the other two keep taking writes, the writers of the
//! lost node carry on there, and every write a caller saw succeed is on
//! the surviving nodes. Needs `GALERA_URLS` and `GALERA_DIR` (the cluster's
//! directory, to kill a node with `.ci/galera.sh kill`), and kills the
//! third node: CI runs it last. Skipped (with a printed line) otherwise.
#![cfg(feature = "mysql")]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use orm_core::prelude::*;
use orm_tests::*;

/// What one writer did: the events and guests whose writes returned `Ok`,
/// the writes in doubt (the connection was lost before the answer), the
/// writes acknowledged after the kill, and the retries it took.
#[derive(Default)]
struct Done {
    events: Vec<Event>,
    guests: BTreeSet<(i32, i32)>,
    in_doubt: usize,
    after_kill: usize,
    retries: usize,
}

#[test]
fn a_lost_node_loses_nothing_acknowledged() -> TestResult {
    const WRITERS: usize = 6;
    let Some(dir) = std::env::var("GALERA_DIR").ok().filter(|d| !d.is_empty()) else {
        println!("skipping the Galera node-kill test: GALERA_DIR is not set");
        return Ok(());
    };
    let Some((_setup, nodes)) = galera_pool("a_lost_node_loses_nothing_acknowledged") else {
        return Ok(());
    };
    let mut conn = nodes.node(0).get()?;
    let users = users(WRITERS, &mut conn)?;
    drop(conn);

    let killed = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (nodes, killed, start, me) = (
                nodes.clone(),
                killed.clone(),
                start.clone(),
                users[w].clone(),
            );
            thread::spawn(move || {
                // Two writers per node; after a lost connection, any node.
                let mut conn = nodes.node(w % 3).get().expect("a connection");
                let mut done = Done::default();
                let policy = race_retry();
                start.wait();
                let until = Instant::now() + Duration::from_secs(12);
                let mut n = 0;
                while Instant::now() < until {
                    n += 1;
                    let title = format!("w{w}-{n}");
                    let wrote = orm_core::retry(&mut conn, &policy, |c| {
                        let event = Event::create(
                            NewEvent {
                                title: title.clone(),
                            },
                            c,
                        )?;
                        event.add_guest(&me, c)?;
                        Ok(event)
                    });
                    match wrote {
                        Ok(wrote) => {
                            done.retries += wrote.attempts as usize - 1;
                            if killed.load(Ordering::SeqCst) {
                                done.after_kill += 1;
                            }
                            done.guests.insert((wrote.value.id, me.id));
                            done.events.push(wrote.value);
                        }
                        Err(_) => {
                            // The node went away: the write may or may not
                            // have committed. Carry on on another node.
                            done.in_doubt += 1;
                            conn = nodes.get().expect("a surviving node");
                        }
                    }
                }
                done
            })
        })
        .collect();

    start.wait();
    thread::sleep(Duration::from_secs(3));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/galera.sh");
    let status = std::process::Command::new(script)
        .args(["kill", &dir, "3"])
        .status()?;
    assert!(status.success(), "kill node 3");
    killed.store(true, Ordering::SeqCst);
    let kill = Instant::now();

    let done: Vec<Done> = handles
        .into_iter()
        .map(|h| h.join().expect("a writer panicked"))
        .collect();
    // Read on a surviving node, after it has applied everything.
    let mut conn = nodes.node(0).get()?;
    let stored: BTreeSet<i32> = Event::all(&mut conn)?.iter().map(|e| e.id).collect();
    let pairs: Vec<Rsvp> = rsvps::table.load(&mut conn)?;
    let stored_pairs: BTreeSet<(i32, i32)> =
        pairs.iter().map(|r| (r.event_id, r.guest_id)).collect();
    assert_eq!(stored_pairs.len(), pairs.len(), "no duplicate join rows");
    let (mut acknowledged, mut in_doubt, mut retries) = (0, 0, 0);
    for (w, done) in done.iter().enumerate() {
        for event in &done.events {
            assert!(stored.contains(&event.id), "writer {w}: {event:?} was lost");
        }
        assert!(
            done.guests.is_subset(&stored_pairs),
            "writer {w}: a guest it added was lost"
        );
        assert!(
            done.after_kill > 0,
            "writer {w} (node {}) wrote nothing after the kill",
            w % 3 + 1
        );
        acknowledged += done.events.len();
        in_doubt += done.in_doubt;
        retries += done.retries;
    }
    // Nothing but the writers' own rows, at most one per write in doubt.
    assert!(stored.len() >= acknowledged && stored.len() <= acknowledged + in_doubt);
    let line = format!(
        "galera node kill: writers={WRITERS} acknowledged={acknowledged} in_doubt={in_doubt} \
         retries={retries} lost=0 after_kill={} served_for_ms={}",
        done.iter().map(|d| d.after_kill).sum::<usize>(),
        kill.elapsed().as_millis(),
    );
    println!("{line}");
    scale_out_log(&line)?;
    Ok(())
}

/// What a Galera node does now and then to a transaction that lost a
/// conflict during a `SELECT` (see the README's Galera section): it ends the
/// transaction and reports nothing. Played here by the run itself, with a
/// `ROLLBACK` of its own in the middle of its first run: with certified
/// locks on, `retry` guards the run, so what the run wrote after the loss
/// is rolled back with it, and the second run commits alone.
#[test]
fn a_run_that_loses_its_transaction_writes_nothing() -> TestResult {
    use diesel::connection::SimpleConnection;
    let Some((_setup, nodes)) = galera_pool("a_run_that_loses_its_transaction_writes_nothing")
    else {
        return Ok(());
    };
    let mut conn = nodes.node(0).get()?;
    let mut runs = 0;
    let done = orm_core::retry(&mut *conn, &orm_core::Retry::default(), |c| {
        runs += 1;
        let event = Event::create(
            NewEvent {
                title: format!("run {runs}"),
            },
            c,
        )?;
        if runs == 1 {
            c.batch_execute("ROLLBACK")?;
            Event::create(
                NewEvent {
                    title: "after the loss".into(),
                },
                c,
            )?;
        }
        Ok(event)
    })?;
    assert_eq!((done.attempts, done.value.title.as_str()), (2, "run 2"));
    // autocommit is on again: a write outside `retry` commits, and another
    // node sees it.
    Event::create(
        NewEvent {
            title: "plain".into(),
        },
        &mut *conn,
    )?;
    let mut other = nodes.node(1).get()?;
    let titles: BTreeSet<String> = Event::all(&mut other)?
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(titles, BTreeSet::from(["run 2".into(), "plain".into()]));
    Ok(())
}

/// The same guard in `retry_async`, on diesel-async's MySQL connection.
#[test]
fn an_async_run_that_loses_its_transaction_writes_nothing() -> TestResult {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    let Some((setup, nodes)) =
        galera_pool("an_async_run_that_loses_its_transaction_writes_nothing")
    else {
        return Ok(());
    };
    let node = galera_urls("an_async_run_that_loses_its_transaction_writes_nothing")
        .expect("the URLs galera_pool read");
    let url = in_database(&node[0], setup.database());
    runtime().block_on(async {
        let mut conn = diesel_async::AsyncMysqlConnection::establish(&url).await?;
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sleep = |d| tokio::time::sleep(d);
        let done = orm_core::retry_async(&mut conn, &orm_core::Retry::default(), sleep, |c| {
            let runs = runs.clone();
            Box::pin(async move {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                let event = Event::create(
                    NewEvent {
                        title: format!("run {run}"),
                    },
                    c,
                )
                .await?;
                if run == 1 {
                    c.batch_execute("ROLLBACK").await?;
                    Event::create(
                        NewEvent {
                            title: "after the loss".into(),
                        },
                        c,
                    )
                    .await?;
                }
                Ok(event)
            })
        })
        .await?;
        assert_eq!((done.attempts, done.value.title.as_str()), (2, "run 2"));
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    let mut other = nodes.node(1).get()?;
    let titles: Vec<String> = Event::all(&mut other)?
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(titles, ["run 2"]);
    Ok(())
}
