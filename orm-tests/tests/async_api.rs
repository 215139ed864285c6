//! What is particular to diesel-async connections. (Every generated method
//! runs on them in the behaviour suite, `associations.rs` and `existing.rs`,
//! whose bodies run on diesel's connections and on diesel-async's.) Here:
//! deadpool's and bb8's pooled connections take the generated methods; the
//! futures are `Send` and run on spawned tasks; a future dropped inside a
//! transaction leaves nothing committed; eager loads awaited together on a
//! shared `&AsyncPgConnection` are pipelined.

use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orm_core::diesel::prelude::*;
use orm_core::diesel::result::Error;
use orm_core::diesel::SqliteConnection;
use orm_core::SetDiff;
use orm_tests::*;

/// A URL whose connections use the fresh schema of `test` (the returned
/// guard keeps it), for a pool's connections.
fn pooled_url(test: &str) -> Option<(PgTest, String)> {
    let url = postgres_url(test)?;
    let schema = postgres(test)?;
    let url = format!("{url}?options=-csearch_path%3D{}", schema.schema());
    Some((schema, url))
}

/// Defines each test on deadpool's and on bb8's pooled `AsyncPgConnection`s.
macro_rules! async_tests {
    ($(fn $name:ident($conn:ident) $body:block)*) => {
        async_tests!(@pool deadpool, |manager| Pool::builder(manager).max_size(2).build()?;
            $(fn $name($conn) $body)*);
        async_tests!(@pool bb8, |manager| diesel_async::pooled_connection::bb8::Pool::builder()
            .max_size(2)
            .build(manager)
            .await?;
            $(fn $name($conn) $body)*);
    };
    // On a connection of the pool `$build` makes of `$manager`.
    (@pool $module:ident, |$manager:ident| $build:expr; $(fn $name:ident($conn:ident) $body:block)*) => {
        mod $module {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    let Some((_schema, url)) = pooled_url(stringify!($name)) else {
                        return Ok(());
                    };
                    runtime().block_on(async {
                        let $manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
                        let pool = $build;
                        let mut conn = pool.get().await?;
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
    };
}

async_tests! {
    fn crud(conn) {
        let ada = User::create(NewUser { name: "Ada".into() }, conn).await?;
        let bob = User::create(NewUser { name: "Bob".into() }, conn).await?;
        assert_ne!(ada.id, bob.id);
        assert_eq!(User::find(ada.id, conn).await?, ada);
        assert_eq!(User::count(conn).await?, 2);
        let mut all = User::all(conn).await?;
        all.sort_by_key(|u| u.id);
        assert_eq!(all, vec![ada.clone(), bob.clone()]);

        let renamed = User { name: "Ada L.".into(), ..ada.clone() };
        renamed.save(conn).await?;
        assert_eq!(User::find(ada.id, conn).await?.name, "Ada L.");

        bob.delete(conn).await?;
        assert_eq!(User::count(conn).await?, 1);
        assert_eq!(bob.delete(conn).await, Err(Error::NotFound), "already gone");
        assert_eq!(bob.save(conn).await, Err(Error::NotFound), "a gone row is not saved");
        assert_eq!(User::find(bob.id, conn).await, Err(Error::NotFound));
        Ok(())
    }

    // Through a generated table, a symmetric one, and a join model with a
    // payload: the writers' counts and the rows they leave.
    fn many_to_many(conn) {
        let party = Event::create(NewEvent { title: "Party".into() }, conn).await?;
        let mut people = Vec::new();
        for name in ["Ada", "Bob", "Cy", "Dan"] {
            people.push(User::create(NewUser { name: name.into() }, conn).await?);
        }
        let [ada, bob, cy, dan] = <[User; 4]>::try_from(people).expect("four");

        assert_eq!(party.add_guest(&ada, conn).await?, 1);
        assert_eq!(party.add_guest(&ada, conn).await?, 0, "already a guest");
        assert_eq!(party.add_guests(&[bob.clone(), cy.clone()], conn).await?, 2);
        assert_eq!(party.count_guests(conn).await?, 3);
        assert!(party.has_guest(&bob, conn).await?);
        assert!(!party.has_guests(&[bob.clone(), dan.clone()], conn).await?);
        let mut guests = party.guests(conn).await?;
        guests.sort_by_key(|u| u.id);
        assert_eq!(guests, vec![ada.clone(), bob.clone(), cy.clone()]);

        let diff = party.set_guests(&[cy.clone(), dan.clone()], conn).await?;
        assert_eq!(diff, SetDiff { added: 1, removed: 2 });
        assert_eq!(party.remove_guest(&cy, conn).await?, 1);
        assert_eq!(party.remove_guests(&[cy.clone(), dan.clone()], conn).await?, 1);
        let eve = party.create_guest(NewUser { name: "Eve".into() }, conn).await?;
        assert_eq!(party.guests(conn).await?, vec![eve.clone()]);
        assert_eq!(party.clear_guests(conn).await?, 1);
        assert_eq!(party.count_guests(conn).await?, 0);
        let gone = Event { id: party.id + 1000, title: "Gone".into() };
        // NotFound, or on SQLite the foreign key's refusal; no row either way.
        assert!(gone.add_guests(&[ada.clone(), bob.clone()], conn).await.is_err());
        assert!(gone.set_guests(std::slice::from_ref(&ada), conn).await.is_err());
        assert_eq!(gone.count_guests(conn).await?, 0);

        // Symmetric: one call writes the pair both ways.
        assert_eq!(ada.add_buddies(&[bob.clone(), cy.clone()], conn).await?, 2);
        assert_eq!(bob.buddies(conn).await?, vec![ada.clone()]);
        assert_eq!(bob.remove_buddy(&ada, conn).await?, 1);
        assert_eq!(ada.count_buddies(conn).await?, 1);

        // A join model's payload: the default, then a given one.
        let chess = Club::create(NewClub { name: "chess".into() }, conn).await?;
        assert_eq!(chess.add_member(&ada, conn).await?, 1);
        let admin = MembershipPayload { role: "admin".into(), invited_by: Some(ada.id) };
        assert_eq!(chess.add_member_with(&bob, admin, conn).await?, 1);
        let mut roles: Vec<(i32, String)> = chess
            .members_with_through(conn)
            .await?
            .into_iter()
            .map(|(user, m)| (user.id, m.role))
            .collect();
        roles.sort();
        assert_eq!(roles, vec![(ada.id, "member".into()), (bob.id, "admin".into())]);
        let clubs = [chess.clone()];
        let loaded = Club::load_members_with_through(&clubs, conn).await?;
        assert_eq!(loaded[0].len(), 2);
        let admins = Club::load_members_with_through_where(
            &clubs,
            |q| q.filter(memberships::role.eq("admin")),
            conn,
        )
        .await?;
        assert_eq!(admins[0].iter().map(|(u, _)| u.id).collect::<Vec<_>>(), vec![bob.id]);
        Ok(())
    }

    // Eager loading of each kind, aligned with the parents, one statement
    // per association.
    fn eager(conn) {
        let party = Event::create(NewEvent { title: "Party".into() }, conn).await?;
        let quiet = Event::create(NewEvent { title: "Quiet".into() }, conn).await?;
        let ada = User::create(NewUser { name: "Ada".into() }, conn).await?;
        let bob = User::create(NewUser { name: "Bob".into() }, conn).await?;
        party.add_guests(&[ada.clone(), bob.clone()], conn).await?;
        let events = [party.clone(), quiet.clone(), party.clone()];
        let mut guests = Event::load_guests(&events, conn).await?;
        guests.iter_mut().for_each(|g| g.sort_by_key(|u| u.id));
        let both = vec![ada.clone(), bob.clone()];
        assert_eq!(guests, vec![both.clone(), vec![], both]);
        let named_b = Event::load_guests_where(&events, |q| q.filter(users::name.like("B%")), conn)
            .await?;
        assert_eq!(named_b, vec![vec![bob.clone()], vec![], vec![bob.clone()]]);
        let top = Event::load_guests_top(&events[..2], 1, users::id.desc(), conn).await?;
        assert_eq!(top, vec![vec![bob.clone()], vec![]]);

        let post = ada
            .create_post(|author_id| NewPost { author_id, title: "Hi".into() }, conn)
            .await?;
        let users = [ada.clone(), bob.clone()];
        assert_eq!(User::load_posts(&users, conn).await?, vec![vec![post.clone()], vec![]]);
        let profile = bob
            .create_profile(|user_id| NewProfile { user_id, bio: "b".into() }, conn)
            .await?;
        assert_eq!(User::load_profiles(&users, conn).await?, vec![None, Some(profile)]);
        let orphan = Post::create(NewPost { author_id: None, title: "Lost".into() }, conn).await?;
        let posts = [post, orphan];
        assert_eq!(Post::load_authors(&posts, conn).await?, vec![Some(ada), None]);
        Ok(())
    }
}

/// The futures are `Send`: they run on a multi-threaded runtime's workers.
#[test]
fn futures_run_on_spawned_tasks() -> TestResult {
    let rt = runtime();
    let mut conn = SyncConnectionWrapper::<SqliteConnection>::new(sqlite());
    let (conn, party) = rt.block_on(async move {
        tokio::spawn(async move {
            let party = Event::create(
                NewEvent {
                    title: "Party".into(),
                },
                &mut conn,
            )
            .await?;
            let ada = User::create(NewUser { name: "Ada".into() }, &mut conn).await?;
            party
                .set_guests(std::slice::from_ref(&ada), &mut conn)
                .await?;
            Ok::<_, Error>((conn, party))
        })
        .await
        .expect("the task")
    })?;
    let mut conn = conn;
    assert_eq!(rt.block_on(party.count_guests(&mut conn))?, 1);
    Ok(())
}
/// A write dropped while its statement waits, inside the caller's
/// transaction on PostgreSQL (where it runs in a savepoint): the savepoint
/// was taken and the INSERT sent, and the drop marks the connection's
/// transaction broken, so the caller's COMMIT fails instead of committing
/// the half-done write; no row is ever visible.
#[test]
fn a_dropped_write_commits_nothing() -> TestResult {
    use diesel_async::TransactionManager;
    type Tm = <AsyncPgConnection as AsyncConnection>::TransactionManager;
    runtime().block_on(async {
        let Some((schema, mut conn)) = async_postgres("a_dropped_write_commits_nothing").await
        else {
            return Ok(());
        };
        let url = postgres_url("a_dropped_write_commits_nothing").expect("DATABASE_URL");
        let mut other = AsyncPgConnection::establish(&url).await?;
        let search_path = format!("SET search_path TO {}", schema.schema());
        other.batch_execute(&search_path).await?;
        // The INSERT waits for this lock until the write is dropped.
        Tm::begin_transaction(&mut other).await?;
        other
            .batch_execute("LOCK TABLE users IN EXCLUSIVE MODE")
            .await?;

        Tm::begin_transaction(&mut conn).await?;
        let write = User::create(NewUser { name: "Ada".into() }, &mut conn);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(300), write).await;
        assert!(
            waited.is_err(),
            "the write waits for the lock, and is dropped"
        );
        // Without the mark, the COMMIT would wait behind the INSERT.
        let commit = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            Tm::commit_transaction(&mut conn),
        )
        .await
        .expect("the COMMIT returns at once");
        assert!(
            matches!(commit, Err(Error::BrokenTransactionManager)),
            "the caller's transaction cannot commit the dropped write: {commit:?}"
        );
        drop(conn);

        Tm::rollback_transaction(&mut other).await?;
        assert_eq!(User::count(&mut other).await?, 0);
        Ok(())
    })
}

/// On PostgreSQL, eager loads awaited together on a shared
/// `&AsyncPgConnection` are pipelined, and load what they load one after
/// the other.
#[test]
fn eager_loads_pipeline_on_a_shared_connection() -> TestResult {
    runtime().block_on(async {
        let Some((_schema, mut conn)) =
            async_postgres("eager_loads_pipeline_on_a_shared_connection").await
        else {
            return Ok(());
        };
        let mut users = Vec::new();
        for name in ["Ada", "Bob", "Cy"] {
            users.push(User::create(NewUser { name: name.into() }, &mut conn).await?);
        }
        let party = Event::create(
            NewEvent {
                title: "Party".into(),
            },
            &mut conn,
        )
        .await?;
        party.add_guests(&users[..2], &mut conn).await?;
        for (i, user) in users.iter().enumerate().take(2) {
            let title = format!("post {i}");
            user.create_post(
                NewPost {
                    title,
                    author_id: None,
                },
                &mut conn,
            )
            .await?;
        }

        let one_by_one = (
            User::load_posts(&users, &mut conn).await?,
            User::load_events(&users, &mut conn).await?,
        );
        // One shared reference per future, each passed as `&mut`.
        let (mut a, mut b) = (&conn, &conn);
        let pipelined = tokio::try_join!(
            User::load_posts(&users, &mut a),
            User::load_events(&users, &mut b),
        )?;
        assert_eq!(pipelined, one_by_one);
        assert_eq!(pipelined.0[0].len(), 1);
        assert_eq!(pipelined.1[2], vec![]);
        Ok(())
    })
}
