//! The generated methods and `Schema`'s operations on diesel-async
//! connections: the same methods as on diesel's, awaited, with
//! the same results and errors, on SQLite (through `SyncConnectionWrapper`),
//! PostgreSQL, MySQL/MariaDB (feature `mysql`), and deadpool's pooled
//! connections; their futures are `Send`; a future dropped inside a
//! transaction leaves nothing committed.

use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orm_core::diesel::prelude::*;
use orm_core::diesel::result::Error;
use orm_core::diesel::SqliteConnection;
use orm_core::prelude::*;
use orm_core::SetDiff;
use orm_tests::*;

/// A model the harness's schema lacks, for `Schema`'s operations.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Memo {
    pub id: i32,
    pub body: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// An async PostgreSQL connection to the fresh schema of `test`, which
/// lives as long as the returned guard.
async fn async_postgres(test: &str) -> Option<(PgTest, AsyncPgConnection)> {
    let url = postgres_url(test)?;
    let sync = postgres(test)?;
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
    conn.batch_execute(&format!("SET search_path TO {}", sync.schema()))
        .await
        .expect("the test schema");
    Some((sync, conn))
}

/// A URL whose connections use the fresh schema of `test` (the returned
/// guard keeps it), for a pool's connections.
fn pooled_url(test: &str) -> Option<(PgTest, String)> {
    let url = postgres_url(test)?;
    let schema = postgres(test)?;
    let url = format!("{url}?options=-csearch_path%3D{}", schema.schema());
    Some((schema, url))
}

/// Defines each test on SQLite (through `SyncConnectionWrapper`), on
/// PostgreSQL (`AsyncPgConnection`, and deadpool's and bb8's pooled ones), and with
/// the `mysql` feature on MySQL/MariaDB (`AsyncMysqlConnection`): one body,
/// awaited on each.
macro_rules! async_tests {
    ($(fn $name:ident($conn:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    let mut conn = SyncConnectionWrapper::<SqliteConnection>::new(sqlite());
                    runtime().block_on(async {
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    runtime().block_on(async {
                        let Some((_schema, mut conn)) = async_postgres(stringify!($name)).await else {
                            return Ok(());
                        };
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
        mod deadpool {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    let Some((_schema, url)) = pooled_url(stringify!($name)) else {
                        return Ok(());
                    };
                    runtime().block_on(async {
                        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
                        let pool = Pool::builder(manager).max_size(2).build()?;
                        let mut conn = pool.get().await?;
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
        mod bb8 {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    let Some((_schema, url)) = pooled_url(stringify!($name)) else {
                        return Ok(());
                    };
                    runtime().block_on(async {
                        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
                        let pool = diesel_async::pooled_connection::bb8::Pool::builder()
                            .max_size(2)
                            .build(manager)
                            .await?;
                        let mut conn = pool.get().await?;
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
        /// In a module of its name, as CI runs the MySQL half by `mysql::`.
        #[cfg(feature = "mysql")]
        mod mysql {
            use super::*;
            use diesel_async::AsyncMysqlConnection;
            $(
                #[test]
                fn $name() -> TestResult {
                    let Some(url) = mysql_url(stringify!($name)) else {
                        return Ok(());
                    };
                    let database = mysql(stringify!($name)).expect("the test database");
                    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
                    let url = format!("{base}/{}", database.database());
                    runtime().block_on(async {
                        let mut conn = AsyncMysqlConnection::establish(&url).await?;
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

    // has_many with a nullable key, has_one with a NOT NULL one: as the
    // sync suite's `posts_profiles_and_authors`.
    fn one_to_many(conn) {
        let ada = User::create(NewUser { name: "Ada".into() }, conn).await?;
        let grace = User::create(NewUser { name: "Grace".into() }, conn).await?;
        let post = Post::create(NewPost { author_id: None, title: "Hello".into() }, conn).await?;
        assert_eq!(ada.add_post(&post, conn).await?, 1);
        assert_eq!(ada.posts(conn).await?.len(), 1);
        assert!(ada.has_post(&post, conn).await?);

        // `create_*` takes a closure that builds the row from its key, or a
        // `New*`, whose key it overwrites.
        let built = grace
            .create_post(|author_id| NewPost { author_id, title: "Built".into() }, conn)
            .await?;
        assert_eq!(built.author_id, Some(grace.id));
        let overwritten = grace
            .create_post(NewPost { author_id: Some(ada.id), title: "Mine".into() }, conn)
            .await?;
        assert_eq!(overwritten.author_id, Some(grace.id));
        assert_eq!(grace.count_posts(conn).await?, 2);
        let diff = grace.set_posts(&[post.clone(), built.clone()], conn).await?;
        assert_eq!(diff, SetDiff { added: 1, removed: 1 });
        assert_eq!(ada.count_posts(conn).await?, 0, "the post moved to Grace");
        assert_eq!(grace.remove_post(&post, conn).await?, 1);
        assert_eq!(grace.clear_posts(conn).await?, 1);
        assert_eq!(Post::find(built.id, conn).await?.author_id, None, "the row stays");

        // has_one with a NOT NULL key: the profile cannot be detached.
        assert_eq!(ada.profile(conn).await?, None);
        let profile = ada
            .create_profile(|user_id| NewProfile { user_id, bio: "first".into() }, conn)
            .await?;
        assert_eq!(ada.profile(conn).await?, Some(profile.clone()));
        let second =
            Profile::create(NewProfile { user_id: grace.id, bio: "second".into() }, conn).await?;
        let err = ada.set_profile(&second, conn).await.unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        assert_eq!(Profile::find(second.id, conn).await?.user_id, grace.id, "nothing changed");
        let third = NewProfile { user_id: 0, bio: "third".into() };
        assert!(ada.create_profile(third, conn).await.is_err());
        assert_eq!(Profile::count(conn).await?, 2, "the failed create rolled back");
        grace.set_profile(&second, conn).await?;
        assert_eq!(grace.profile(conn).await?, Some(second.clone()));
        assert_eq!(second.user(conn).await?, grace, "a NOT NULL key's parent is the row");
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

    // create_many, and staged changes saved in one transaction.
    fn create_many_and_staged(conn) {
        let names = ["Ada", "Bob", "Cy"];
        let news = names.iter().map(|n| NewUser { name: (*n).into() }).collect();
        let rows = User::create_many(news, conn).await?;
        let got: Vec<&str> = rows.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(got, names, "in the order given");
        assert_eq!(User::count(conn).await?, 3);

        let party = Event::create(NewEvent { title: "Party".into() }, conn).await?;
        let mut changes = party.guests_changes();
        changes
            .add(&rows[0])
            .add(&rows[1])
            .add_new(NewUser { name: "Dan".into() })
            .remove(&rows[1]);
        let diff = changes.save(conn).await?;
        assert_eq!(diff, SetDiff { added: 2, removed: 0 }, "an add then a remove is nothing");
        let mut guests: Vec<String> = party.guests(conn).await?.into_iter().map(|u| u.name).collect();
        guests.sort();
        assert_eq!(guests, ["Ada", "Dan"]);
        Ok(())
    }

    // belongs_to with a nullable key: get, set, create, unset.
    fn belongs_to(conn) {
        let ada = User::create(NewUser { name: "Ada".into() }, conn).await?;
        let mut post = Post::create(NewPost { author_id: None, title: "Hello".into() }, conn).await?;
        assert_eq!(post.author(conn).await?, None);
        post.set_author(&ada, conn).await?;
        assert_eq!(post.author(conn).await?, Some(ada.clone()));
        let author = post.create_author(NewUser { name: "Linus".into() }, conn).await?;
        assert_eq!(Post::find(post.id, conn).await?.author_id, Some(author.id));
        let ghost = User { id: 999, name: "ghost".into() };
        assert!(post.set_author(&ghost, conn).await.is_err());
        assert_eq!(post.author_id, Some(author.id), "a failed set leaves the struct alone");
        post.unset_author(conn).await?;
        assert_eq!((post.author_id, Post::find(post.id, conn).await?.author_id), (None, None));
        Ok(())
    }

    // `Schema`'s operations: the check and the diff of the harness's
    // schema are empty; a model the database lacks is reported, created,
    // then matches.
    fn schema_operations(conn) {
        assert_eq!(schema().check(conn).await?, vec![]);
        assert!(schema().diff(conn).await?.is_empty());
        let notes = Schema::new().model::<Memo>();
        assert_eq!(
            notes.check(conn).await?,
            vec![orm_core::Drift::MissingTable { table: "memos".into() }]
        );
        let migration = notes.diff(conn).await?;
        assert!(migration.up[0].starts_with("CREATE TABLE"), "{:?}", migration.up);
        notes.create_all(conn).await?;
        assert_eq!(notes.check(conn).await?, vec![]);
        let memo = Memo::create(NewMemo { body: "hi".into() }, conn).await?;
        assert_eq!(Memo::all(conn).await?, vec![memo]);
        Ok(())
    }

    // A page of a boxed query and of an association's query, and the
    // refusal of page 0 before any statement.
    fn paginate(conn) {
        let party = Event::create(NewEvent { title: "Party".into() }, conn).await?;
        let mut people = Vec::new();
        for i in 0..7 {
            people.push(User::create(NewUser { name: format!("u{i}") }, conn).await?);
        }
        let page = User::query().order(users::name).paginate(2, 3).load_page::<User, _>(conn).await?;
        assert_eq!(page.items, people[3..6].to_vec());
        assert_eq!((page.total, page.page, page.per_page, page.pages()), (7, 2, 3, 3));
        let past = User::query().paginate(9, 3).load_page::<User, _>(conn).await?;
        assert_eq!((past.items.len(), past.total), (0, 7));
        party.add_guests(&people[..4], conn).await?;
        let query = party.guests_query().order(users::name.desc());
        let page = query.paginate(1, 3).load_page::<User, _>(conn).await?;
        assert_eq!(page.items, vec![people[3].clone(), people[2].clone(), people[1].clone()]);
        assert_eq!(page.total, 4);
        assert!(User::query().paginate(0, 3).load_page::<User, _>(conn).await.is_err());
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
