//! The workload of `PERFORMANCE.md`, written twice and timed side by side in
//! one process: once with the generated methods, once as idiomatic diesel 2.3
//! the way its guide teaches (hand-written `table!`s as `diesel print-schema`
//! emits them, `joinable!`, `belonging_to`, `inner_join`, `grouped_by`,
//! `#[derive(Insertable)]` structs). Each side has a database of its own;
//! phase by phase the two run back to back, alternating which goes first.
//! Each side's time is its fastest round; the ratio is given twice: fastest
//! against fastest, and the median over rounds of the ratio of the two runs
//! within one round (a paired comparison, which drift cannot favour).
//!
//! `cargo run --release -p examples --bin bench` measures SQLite in memory;
//! with `--features postgres` and `DATABASE_URL`, PostgreSQL too, and then
//! the same workload on diesel-async's `AsyncPgConnection`: the generated
//! methods awaited against diesel-async written as its README teaches (the
//! same queries, `diesel_async::RunQueryDsl`). The workload is written once
//! for both kinds of connection (`w!` awaits a call on an async one). Its
//! phase "users with posts and events" is two eager loads of the same
//! parents: on the async connection the generated side awaits them together
//! on `&conn`, which pipelines them; every other side runs them one after
//! the other. The next phase runs them one after the other on every side,
//! so the two rows show what pipelining saves. With `--features seaorm`,
//! the async generated side is also compared with SeaORM 2 running the same
//! phases on the same rows (`bench/seaorm.rs`).
//! `BENCH_ONLY=async` runs only the comparisons whose title contains it.
//! `BENCH_ROUNDS=n` sets the rounds (8; keep it even), `BENCH_SQL=1` prints
//! each phase's first statement on both sides, `BENCH_TRACE="phase name"`
//! prints that phase's every time with the side and whether it ran first.
//!
//! Many-to-many: 2,000 users, 200 events of 50 guests (`rsvps`). One-to-many:
//! 2,000 posts of 200 authors. Seeding the users, events and posts is plain
//! diesel on both sides and not timed (a bulk `create` is issue 9).

use std::rc::Rc;
#[cfg(feature = "postgres")]
use std::sync::LazyLock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;

/// The runtime the async workload runs on: one thread, as the
/// synchronous one does, so the comparison is of the connections' work.
#[cfg(feature = "postgres")]
static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

/// The generated side's models.
mod orm {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to_many(User, through = "rsvps", as = "Guests")]
    pub struct Event {
        pub id: i32,
        pub title: String,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to_many(Event, through = "rsvps")]
    #[has_many(Post, foreign_key = "author_id", as = "Posts")]
    pub struct User {
        pub id: i32,
        pub name: String,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(User, foreign_key = "author_id", as = "Author")]
    pub struct Post {
        pub id: i32,
        pub author_id: Option<i32>,
        pub title: String,
    }

    /// Every table, created the same way for both sides.
    pub fn schema() -> Schema {
        Schema::new()
            .model::<User>()
            .model::<Event>()
            .model::<Post>()
    }
}

/// The hand-written side: diesel as its guide teaches it.
mod hand {
    use diesel::prelude::*;

    pub mod schema {
        diesel::table! {
            events (id) {
                id -> Integer,
                title -> Text,
            }
        }

        diesel::table! {
            posts (id) {
                id -> Integer,
                author_id -> Nullable<Integer>,
                title -> Text,
            }
        }

        diesel::table! {
            rsvps (event_id, user_id) {
                event_id -> Integer,
                user_id -> Integer,
            }
        }

        diesel::table! {
            users (id) {
                id -> Integer,
                name -> Text,
            }
        }

        diesel::joinable!(posts -> users (author_id));
        diesel::joinable!(rsvps -> events (event_id));
        diesel::joinable!(rsvps -> users (user_id));
        diesel::allow_tables_to_appear_in_same_query!(events, posts, rsvps, users);
    }

    use schema::*;

    #[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
    #[diesel(table_name = events)]
    pub struct Event {
        pub id: i32,
        pub title: String,
    }

    #[derive(Queryable, Selectable, Identifiable, Debug, Clone, PartialEq)]
    #[diesel(table_name = users)]
    pub struct User {
        pub id: i32,
        pub name: String,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Debug, Clone, PartialEq)]
    #[diesel(table_name = posts, belongs_to(User, foreign_key = author_id))]
    pub struct Post {
        pub id: i32,
        pub author_id: Option<i32>,
        pub title: String,
    }

    /// A join row; `treat_none_as_default_value = false` makes a `Vec` of
    /// them one multi-row INSERT on SQLite (PERFORMANCE.md's diesel trap).
    #[derive(Queryable, Selectable, Identifiable, Associations, Insertable, Debug, Clone, Copy)]
    #[diesel(table_name = rsvps, primary_key(event_id, user_id))]
    #[diesel(
        belongs_to(Event),
        belongs_to(User),
        treat_none_as_default_value = false
    )]
    pub struct Rsvp {
        pub event_id: i32,
        pub user_id: i32,
    }
}

/// One side's phases: name, calls, and the phase itself, which returns a
/// checksum of what it read or wrote.
type Phases<C> = Vec<(
    &'static str,
    usize,
    Box<dyn FnMut(&mut C) -> QueryResult<u64>>,
)>;

/// One phase's measurements: each side's times, with whether it ran first.
struct Phase {
    name: &'static str,
    calls: usize,
    generated: Vec<(Duration, bool)>,
    hand: Vec<(Duration, bool)>,
    statements: (usize, usize),
    checksums: (u64, u64),
}

/// Counts a connection's statements, and keeps the first one's SQL with
/// `BENCH_SQL`. Cheap on purpose: a log that rendered every statement
/// (as `QueryLog` does) would add the same cost to both sides and push
/// every ratio towards 1.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<(usize, Option<String>)>>);

impl Counter {
    fn clear(&self) {
        *self.0.lock().unwrap() = (0, None);
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().0
    }

    fn first(&self) -> String {
        self.0.lock().unwrap().1.clone().unwrap_or_default()
    }
}

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let mut counted = self.0.lock().unwrap();
            if counted.0 == 0 && std::env::var_os("BENCH_SQL").is_some() {
                counted.1 = Some(query.to_string());
            }
            counted.0 += 1;
        }
    }
}

/// A side's fastest round. On a shared machine noise only ever adds time
/// (on PostgreSQL whichever side runs first after a phase of writes is up to
/// 2.5x slower, whatever its SQL: the server is still writing the previous
/// phase out), so the fastest of rounds that alternate the order is the
/// cost of the work itself; medians moved by ±30% between runs here.
fn fastest(times: &[(Duration, bool)]) -> f64 {
    times
        .iter()
        .map(|t| t.0)
        .min()
        .unwrap_or_default()
        .as_secs_f64()
}

/// The median over rounds of generated / diesel, each round's two runs
/// taken back to back: a paired comparison, so drift that slows a whole
/// round (the server writing out the previous phase, another process)
/// cancels, where each side's fastest round can be one lucky moment.
fn paired_median(generated: &[(Duration, bool)], hand: &[(Duration, bool)]) -> f64 {
    let mut ratios: Vec<f64> = generated
        .iter()
        .zip(hand)
        .map(|(g, h)| g.0.as_secs_f64() / h.0.as_secs_f64().max(f64::MIN_POSITIVE))
        .collect();
    ratios.sort_by(f64::total_cmp);
    match ratios.len() {
        0 => 0.0,
        n if n % 2 == 1 => ratios[n / 2],
        n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    }
}

/// The checksum of the rows every side must end with: the `(event_id,
/// user_id)` pairs of `rsvps` and the `(id, author_id)` of `posts`.
fn end_checksum(
    pairs: impl IntoIterator<Item = (i32, i32)>,
    posts: impl IntoIterator<Item = (i32, Option<i32>)>,
) -> u64 {
    let pairs = pairs
        .into_iter()
        .map(|(e, u)| (e as u64) * 10_007 + u as u64)
        .sum::<u64>();
    let posts = posts
        .into_iter()
        .map(|(p, a)| (p as u64) * (a.unwrap_or(0) as u64 + 1))
        .sum::<u64>();
    pairs.wrapping_mul(31).wrapping_add(posts)
}

/// A checksum of counts aligned with their parents: each weighted by its
/// position.
fn aligned_checksum(counts: &[i64]) -> u64 {
    counts
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64 + 1) * *n as u64)
        .sum()
}

/// The sum of ten runs of `$body`: an eager phase is one call of a few
/// milliseconds, and 200 counts on SQLite a quarter of one, at the mercy of
/// noise alone.
macro_rules! ten_calls {
    ($body:block) => {{
        let mut total = 0;
        for _ in 0..10 {
            total += $body;
        }
        total
    }};
}

/// `let a = a.clone(); ..` for each of the names.
macro_rules! clones {
    ($($name:ident),*) => { $(#[allow(unused_variables)] let $name = $name.clone();)* };
}

/// The phases of one side, each a closure over its own copies (`Rc`) of
/// the rows `$shared` that returns a checksum.
macro_rules! phases {
    ($mode:ident, $conn:ident: $ty:ty, $shared:tt, $( $phase:literal, $calls:expr => $body:expr; )*) => {
        vec![$({
            clones!$shared;
            let run: Box<dyn FnMut(&mut $ty) -> QueryResult<u64>> =
                Box::new(move |$conn: &mut $ty| -> QueryResult<u64> {
                    block!($mode, QueryResult::Ok($body))
                });
            ($phase, $calls, run)
        },)*]
    };
}

// The workload is written once for both kinds of connection: `w!` awaits
// a call on an async one, `tx!` is `transaction` of diesel or diesel-async,
// `block!` runs an async body to its end (on one thread: the timed work is
// the connection's), `both!` runs two loads one after the other, or on
// PostgreSQL's async connection pipelined (awaited together on `&conn`).

/// `$e`, awaited on an async connection.
macro_rules! w {
    (sync, $e:expr) => {
        $e
    };
    (async, $e:expr) => {
        $e.await
    };
}

/// `$body` (which uses `$conn`) in a transaction of `$conn`.
macro_rules! tx {
    (sync, $conn:ident, $body:expr) => {
        $conn.transaction(|$conn| $body)
    };
    (async, $conn:ident, $body:expr) => {
        orm_core::diesel_async::AsyncConnection::transaction($conn, async |$conn| $body).await
    };
}

/// `$body`, run to its end.
macro_rules! block {
    (sync, $body:expr) => {
        $body
    };
    (async, $body:expr) => {
        crate::RT.block_on(async { $body })
    };
}

/// The results of the loads `$a` and `$b` (which use `$conn`).
macro_rules! both {
    (sync, $conn:ident, $a:expr, $b:expr) => {
        ($a?, $b?)
    };
    (async, $conn:ident, $a:expr, $b:expr) => {{
        let (mut x, mut y) = (&*$conn, &*$conn);
        tokio::try_join!(
            {
                let $conn = &mut x;
                $a
            },
            {
                let $conn = &mut y;
                $b
            }
        )?
    }};
}

/// diesel-async's query and connection traits, in place of diesel's, for
/// an async workload.
macro_rules! async_traits {
    (sync) => {};
    (async) => {
        #[allow(unused_imports)]
        use orm_core::diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
    };
}

/// The same workload on both sides, for one connection type.
macro_rules! workload {
    ($name:ident, $conn:ty, $mode:ident, postgres: $postgres:literal) => {
        mod $name {
            use super::*;
            use diesel::dsl::{exists, select};
            #[allow(unused_imports)]
            use diesel::connection::SimpleConnection;
            async_traits!($mode);

            /// Counts the statements of `conn`.
            pub fn attach(conn: &mut $conn) -> Counter {
                let counter = Counter::default();
                conn.set_instrumentation(counter.clone());
                counter
            }

            fn keys(n: usize, first: i32) -> Vec<i32> {
                (0..n as i32).map(|i| first + i).collect()
            }

            /// Users, events and posts, the same rows on both sides (plain
            /// diesel, untimed).
            pub fn seed(conn: &mut $conn) -> QueryResult<()> {
                block!($mode, {
                use hand::schema::*;
                let names: Vec<_> = (0..2000).map(|i| users::name.eq(format!("user{i}"))).collect();
                w!($mode, diesel::insert_into(users::table).values(&names).execute(conn))?;
                let titles: Vec<_> = (0..200).map(|i| events::title.eq(format!("event{i}"))).collect();
                w!($mode, diesel::insert_into(events::table).values(&titles).execute(conn))?;
                let posts: Vec<_> = (0..2000)
                    .map(|i| (posts::author_id.eq(Some(1 + i % 200)), posts::title.eq(format!("post{i}"))))
                    .collect();
                w!($mode, diesel::insert_into(posts::table).values(&posts).execute(conn))?;
                // The same conditions for both sides: statistics now, and on
                // PostgreSQL no autovacuum starting in the middle of one side's
                // phase (it re-plans statements at random).
                if $postgres {
                    w!($mode, conn.batch_execute(
                        "ALTER TABLE users SET (autovacuum_enabled = false); \
                         ALTER TABLE events SET (autovacuum_enabled = false); \
                         ALTER TABLE posts SET (autovacuum_enabled = false); \
                         ALTER TABLE rsvps SET (autovacuum_enabled = false)",
                    ))?;
                }
                w!($mode, conn.batch_execute("ANALYZE"))?;
                QueryResult::Ok(())
                })
            }

            /// Event `e` (1-based) gets users `50 * (e - 1) % 1950 + 1 ..` as
            /// guests in the add phase.
            fn guests_of(e: i32) -> Vec<i32> {
                keys(50, (e - 1) * 50 % 1950 + 1)
            }

            /// The rows both sides must end with: a checksum of `rsvps` and
            /// of `posts`, read with plain diesel after the timed phases.
            pub fn end_state(conn: &mut $conn) -> QueryResult<u64> {
                block!($mode, {
                use hand::schema::*;
                let pairs: Vec<(i32, i32)> = w!($mode, rsvps::table.select((rsvps::event_id, rsvps::user_id)).load(conn))?;
                let posts: Vec<(i32, Option<i32>)> = w!($mode, posts::table.select((posts::id, posts::author_id)).load(conn))?;
                QueryResult::Ok(end_checksum(pairs, posts))
                })
            }

            /// The workload through the generated methods.
            pub fn generated(conn: &mut $conn) -> QueryResult<Phases<$conn>> {
                use orm::*;
                let (events, users, posts) = block!($mode, QueryResult::Ok((
                    w!($mode, Event::all(conn))?,
                    w!($mode, User::all(conn))?,
                    w!($mode, Post::all(conn))?,
                )))?;
                let (events, users, posts) = (Rc::new(events), Rc::new(users), Rc::new(posts));
                Ok(phases!($mode, conn: $conn, (events, users, posts),
                    "add one guest", 10_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in guests_of(e.id) {
                                n += w!($mode, e.add_guest(User::key(u), conn))? as u64;
                            }
                        }
                        n
                    };
                    "get guests", 200 => {
                        let mut sum = 0;
                        for e in events.iter() {
                            sum += w!($mode, e.guests(conn))?.iter().map(|u| u.id as u64).sum::<u64>();
                        }
                        sum
                    };
                    "has guest", 2_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in guests_of(e.id).into_iter().step_by(5) {
                                n += w!($mode, e.has_guest(User::key(u), conn))? as u64;
                            }
                        }
                        n
                    };
                    "count guests", 2_000 => ten_calls!({
                        let mut n = 0;
                        for e in events.iter() {
                            n += w!($mode, e.count_guests(conn))? as u64;
                        }
                        n
                    });
                    "eager: events with guests", 10 => ten_calls!({
                        let events = w!($mode, Event::all(conn))?;
                        let guests = w!($mode, Event::load_guests(&events, conn))?;
                        guests.iter().flatten().map(|u| u.id as u64).sum::<u64>() + events.len() as u64
                    });
                    "set guests", 200 => {
                        let mut n = 0;
                        for e in events.iter() {
                            let wanted: Vec<_> = keys(50, (e.id - 1) * 50 % 1950 + 26).into_iter().map(User::key).collect();
                            let diff = w!($mode, e.set_guests(wanted, conn))?;
                            n += (diff.added + diff.removed) as u64;
                        }
                        // Each of 200 sets keeps 25, drops 25, adds 25.
                        assert_eq!(n, 200 * 50);
                        200
                    };
                    "remove one guest", 5_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                                n += w!($mode, e.remove_guest(User::key(u), conn))? as u64;
                            }
                        }
                        n
                    };
                    "add one guest in a transaction", 2_000 => {
                        // 25 of the removed guests back, 80 events, each in a
                        // transaction of the caller's: on PostgreSQL every
                        // add is then the INSERT that checks both rows itself.
                        let mut n = 0;
                        for e in events.iter().take(80) {
                            n += tx!($mode, conn, {
                                let mut n = 0;
                                for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                                    n += w!($mode, e.add_guest(User::key(u), conn))? as u64;
                                }
                                QueryResult::Ok(n)
                            })?;
                        }
                        n
                    };
                    "bulk add guests", 200 => {
                        let mut n = 0;
                        for e in events.iter() {
                            n += w!($mode, e.add_guests(guests_of(e.id).into_iter().map(User::key).collect::<Vec<_>>(), conn))? as u64;
                        }
                        n
                    };
                    "posts of a user", 200 => {
                        let mut sum = 0;
                        for u in &users[..200] {
                            sum += w!($mode, u.posts(conn))?.iter().map(|p| p.id as u64).sum::<u64>();
                        }
                        sum
                    };
                    "author of a post", 2_000 => {
                        let mut sum = 0;
                        for p in posts.iter() {
                            sum += w!($mode, p.author(conn))?.map_or(0, |u| u.id as u64);
                        }
                        sum
                    };
                    "eager: users with posts", 10 => ten_calls!({
                        let users = w!($mode, User::all(conn))?;
                        let posts = w!($mode, User::load_posts(&users, conn))?;
                        posts.iter().flatten().map(|p| p.id as u64).sum::<u64>() + users.len() as u64
                    });
                    "eager: users with posts and events", 10 => ten_calls!({
                        let users = w!($mode, User::all(conn))?;
                        let (posts, events) = both!(
                            $mode,
                            conn,
                            User::load_posts(&users, conn),
                            User::load_events(&users, conn)
                        );
                        posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                            + events.iter().flatten().map(|e| e.id as u64).sum::<u64>()
                    });
                    "eager: users with posts and events, one after the other", 10 => ten_calls!({
                        let users = w!($mode, User::all(conn))?;
                        let posts = w!($mode, User::load_posts(&users, conn))?;
                        let events = w!($mode, User::load_events(&users, conn))?;
                        posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                            + events.iter().flatten().map(|e| e.id as u64).sum::<u64>()
                    });
                    "eager: posts with authors", 10 => ten_calls!({
                        let posts = w!($mode, Post::all(conn))?;
                        let authors = w!($mode, Post::load_authors(&posts, conn))?;
                        authors.iter().flatten().map(|u| u.id as u64).sum::<u64>()
                    });
                    "add one post (reassign)", 2_000 => {
                        let mut n = 0;
                        for p in posts.iter() {
                            n += w!($mode, users[200 + p.id as usize % 200].add_post(p, conn))? as u64;
                        }
                        n
                    };
                    "remove one post", 1_000 => {
                        let mut n = 0;
                        for p in posts.iter().step_by(2) {
                            n += w!($mode, users[200 + p.id as usize % 200].remove_post(p, conn))? as u64;
                        }
                        n
                    };
                    "set posts", 200 => {
                        let mut n = 0;
                        for u in &users[200..400] {
                            let wanted: Vec<_> = keys(10, (u.id - 201) * 10 + 1).into_iter().map(Post::key).collect();
                            w!($mode, u.set_posts(wanted, conn))?;
                            n += 1;
                        }
                        n
                    };
                    "filter: users with a post titled post1..", 10 => ten_calls!({
                        let q = User::query().filter(User::has_posts_where(|q| q.filter(posts::title.like("post1%"))));
                        let users: Vec<User> = w!($mode, q.load(conn))?;
                        users.iter().map(|u| u.id as u64).sum::<u64>()
                    });
                    "filter: events without a guest named user1..", 10 => ten_calls!({
                        let q = Event::query().filter(!Event::has_guests_where(|q| q.filter(users::name.like("user1%"))));
                        let events: Vec<Event> = w!($mode, q.load(conn))?;
                        events.iter().map(|e| e.id as u64).sum::<u64>()
                    });
                    "counts: posts of each user", 10 => ten_calls!({
                        let counts = w!($mode, User::count_posts_for(&users, conn))?;
                        aligned_checksum(&counts)
                    });
                    "counts: guests of each event", 10 => ten_calls!({
                        let counts = w!($mode, Event::count_guests_for(&events, conn))?;
                        aligned_checksum(&counts)
                    });
                    "include: events, their guests, the guests' posts", 10 => ten_calls!({
                        let events = w!($mode, Event::all(conn))?;
                        use orm_core::nested::Include;
                        let include = event_associations::Guests.with(user_associations::Posts);
                        let tree = w!($mode, orm_core::include(&events, include, conn))?;
                        tree.iter().flatten().map(|(u, posts)| {
                            u.id as u64 + posts.iter().map(|p| p.id as u64).sum::<u64>()
                        }).sum::<u64>() + events.len() as u64
                    });
                ))
            }

            /// The workload as idiomatic diesel.
            pub fn by_hand(conn: &mut $conn) -> QueryResult<Phases<$conn>> {
                use hand::schema::*;
                use hand::*;
                let (events, users, posts): (Vec<Event>, Vec<User>, Vec<Post>) = block!($mode, QueryResult::Ok((
                    w!($mode, events::table.select(Event::as_select()).load(conn))?,
                    w!($mode, users::table.select(User::as_select()).load(conn))?,
                    w!($mode, posts::table.select(Post::as_select()).load(conn))?,
                )))?;
                let (events, users, posts) = (Rc::new(events), Rc::new(users), Rc::new(posts));



                Ok(phases!($mode, conn: $conn, (events, users, posts),
                    "add one guest", 10_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in guests_of(e.id) {
                                n += w!($mode, diesel::insert_into(rsvps::table)
                                    .values(&Rsvp { event_id: e.id, user_id: u })
                                    .execute(conn))? as u64;
                            }
                        }
                        n
                    };
                    "get guests", 200 => {
                        let mut sum = 0;
                        for e in events.iter() {
                            let guests: Vec<User> = w!($mode, Rsvp::belonging_to(e)
                                .inner_join(users::table)
                                .select(User::as_select())
                                .load(conn))?;
                            sum += guests.iter().map(|u| u.id as u64).sum::<u64>();
                        }
                        sum
                    };
                    "has guest", 2_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in guests_of(e.id).into_iter().step_by(5) {
                                let has: bool = w!($mode, select(exists(Rsvp::belonging_to(e).filter(rsvps::user_id.eq(u))))
                                    .get_result(conn))?;
                                n += has as u64;
                            }
                        }
                        n
                    };
                    "count guests", 2_000 => ten_calls!({
                        let mut n = 0;
                        for e in events.iter() {
                            n += w!($mode, Rsvp::belonging_to(e).count().get_result::<i64>(conn))? as u64;
                        }
                        n
                    });
                    "eager: events with guests", 10 => ten_calls!({
                        let events: Vec<Event> = w!($mode, events::table.select(Event::as_select()).load(conn))?;
                        let rows: Vec<(Rsvp, User)> = w!($mode, Rsvp::belonging_to(&events)
                            .inner_join(users::table)
                            .select((Rsvp::as_select(), User::as_select()))
                            .load(conn))?;
                        let grouped: Vec<Vec<(Rsvp, User)>> = rows.grouped_by(&events);
                        grouped.iter().flatten().map(|(_, u)| u.id as u64).sum::<u64>() + events.len() as u64
                    });
                    "set guests", 200 => {
                        let mut n = 0;
                        for e in events.iter() {
                            let rows: Vec<Rsvp> = keys(50, (e.id - 1) * 50 % 1950 + 26)
                                .into_iter()
                                .map(|u| Rsvp { event_id: e.id, user_id: u })
                                .collect();
                            tx!($mode, conn, {
                                w!($mode, diesel::delete(Rsvp::belonging_to(e)).execute(conn))?;
                                w!($mode, diesel::insert_into(rsvps::table).values(&rows).execute(conn))
                            })?;
                            n += 1;
                        }
                        n
                    };
                    "remove one guest", 5_000 => {
                        let mut n = 0;
                        for e in events.iter() {
                            for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                                n += w!($mode, diesel::delete(rsvps::table.find((e.id, u))).execute(conn))? as u64;
                            }
                        }
                        n
                    };
                    "add one guest in a transaction", 2_000 => {
                        let mut n = 0;
                        for e in events.iter().take(80) {
                            n += tx!($mode, conn, {
                                let mut n = 0;
                                for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                                    n += w!($mode, diesel::insert_into(rsvps::table)
                                        .values(&Rsvp { event_id: e.id, user_id: u })
                                        .execute(conn))? as u64;
                                }
                                QueryResult::Ok(n)
                            })?;
                        }
                        n
                    };
                    "bulk add guests", 200 => {
                        let mut n = 0;
                        for e in events.iter() {
                            let rows: Vec<Rsvp> = guests_of(e.id)
                                .into_iter()
                                .map(|u| Rsvp { event_id: e.id, user_id: u })
                                .collect();
                            n += w!($mode, diesel::insert_into(rsvps::table)
                                .values(&rows)
                                .on_conflict_do_nothing()
                                .execute(conn))? as u64;
                        }
                        n
                    };
                    "posts of a user", 200 => {
                        let mut sum = 0;
                        for u in &users[..200] {
                            let posts: Vec<Post> = w!($mode, Post::belonging_to(u).select(Post::as_select()).load(conn))?;
                            sum += posts.iter().map(|p| p.id as u64).sum::<u64>();
                        }
                        sum
                    };
                    "author of a post", 2_000 => {
                        let mut sum = 0;
                        for p in posts.iter() {
                            if let Some(author) = p.author_id {
                                let u: User = w!($mode, users::table.find(author).select(User::as_select()).first(conn))?;
                                sum += u.id as u64;
                            }
                        }
                        sum
                    };
                    "eager: users with posts", 10 => ten_calls!({
                        let users: Vec<User> = w!($mode, users::table.select(User::as_select()).load(conn))?;
                        let posts: Vec<Post> = w!($mode, Post::belonging_to(&users).select(Post::as_select()).load(conn))?;
                        let grouped: Vec<Vec<Post>> = posts.grouped_by(&users);
                        grouped.iter().flatten().map(|p| p.id as u64).sum::<u64>() + users.len() as u64
                    });
                    "eager: users with posts and events", 10 => ten_calls!({
                        let users: Vec<User> = w!($mode, users::table.select(User::as_select()).load(conn))?;
                        let posts: Vec<Post> = w!($mode, Post::belonging_to(&users).select(Post::as_select()).load(conn))?;
                        let rows: Vec<(Rsvp, Event)> = w!($mode, Rsvp::belonging_to(&users)
                            .inner_join(events::table)
                            .select((Rsvp::as_select(), Event::as_select()))
                            .load(conn))?;
                        let (posts, events) = (posts.grouped_by(&users), rows.grouped_by(&users));
                        posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                            + events.iter().flatten().map(|(_, e)| e.id as u64).sum::<u64>()
                    });
                    "eager: users with posts and events, one after the other", 10 => ten_calls!({
                        let users: Vec<User> = w!($mode, users::table.select(User::as_select()).load(conn))?;
                        let posts: Vec<Post> = w!($mode, Post::belonging_to(&users).select(Post::as_select()).load(conn))?;
                        let rows: Vec<(Rsvp, Event)> = w!($mode, Rsvp::belonging_to(&users)
                            .inner_join(events::table)
                            .select((Rsvp::as_select(), Event::as_select()))
                            .load(conn))?;
                        let (posts, events) = (posts.grouped_by(&users), rows.grouped_by(&users));
                        posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                            + events.iter().flatten().map(|(_, e)| e.id as u64).sum::<u64>()
                    });
                    "eager: posts with authors", 10 => ten_calls!({
                        let posts: Vec<Post> = w!($mode, posts::table.select(Post::as_select()).load(conn))?;
                        let ids: Vec<i32> = posts.iter().filter_map(|p| p.author_id).collect();
                        let authors: Vec<User> = w!($mode, users::table
                            .filter(users::id.eq_any(ids))
                            .select(User::as_select())
                            .load(conn))?;
                        let by_id: std::collections::HashMap<i32, User> =
                            authors.into_iter().map(|u| (u.id, u)).collect();
                        posts.iter().filter_map(|p| by_id.get(&p.author_id?)).map(|u| u.id as u64).sum::<u64>()
                    });
                    "add one post (reassign)", 2_000 => {
                        let mut n = 0;
                        for p in posts.iter() {
                            let to = users[200 + p.id as usize % 200].id;
                            n += w!($mode, diesel::update(posts::table.find(p.id))
                                .set(posts::author_id.eq(Some(to)))
                                .execute(conn))? as u64;
                        }
                        n
                    };
                    "remove one post", 1_000 => {
                        let mut n = 0;
                        for p in posts.iter().step_by(2) {
                            let from = users[200 + p.id as usize % 200].id;
                            n += w!($mode, diesel::update(posts::table.find(p.id).filter(posts::author_id.eq(from)))
                                .set(posts::author_id.eq(None::<i32>))
                                .execute(conn))? as u64;
                        }
                        n
                    };
                    "set posts", 200 => {
                        let mut n = 0;
                        for u in &users[200..400] {
                            let wanted = keys(10, (u.id - 201) * 10 + 1);
                            tx!($mode, conn, {
                                w!($mode, diesel::update(Post::belonging_to(u).filter(posts::id.ne_all(&wanted)))
                                    .set(posts::author_id.eq(None::<i32>))
                                    .execute(conn))?;
                                w!($mode, diesel::update(posts::table.filter(posts::id.eq_any(&wanted)))
                                    .set(posts::author_id.eq(Some(u.id)))
                                    .execute(conn))
                            })?;
                            n += 1;
                        }
                        n
                    };
                    "filter: users with a post titled post1..", 10 => ten_calls!({
                        let posts = posts::table
                            .filter(posts::author_id.eq(users::id.nullable()))
                            .filter(posts::title.like("post1%"));
                        let users: Vec<User> = w!($mode, users::table
                            .filter(exists(posts))
                            .select(User::as_select())
                            .load(conn))?;
                        users.iter().map(|u| u.id as u64).sum::<u64>()
                    });
                    "filter: events without a guest named user1..", 10 => ten_calls!({
                        let guests = rsvps::table
                            .inner_join(users::table)
                            .filter(rsvps::event_id.eq(events::id))
                            .filter(users::name.like("user1%"));
                        let events: Vec<Event> = w!($mode, events::table
                            .filter(diesel::dsl::not(exists(guests)))
                            .select(Event::as_select())
                            .load(conn))?;
                        events.iter().map(|e| e.id as u64).sum::<u64>()
                    });
                    "counts: posts of each user", 10 => ten_calls!({
                        let rows: Vec<(Option<i32>, i64)> = w!($mode, Post::belonging_to(users.as_slice())
                            .group_by(posts::author_id)
                            .select((posts::author_id, diesel::dsl::count_star()))
                            .load(conn))?;
                        let by_user: std::collections::HashMap<i32, i64> =
                            rows.into_iter().filter_map(|(u, n)| Some((u?, n))).collect();
                        let counts: Vec<i64> = users.iter().map(|u| by_user.get(&u.id).copied().unwrap_or(0)).collect();
                        aligned_checksum(&counts)
                    });
                    "counts: guests of each event", 10 => ten_calls!({
                        let rows: Vec<(i32, i64)> = w!($mode, Rsvp::belonging_to(events.as_slice())
                            .group_by(rsvps::event_id)
                            .select((rsvps::event_id, diesel::dsl::count_star()))
                            .load(conn))?;
                        let by_event: std::collections::HashMap<i32, i64> = rows.into_iter().collect();
                        let counts: Vec<i64> = events.iter().map(|e| by_event.get(&e.id).copied().unwrap_or(0)).collect();
                        aligned_checksum(&counts)
                    });
                    "include: events, their guests, the guests' posts", 10 => ten_calls!({
                        let events: Vec<Event> = w!($mode, events::table.select(Event::as_select()).load(conn))?;
                        let rows: Vec<(Rsvp, User)> = w!($mode, Rsvp::belonging_to(&events)
                            .inner_join(users::table)
                            .select((Rsvp::as_select(), User::as_select()))
                            .load(conn))?;
                        let guests: Vec<Vec<User>> = rows
                            .grouped_by(&events)
                            .into_iter()
                            .map(|rows| rows.into_iter().map(|(_, u)| u).collect())
                            .collect();
                        // The next level over every event's guests at once, each
                        // guest once: `grouped_by` gives a parent listed twice its
                        // rows only once (under the last), so the parents are
                        // made distinct and each guest's posts cloned under
                        // every event.
                        let mut seen = std::collections::HashSet::new();
                        let distinct: Vec<User> =
                            guests.iter().flatten().filter(|u| seen.insert(u.id)).cloned().collect();
                        let posts: Vec<Post> = w!($mode, Post::belonging_to(&distinct).select(Post::as_select()).load(conn))?;
                        let by_user: std::collections::HashMap<i32, Vec<Post>> =
                            distinct.iter().map(|u| u.id).zip(posts.grouped_by(&distinct)).collect();
                        let tree: Vec<Vec<(User, Vec<Post>)>> = guests
                            .into_iter()
                            .map(|users| users.into_iter().map(|u| {
                                let posts = by_user.get(&u.id).cloned().unwrap_or_default();
                                (u, posts)
                            }).collect())
                            .collect();
                        tree.iter().flatten().map(|(u, posts)| {
                            u.id as u64 + posts.iter().map(|p| p.id as u64).sum::<u64>()
                        }).sum::<u64>() + events.len() as u64
                    });
                ))
            }
        }
    };
}

workload!(sqlite, diesel::SqliteConnection, sync, postgres: false);

/// The workload through SeaORM, for the async comparison.
#[cfg(feature = "seaorm")]
#[path = "bench/seaorm.rs"]
mod seaorm;
#[cfg(feature = "postgres")]
workload!(pg, diesel::PgConnection, sync, postgres: true);
#[cfg(feature = "postgres")]
workload!(pg_async, orm_core::diesel_async::AsyncPgConnection, async, postgres: true);

/// One side of a comparison: how to open its database, count its
/// statements, seed it, and the workload and end state it runs.
struct Side<C> {
    open: Box<dyn FnMut() -> QueryResult<C>>,
    attach: fn(&mut C) -> Counter,
    seed: fn(&mut C) -> QueryResult<()>,
    phases: fn(&mut C) -> QueryResult<Phases<C>>,
    end_state: fn(&mut C) -> QueryResult<u64>,
}

/// Runs both sides `rounds` times, each on a fresh database of its own:
/// phase by phase, the two sides one after the other, alternating which
/// goes first, so that both see the same machine. Prints the table, the
/// second side named `reference`.
fn compare<G, H>(
    backend: &str,
    rounds: usize,
    reference: &str,
    mut generated: Side<G>,
    mut by_hand: Side<H>,
) -> QueryResult<()> {
    if std::env::var("BENCH_ONLY").is_ok_and(|only| !backend.contains(&only)) {
        return Ok(());
    }
    let mut phases: Vec<Phase> = Vec::new();
    let mut ends = (0, 0);
    for round in 0..rounds {
        let (mut g, mut h) = ((generated.open)()?, (by_hand.open)()?);
        (generated.seed)(&mut g)?;
        (by_hand.seed)(&mut h)?;
        let (mut g_phases, mut h_phases) = ((generated.phases)(&mut g)?, (by_hand.phases)(&mut h)?);
        let (g_log, h_log) = ((generated.attach)(&mut g), (by_hand.attach)(&mut h));
        for (i, ((name, calls, g_run), (_, _, h_run))) in
            g_phases.iter_mut().zip(&mut h_phases).enumerate()
        {
            if phases.len() <= i {
                phases.push(Phase {
                    name,
                    calls: *calls,
                    generated: vec![],
                    hand: vec![],
                    statements: (0, 0),
                    checksums: (0, 0),
                });
            }
            let phase = &mut phases[i];
            for side in [(round + i) % 2, 1 - (round + i) % 2] {
                let log = if side == 0 { &g_log } else { &h_log };
                log.clear();
                let start = Instant::now();
                let checksum = if side == 0 {
                    g_run(&mut g)?
                } else {
                    h_run(&mut h)?
                };
                let elapsed = start.elapsed();
                if std::env::var("BENCH_SQL").is_ok() {
                    println!("{name}: {}", log.first());
                }
                if std::env::var("BENCH_TRACE").is_ok_and(|p| p == *name) {
                    let first = side == (round + i) % 2;
                    println!("{name}, round {round}: side {side} (first: {first}) {elapsed:?}");
                }
                if side == 0 {
                    phase.generated.push((elapsed, side == (round + i) % 2));
                    (phase.statements.0, phase.checksums.0) = (log.count(), checksum);
                } else {
                    phase.hand.push((elapsed, side == (round + i) % 2));
                    (phase.statements.1, phase.checksums.1) = (log.count(), checksum);
                }
            }
        }
        ends = ((generated.end_state)(&mut g)?, (by_hand.end_state)(&mut h)?);
    }
    println!(
        "{backend}: {rounds} rounds; each side on a database of its own, phase by phase; \
         per side, its fastest round; and the median over rounds of each round's ratio.\n"
    );
    println!("| phase (calls) | generated ms | {reference} ms | ratio | ratio, median of rounds | statements (generated / {reference}) | checksums agree |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | :---: |");
    let (mut total_g, mut total_h) = (0.0, 0.0);
    let mut all_agree = true;
    // Each round's whole workload, per side, for the paired median.
    let mut rounds_g = vec![(Duration::ZERO, false); rounds];
    let mut rounds_h = rounds_g.clone();
    for p in phases {
        let (g, h) = (fastest(&p.generated) * 1e3, fastest(&p.hand) * 1e3);
        total_g += g;
        total_h += h;
        for (total, run) in rounds_g.iter_mut().zip(&p.generated) {
            total.0 += run.0;
        }
        for (total, run) in rounds_h.iter_mut().zip(&p.hand) {
            total.0 += run.0;
        }
        let agree = p.checksums.0 == p.checksums.1;
        all_agree &= agree;
        println!(
            "| {} ({}) | {g:.2} | {h:.2} | {:.2}× | {:.2}× | {} / {} | {} |",
            p.name,
            p.calls,
            g / h,
            paired_median(&p.generated, &p.hand),
            p.statements.0,
            p.statements.1,
            if agree { "yes" } else { "NO" }
        );
    }
    println!(
        "| **whole workload** | **{total_g:.1}** | **{total_h:.1}** | **{:.2}×** | **{:.2}×** | | |\n",
        total_g / total_h,
        paired_median(&rounds_g, &rounds_h)
    );
    println!(
        "End state (every row of `rsvps` and `posts`) agrees: {}\n",
        if ends.0 == ends.1 { "yes" } else { "NO" }
    );
    assert!(
        all_agree && ends.0 == ends.1,
        "the two sides did different work"
    );
    Ok(())
}

/// A side of the workload on connections of module `$m` opened by `$open`.
macro_rules! side {
    ($m:ident, $open:expr) => {
        Side {
            open: Box::new($open),
            attach: $m::attach,
            seed: $m::seed,
            phases: $m::generated,
            end_state: $m::end_state,
        }
    };
}

fn main() -> QueryResult<()> {
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(8);
    let sqlite = || {
        let mut conn = orm_core::sqlite::memory().expect("in-memory SQLite");
        orm::schema().create_all(&mut conn)?;
        Ok(conn)
    };
    compare(
        "SQLite in memory",
        rounds,
        "idiomatic diesel",
        side!(sqlite, sqlite),
        Side {
            phases: sqlite::by_hand,
            ..side!(sqlite, sqlite)
        },
    )?;
    #[cfg(feature = "postgres")]
    match std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(url) => postgres(&url, rounds)?,
        None => println!("PostgreSQL: skipped, DATABASE_URL is not set"),
    }
    Ok(())
}

/// A fresh schema `orm_bench_{name}` with the workload's tables: made anew
/// for each round, dropped at the end.
#[cfg(feature = "postgres")]
fn pg_schema(url: &str, name: &str) -> QueryResult<diesel::PgConnection> {
    use diesel::connection::SimpleConnection;
    let mut conn = orm_core::pg::connect(url).expect("connect to DATABASE_URL");
    conn.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS orm_bench_{name} CASCADE; CREATE SCHEMA orm_bench_{name}; \
         SET search_path TO orm_bench_{name}"
    ))?;
    orm::schema().create_all(&mut conn)?;
    Ok(conn)
}

/// The comparisons on PostgreSQL: diesel's connection, diesel-async's, and
/// (feature `seaorm`) diesel-async's against SeaORM.
#[cfg(feature = "postgres")]
fn postgres(url: &str, rounds: usize) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    let sync = |name: &'static str| {
        let url = url.to_owned();
        move || pg_schema(&url, name)
    };
    compare(
        "PostgreSQL",
        rounds,
        "idiomatic diesel",
        side!(pg, sync("g")),
        Side {
            phases: pg::by_hand,
            ..side!(pg, sync("h"))
        },
    )?;
    // The same workload on diesel-async: the generated methods awaited,
    // against diesel-async written as its README teaches.
    let asynchronous = |name: &'static str| {
        let url = url.to_owned();
        move || {
            use orm_core::diesel_async::{AsyncConnection, SimpleAsyncConnection};
            drop(pg_schema(&url, name)?);
            RT.block_on(async {
                let mut conn = orm_core::diesel_async::AsyncPgConnection::establish(&url)
                    .await
                    .expect("connect to DATABASE_URL");
                conn.batch_execute(&format!("SET search_path TO orm_bench_{name}"))
                    .await?;
                Ok(conn)
            })
        }
    };
    compare(
        "PostgreSQL, async (AsyncPgConnection)",
        rounds,
        "hand-written diesel-async",
        side!(pg_async, asynchronous("g")),
        Side {
            phases: pg_async::by_hand,
            ..side!(pg_async, asynchronous("h"))
        },
    )?;
    #[cfg(feature = "seaorm")]
    {
        // SeaORM's tables are the same ones, seeded the same way (plain
        // diesel, untimed).
        let sea_url = url.to_owned();
        let sea = move || {
            let mut seeded = pg_schema(&sea_url, "h")?;
            pg::seed(&mut seeded)?;
            seaorm::connect(&sea_url, "orm_bench_h")
        };
        compare(
            "PostgreSQL, async: the generated methods on AsyncPgConnection and SeaORM 2",
            rounds,
            "SeaORM",
            side!(pg_async, asynchronous("g")),
            Side {
                open: Box::new(sea),
                attach: seaorm::attach,
                seed: seaorm::seed,
                phases: seaorm::phases,
                end_state: seaorm::end_state,
            },
        )?;
    }
    if std::env::var("BENCH_ONLY").map_or(true, |only| "pipelining".contains(&only)) {
        pipelining(url)?;
    }
    orm_core::pg::connect(url)
        .expect("connect to DATABASE_URL")
        .batch_execute(
            "DROP SCHEMA IF EXISTS orm_bench_g CASCADE; DROP SCHEMA IF EXISTS orm_bench_h CASCADE",
        )?;
    Ok(())
}

/// What pipelining saves: the two eager loads of one phase ("users with
/// posts and events"), one after the other and awaited together on
/// `&AsyncPgConnection`, on loopback and through a proxy that delays every
/// packet by `delay` each way (a network of `2 × delay` round trip).
#[cfg(feature = "postgres")]
fn pipelining(url: &str) -> QueryResult<()> {
    use orm::*;
    use orm_core::diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut seeded = pg_schema(url, "g")?;
    pg::seed(&mut seeded)?;
    println!("Pipelining: two eager loads of 2,000 users (their posts, their events), 20 calls each way, fastest of 5 runs.\n");
    println!(
        "| network | one after the other ms | pipelined ms | pipelined / one after the other |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for delay_ms in [0.0, 0.5] {
        let delay = Duration::from_secs_f64(delay_ms / 1e3);
        let (sequential, pipelined) = RT.block_on(async {
            let url = if delay.is_zero() {
                url.to_owned()
            } else {
                delay_proxy::through(url, delay).await
            };
            let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
            conn.batch_execute("SET search_path TO orm_bench_g").await?;
            let users = User::all(&mut conn).await?;
            let (mut sequential, mut pipelined) = (Duration::MAX, Duration::MAX);
            for _ in 0..5 {
                let start = Instant::now();
                for _ in 0..20 {
                    User::load_posts(&users, &mut conn).await?;
                    User::load_events(&users, &mut conn).await?;
                }
                sequential = sequential.min(start.elapsed());
                let start = Instant::now();
                for _ in 0..20 {
                    let (mut a, mut b) = (&conn, &conn);
                    tokio::try_join!(
                        User::load_posts(&users, &mut a),
                        User::load_events(&users, &mut b)
                    )?;
                }
                pipelined = pipelined.min(start.elapsed());
            }
            QueryResult::Ok((sequential, pipelined))
        })?;
        let network = if delay.is_zero() {
            "loopback".to_string()
        } else {
            format!("{:.1} ms round trip", 2.0 * delay_ms)
        };
        let (s, p) = (
            sequential.as_secs_f64() * 1e3,
            pipelined.as_secs_f64() * 1e3,
        );
        println!("| {network} | {s:.1} | {p:.1} | {:.2}× |", p / s);
    }
    println!();
    Ok(())
}

/// A TCP proxy that delivers every chunk `delay` after it arrived, in
/// order, each way: latency without a bandwidth limit.
#[cfg(feature = "postgres")]
mod delay_proxy {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::time::Instant;

    /// `url` with its host and port replaced by a proxy's that forwards to
    /// them with `delay` each way.
    pub async fn through(url: &str, delay: Duration) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let target = host.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&target).await.expect("the server");
                // As the client and the server themselves do: no Nagle.
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, delay));
                tokio::spawn(pipe(sr, cw, delay));
            }
        });
        let user = if user.is_empty() {
            String::new()
        } else {
            format!("{user}@")
        };
        format!("{scheme}://{user}{addr}/{path}")
    }

    async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
        tokio::spawn(async move {
            while let Some((at, bytes)) = rx.recv().await {
                tokio::time::sleep_until(at + delay).await;
                if to.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = vec![0; 1 << 16];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                break;
            }
        }
    }
}
