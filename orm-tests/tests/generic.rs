//! Application code generic over the connection: `C: orm_core::Conn<DB>`,
//! one bound, makes every generated method callable, for a plain, pooled or
//! wrapped connection alike.

use orm_core::diesel::connection::{
    AnsiTransactionManager, CacheSize, ConnectionSealed, DefaultLoadingMode, Instrumentation,
    LoadConnection, SimpleConnection,
};
use orm_core::diesel::expression::QueryMetadata;
use orm_core::diesel::query_builder::{Query, QueryFragment, QueryId};
use orm_core::diesel::r2d2::{ConnectionManager, Pool};
use orm_core::diesel::sqlite::Sqlite;
use orm_core::diesel::{ConnectionResult, SqliteConnection};
use orm_core::prelude::*;
use orm_core::{Conn, QueryLog};
use orm_tests::*;

/// A connection of the application's own that wraps a `SqliteConnection`
/// (as a tracing or retrying wrapper would): neither a `SqliteConnection`
/// nor a pooled one.
struct Wrapped(SqliteConnection);

impl SimpleConnection for Wrapped {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        self.0.batch_execute(query)
    }
}

impl ConnectionSealed for Wrapped {}

// What the generated methods return on it: their results (not futures).
impl orm_core::ConnKind for Wrapped {
    type Kind = orm_core::Blocking;
}

impl Connection for Wrapped {
    type Backend = Sqlite;
    type TransactionManager = AnsiTransactionManager;
    fn establish(url: &str) -> ConnectionResult<Self> {
        SqliteConnection::establish(url).map(Wrapped)
    }
    fn execute_returning_count<T>(&mut self, source: &T) -> QueryResult<usize>
    where
        T: QueryFragment<Sqlite> + QueryId,
    {
        self.0.execute_returning_count(source)
    }
    fn transaction_state(&mut self) -> &mut AnsiTransactionManager {
        self.0.transaction_state()
    }
    fn instrumentation(&mut self) -> &mut dyn Instrumentation {
        self.0.instrumentation()
    }
    fn set_instrumentation(&mut self, instrumentation: impl Instrumentation) {
        self.0.set_instrumentation(instrumentation)
    }
    fn set_prepared_statement_cache_size(&mut self, size: CacheSize) {
        self.0.set_prepared_statement_cache_size(size)
    }
}

impl LoadConnection<DefaultLoadingMode> for Wrapped {
    type Cursor<'conn, 'query> = <SqliteConnection as LoadConnection>::Cursor<'conn, 'query>;
    type Row<'conn, 'query> = <SqliteConnection as LoadConnection>::Row<'conn, 'query>;
    fn load<'conn, 'query, T>(
        &'conn mut self,
        source: T,
    ) -> QueryResult<Self::Cursor<'conn, 'query>>
    where
        T: Query + QueryFragment<Sqlite> + QueryId + 'query,
        Sqlite: QueryMetadata<T::SqlType>,
    {
        self.0.load(source)
    }
}

/// Staged `add_new` of three pets: the number of INSERTs into `pets`.
fn pet_inserts<C: Conn<Sqlite>>(conn: &mut C) -> QueryResult<usize> {
    let ada = User::create(NewUser { name: "Ada".into() }, conn)?;
    let log = QueryLog::attach(conn);
    let mut changes = ada.pets_changes();
    for name in ["a", "b", "c"] {
        changes.add_new(orm_tests::pets::NewPet {
            name: name.into(),
            breed: "x".into(),
        });
    }
    assert_eq!(changes.save(conn)?.added, 3);
    assert_eq!(ada.count_pets(conn)?, 3);
    let inserts = log
        .statements()
        .iter()
        .filter(|s| s.starts_with("INSERT INTO `pets`"))
        .count();
    Ok(inserts)
}

/// One function per backend, each with one bound: what a `macro_rules!`
/// writes in an application that runs on several.
macro_rules! workload {
    ($name:ident, $backend:ty) => {
        fn $name<C: Conn<$backend>>(conn: &mut C) -> QueryResult<(usize, i64, usize)> {
            let party = Event::create(
                NewEvent {
                    title: "Party".into(),
                },
                conn,
            )?;
            let ada = User::create(NewUser { name: "Ada".into() }, conn)?;
            let bob = User::create(NewUser { name: "Bob".into() }, conn)?;
            party.add_guest(&ada, conn)?;
            party.set_guests(&[ada.clone(), bob.clone()], conn)?;
            assert!(party.has_guest(&bob, conn)?);
            let mut changes = party.guests_changes();
            changes.remove(&bob);
            changes.save(conn)?;
            let guests = party.guests(conn)?;
            let post = ada.create_post(
                NewPost {
                    author_id: None,
                    title: "t".into(),
                },
                conn,
            )?;
            assert_eq!(post.author(conn)?, Some(ada.clone()));
            assert_eq!(ada.posts_query().load::<Post>(conn)?, vec![post.clone()]);
            let loaded = Event::load_guests(std::slice::from_ref(&party), conn)?;
            let club = Club::create(NewClub { name: "c".into() }, conn)?;
            club.add_member_with(
                &ada,
                MembershipPayload {
                    role: "owner".into(),
                    invited_by: None,
                },
                conn,
            )?;
            assert_eq!(club.members_with_through(conn)?.len(), 1);
            party.delete(conn)?;
            Ok((guests.len(), User::count(conn)?, loaded[0].len()))
        }
    };
}

workload!(on_sqlite, Sqlite);
workload!(on_postgres, orm_core::diesel::pg::Pg);
#[cfg(feature = "mysql")]
workload!(on_mysql, orm_core::diesel::mysql::Mysql);

#[test]
fn sqlite_connection_and_pooled_one() -> TestResult {
    assert_eq!(on_sqlite(&mut sqlite())?, (1, 2, 1));
    let pool = Pool::builder()
        .max_size(1)
        .build(ConnectionManager::<SqliteConnection>::new(":memory:"))?;
    let mut pooled = pool.get()?;
    schema().create_all(&mut pooled)?;
    assert_eq!(on_sqlite(&mut pooled)?, (1, 2, 1));
    Ok(())
}

#[test]
fn a_connection_of_ones_own() -> TestResult {
    let mut conn = Wrapped(sqlite());
    assert_eq!(on_sqlite(&mut conn)?, (1, 2, 1));
    Ok(())
}

/// Rows created in bulk: one INSERT where diesel can run one (a
/// `SqliteConnection`, plain or pooled), one per row on any other.
#[test]
fn rows_in_bulk_on_each_kind_of_sqlite_connection() -> TestResult {
    assert_eq!(pet_inserts(&mut sqlite())?, 1);
    let pool = Pool::builder()
        .max_size(1)
        .build(ConnectionManager::<SqliteConnection>::new(":memory:"))?;
    let mut pooled = pool.get()?;
    schema().create_all(&mut pooled)?;
    assert_eq!(pet_inserts(&mut pooled)?, 1);
    assert_eq!(pet_inserts(&mut Wrapped(sqlite()))?, 3);
    Ok(())
}

/// Several rows one at a time are still all or none.
#[test]
fn create_many_is_all_or_none_on_any_sqlite_connection() -> TestResult {
    let mut conn = Wrapped(sqlite());
    let ada = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    let post = |author_id| NewPost {
        author_id: Some(author_id),
        title: "t".into(),
    };
    let log = QueryLog::attach(&mut conn);
    assert_eq!(
        Post::create_many(vec![post(ada.id), post(ada.id)], &mut conn)?.len(),
        2
    );
    assert_eq!(log.statements().first().map(String::as_str), Some("BEGIN"));
    // The second row's author does not exist: the first is undone too.
    assert!(Post::create_many(vec![post(ada.id), post(ada.id + 1)], &mut conn).is_err());
    assert_eq!(Post::count(&mut conn)?, 2);
    Ok(())
}

mod postgres {
    use super::*;

    #[test]
    fn workload() -> TestResult {
        let Some(mut conn) = orm_tests::postgres("workload") else {
            return Ok(());
        };
        assert_eq!(on_postgres(&mut *conn)?, (1, 2, 1));
        Ok(())
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;

    #[test]
    fn workload() -> TestResult {
        let Some(mut conn) = orm_tests::mysql("workload") else {
            return Ok(());
        };
        assert_eq!(on_mysql(&mut *conn)?, (1, 2, 1));
        Ok(())
    }
}
