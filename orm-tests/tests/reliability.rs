//! The reliability suite: the promises under hostile input, injected faults
//! and races, on SQLite, PostgreSQL and (feature `mysql`) MariaDB.
//!
//! - `defects`: one test per defect found by trying the crate as a hostile
//!   user would (each failed before its fix);
//! - `hostile`: quotes, NUL, 1 MB strings, injection strings, keys at the
//!   integer limits, 100,000-key lists for every list method and loader;
//! - `faults`: a trigger, a CHECK or a deferred foreign key failing in the
//!   middle of every multi-statement method: no partial write;
//! - `races`: 8 threads run random writers of one association at once; after
//!   every round the rows and every returned count must be those of some
//!   serial order of the calls (checked by search over the orders);
//! - `crash`: a PostgreSQL server of its own stopped with `pg_ctl stop -m
//!   immediate` under a pool and restarted (only with `ORM_CRASH_TESTS=1`,
//!   which CI sets; it needs root and Debian's postgresql).
//!
//! Each test prints a `reliability:` line with its figures (operations,
//! faults injected, rows checked, lost, duplicated), and appends it to the
//! file `ORM_RELIABILITY_LOG` names, if set; `.ci/run` sums them.

mod common;

use std::collections::BTreeSet;

use orm_core::diesel::connection::SimpleConnection;
use orm_core::diesel::result::Error;
use orm_core::prelude::*;
use orm_core::{Dialect, QueryLog};
use orm_tests::*;

/// Prints the figures of one test, and appends them to the file
/// `ORM_RELIABILITY_LOG` names, for `.ci/run` to sum. A test reports only
/// when its checks passed: nothing lost, nothing duplicated.
fn report(test: &str, operations: usize, faults: usize, rows_checked: usize) {
    use std::io::Write;
    let line = format!(
        "reliability: {test}: operations={operations} faults={faults} rows_checked={rows_checked} lost=0 duplicated=0"
    );
    println!("{line}");
    if let Ok(path) = std::env::var("ORM_RELIABILITY_LOG") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the log");
        writeln!(file, "{line}").expect("append to the log");
    }
}

/// Creates a user named `$name`.
macro_rules! user {
    ($name:expr, $conn:expr) => {
        r!(User::create(NewUser { name: $name.into() }, $conn))
    };
}

/// Creates an event titled `$title`.
macro_rules! event {
    ($title:expr, $conn:expr) => {
        r!(Event::create(
            NewEvent {
                title: $title.into()
            },
            $conn
        ))
    };
}

/// The guests of `event`, as a set of keys, read from `rsvps` itself.
macro_rules! guest_ids {
    ($event:expr, $conn:expr) => {{
        let rows: Vec<i32> = r!(rsvps::table
            .filter(rsvps::event_id.eq($event.id))
            .select(rsvps::guest_id)
            .load($conn))?;
        let set: BTreeSet<i32> = rows.iter().copied().collect();
        assert_eq!(set.len(), rows.len(), "a duplicated join row");
        set
    }};
}

// A symmetric self-reference through a join model (defect 10).
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(
    Member,
    through = Pairing,
    as = "Partners",
    foreign_key = "member_id",
    other_key = "partner_id",
    symmetric
)]
pub struct Member {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(member_id, partner_id))]
pub struct Pairing {
    pub member_id: i32,
    pub partner_id: i32,
    pub note: String,
}

// A declared `set_default` (defect 12).
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Leaf, on_delete = "set_default")]
pub struct Tree {
    pub id: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Leaf {
    pub id: i32,
    pub tree_id: Option<i32>,
}

mod defects {
    use super::*;

    backend_tests! {
        // 1 is the `races` suite below.

        // 2: the refinement's own values leave room in each chunk of keys.
        fn refined_eager_loads_chunk_by_the_whole_statement(conn) {
            let ada = user!("ada", conn)?;
            r!(Post::create(NewPost { author_id: Some(ada.id), title: "p".into() }, conn))?;
            let mut parents: Vec<User> = (1..=40_000)
                .map(|i| User { id: ada.id + i, name: String::new() })
                .collect();
            parents.push(ada.clone());
            let posts = r!(User::load_posts_where(
                &parents,
                |q| q.filter(posts::title.ne("x")).filter(posts::title.ne("y")),
                conn,
            ))?;
            assert_eq!(posts.len(), parents.len());
            assert_eq!(posts.last().map(Vec::len), Some(1));
            assert!(posts[..40_000].iter().all(Vec::is_empty));

            let clubs: Vec<Club> = (1..=40_000).map(|i| Club { id: i, name: String::new() }).collect();
            let members = r!(Club::load_members_with_through_where(
                &clubs,
                |q| q.filter(memberships::role.ne("x")).filter(users::name.ne("y")),
                conn,
            ))?;
            assert_eq!(members.len(), clubs.len());
            report("refined_eager_loads_chunk_by_the_whole_statement", 2, 0, 1);
            Ok(())
        }

        // 4: a method's failure inside the caller's transaction rolls back
        // only that method, on every backend.
        fn a_caught_error_keeps_the_callers_transaction(conn) {
            let party = event!("party", conn)?;
            let (d, e) = (user!("d", conn)?, user!("e", conn)?);
            let missing = User::key(e.id + 1_000);
            tx!(conn, {
                r!(party.add_guest(&d, conn))?;
                assert!(r!(party.add_guest(missing, conn)).is_err(), "no such user");
                assert!(r!(party.set_guests(vec![d.key(), missing], conn)).is_err());
                let dup = r!(Membership::create(
                    NewMembership { club_id: 1_000, user_id: d.id, role: "x".into(), invited_by: None },
                    conn,
                ));
                assert!(dup.is_err(), "no such club");
                r!(party.add_guest(&e, conn))?;
                Ok::<_, Error>(())
            })?;
            assert_eq!(guest_ids!(party, conn), BTreeSet::from([d.id, e.id]));
            report("a_caught_error_keeps_the_callers_transaction", 5, 3, 2);
            Ok(())
        }

        // 5: acting through a missing parent is an error, even with nothing
        // to do.
        fn adding_nothing_through_a_missing_parent_is_not_found(conn) {
            let gone = event!("gone", conn)?;
            r!(gone.delete(conn))?;
            let none: Vec<User> = Vec::new();
            assert!(matches!(r!(gone.add_guests(&none, conn)), Err(Error::NotFound)));
            assert!(matches!(r!(gone.remove_guests(&none, conn)), Err(Error::NotFound)));
            assert!(matches!(r!(gone.set_guests(&none, conn)), Err(Error::NotFound)));
            assert!(matches!(r!(gone.clear_guests(conn)), Err(Error::NotFound)));
            let club = r!(Club::create(NewClub { name: "c".into() }, conn))?;
            r!(club.delete(conn))?;
            let payload = MembershipPayload { role: "r".into(), invited_by: None };
            assert!(matches!(r!(club.add_members_with(&none, payload, conn)), Err(Error::NotFound)));
            report("adding_nothing_through_a_missing_parent_is_not_found", 5, 0, 0);
            Ok(())
        }

        // 6 and 11: a symmetric association counts associations, and a row
        // paired with itself is one association stored as one row.
        fn symmetric_self_pairs_are_counted(conn) {
            let (u, v) = (user!("u", conn)?, user!("v", conn)?);
            assert_eq!(r!(u.add_buddy(&u, conn))?, 1);
            assert_eq!(buddyship_rows!(conn)?, vec![(u.id, u.id)]);
            assert_eq!(r!(u.add_buddy(&u, conn))?, 0, "already there");
            assert_eq!(r!(u.remove_buddy(&u, conn))?, 1);
            assert_eq!(buddyship_rows!(conn)?, vec![]);
            assert_eq!(r!(u.add_buddies(&[u.clone(), v.clone()], conn))?, 2);
            assert_eq!(buddyship_rows!(conn)?, vec![(u.id, u.id), (u.id, v.id), (v.id, u.id)]);
            assert_eq!(r!(v.count_buddies(conn))?, 1);
            assert_eq!(r!(u.clear_buddies(conn))?, 2);
            assert_eq!(buddyship_rows!(conn)?, vec![]);
            r!(u.add_buddies(&[u.clone(), v.clone()], conn))?;
            assert_eq!(r!(u.set_buddies(vec![v.key()], conn))?, SetDiff { added: 0, removed: 1 });
            assert_eq!(buddyship_rows!(conn)?, vec![(u.id, v.id), (v.id, u.id)]);
            assert_eq!(r!(u.set_buddies(Vec::<Key<User>>::new(), conn))?, SetDiff { added: 0, removed: 1 });
            assert_eq!(r!(u.set_buddies(&[u.clone(), v.clone()], conn))?, SetDiff { added: 2, removed: 0 });
            assert_eq!(r!(u.remove_buddies(&[u.clone(), v.clone()], conn))?, 2);
            assert_eq!(buddyship_rows!(conn)?, vec![]);
            report("symmetric_self_pairs_are_counted", 11, 0, 8);
            Ok(())
        }

        // 10 and 11: the same through a join model, where both stored rows
        // of a pair carry the payload, and an add that updates a pair counts
        // it as written.
        fn symmetric_join_model_pairs_with_itself(conn) {
            r!(Schema::new().model::<Member>().model::<Pairing>().create_all(conn))?;
            let a = r!(Member::create(NewMember { name: "a".into() }, conn))?;
            let b = r!(Member::create(NewMember { name: "b".into() }, conn))?;
            let note = |n: &str| PairingPayload { note: n.into() };
            macro_rules! notes {
                ($conn:expr) => {
                    r!(pairings::table
                        .select((pairings::member_id, pairings::partner_id, pairings::note))
                        .order((pairings::member_id, pairings::partner_id))
                        .load::<(i32, i32, String)>($conn))
                };
            }
            assert_eq!(r!(a.add_partner_with(&a, note("self"), conn))?, 1);
            assert_eq!(notes!(conn)?, vec![(a.id, a.id, "self".into())]);
            assert_eq!(r!(a.add_partners_with(&[a.clone(), b.clone()], note("both"), conn))?, 2);
            assert_eq!(
                notes!(conn)?,
                vec![(a.id, a.id, "both".into()), (a.id, b.id, "both".into()), (b.id, a.id, "both".into())]
            );
            let diff = r!(a.set_partners_with(vec![a.key()], note("set"), &[], conn))?;
            assert_eq!(diff, SetDiff { added: 0, removed: 1 });
            assert_eq!(notes!(conn)?, vec![(a.id, a.id, "set".into())]);
            assert_eq!(r!(a.remove_partner(&a, conn))?, 1);
            assert_eq!(notes!(conn)?, vec![]);
            report("symmetric_join_model_pairs_with_itself", 5, 0, 6);
            Ok(())
        }

        // 11: `.limit()` inside `load_*_where` limits the whole query, not
        // each parent (that is `load_*_top`).
        fn limit_in_load_where_applies_to_the_whole_query(conn) {
            let (a, b) = (user!("a", conn)?, user!("b", conn)?);
            for author in [&a, &b, &a, &b] {
                r!(Post::create(NewPost { author_id: Some(author.id), title: "t".into() }, conn))?;
            }
            let limited = r!(User::load_posts_where(&[a.clone(), b.clone()], |q| q.order(posts::id).limit(1), conn))?;
            assert_eq!(limited.iter().map(Vec::len).sum::<usize>(), 1);
            let top = r!(User::load_posts_top(&[a.clone(), b.clone()], 1, posts::id.asc(), conn))?;
            assert_eq!(top.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1]);
            report("limit_in_load_where_applies_to_the_whole_query", 2, 0, 3);
            Ok(())
        }

        // 9: an empty schema creates nothing, on every backend.
        fn an_empty_schema_creates_nothing(conn) {
            r!(Schema::new().create_all(conn))?;
            report("an_empty_schema_creates_nothing", 1, 0, 0);
            Ok(())
        }

        // 12: `set_default` is refused where it would silently become
        // RESTRICT, and acts as declared elsewhere.
        fn set_default_is_enforced_or_refused(conn) {
            let schema = Schema::new().model::<Tree>().model::<Leaf>();
            if dialect(conn) == Dialect::Mysql {
                let err = r!(schema.create_all(conn)).expect_err("MariaDB would turn it into RESTRICT");
                assert!(err.to_string().contains("set_default"), "{err}");
                report("set_default_is_enforced_or_refused", 1, 0, 0);
                return Ok(());
            }
            r!(schema.create_all(conn))?;
            let tree = r!(Tree::create(NewTree {}, conn))?;
            let leaf = r!(Leaf::create(NewLeaf { tree_id: Some(tree.id) }, conn))?;
            r!(tree.delete(conn))?;
            assert_eq!(r!(Leaf::find(leaf.id, conn))?.tree_id, None, "SET DEFAULT (NULL)");
            report("set_default_is_enforced_or_refused", 3, 0, 1);
            Ok(())
        }
    }

    // 7: measuring across a clear counts the statements run. (About the
    // log, not the connection: on diesel's SQLite.)
    #[test]
    fn query_log_measures_across_a_clear() -> TestResult {
        let conn = &mut orm_tests::sqlite();
        let log = QueryLog::attach(conn);
        User::count(conn)?;
        let (result, ran) = log.measure(|| {
            log.clear();
            User::count(conn)
        });
        result?;
        assert_eq!(ran, 1);
        report("query_log_measures_across_a_clear", 2, 0, 0);
        Ok(())
    }

    mod counts {
        use super::*;

        /// The statements each method runs, per backend: (SQLite, PostgreSQL,
        /// MySQL). The README's table is this one.
        const STATEMENTS: &[(&str, [usize; 3])] = &[
            ("create", [1, 1, 3]),
            (
                "find / all / count / guests / count_guests / has_guest",
                [1, 1, 1],
            ),
            ("save / delete", [1, 1, 1]),
            ("add_guest (new pair)", [1, 1, 5]),
            ("add_guest (existing pair)", [1, 1, 4]),
            ("add_guests (3)", [1, 1, 5]),
            ("remove_guest", [1, 1, 1]),
            ("remove_guests (2)", [3, 4, 4]),
            ("set_guests (1 kept, 1 added)", [4, 5, 5]),
            ("set_guests (1 kept, 1 removed, 1 added)", [4, 5, 6]),
            ("clear_guests", [1, 4, 4]),
            ("create_guest", [4, 4, 6]),
            ("staged save (1 new, 1 add, 1 remove)", [5, 6, 9]),
            ("add_member_with (join model)", [1, 1, 1]),
            ("set_members_with (join model)", [5, 6, 6]),
            ("add_post", [1, 1, 1]),
            ("add_posts (2)", [3, 4, 4]),
            ("remove_post", [1, 1, 1]),
            ("set_posts (1 added)", [4, 4, 5]),
            ("set_posts (1 removed, 1 added)", [4, 4, 6]),
            ("clear_posts", [1, 4, 4]),
            ("create_post", [1, 1, 3]),
            ("set_author", [1, 1, 1]),
            ("load_guests (eager)", [1, 1, 1]),
            ("load_posts / load_authors (eager)", [1, 1, 1]),
        ];

        backend_tests! {
            // 13: the statements each method runs, per backend, pinned.
            fn statement_counts_per_backend(conn) {
                let column = match dialect(conn) {
                    Dialect::Sqlite => 0,
                    Dialect::Postgres => 1,
                    Dialect::Mysql => 2,
                };
                let party = event!("party", conn)?;
                let (a, b) = (user!("a", conn)?, user!("b", conn)?);
                let (c, d) = (user!("c", conn)?, user!("d", conn)?);
                let club = r!(Club::create(NewClub { name: "club".into() }, conn))?;
                let mut post = r!(Post::create(NewPost { author_id: None, title: "p".into() }, conn))?;
                let other = r!(Post::create(NewPost { author_id: None, title: "q".into() }, conn))?;
                let role = MembershipPayload { role: "r".into(), invited_by: None };
                let log = QueryLog::attach(conn);
                let mut measured: Vec<(&str, usize)> = Vec::new();
                macro_rules! count {
                    ($name:expr, $call:expr) => {{
                        log.clear();
                        let _ = $call;
                        measured.push(($name, log.count()));
                    }};
                }
                count!("create", user!("e", conn)?);
                count!("find / all / count / guests / count_guests / has_guest", r!(party.guests(conn))?);
                count!("save / delete", r!(party.save(conn))?);
                count!("add_guest (new pair)", r!(party.add_guest(&a, conn))?);
                count!("add_guest (existing pair)", r!(party.add_guest(&a, conn))?);
                count!("add_guests (3)", r!(party.add_guests(&[b.clone(), c.clone(), d.clone()], conn))?);
                count!("remove_guest", r!(party.remove_guest(&d, conn))?);
                count!("remove_guests (2)", r!(party.remove_guests(&[b.clone(), c.clone()], conn))?);
                count!("set_guests (1 kept, 1 added)", r!(party.set_guests(&[a.clone(), b.clone()], conn))?);
                count!("set_guests (1 kept, 1 removed, 1 added)", r!(party.set_guests(&[b.clone(), c.clone()], conn))?);
            count!("clear_guests", r!(party.clear_guests(conn))?);
                count!("create_guest", r!(party.create_guest(NewUser { name: "f".into() }, conn))?);
                count!("staged save (1 new, 1 add, 1 remove)", {
                    let mut changes = party.guests_changes();
                    changes.add_new(NewUser { name: "g".into() }).add(&c).remove(&a);
                    r!(changes.save(conn))?
                });
                count!("add_member_with (join model)", r!(club.add_member_with(&a, role.clone(), conn))?);
                count!("set_members_with (join model)", r!(club.set_members_with(std::slice::from_ref(&b), role.clone(), &[], conn))?);
                count!("add_post", r!(a.add_post(&post, conn))?);
                count!("add_posts (2)", r!(b.add_posts(&[post.clone(), other.clone()], conn))?);
                count!("remove_post", r!(b.remove_post(&post, conn))?);
                count!("set_posts (1 added)", r!(a.set_posts(std::slice::from_ref(&post), conn))?);
                count!("set_posts (1 removed, 1 added)", {
                    let diff = r!(a.set_posts(std::slice::from_ref(&other), conn))?;
                    assert_eq!(diff, SetDiff { added: 1, removed: 1 });
                });
                count!("clear_posts", r!(a.clear_posts(conn))?);
                count!("create_post", r!(a.create_post(NewPost { author_id: None, title: "r".into() }, conn))?);
                count!("set_author", r!(post.set_author(&b, conn))?);
                count!("load_guests (eager)", r!(Event::load_guests(std::slice::from_ref(&party), conn))?);
                count!("load_posts / load_authors (eager)", r!(User::load_posts(std::slice::from_ref(&a), conn))?);
                let expected: Vec<(&str, usize)> = STATEMENTS.iter().map(|(name, counts)| (*name, counts[column])).collect();
                assert_eq!(measured, expected, "{:?}", dialect(conn));
                report("statement_counts_per_backend", measured.len(), 0, 0);
                Ok(())
            }
        }
    }

    // 8: cancelling staged changes is linear (it was quadratic: 20,000
    // cancellations took seconds; these 200,000 take milliseconds).
    #[test]
    fn cancelling_staged_changes_is_linear() {
        let party = Event {
            id: 1,
            title: String::new(),
        };
        let mut changes = party.guests_changes();
        for id in 0..100_000 {
            changes.add(User::key(id));
        }
        for id in 0..100_000 {
            changes.remove(User::key(id));
        }
        changes.remove(User::key(7)).add(User::key(8));
        let pending = changes.pending();
        assert_eq!(
            (pending.add, pending.remove),
            (vec![User::key(8)], vec![User::key(7)])
        );
        report("cancelling_staged_changes_is_linear", 200_002, 0, 0);
    }

    // 3: an `i32` key never wraps on SQLite: the table refuses the rowid
    // past `i32::MAX`, and a value another program stored out of range is
    // an error when read, not a wrapped number.
    #[test]
    fn i32_keys_do_not_wrap_on_sqlite() -> TestResult {
        let conn = &mut sqlite();
        conn.batch_execute(&format!(
            "INSERT INTO events (id, title) VALUES ({}, 'last')",
            i32::MAX
        ))?;
        let err = Event::create(
            NewEvent {
                title: "next".into(),
            },
            conn,
        )
        .expect_err("past i32::MAX");
        assert!(err.to_string().contains("CHECK"), "{err}");
        assert_eq!(Event::count(conn)?, 1, "nothing written");

        // A table created by another program, without the CHECK.
        conn.batch_execute(
            "DROP TABLE rsvps; DROP TABLE events; \
             CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT NOT NULL); \
             INSERT INTO events (id, title) VALUES (2147483648, 'wide'), (-2147483649, 'low'), (5, 'ok')",
        )?;
        for id in [i32::MIN, 0, 5] {
            let found = Event::find(id, conn);
            assert!(matches!(found, Err(Error::NotFound)) || found.is_ok_and(|e| e.id == 5));
        }
        let err = Event::all(conn).expect_err("2^31 does not fit an i32");
        // diesel's message names the field; the cause says why.
        assert!(err.to_string().contains("'id'"), "{err}");
        assert!(
            format!("{err:?}").contains("is out of range for the i32 of an INTEGER column"),
            "{err:?}"
        );
        report("i32_keys_do_not_wrap_on_sqlite", 6, 0, 3);
        Ok(())
    }
}

/// Defect 1 and the invariant behind it: concurrent writers of one
/// association leave the result of some serial order of the calls, and each
/// call's returned counts are true of that order.
mod races {
    use super::*;
    // Threads on diesel's connections: `r!` is the call itself.
    use orm_tests::r_blocking as r;
    use std::sync::mpsc;
    use std::sync::{Arc, Barrier};
    use std::thread;

    use common::*;
    use orm_core::diesel::r2d2::{ManageConnection, PooledConnection};

    /// One call of a writer of `event.guests`, on keys of a small universe.
    #[derive(Clone, Debug)]
    pub enum Op {
        Add(i32),
        AddMany(Vec<i32>),
        Remove(i32),
        RemoveMany(Vec<i32>),
        Set(Vec<i32>),
        Clear,
        /// Staged changes: add, remove, and one new user (its key, once
        /// known) if `create`.
        Save {
            add: Vec<i32>,
            remove: Vec<i32>,
            new: Option<i32>,
        },
        /// `create_guest`: a new user, and its key once known.
        Create(i32),
        /// has_many `add_post`: counts the row it points, even if it
        /// already pointed here.
        Attach(i32),
        /// has_many `add_posts`: counts every row it points.
        AttachMany(Vec<i32>),
    }

    /// What a call returned.
    #[derive(Clone, Debug, PartialEq)]
    pub enum Outcome {
        Count(usize),
        Diff(SetDiff),
        Created,
    }

    /// The call applied to `state` on its own: the serial semantics.
    fn apply(op: &Op, state: &mut BTreeSet<i32>) -> Outcome {
        match op {
            Op::Add(x) => Outcome::Count(state.insert(*x) as usize),
            Op::AddMany(xs) => Outcome::Count(xs.iter().filter(|x| state.insert(**x)).count()),
            Op::Remove(x) => Outcome::Count(state.remove(x) as usize),
            Op::RemoveMany(xs) => Outcome::Count(xs.iter().filter(|x| state.remove(*x)).count()),
            Op::Set(xs) => {
                let wanted: BTreeSet<i32> = xs.iter().copied().collect();
                let added = wanted.difference(state).count();
                let removed = state.difference(&wanted).count();
                *state = wanted;
                Outcome::Diff(SetDiff { added, removed })
            }
            Op::Clear => {
                let removed = state.len();
                state.clear();
                Outcome::Count(removed)
            }
            Op::Save { add, remove, new } => {
                let removed = remove.iter().filter(|x| state.remove(*x)).count();
                let added = add.iter().chain(new).filter(|x| state.insert(**x)).count();
                Outcome::Diff(SetDiff { added, removed })
            }
            Op::Create(x) => {
                state.insert(*x);
                Outcome::Created
            }
            Op::Attach(x) => {
                state.insert(*x);
                Outcome::Count(1)
            }
            Op::AttachMany(xs) => {
                state.extend(xs);
                Outcome::Count(xs.len())
            }
        }
    }

    /// Whether some order of `calls`, applied to `initial`, returns what
    /// each returned and ends in `end`. Depth-first over the orders, cut
    /// where a call's result differs.
    pub fn serial_order_exists(
        initial: &BTreeSet<i32>,
        calls: &[(Op, Outcome)],
        end: &BTreeSet<i32>,
    ) -> bool {
        fn search(
            state: &BTreeSet<i32>,
            calls: &[(Op, Outcome)],
            used: u32,
            end: &BTreeSet<i32>,
        ) -> bool {
            if used.count_ones() as usize == calls.len() {
                return state == end;
            }
            (0..calls.len()).filter(|i| used & (1 << i) == 0).any(|i| {
                let mut next = state.clone();
                apply(&calls[i].0, &mut next) == calls[i].1
                    && search(&next, calls, used | (1 << i), end)
            })
        }
        search(initial, calls, 0, end)
    }

    #[test]
    fn the_search_finds_orders_and_rejects_mixes() {
        let initial = BTreeSet::from([1, 2, 3]);
        let calls = [
            (
                Op::Set(vec![1, 2, 4]),
                Outcome::Diff(SetDiff {
                    added: 1,
                    removed: 1,
                }),
            ),
            (Op::Clear, Outcome::Count(3)),
        ];
        assert!(
            serial_order_exists(&initial, &calls, &BTreeSet::new()),
            "set, then clear"
        );
        assert!(
            !serial_order_exists(&initial, &calls, &BTreeSet::from([4])),
            "the lost update of defect 1"
        );
        let calls = [
            (
                Op::Set(vec![1, 2, 4]),
                Outcome::Diff(SetDiff {
                    added: 3,
                    removed: 0,
                }),
            ),
            (Op::Clear, Outcome::Count(3)),
        ];
        assert!(
            serial_order_exists(&initial, &calls, &BTreeSet::from([1, 2, 4])),
            "clear, then set"
        );
        let calls = [
            (
                Op::Set(vec![1, 2, 4]),
                Outcome::Diff(SetDiff {
                    added: 1,
                    removed: 1,
                }),
            ),
            (Op::Clear, Outcome::Count(2)),
        ];
        assert!(
            !serial_order_exists(&initial, &calls, &BTreeSet::new()),
            "a count no order gives"
        );
    }

    /// The op thread `t` runs in `round`, on `universe`.
    fn pick(rng: &mut Lcg, universe: &[i32]) -> Op {
        let some = |rng: &mut Lcg| -> Vec<i32> {
            universe
                .iter()
                .copied()
                .filter(|_| rng.next(2) == 0)
                .collect()
        };
        let one = |rng: &mut Lcg| universe[rng.next(universe.len())];
        match rng.next(8) {
            0 => Op::Add(one(rng)),
            1 => Op::AddMany(some(rng)),
            2 => Op::Remove(one(rng)),
            3 => Op::RemoveMany(some(rng)),
            4 => Op::Set(some(rng)),
            5 => Op::Clear,
            6 => {
                let add = some(rng);
                let remove = some(rng).into_iter().filter(|x| !add.contains(x)).collect();
                Op::Save {
                    add,
                    remove,
                    new: (rng.next(2) == 0).then_some(0),
                }
            }
            _ => Op::Create(0),
        }
    }

    /// A writer of a user's posts (has_many with a nullable key).
    fn pick_has_many(rng: &mut Lcg, universe: &[i32]) -> Op {
        let some = |rng: &mut Lcg| -> Vec<i32> {
            universe
                .iter()
                .copied()
                .filter(|_| rng.next(2) == 0)
                .collect()
        };
        let one = |rng: &mut Lcg| universe[rng.next(universe.len())];
        match rng.next(7) {
            0 => Op::Attach(one(rng)),
            1 => Op::AttachMany(some(rng)),
            2 => Op::Remove(one(rng)),
            3 => Op::RemoveMany(some(rng)),
            4 => Op::Set(some(rng)),
            5 => Op::Clear,
            _ => Op::Create(0),
        }
    }

    /// Runs `rounds` rounds of `THREADS` writers released at once: before
    /// each round `set_initial` puts a random subset of `universe` in place;
    /// each thread picks an op with `pick` and runs it with `run` (given a
    /// name no other call uses, for rows it creates); after each round the
    /// rows `read` returns and every call's result must be those of some
    /// serial order of the calls. Returns (calls, rows checked, retries).
    fn race<M, P, Run>(
        pool: &P,
        rounds: usize,
        universe: &[i32],
        pick: fn(&mut Lcg, &[i32]) -> Op,
        run: Run,
        mut set_initial: impl FnMut(&mut PooledConnection<M>, &[i32]) -> QueryResult<()>,
        mut read: impl FnMut(&mut PooledConnection<M>) -> QueryResult<BTreeSet<i32>>,
    ) -> Result<(usize, usize, usize), Box<dyn std::error::Error>>
    where
        M: ManageConnection,
        P: Connections<M>,
        Run: Fn(&mut Op, &mut PooledConnection<M>, String, &mut usize) -> Outcome
            + Send
            + Sync
            + 'static,
    {
        let run = Arc::new(run);
        let start = Arc::new(Barrier::new(THREADS + 1));
        let (sender, results) = mpsc::channel();
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (pool, start, sender, run) =
                    (pool.clone(), start.clone(), sender.clone(), run.clone());
                let universe = universe.to_vec();
                thread::spawn(move || {
                    let mut conn = pool.conn().expect("a pooled connection");
                    let mut rng = Lcg(t as u64 * 7919 + 17);
                    let mut retries = 0;
                    for round in 0..rounds {
                        let mut op = pick(&mut rng, &universe);
                        start.wait();
                        let outcome =
                            run(&mut op, &mut conn, format!("new-{round}-{t}"), &mut retries);
                        sender
                            .send((op, outcome))
                            .expect("the checker is listening");
                        start.wait();
                    }
                    retries
                })
            })
            .collect();
        drop(sender);
        let mut conn = pool.conn()?;
        let mut rng = Lcg(99);
        let (mut calls_checked, mut rows) = (0, 0);
        for round in 0..rounds {
            let initial: Vec<i32> = universe
                .iter()
                .copied()
                .filter(|_| rng.next(2) == 0)
                .collect();
            set_initial(&mut conn, &initial)?;
            let initial = read(&mut conn)?;
            start.wait();
            // A writer that panicked never reports: fail, not hang.
            let calls: Vec<(Op, Outcome)> = (0..THREADS)
                .map(|_| results.recv_timeout(std::time::Duration::from_secs(120)))
                .collect::<Result<_, _>>()
                .expect("a writer stopped reporting");
            start.wait();
            let end = read(&mut conn)?;
            assert!(
                serial_order_exists(&initial, &calls, &end),
                "round {round}: from {initial:?}, {calls:?} ended in {end:?}, which no serial order gives"
            );
            calls_checked += calls.len();
            rows += end.len();
        }
        let retries = handles
            .into_iter()
            .map(|h| h.join().expect("a writer panicked"))
            .sum();
        Ok((calls_checked, rows, retries))
    }

    macro_rules! race_tests {
        ($pool:path) => {
            /// 8 threads, each running one random writer of the same
            /// event's guests per round.
            #[test]
            fn writers_of_one_association_are_serializable() -> TestResult {
                let Some((_setup, pool)) = $pool("writers_of_one_association_are_serializable") else {
                    return Ok(());
                };
                let mut conn = pool.get()?;
                let party = event!("party", &mut *conn)?;
                let universe: Vec<i32> = users(8, &mut *conn)?.iter().map(|u| u.id).collect();
                drop(conn);
                let keys = |xs: &[i32]| xs.iter().map(|x| User::key(*x)).collect::<Vec<_>>();
                let writer = party.clone();
                let (calls, rows, retries) = race(
                    &pool,
                    60,
                    &universe,
                    pick,
                    move |op, conn, name, retries| {
                        let party = &writer;
                        let conn = &mut **conn;
                        match op {
                            Op::Add(x) => Outcome::Count(retrying(conn, retries, |c| party.add_guest(User::key(*x), c))),
                            Op::AddMany(xs) => Outcome::Count(retrying(conn, retries, |c| party.add_guests(keys(xs), c))),
                            Op::Remove(x) => Outcome::Count(retrying(conn, retries, |c| party.remove_guest(User::key(*x), c))),
                            Op::RemoveMany(xs) => Outcome::Count(retrying(conn, retries, |c| party.remove_guests(keys(xs), c))),
                            Op::Set(xs) => Outcome::Diff(retrying(conn, retries, |c| party.set_guests(keys(xs), c))),
                            Op::Clear => Outcome::Count(retrying(conn, retries, |c| party.clear_guests(c))),
                            Op::Save { add, remove, new } => {
                                let diff = retrying(conn, retries, |c| {
                                    let mut changes = party.guests_changes();
                                    for x in add.iter() {
                                        changes.add(User::key(*x));
                                    }
                                    for x in remove.iter() {
                                        changes.remove(User::key(*x));
                                    }
                                    if new.is_some() {
                                        changes.add_new(NewUser { name: name.clone() });
                                    }
                                    changes.save(c)
                                });
                                if new.is_some() {
                                    let id = users::table.filter(users::name.eq(&name)).select(users::id).first(conn).expect("the new user");
                                    *new = Some(id);
                                }
                                Outcome::Diff(diff)
                            }
                            Op::Create(x) => {
                                let created = retrying(conn, retries, |c| party.create_guest(NewUser { name: name.clone() }, c));
                                *x = created.id;
                                Outcome::Created
                            }
                            other => unreachable!("not a belongs_to_many writer: {other:?}"),
                        }
                    },
                    |conn, initial| party.set_guests(keys(initial), &mut **conn).map(drop),
                    |conn| Ok(guest_ids!(party, &mut **conn)),
                )?;
                println!("{THREADS} threads: {calls} calls, every round serializable, {retries} retries");
                report("writers_of_one_association_are_serializable", calls, 0, rows);
                Ok(())
            }

            /// The same for a has_many: one user's posts.
            #[test]
            fn has_many_writers_are_serializable() -> TestResult {
                let Some((_setup, pool)) = $pool("has_many_writers_are_serializable") else {
                    return Ok(());
                };
                let mut conn = pool.get()?;
                let author = users(1, &mut *conn)?.remove(0);
                let universe: Vec<i32> = (0..8)
                    .map(|i| Post::create(NewPost { author_id: None, title: format!("p{i}") }, &mut *conn).map(|p| p.id))
                    .collect::<QueryResult<_>>()?;
                drop(conn);
                let keys = |xs: &[i32]| xs.iter().map(|x| Post::key(*x)).collect::<Vec<_>>();
                let writer = author.clone();
                let (calls, rows, retries) = race(
                    &pool,
                    40,
                    &universe,
                    pick_has_many,
                    move |op, conn, title, retries| {
                        let author = &writer;
                        let conn = &mut **conn;
                        match op {
                            Op::Attach(x) => Outcome::Count(retrying(conn, retries, |c| author.add_post(Post::key(*x), c))),
                            Op::AttachMany(xs) => Outcome::Count(retrying(conn, retries, |c| author.add_posts(keys(xs), c))),
                            Op::Remove(x) => Outcome::Count(retrying(conn, retries, |c| author.remove_post(Post::key(*x), c))),
                            Op::RemoveMany(xs) => Outcome::Count(retrying(conn, retries, |c| author.remove_posts(keys(xs), c))),
                            Op::Set(xs) => Outcome::Diff(retrying(conn, retries, |c| author.set_posts(keys(xs), c))),
                            Op::Clear => Outcome::Count(retrying(conn, retries, |c| author.clear_posts(c))),
                            Op::Create(x) => {
                                let post = retrying(conn, retries, |c| {
                                    author.create_post(NewPost { author_id: None, title: title.clone() }, c)
                                });
                                *x = post.id;
                                Outcome::Created
                            }
                            other => unreachable!("not a has_many writer: {other:?}"),
                        }
                    },
                    |conn, initial| author.set_posts(keys(initial), &mut **conn).map(drop),
                    |conn| {
                        let ids: Vec<i32> = posts::table
                            .filter(posts::author_id.eq(author.id))
                            .select(posts::id)
                            .load(&mut **conn)?;
                        Ok(ids.into_iter().collect())
                    },
                )?;
                println!("has_many, {THREADS} threads: {calls} calls, every round serializable, {retries} retries");
                report("has_many_writers_are_serializable", calls, 0, rows);
                Ok(())
            }
        };
    }

    mod sqlite {
        use super::*;
        race_tests!(sqlite_pool);
    }

    mod postgres {
        use super::*;
        race_tests!(pg_pool);
    }

    #[cfg(feature = "mysql")]
    mod mysql {
        use super::*;
        race_tests!(mysql_pool);
    }

    /// The threads spread over the three nodes of a Galera cluster
    /// (`GALERA_URLS`), with certified parent locks, each call in `retry`.
    #[cfg(feature = "mysql")]
    mod galera {
        use super::*;
        race_tests!(galera_pool);
    }
}

/// A failure in the middle of every multi-statement method leaves nothing
/// of it behind.
mod faults {
    use super::*;

    /// What a poisoned row makes fail.
    #[derive(Clone, Copy)]
    enum On {
        Insert,
        Update,
        Delete,
    }

    /// Makes every `on` of a row of `table` whose `column` is `value` fail,
    /// with a trigger (PL/pgSQL on PostgreSQL, SIGNAL on MySQL, RAISE on
    /// SQLite): the statement that creates it and the one that removes it.
    fn poison(dialect: Dialect, table: &str, column: &str, value: i32, on: On) -> (String, String) {
        let (event, row) = match on {
            On::Insert => ("INSERT", "NEW"),
            On::Update => ("UPDATE", "NEW"),
            On::Delete => ("DELETE", "OLD"),
        };
        let name = format!("poison_{table}_{}", event.to_lowercase());
        let sql = match dialect {
            Dialect::Sqlite => format!(
                "CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {row}.{column} = {value} \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            ),
            Dialect::Postgres => format!(
                "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$; \
                 CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW \
                 WHEN ({row}.{column} = {value}) EXECUTE FUNCTION injected_fault()"
            ),
            Dialect::Mysql => format!(
                "CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW BEGIN \
                 IF {row}.{column} = {value} THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected fault'; END IF; END"
            ),
        };
        let undo = match dialect {
            Dialect::Postgres => format!("DROP TRIGGER {name} ON {table}"),
            _ => format!("DROP TRIGGER {name}"),
        };
        (sql, undo)
    }

    /// Every row the scenarios touch, to compare before and after.
    macro_rules! snapshot {
        ($conn:expr) => {{
            let rsvps: Vec<(i32, i32)> = r!(rsvps::table
                .select((rsvps::event_id, rsvps::guest_id))
                .order((rsvps::event_id, rsvps::guest_id))
                .load($conn))?;
            let users: Vec<(i32, String)> = r!(users::table
                .select((users::id, users::name))
                .order(users::id)
                .load($conn))?;
            let buddies: Vec<(i32, i32)> = r!(buddyships::table
                .select((buddyships::user_id, buddyships::buddy_id))
                .order((buddyships::user_id, buddyships::buddy_id))
                .load($conn))?;
            let posts: Vec<Post> = r!(posts::table.order(posts::id).load($conn))?;
            let people: Vec<Person> = r!(people::table.order(people::id).load($conn))?;
            let members: Vec<(i32, i32, String)> = r!(memberships::table
                .select((
                    memberships::club_id,
                    memberships::user_id,
                    memberships::role,
                ))
                .order((memberships::club_id, memberships::user_id))
                .load($conn))?;
            (rsvps, users, buddies, posts, people, members)
        }};
    }

    /// Runs `$call` with `$table.$column = $value` poisoned for `$on`:
    /// it must fail with the injected fault and change no row.
    macro_rules! fails_whole {
        ($conn:expr, $faults:expr, ($table:literal, $column:literal, $value:expr, $on:expr), $call:expr) => {{
            let before = snapshot!($conn);
            let dialect = dialect($conn);
            let (create, undo) = poison(dialect, $table, $column, $value, $on);
            r!($conn.batch_execute(&create))?;
            let result = $call;
            r!($conn.batch_execute(&undo))?;
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{} must fail", stringify!($call)));
            assert!(
                err.to_string().contains("injected fault"),
                "{}: {err}",
                stringify!($call)
            );
            assert_eq!(
                snapshot!($conn),
                before,
                "{} left a partial write",
                stringify!($call)
            );
            $faults += 1;
        }};
    }

    backend_tests! {
        fn no_partial_write_when_a_statement_fails_midway(conn) {
            let mut faults = 0;
            let party = event!("party", conn)?;
            let (a, b, c) = (user!("a", conn)?, user!("b", conn)?, user!("c", conn)?);
            let (p, n) = (user!("p", conn)?, user!("n", conn)?);
            r!(party.add_guests(&[a.clone(), c.clone(), p.clone()], conn))?;

            // belongs_to_many: set adds n, then fails deleting p.
            fails_whole!(conn, faults, ("rsvps", "guest_id", p.id, On::Delete), r!(party.set_guests(&[a.clone(), n.clone()], conn)));
            // set fails inserting p's pair among others.
            r!(party.remove_guest(&p, conn))?;
            fails_whole!(conn, faults, ("rsvps", "guest_id", p.id, On::Insert), r!(party.set_guests(&[b.clone(), p.clone(), n.clone()], conn)));
            fails_whole!(conn, faults, ("rsvps", "guest_id", p.id, On::Insert), r!(party.add_guests(&[b.clone(), p.clone(), n.clone()], conn)));
            r!(party.add_guest(&p, conn))?;
            fails_whole!(conn, faults, ("rsvps", "guest_id", p.id, On::Delete), r!(party.remove_guests(&[a.clone(), p.clone(), c.clone()], conn)));
            fails_whole!(conn, faults, ("rsvps", "guest_id", p.id, On::Delete), r!(party.clear_guests(conn)));
            // staged: the new user is inserted, then a join row fails.
            fails_whole!(conn, faults, ("rsvps", "guest_id", b.id, On::Insert), {
                let mut changes = party.guests_changes();
                changes.add_new(NewUser { name: "fresh".into() }).add(&b).remove(&c);
                r!(changes.save(conn))
            });
            // create: the user is inserted, then its join row fails.
            fails_whole!(conn, faults, ("rsvps", "event_id", party.id, On::Insert), r!(party.create_guest(NewUser { name: "new".into() }, conn)));

            // symmetric: this side's rows go, then a mirror row fails.
            r!(a.add_buddies(&[b.clone(), c.clone()], conn))?;
            fails_whole!(conn, faults, ("buddyships", "user_id", c.id, On::Delete), r!(a.clear_buddies(conn)));
            fails_whole!(conn, faults, ("buddyships", "user_id", c.id, On::Delete), r!(a.set_buddies(std::slice::from_ref(&n), conn)));

            // has_many: detach, then attach fails.
            macro_rules! post {
                ($title:expr, $conn:expr) => {
                    r!(Post::create(NewPost { author_id: Some(a.id), title: $title.into() }, $conn))
                };
            }
            let (p1, p2, p3) = (post!("1", conn)?, post!("2", conn)?, post!("3", conn)?);
            let loose = r!(Post::create(NewPost { author_id: None, title: "loose".into() }, conn))?;
            fails_whole!(conn, faults, ("posts", "id", loose.id, On::Update), r!(a.set_posts(&[p1.clone(), loose.clone()], conn)));
            fails_whole!(conn, faults, ("posts", "id", p3.id, On::Update), r!(a.remove_posts(&[p2.clone(), p3.clone()], conn)));
            fails_whole!(conn, faults, ("posts", "id", p3.id, On::Update), r!(b.add_posts(&[p2.clone(), p3.clone()], conn)));
            fails_whole!(conn, faults, ("posts", "id", p3.id, On::Update), r!(a.clear_posts(conn)));

            // has_one: the old row is detached, then pointing the new fails.
            let dad = r!(Person::create(NewPerson { name: "dad".into(), father_id: None }, conn))?;
            let kid = r!(Person::create(NewPerson { name: "kid".into(), father_id: Some(dad.id) }, conn))?;
            let other = r!(Person::create(NewPerson { name: "other".into(), father_id: None }, conn))?;
            fails_whole!(conn, faults, ("people", "id", other.id, On::Update), r!(dad.set_father(&other, conn)));
            let _ = kid;
            // belongs_to: the parent is inserted, then pointing at it fails.
            let mut p1 = p1;
            fails_whole!(conn, faults, ("posts", "id", p1.id, On::Update), r!(p1.create_author(NewUser { name: "author".into() }, conn)));

            // A join model read-and-write: the upsert fails.
            let club = r!(Club::create(NewClub { name: "club".into() }, conn))?;
            r!(club.add_members(&[a.clone(), b.clone()], conn))?;
            let role = MembershipPayload { role: "x".into(), invited_by: None };
            fails_whole!(conn, faults, ("memberships", "user_id", c.id, On::Insert), r!(club.set_members_with(&[b.clone(), c.clone()], role.clone(), &[], conn)));

            // A CHECK (a trigger on SQLite, which cannot add one to a table).
            let check = match dialect(conn) {
                Dialect::Sqlite => {
                    r!(conn.batch_execute("CREATE TRIGGER no_poison BEFORE INSERT ON users WHEN NEW.name = 'poison' \
                                        BEGIN SELECT RAISE(ABORT, 'injected fault: CHECK'); END"))?;
                    "DROP TRIGGER no_poison"
                }
                _ => {
                    r!(conn.batch_execute("ALTER TABLE users ADD CONSTRAINT no_poison CHECK (name <> 'poison')"))?;
                    "ALTER TABLE users DROP CONSTRAINT no_poison"
                }
            };
            let before = snapshot!(conn);
            let mut changes = party.guests_changes();
            changes.remove(&a).add(&n).add_new(NewUser { name: "fine".into() }).add_new(NewUser { name: "poison".into() });
            assert!(r!(changes.save(conn)).is_err(), "the CHECK refuses the second new user");
            assert_eq!(snapshot!(conn), before, "staged save with a CHECK failure");
            r!(conn.batch_execute(check))?;
            faults += 1;

            // A deferred foreign key fails only at COMMIT (PostgreSQL).
            if dialect(conn) == Dialect::Postgres {
                r!(conn.batch_execute(
                    "ALTER TABLE rsvps DROP CONSTRAINT rsvps_guest_id_fkey; \
                     ALTER TABLE rsvps ADD CONSTRAINT rsvps_guest_id_fkey FOREIGN KEY (guest_id) \
                     REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
                ))?;
                let before = snapshot!(conn);
                let ghost = User::key(n.id + 1_000);
                let err = r!(party.set_guests(vec![b.key(), ghost], conn)).expect_err("fails at COMMIT");
                assert!(err.to_string().contains("foreign key"), "{err}");
                assert_eq!(snapshot!(conn), before, "set_* with a deferred foreign key");
                faults += 1;
            }
            let rows = snapshot!(conn);
            let checked = rows.0.len() + rows.1.len() + rows.2.len() + rows.3.len() + rows.4.len() + rows.5.len();
            report("no_partial_write_when_a_statement_fails_midway", faults, faults, checked * faults);
            Ok(())
        }
    }
}

/// Values an attacker or a careless caller sends.
mod hostile {
    use super::*;

    const KEYS: usize = 100_000;

    /// Inserts `n` users named `{prefix}{i}`.
    macro_rules! insert_users {
        ($conn:expr, $prefix:expr, $n:expr) => {{
            let news: Vec<NewUser> = (0..$n)
                .map(|i| NewUser {
                    name: format!("{}{i}", $prefix),
                })
                .collect();
            r!(User::create_many(news, $conn))?;
            let ids: Vec<i32> = r!(users::table
                .filter(users::name.like(format!("{}%", $prefix)))
                .select(users::id)
                .order(users::id)
                .load($conn))?;
            assert_eq!(ids.len(), $n);
            ids.into_iter().map(User::key).collect::<Vec<Key<User>>>()
        }};
    }

    backend_tests! {
        fn strings_travel_as_values(conn) {
            let megabyte = "x".repeat(1 << 20);
            let nasty = [
                "O'Reilly", "\"quoted\"", "back\\slash", "'; DROP TABLE users; --",
                "Robert'); DELETE FROM rsvps; --", "%_ LIKE wildcards", "? $1 :name @p",
                "ünïcødé ✓ 𝄞", "", megabyte.as_str(),
            ];
            let mut checked = 0;
            let mut stored = nasty.len() as i64;
            for name in nasty {
                if name.len() > 65_535 && dialect(conn) == Dialect::Mysql {
                    // MySQL's TEXT holds 64 KiB: an error, nothing written.
                    let before = r!(User::count(conn))?;
                    assert!(user!(name, conn).is_err());
                    assert_eq!(r!(User::count(conn))?, before);
                    stored -= 1;
                    continue;
                }
                let u = user!(name, conn)?;
                assert_eq!(r!(User::find(u.id, conn))?.name, name);
                let found: Vec<User> = r!(User::query().filter(users::name.eq(name)).load(conn))?;
                assert_eq!(found, vec![u.clone()]);
                checked += 2;
            }
            assert_eq!(r!(User::count(conn))?, stored, "no statement was injected");
            // NUL: PostgreSQL refuses it in text, and nothing is written.
            let nul = user!("a\0b", conn);
            match dialect(conn) {
                Dialect::Postgres => assert!(nul.is_err()),
                _ => assert_eq!(r!(User::find(nul?.id, conn))?.name, "a\0b"),
            }
            let payload = MembershipPayload { role: "'); DROP TABLE memberships; --".into(), invited_by: None };
            let club = r!(Club::create(NewClub { name: "\"club\"".into() }, conn))?;
            let u = user!("m", conn)?;
            r!(club.add_member_with(&u, payload.clone(), conn))?;
            assert_eq!(r!(Membership::find((club.id, u.id), conn))?.role, payload.role);
            report("strings_travel_as_values", 2 * nasty.len() + 3, 0, checked + 1);
            Ok(())
        }

        fn keys_at_the_integer_limits(conn) {
            let party = event!("party", conn)?;
            let mut operations = 0;
            for k in [i32::MAX, i32::MIN, 0, -1] {
                let key = User::key(k);
                assert!(matches!(r!(User::find(k, conn)), Err(Error::NotFound)));
                assert!(r!(party.add_guest(key, conn)).is_err(), "no user {k}: the foreign key refuses it");
                assert!(r!(party.set_guests(vec![key], conn)).is_err());
                assert!(!r!(party.has_guest(key, conn))?);
                assert_eq!(r!(party.remove_guest(key, conn))?, 0);
                let far = Event { id: k, title: String::new() };
                assert_eq!(r!(Event::load_guests(std::slice::from_ref(&far), conn))?, vec![Vec::<User>::new()]);
                assert!(matches!(r!(far.add_guests(Vec::<Key<User>>::new(), conn)), Err(Error::NotFound)));
                operations += 7;
            }
            assert_eq!(r!(party.count_guests(conn))?, 0, "nothing was written");
            report("keys_at_the_integer_limits", operations, 0, 1);
            Ok(())
        }

        fn hundred_thousand_key_lists(conn) {
            let party = event!("party", conn)?;
            let keys = insert_users!(conn, "k", KEYS);
            let half = &keys[..KEYS / 2];
            let mut operations = 0;

            assert_eq!(r!(party.add_guests(keys.clone(), conn))?, KEYS);
            assert_eq!(r!(party.add_guests(keys.clone(), conn))?, 0, "all there");
            assert!(r!(party.has_guests(keys.clone(), conn))?);
            assert_eq!(r!(party.count_guests(conn))?, KEYS as i64);
            assert_eq!(r!(party.guests(conn))?.len(), KEYS);
            assert_eq!(guest_ids!(party, conn).len(), KEYS);
            operations += 6;

            // Eager loaders with 100,000 parents (all but one without rows).
            let mut events: Vec<Event> = (1..KEYS as i32).map(|i| Event { id: party.id + i, title: String::new() }).collect();
            events.push(party.clone());
            let loaded = r!(Event::load_guests(&events, conn))?;
            assert_eq!((loaded.len(), loaded[KEYS - 1].len()), (KEYS, KEYS));
            let named = r!(Event::load_guests_where(&events, |q| q.filter(users::name.like("k1%")), conn))?;
            assert_eq!(named[KEYS - 1].len(), 11_111);
            let top = r!(Event::load_guests_top(&events, 2, users::id.asc(), conn))?;
            assert_eq!(top[KEYS - 1].len(), 2);
            let users_back: Vec<User> = r!(User::query().filter(users::name.like("k%")).load(conn))?;
            let posts = r!(User::load_posts(&users_back, conn))?;
            assert_eq!(posts.len(), KEYS);
            operations += 4;

            // Writers.
            assert_eq!(r!(party.set_guests(half.to_vec(), conn))?, SetDiff { added: 0, removed: KEYS / 2 });
            assert_eq!(r!(party.set_guests(keys.clone(), conn))?, SetDiff { added: KEYS / 2, removed: 0 });
            assert_eq!(r!(party.remove_guests(half.to_vec(), conn))?, KEYS / 2);
            let mut changes = party.guests_changes();
            for k in half {
                changes.add(*k);
            }
            for k in &keys[KEYS / 2..] {
                changes.remove(*k);
            }
            assert_eq!(r!(changes.save(conn))?, SetDiff { added: KEYS / 2, removed: KEYS / 2 });
            assert_eq!(guest_ids!(party, conn), half.iter().map(|k| *k.id()).collect());
            assert_eq!(r!(party.clear_guests(conn))?, KEYS / 2);
            operations += 5;

            // has_many: every user's posts moved to one author and back.
            let author = user!("author", conn)?;
            let news: Vec<NewPost> = (0..KEYS).map(|i| NewPost { author_id: None, title: format!("p{i}") }).collect();
            r!(Post::create_many(news, conn))?;
            let post_keys: Vec<Key<Post>> = r!(Post::all(conn))?.iter().map(|p| p.key()).collect();
            assert_eq!(r!(author.add_posts(post_keys.clone(), conn))?, KEYS);
            assert_eq!(r!(author.count_posts(conn))?, KEYS as i64);
            let all_posts = r!(Post::all(conn))?;
            assert_eq!(r!(Post::load_authors(&all_posts, conn))?.len(), KEYS);
            assert_eq!(r!(author.set_posts(post_keys[..KEYS / 2].to_vec(), conn))?, SetDiff { added: 0, removed: KEYS / 2 });
            assert_eq!(r!(author.remove_posts(post_keys.clone(), conn))?, KEYS / 2);
            operations += 5;

            // A join model: 100,000 rows with a payload (6 columns each).
            let club = r!(Club::create(NewClub { name: "big".into() }, conn))?;
            let role = MembershipPayload { role: "r".into(), invited_by: None };
            assert_eq!(r!(club.add_members_with(keys.clone(), role.clone(), conn))?, KEYS);
            assert_eq!(r!(club.count_members(conn))?, KEYS as i64);
            assert_eq!(r!(Club::load_members_with_through(std::slice::from_ref(&club), conn))?[0].len(), KEYS);
            assert_eq!(r!(club.set_members_with(half.to_vec(), role, &[], conn))?, SetDiff { added: 0, removed: KEYS / 2 });
            operations += 4;
            report("hundred_thousand_key_lists", operations, 0, 10 * KEYS);
            Ok(())
        }
    }
}

/// A PostgreSQL server of the test's own, crashed under a pool.
mod crash {
    use super::*;
    // Threads on diesel's connections: `r!` is the call itself.
    use orm_tests::r_blocking as r;
    use std::process::Command;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::time::Duration;

    use orm_core::diesel::r2d2::{ConnectionManager, Pool};
    use orm_core::diesel::{Connection, PgConnection};

    /// The throwaway server `.ci/postgres.sh` starts, stopped when dropped.
    struct Server {
        data: String,
        port: u16,
    }

    const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/postgres.sh");

    impl Server {
        fn start(port: u16) -> Result<(Server, String), Box<dyn std::error::Error>> {
            let out = Command::new(SCRIPT)
                .env("PGPORT_ORM", port.to_string())
                .output()?;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8(out.stdout)?;
            let (data, url) = line.trim().split_once(' ').expect("DATADIR URL");
            Ok((
                Server {
                    data: data.into(),
                    port,
                },
                url.into(),
            ))
        }

        fn pg_ctl(&self, args: &[&str]) {
            let bin = std::fs::read_dir("/usr/lib/postgresql")
                .expect("Debian's postgresql")
                .filter_map(|e| e.ok().map(|e| e.path().join("bin/pg_ctl")))
                .max()
                .expect("a pg_ctl");
            let status = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin)
                .args(["-D", &self.data])
                .args(args)
                .status()
                .expect("run pg_ctl");
            assert!(status.success(), "pg_ctl {args:?}");
        }

        /// What a power cut does to the server process: no shutdown.
        fn crash(&self) {
            self.pg_ctl(&["-m", "immediate", "stop"]);
        }

        fn restart(&self) {
            let options = format!(
                "-h 127.0.0.1 -p {} -k {} -c fsync=off",
                self.port, self.data
            );
            let log = format!("{}/server.log", self.data);
            self.pg_ctl(&["-l", &log, "-w", "-o", &options, "start"]);
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = Command::new(SCRIPT).args(["stop", &self.data]).status();
        }
    }

    #[test]
    fn a_crash_under_a_pool_loses_no_acknowledged_write() -> TestResult {
        if std::env::var("ORM_CRASH_TESTS").as_deref() != Ok("1") {
            println!("skipping crash test: ORM_CRASH_TESTS is not 1 (it starts and kills a PostgreSQL server of its own)");
            return Ok(());
        }
        let (server, url) = Server::start(54_339)?;
        let mut conn = PgConnection::establish(&url)?;
        schema().create_all(&mut conn)?;
        let party = event!("party", &mut conn)?;
        // Each add is of a user never added before, so a lost one cannot be
        // hidden by a later add of the same pair.
        let news: Vec<NewUser> = (0..40_000)
            .map(|i| NewUser {
                name: format!("u{i}"),
            })
            .collect();
        for chunk in news.chunks(20_000) {
            orm_core::diesel::insert_into(users::table)
                .values(chunk.to_vec())
                .execute(&mut conn)?;
        }
        let universe: Vec<i32> = users::table
            .select(users::id)
            .order(users::id)
            .load(&mut conn)?;
        let pool = Pool::builder()
            .max_size(4)
            .connection_timeout(Duration::from_secs(2))
            .build(ConnectionManager::<PgConnection>::new(url.clone()))?;

        let stop = Arc::new(AtomicBool::new(false));
        let restarted = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
        let (errors, after_restart, operations) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (
                    pool,
                    stop,
                    restarted,
                    acknowledged,
                    errors,
                    after_restart,
                    operations,
                    party,
                    universe,
                ) = (
                    pool.clone(),
                    stop.clone(),
                    restarted.clone(),
                    acknowledged.clone(),
                    errors.clone(),
                    after_restart.clone(),
                    operations.clone(),
                    party.clone(),
                    universe.clone(),
                );
                thread::spawn(move || {
                    // Round and round: a writer that ran out of pairs before the
                    // crash would see none of it. Adding a pair again writes nothing.
                    let mut mine = universe.chunks(2).skip(t).step_by(4).cycle();
                    while !stop.load(Ordering::SeqCst) {
                        let Some(pair) = mine.next() else { break };
                        let pair = pair.to_vec();
                        operations.fetch_add(1, Ordering::SeqCst);
                        let keys: Vec<Key<User>> = pair.iter().map(|x| User::key(*x)).collect();
                        // Every failure is an `Err`: a dead connection, a
                        // refused one, a pool timeout; never a panic.
                        let written = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                            party.add_guests(keys, &mut c).map_err(|e| e.to_string())
                        });
                        match written {
                            Ok(_) => {
                                acknowledged.lock().unwrap().extend(pair);
                                if restarted.load(Ordering::SeqCst) {
                                    after_restart.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::SeqCst);
                                thread::sleep(Duration::from_millis(20));
                            }
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(500));
        server.crash();
        // Down for longer than the pool waits for a connection (2 s), so
        // that a writer cannot ride the outage out inside `pool.get()`.
        thread::sleep(Duration::from_millis(2_500));
        server.restart();
        restarted.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(1_500));
        stop.store(true, Ordering::SeqCst);
        for handle in handles {
            handle.join().expect("a writer panicked");
        }

        let mut conn = PgConnection::establish(&url)?;
        let stored = guest_ids!(party, &mut conn);
        let acknowledged = acknowledged.lock().unwrap().clone();
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
        let (errors, after_restart) = (
            errors.load(Ordering::SeqCst),
            after_restart.load(Ordering::SeqCst),
        );
        assert!(errors > 0, "the crash was seen as errors");
        assert!(after_restart > 0, "the pool serves again after the restart");
        println!("crash: {} adds, {errors} errors, {after_restart} acknowledged after the restart, {} pairs stored", operations.load(Ordering::SeqCst), stored.len());
        report(
            "a_crash_under_a_pool_loses_no_acknowledged_write",
            operations.load(Ordering::SeqCst),
            1,
            stored.len(),
        );
        Ok(())
    }
}
