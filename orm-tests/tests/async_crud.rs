//! The CRUD methods on diesel-async connections: the same methods as on
//! diesel's, awaited, with the same results and errors, on SQLite (through
//! `SyncConnectionWrapper`), PostgreSQL, MySQL/MariaDB (feature `mysql`),
//! and deadpool's pooled connections; their futures are `Send`; a future
//! dropped inside a transaction leaves nothing committed.

use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orm_core::diesel::result::Error;
use orm_core::diesel::SqliteConnection;
use orm_core::{Async, ConnKind, Crud};
use orm_tests::*;

/// One body for every backend: what the sync suite checks of CRUD.
async fn crud<C>(conn: &mut C) -> TestResult
where
    C: ConnKind<Kind = Async>,
    User: Crud<C>,
{
    let ada = User::create(NewUser { name: "Ada".into() }, conn).await?;
    let bob = User::create(NewUser { name: "Bob".into() }, conn).await?;
    assert_ne!(ada.id, bob.id);
    assert_eq!(User::find(ada.id, conn).await?, ada);
    assert_eq!(User::count(conn).await?, 2);
    let mut all = User::all(conn).await?;
    all.sort_by_key(|u| u.id);
    assert_eq!(all, vec![ada.clone(), bob.clone()]);

    let renamed = User {
        name: "Ada L.".into(),
        ..ada.clone()
    };
    renamed.save(conn).await?;
    assert_eq!(User::find(ada.id, conn).await?.name, "Ada L.");

    bob.delete(conn).await?;
    assert_eq!(User::count(conn).await?, 1);
    assert_eq!(bob.delete(conn).await, Err(Error::NotFound), "already gone");
    assert_eq!(
        bob.save(conn).await,
        Err(Error::NotFound),
        "a gone row is not saved"
    );
    assert_eq!(User::find(bob.id, conn).await, Err(Error::NotFound));
    Ok(())
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

#[test]
fn crud_on_sqlite() -> TestResult {
    let mut conn = SyncConnectionWrapper::<SqliteConnection>::new(sqlite());
    runtime().block_on(crud(&mut conn))
}

#[test]
fn crud_on_postgres() -> TestResult {
    runtime().block_on(async {
        let Some((_schema, mut conn)) = async_postgres("crud_on_postgres").await else {
            return Ok(());
        };
        crud(&mut conn).await
    })
}

/// In a module of its name, as CI runs the MySQL half by `mysql::`.
#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use diesel_async::AsyncMysqlConnection;

    #[test]
    fn crud_on_mysql() -> TestResult {
        let Some(url) = mysql_url("crud_on_mysql") else {
            return Ok(());
        };
        let sync = mysql("crud_on_mysql").expect("the test database");
        let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
        let url = format!("{base}/{}", sync.database());
        runtime().block_on(async {
            let mut conn = AsyncMysqlConnection::establish(&url).await?;
            crud(&mut conn).await
        })
    }
}

#[test]
fn crud_on_a_deadpool_connection() -> TestResult {
    let Some(url) = postgres_url("crud_on_a_deadpool_connection") else {
        return Ok(());
    };
    let sync = postgres("crud_on_a_deadpool_connection").expect("the test schema");
    let url = format!("{url}?options=-csearch_path%3D{}", sync.schema());
    runtime().block_on(async {
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
        let pool = Pool::builder(manager).max_size(2).build()?;
        let mut conn = pool.get().await?;
        crud(&mut conn).await
    })
}

/// The futures are `Send`: they run on a multi-threaded runtime's workers.
#[test]
fn futures_run_on_spawned_tasks() -> TestResult {
    let rt = runtime();
    let mut conn = SyncConnectionWrapper::<SqliteConnection>::new(sqlite());
    let (conn, ada) = rt.block_on(async move {
        tokio::spawn(async move {
            let ada = User::create(NewUser { name: "Ada".into() }, &mut conn).await?;
            Ok::<_, Error>((conn, ada))
        })
        .await
        .expect("the task")
    })?;
    let mut conn = conn;
    assert_eq!(rt.block_on(User::find(ada.id, &mut conn))?, ada);
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
