//! Concurrent writers on PostgreSQL and (feature `mysql`) MariaDB: 8 threads,
//! each with its own pooled connection, on the same parent rows. Skipped
//! (with a printed line) when the server's URL is not set.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use orm_core::prelude::*;
use orm_tests::*;

macro_rules! concurrency_tests {
    ($pool:path) => {
        adds_and_removes!($pool);
        sets!($pool);
    };
}

macro_rules! adds_and_removes {
    ($pool:path) => {
        /// Interleaved add/remove of single and several guests on shared events.
        /// Each thread touches only its own users, so the invariant is exact: for
        /// each thread, the rows of its users are what replaying its own committed
        /// operations in order gives; and no pair appears twice.
        #[test]
        fn interleaved_adds_and_removes_lose_nothing() -> TestResult {
            const ROUNDS: usize = 150;
            let Some((_schema, pool)) = $pool("interleaved_adds_and_removes_lose_nothing") else {
                return Ok(());
            };
            let mut conn = pool.get()?;
            let events: Vec<Event> = (0..4)
                .map(|i| {
                    Event::create(
                        NewEvent {
                            title: format!("e{i}"),
                        },
                        &mut conn,
                    )
                })
                .collect::<QueryResult<_>>()?;
            let users = users(THREADS * 6, &mut conn)?;
            drop(conn);

            let start = Arc::new(Barrier::new(THREADS));
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (pool, start) = (pool.clone(), start.clone());
                    let (events, mine) = (events.clone(), users[t * 6..t * 6 + 6].to_vec());
                    thread::spawn(move || {
                        let mut conn = pool.get().expect("a pooled connection");
                        let mut rng = Lcg(t as u64 + 1);
                        let mut model: BTreeSet<(i32, i32)> = BTreeSet::new();
                        let mut retries = 0;
                        start.wait();
                        for _ in 0..ROUNDS {
                            let event = &events[rng.next(events.len())];
                            let user = &mine[rng.next(mine.len())];
                            let some: Vec<User> =
                                mine.iter().filter(|_| rng.next(2) == 0).cloned().collect();
                            match rng.next(4) {
                                0 => {
                                    retrying(&mut conn, &mut retries, |c| event.add_guest(user, c));
                                    model.insert((event.id, user.id));
                                }
                                1 => {
                                    retrying(&mut conn, &mut retries, |c| {
                                        event.remove_guest(user, c)
                                    });
                                    model.remove(&(event.id, user.id));
                                }
                                2 => {
                                    retrying(&mut conn, &mut retries, |c| {
                                        event.add_guests(&some, c)
                                    });
                                    model.extend(some.iter().map(|u| (event.id, u.id)));
                                }
                                _ => {
                                    retrying(&mut conn, &mut retries, |c| {
                                        event.remove_guests(&some, c)
                                    });
                                    for u in &some {
                                        model.remove(&(event.id, u.id));
                                    }
                                }
                            }
                        }
                        (model, retries, mine)
                    })
                })
                .collect();

            let mut conn = pool.get()?;
            let (mut total, mut all_retries) = (0, 0);
            for handle in handles {
                let (model, retries, mine) = handle.join().expect("a writer thread panicked");
                all_retries += retries;
                let ids: BTreeSet<i32> = mine.iter().map(|u| u.id).collect();
                let stored: BTreeSet<(i32, i32)> = rsvps::table
                    .load::<Rsvp>(&mut conn)?
                    .into_iter()
                    .filter(|r| ids.contains(&r.guest_id))
                    .map(|r| (r.event_id, r.guest_id))
                    .collect();
                assert_eq!(
                    stored, model,
                    "a thread's rows are the replay of its operations"
                );
                total += model.len();
                println!("thread: {} pairs, {retries} retries", model.len());
            }
            let stored: Vec<Rsvp> = rsvps::table.load(&mut conn)?;
            let distinct: BTreeSet<(i32, i32)> =
                stored.iter().map(|r| (r.event_id, r.guest_id)).collect();
            assert_eq!(distinct.len(), stored.len(), "no duplicate join rows");
            assert_eq!(stored.len(), total, "no rows but the threads' own");
            println!("{THREADS} threads x {ROUNDS} rounds: {total} pairs at the end");
            scale_out_log(&format!(
                "{}::interleaved_adds_and_removes: operations={} retries={all_retries} lost=0 duplicated=0",
                module_path!(),
                THREADS * ROUNDS
            ))?;
            Ok(())
        }
    };
}

macro_rules! sets {
    ($pool:path) => {
/// Concurrent `set_guests` on one event: `set` locks the parent row, so the
/// final guests are exactly one thread's set, never a mix, after every round.
/// Even rounds set overlapping sets over the last round's winner; odd rounds
/// set disjoint sets on an event with no guests, where no two setters write
/// one join row and only the lock on the parent keeps them apart.
#[test]
fn concurrent_sets_leave_one_whole_set() -> TestResult {
    const ROUNDS: usize = 80;
    let Some((_schema, pool)) = $pool("concurrent_sets_leave_one_whole_set") else {
        return Ok(());
    };
    let mut conn = pool.get()?;
    let party = Event::create(
        NewEvent {
            title: "party".into(),
        },
        &mut conn,
    )?;
    let users = users(40, &mut conn)?;
    // Thread t wants users t*4 .. t*4+8 (a window of 8) in even rounds,
    // t*3 .. t*3+3 in odd ones (its own 3).
    let sets: Vec<[Vec<User>; 2]> = (0..THREADS)
        .map(|t| [users[t * 4..t * 4 + 8].to_vec(), users[t * 3..t * 3 + 3].to_vec()])
        .collect();
    let as_ids = |us: &[User]| us.iter().map(|u| u.id).collect::<BTreeSet<i32>>();
    let wanted: Vec<[BTreeSet<i32>; 2]> = sets
        .iter()
        .map(|[a, b]| [as_ids(a), as_ids(b)])
        .collect();

    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (pool, barrier, party, sets) = (
                pool.clone(),
                barrier.clone(),
                party.clone(),
                sets[t].clone(),
            );
            thread::spawn(move || {
                let mut conn = pool.get().expect("a pooled connection");
                let mut retries = 0;
                for round in 0..ROUNDS {
                    let set = &sets[round % 2];
                    barrier.wait();
                    retrying(&mut conn, &mut retries, |c| party.set_guests(set, c));
                    barrier.wait();
                }
                retries
            })
        })
        .collect();
    let mut winners = BTreeSet::new();
    for round in 0..ROUNDS {
        if round % 2 == 1 {
            party.clear_guests(&mut conn)?;
        }
        barrier.wait();
        barrier.wait();
        let now = as_ids(&party.guests(&mut conn)?);
        let winner = wanted.iter().position(|w| w[round % 2] == now);
        assert!(
            winner.is_some(),
            "round {round}: {now:?} is not one thread's set"
        );
        winners.extend(winner);
    }
    let retries: usize = handles
        .into_iter()
        .map(|h| h.join().expect("a setter panicked"))
        .sum();
    println!(
        "{THREADS} threads x {ROUNDS} rounds of set: {} distinct winners, {retries} retries",
        winners.len()
    );
    Ok(())
}

    };
}

mod postgres {
    use super::*;
    concurrency_tests!(pg_pool);
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    concurrency_tests!(mysql_pool);
}

/// The same with the threads spread over the three nodes of a Galera
/// cluster (`GALERA_URLS`), where conflicting writes on two nodes meet at
/// certification and the loser is retried; the parent locks of the sets are
/// certified writes there (`orm_core::cluster::certify_locks`), without
/// which two nodes' sets could both commit.
#[cfg(feature = "mysql")]
mod galera {
    use super::*;
    concurrency_tests!(galera_pool);
}
