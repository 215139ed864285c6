//! Generated methods against the same operations hand-written with diesel's
//! DSL, in one process on in-memory SQLite, interleaved round by round.
//! Run with `cargo run --release -p examples --bin bench`; add
//! `--features postgres` and `DATABASE_URL` to measure PostgreSQL as well.
//!
//! Workload (from PERFORMANCE.md): 2,000 users, 200 events, 50 guests each,
//! once through a generated join table and once through a join model with a
//! payload column.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use orm_core::prelude::Model;
use orm_core::{QueryLog, Schema};

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
#[belongs_to_many(User, through = Seat, as = "Attendees")]
pub struct Event {
    pub id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id")]
pub struct User {
    pub id: i32,
    pub name: String,
}

/// A join model with payload, for the `*_with` operations.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(event_id, user_id))]
pub struct Seat {
    pub event_id: i32,
    pub user_id: i32,
    pub role: String,
}

diesel::allow_tables_to_appear_in_same_query!(users, rsvps, seats);
diesel::joinable!(seats -> users (user_id));

/// The hand-written side's insertable seat.
#[derive(Insertable)]
#[diesel(table_name = seats, treat_none_as_default_value = false)]
struct HandSeat<'a> {
    event_id: i32,
    user_id: i32,
    role: &'a str,
}

/// The hand-written side's insertable join row, with the setting the diesel
/// trap in PERFORMANCE.md calls for (one multi-row INSERT on SQLite).
#[derive(Insertable)]
#[diesel(table_name = rsvps, treat_none_as_default_value = false)]
struct NewRsvp {
    event_id: i32,
    guest_id: i32,
}

macro_rules! hand_written {
    ($name:ident, $conn:ty) => {
        mod $name {
            use super::*;
            use diesel::dsl::{exists, select};

            pub fn guests(event: i32, conn: &mut $conn) -> QueryResult<Vec<User>> {
                let ids = rsvps::table
                    .filter(rsvps::event_id.eq(event))
                    .select(rsvps::guest_id);
                users::table.filter(users::id.eq_any(ids)).load(conn)
            }

            pub fn count(event: i32, conn: &mut $conn) -> QueryResult<i64> {
                rsvps::table
                    .filter(rsvps::event_id.eq(event))
                    .count()
                    .get_result(conn)
            }

            pub fn has(event: i32, user: i32, conn: &mut $conn) -> QueryResult<bool> {
                let row = rsvps::table
                    .filter(rsvps::event_id.eq(event))
                    .filter(rsvps::guest_id.eq(user));
                select(exists(row)).get_result(conn)
            }

            pub fn add_all(event: i32, users: &[i32], conn: &mut $conn) -> QueryResult<usize> {
                let rows: Vec<NewRsvp> = users
                    .iter()
                    .map(|&u| NewRsvp {
                        event_id: event,
                        guest_id: u,
                    })
                    .collect();
                diesel::insert_into(rsvps::table)
                    .values(&rows)
                    .on_conflict_do_nothing()
                    .execute(conn)
            }

            /// `users INNER JOIN seats`, as `attendees_with_through`.
            pub fn with_seats(event: i32, conn: &mut $conn) -> QueryResult<Vec<(User, Seat)>> {
                users::table
                    .inner_join(seats::table)
                    .filter(seats::event_id.eq(event))
                    .select((users::all_columns, seats::all_columns))
                    .load(conn)
            }

            /// An upsert of seats with a role, as `add_attendees_with`.
            pub fn seat_all(
                event: i32,
                users: &[i32],
                role: &str,
                conn: &mut $conn,
            ) -> QueryResult<usize> {
                let rows: Vec<HandSeat> = users
                    .iter()
                    .map(|&u| HandSeat {
                        event_id: event,
                        user_id: u,
                        role,
                    })
                    .collect();
                diesel::insert_into(seats::table)
                    .values(&rows)
                    .on_conflict((seats::event_id, seats::user_id))
                    .do_update()
                    .set(seats::role.eq(diesel::upsert::excluded(seats::role)))
                    .execute(conn)
            }

            /// The same statements as the generated `set_guests`.
            pub fn set(event: i32, users: &[i32], conn: &mut $conn) -> QueryResult<(usize, usize)> {
                conn.transaction(|conn| {
                    let found: bool = select(exists(events::table.filter(events::id.eq(event))))
                        .get_result(conn)?;
                    if !found {
                        return Err(diesel::result::Error::NotFound);
                    }
                    let current: Vec<i32> = rsvps::table
                        .filter(rsvps::event_id.eq(event))
                        .select(rsvps::guest_id)
                        .load(conn)?;
                    let remove: Vec<i32> = current
                        .iter()
                        .copied()
                        .filter(|c| !users.contains(c))
                        .collect();
                    let add: Vec<i32> = users
                        .iter()
                        .copied()
                        .filter(|u| !current.contains(u))
                        .collect();
                    let removed = if remove.is_empty() {
                        0
                    } else {
                        diesel::delete(
                            rsvps::table
                                .filter(rsvps::event_id.eq(event))
                                .filter(rsvps::guest_id.eq_any(&remove)),
                        )
                        .execute(conn)?
                    };
                    let added = if add.is_empty() {
                        0
                    } else {
                        add_all(event, &add, conn)?
                    };
                    Ok((added, removed))
                })
            }
        }
    };
}

hand_written!(hand_sqlite, SqliteConnection);
#[cfg(feature = "postgres")]
hand_written!(hand_pg, diesel::PgConnection);

struct Row {
    name: &'static str,
    orm: Vec<Duration>,
    hand: Vec<Duration>,
    orm_statements: usize,
    hand_statements: usize,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

macro_rules! run {
    ($backend:expr, $conn:expr, $hand:ident) => {{
    let mut conn = $conn;
    let backend: &str = $backend;
    Schema::new()
        .model::<User>()
        .model::<Event>()
        .model::<Seat>()
        .create_all(&mut conn)?;
    let users: Vec<User> = (0..2000)
        .map(|i| {
            User::create(
                NewUser {
                    name: format!("user{i}"),
                },
                &mut conn,
            )
        })
        .collect::<QueryResult<_>>()?;
    let events: Vec<Event> = (0..200)
        .map(|i| {
            Event::create(
                NewEvent {
                    title: format!("event{i}"),
                },
                &mut conn,
            )
        })
        .collect::<QueryResult<_>>()?;
    for (i, event) in events.iter().enumerate() {
        let start = (i * 7) % 1900;
        event.add_guests(&users[start..start + 50], &mut conn)?;
        let seat = SeatPayload { role: "guest".into() };
        event.add_attendees_with(&users[start..start + 50], seat, &mut conn)?;
    }
    let log = QueryLog::attach(&mut conn);

    let rounds = 15;
    let mut rows: Vec<Row> = [
        "guests",
        "count_guests",
        "has_guest",
        "add_guests",
        "set_guests",
        "attendees_with_through",
        "add_attendees_with",
    ]
    .into_iter()
    .map(|name| Row {
        name,
        orm: vec![],
        hand: vec![],
        orm_statements: 0,
        hand_statements: 0,
    })
    .collect();
    // A spare event for add/set, so the read workload stays fixed.
    let spare = Event::create(
        NewEvent {
            title: "spare".into(),
        },
        &mut conn,
    )?;
    let batch_a: Vec<User> = users[1000..1050].to_vec();
    let batch_b: Vec<User> = users[1025..1075].to_vec();
    let ids = |us: &[User]| us.iter().map(|u| u.id).collect::<Vec<i32>>();
    let (ids_a, ids_b) = (ids(&batch_a), ids(&batch_b));

    for round in 0..rounds {
        // Alternate which side goes first in each round.
        for side in [round % 2, 1 - round % 2] {
            let orm = side == 0;
            macro_rules! time {
                ($row:expr, $body:expr) => {{
                    log.clear();
                    let start = Instant::now();
                    $body;
                    let elapsed = start.elapsed();
                    let row = &mut rows[$row];
                    if orm {
                        row.orm.push(elapsed);
                        row.orm_statements = log.count();
                    } else {
                        row.hand.push(elapsed);
                        row.hand_statements = log.count();
                    }
                }};
            }
            let n = events.len();
            time!(
                0,
                for e in &events {
                    let g = if orm {
                        e.guests(&mut conn)?.len()
                    } else {
                        $hand::guests(e.id, &mut conn)?.len()
                    };
                    assert_eq!(g, 50);
                }
            );
            time!(
                1,
                for e in &events {
                    let c = if orm {
                        e.count_guests(&mut conn)?
                    } else {
                        $hand::count(e.id, &mut conn)?
                    };
                    assert_eq!(c, 50);
                }
            );
            time!(
                2,
                for (i, e) in events.iter().enumerate() {
                    let u = &users[(i * 7) % 1900];
                    let h = if orm {
                        e.has_guest(u, &mut conn)?
                    } else {
                        $hand::has(e.id, u.id, &mut conn)?
                    };
                    assert!(h);
                }
            );
            // add 50 new guests to the spare event, then clear (untimed)
            time!(3, {
                let added = if orm {
                    spare.add_guests(&batch_a, &mut conn)?
                } else {
                    $hand::add_all(spare.id, &ids_a, &mut conn)?
                };
                assert_eq!(added, 50);
            });
            spare.clear_guests(&mut conn)?;
            spare.add_guests(&batch_a, &mut conn)?;
            // set from batch a to batch b (25 kept, 25 removed, 25 added)
            time!(4, {
                let (added, removed) = if orm {
                    let d = spare.set_guests(&batch_b, &mut conn)?;
                    (d.added, d.removed)
                } else {
                    $hand::set(spare.id, &ids_b, &mut conn)?
                };
                assert_eq!((added, removed), (25, 25));
            });
            spare.clear_guests(&mut conn)?;
            time!(
                5,
                for e in &events {
                    let g = if orm {
                        e.attendees_with_through(&mut conn)?.len()
                    } else {
                        $hand::with_seats(e.id, &mut conn)?.len()
                    };
                    assert_eq!(g, 50);
                }
            );
            // upsert 50 seats, 25 of them already there with another role
            spare.add_attendees_with(&batch_b[..25], SeatPayload { role: "old".into() }, &mut conn)?;
            time!(6, {
                let written = if orm {
                    spare.add_attendees_with(&batch_b, SeatPayload { role: "new".into() }, &mut conn)?
                } else {
                    $hand::seat_all(spare.id, &ids_b, "new", &mut conn)?
                };
                assert_eq!(written, 50);
            });
            spare.clear_attendees(&mut conn)?;
            let _ = n;
        }
    }

    println!("{backend}: {rounds} rounds, median per call; reads are over 200 events of 50 guests.\n");
    println!(
        "| operation | orm-core µs | hand-written diesel µs | ratio | statements (orm / diesel) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for row in rows {
        let per_call = |d: Duration| {
            let calls = if row.name.starts_with("add_") || row.name == "set_guests" {
                1.0
            } else {
                200.0
            };
            d.as_secs_f64() * 1e6 / calls
        };
        let (orm, hand) = (per_call(median(row.orm)), per_call(median(row.hand)));
        let calls = if row.name.starts_with("add_") || row.name == "set_guests" {
            1
        } else {
            200
        };
        println!(
            "| `{}` | {orm:.2} | {hand:.2} | {:.3}× | {} / {} |",
            row.name,
            orm / hand,
            row.orm_statements / calls,
            row.hand_statements / calls
        );
    }
    println!();
    }};
}

fn main() -> QueryResult<()> {
    run!(
        "SQLite in memory",
        orm_core::sqlite::memory().expect("in-memory SQLite"),
        hand_sqlite
    );
    #[cfg(feature = "postgres")]
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            use diesel::connection::SimpleConnection;
            let mut conn = orm_core::pg::connect(&url).expect("connect to DATABASE_URL");
            conn.batch_execute("DROP SCHEMA IF EXISTS orm_bench CASCADE; CREATE SCHEMA orm_bench; SET search_path TO orm_bench")?;
            run!("PostgreSQL", conn, hand_pg);
        }
        Err(_) => println!("PostgreSQL: skipped, DATABASE_URL is not set"),
    }
    Ok(())
}
