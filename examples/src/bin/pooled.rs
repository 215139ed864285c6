//! A connection pool shared by threads: the generated methods take a pooled
//! connection as they take any other. SQLite in a temporary file (an
//! in-memory database is private to one connection), in WAL mode with a busy
//! timeout so writers wait for each other instead of failing; orm-core's
//! `r2d2` feature brings the pool.
//! Run with `cargo run -p examples --bin pooled`.

use std::thread;

use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("orm-pooled-{}.db", std::process::id()));
    // Feature `r2d2` of orm-core: foreign keys, WAL and a busy timeout on
    // every connection.
    let pool = orm_core::sqlite::pool(&path.to_string_lossy(), 4)?;

    let mut conn = pool.get()?;
    Schema::new()
        .model::<User>()
        .model::<Event>()
        .create_all(&mut conn)?;
    let party = Event::create(
        NewEvent {
            title: "Party".into(),
        },
        &mut conn,
    )?;
    drop(conn);

    // Four threads, each with its own pooled connection, add guests to one event.
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (pool, party) = (pool.clone(), party.clone());
            thread::spawn(move || -> QueryResult<usize> {
                let mut conn = pool.get().expect("a pooled connection");
                let mut added = 0;
                for i in 0..25 {
                    let guest = User::create(
                        NewUser {
                            name: format!("t{t}-{i}"),
                        },
                        &mut conn,
                    )?;
                    added += party.add_guest(&guest, &mut conn)?;
                }
                Ok(added)
            })
        })
        .collect();
    let mut added = 0;
    for worker in workers {
        added += worker.join().expect("a worker panicked")?;
    }
    let mut conn = pool.get()?;
    println!(
        "4 threads added {added} guests; the event has {}",
        party.count_guests(&mut conn)?
    );
    drop(conn);
    drop(pool);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
