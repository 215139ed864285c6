//! How an operation runs on a blocking (diesel) or an async (diesel-async)
//! connection, from one body.
//!
//! Every operation orm-core runs for a generated method is written once, as
//! an `async fn` generic over the connection `C` and its [`Kind`]: it builds
//! diesel statements and awaits them through [`Execute`] and [`Fetch`],
//! which run them with diesel's `RunQueryDsl` on a [`Blocking`] connection
//! (the future is ready at once) and with diesel-async's on an [`Async`] one.
//! [`Kind::run`] turns the body into what the generated method returns: its
//! result, polled to completion on the spot, for a blocking connection; a
//! boxed `Send` future for an async one. So both APIs run the same
//! statements in the same order, and cannot drift apart.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use diesel::result::{Error, QueryResult};

mod sealed {
    pub trait Sealed {}
}

/// Whether a connection blocks ([`Blocking`]) or returns futures
/// ([`Async`]); what the generated methods return on it.
pub trait Kind: sealed::Sealed + Sized + Send + 'static {
    /// What an operation returns: `QueryResult<T>` for a blocking
    /// connection, a boxed future of it for an async one.
    type Out<'c, T: 'c>;

    /// Runs (blocking) or boxes (async) one operation's body.
    fn run<'c, T: 'c>(body: impl Future<Output = QueryResult<T>> + Send + 'c) -> Self::Out<'c, T>;
}

/// A diesel connection: generated methods return `QueryResult<T>`.
#[derive(Debug)]
pub enum Blocking {}

/// A diesel-async connection: generated methods return a `Send` future of
/// `QueryResult<T>`.
#[derive(Debug)]
pub enum Async {}

impl sealed::Sealed for Blocking {}
impl sealed::Sealed for Async {}

/// A boxed `Send` future, what generated methods return on an async
/// connection.
pub type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

impl Kind for Blocking {
    type Out<'c, T: 'c> = QueryResult<T>;

    fn run<'c, T: 'c>(body: impl Future<Output = QueryResult<T>> + Send + 'c) -> QueryResult<T> {
        // Every await in a body on a blocking connection is a statement run
        // to completion, so the body is done after one poll.
        let mut body = std::pin::pin!(body);
        match body.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(Error::QueryBuilderError(
                "a blocking connection's operation did not complete".into(),
            )),
        }
    }
}

impl Kind for Async {
    type Out<'c, T: 'c> = BoxFuture<'c, QueryResult<T>>;

    fn run<'c, T: 'c>(
        body: impl Future<Output = QueryResult<T>> + Send + 'c,
    ) -> BoxFuture<'c, QueryResult<T>> {
        Box::pin(body)
    }
}

/// A connection the generated methods take, and whether it blocks.
///
/// Implemented for diesel's connections (and r2d2's pooled ones) as
/// [`Blocking`], and with the `async` feature for diesel-async's (and their
/// deadpool and bb8 pooled ones) as [`Async`]. A connection type of your
/// own says which it is in one line:
///
/// ```ignore
/// impl orm_core::ConnKind for MyConnection {
///     type Kind = orm_core::Blocking;
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection orm-core knows",
    label = "pass a `&mut` diesel or diesel-async connection",
    note = "diesel-async's connections (`AsyncPgConnection`, `AsyncMysqlConnection`, `SyncConnectionWrapper`, deadpool's and bb8's pooled ones) need orm-core's `async` feature (and `deadpool` or `bb8`)",
    note = "only `&AsyncPgConnection` is taken by shared reference (its reads pipeline); pass any other connection as `&mut conn`",
    note = "for a blocking connection type of your own: `impl orm_core::ConnKind for {Self} {{ type Kind = orm_core::Blocking; }}`"
)]
pub trait ConnKind: Send {
    /// [`Blocking`] or [`Async`].
    type Kind: Kind;
}

// A connection passed as `&mut conn` where `conn` is already a `&mut`:
// known by what it points at, so that the one error is the operation's
// (with rustc's "remove the `&`"), not one per statement it runs.
#[diagnostic::do_not_recommend]
impl<C: ConnKind + ?Sized> ConnKind for &mut C {
    type Kind = C::Kind;
}

/// What a generated method returns on connection `C`: `QueryResult<T>`, or
/// a future of it on an async connection.
pub type Out<'c, C, T> = <<C as ConnKind>::Kind as Kind>::Out<'c, T>;

macro_rules! blocking {
    ($($(#[$cfg:meta])* $conn:ty),* $(,)?) => {$(
        $(#[$cfg])*
        impl ConnKind for $conn {
            type Kind = Blocking;
        }
    )*};
}

blocking!(
    #[cfg(feature = "sqlite")]
    diesel::SqliteConnection,
    #[cfg(feature = "postgres")]
    diesel::PgConnection,
    #[cfg(feature = "mysql")]
    diesel::MysqlConnection,
);

#[cfg(feature = "r2d2")]
impl<C> ConnKind for diesel::r2d2::PooledConnection<diesel::r2d2::ConnectionManager<C>>
where
    C: diesel::r2d2::R2D2Connection + ConnKind<Kind = Blocking> + 'static,
{
    type Kind = Blocking;
}

/// A statement that runs on `C` the way kind `K` runs it, returning the
/// number of rows it changed.
#[diagnostic::on_unimplemented(
    message = "this statement cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports"
)]
pub trait Execute<C, K>: Sized + Send {
    /// Runs the statement.
    fn execute<'c>(self, conn: &'c mut C) -> impl Future<Output = QueryResult<usize>> + Send + 'c
    where
        Self: 'c;
}

/// A query that loads rows of `U` from `C` the way kind `K` runs it.
#[diagnostic::on_unimplemented(
    message = "this query cannot load `{U}` rows on a `{C}`",
    note = "use a connection of a backend orm-core supports"
)]
pub trait Fetch<C, K, U>: FetchIn<'static, C, K, U> {}

impl<Q: FetchIn<'static, C, K, U>, C, K, U> Fetch<C, K, U> for Q {}

/// [`Fetch`] for a query that borrows for `'q` (binds a `&str`, or lends
/// another query, as `paginate` does).
#[diagnostic::on_unimplemented(
    message = "this query cannot load `{U}` rows on a `{C}`",
    note = "use a connection of a backend orm-core supports"
)]
pub trait FetchIn<'q, C, K, U>: Sized + Send + 'q {
    /// Every row.
    fn load<'c>(self, conn: &'c mut C) -> impl Future<Output = QueryResult<Vec<U>>> + Send + 'c
    where
        'q: 'c;
    /// The first row; `Err(NotFound)` if there is none.
    fn get_result<'c>(self, conn: &'c mut C) -> impl Future<Output = QueryResult<U>> + Send + 'c
    where
        'q: 'c;
}

impl<Q, C> Execute<C, Blocking> for Q
where
    C: diesel::Connection,
    Q: diesel::query_dsl::methods::ExecuteDsl<C> + Send,
{
    async fn execute<'c>(self, conn: &'c mut C) -> QueryResult<usize>
    where
        Self: 'c,
    {
        diesel::query_dsl::methods::ExecuteDsl::execute(self, conn)
    }
}

impl<'q, Q, C, U> FetchIn<'q, C, Blocking, U> for Q
where
    C: diesel::Connection,
    Q: diesel::query_dsl::LoadQuery<'q, C, U> + diesel::RunQueryDsl<C> + Send + 'q,
    U: Send + 'static,
{
    async fn load<'c>(self, conn: &'c mut C) -> QueryResult<Vec<U>>
    where
        'q: 'c,
    {
        diesel::RunQueryDsl::load(self, conn)
    }

    async fn get_result<'c>(self, conn: &'c mut C) -> QueryResult<U>
    where
        'q: 'c,
    {
        diesel::RunQueryDsl::get_result(self, conn)
    }
}

/// A connection's backend, as kind `K` runs statements on it: what reads
/// need, which run on any connection, including a shared
/// `&AsyncPgConnection` that pipelines them.
pub trait OnBackend<K>: Send + Sized {
    /// The connection's backend.
    type Backend: crate::OrmBackend;
}

/// A connection's transactions, run the way kind `K` runs statements.
pub trait Transact<K>: OnBackend<K> {
    /// `BEGIN`, or a savepoint inside a transaction.
    fn begin(&mut self) -> impl Future<Output = QueryResult<()>> + Send;
    /// `COMMIT`, or releases the savepoint.
    fn commit(&mut self) -> impl Future<Output = QueryResult<()>> + Send;
    /// `ROLLBACK`, or to the savepoint.
    fn rollback(&mut self) -> impl Future<Output = QueryResult<()>> + Send;
    /// Whether the connection is inside a transaction.
    fn in_transaction(&mut self) -> bool;
    /// Runs `sql`, statements of orm-core's own that bind nothing
    /// (`SET autocommit = 0`).
    #[doc(hidden)]
    fn run_sql(&mut self, sql: &'static str) -> impl Future<Output = QueryResult<()>> + Send;
    /// Marks the connection's transaction state broken: what happens when a
    /// future is dropped between `BEGIN` and `COMMIT`, so that nothing it
    /// wrote can be committed by later statements on the connection (a
    /// pool discards it; other calls get `Err(BrokenTransactionManager)`).
    fn abandon(&mut self);
}

impl<C> OnBackend<Blocking> for C
where
    C: diesel::Connection + Send,
    C::Backend: crate::OrmBackend,
{
    type Backend = C::Backend;
}

impl<C> Transact<Blocking> for C
where
    C: diesel::Connection + Send,
    C::Backend: crate::OrmBackend,
{
    fn begin(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
        use diesel::connection::TransactionManager;
        async move { C::TransactionManager::begin_transaction(self) }
    }

    fn commit(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
        use diesel::connection::TransactionManager;
        async move { C::TransactionManager::commit_transaction(self) }
    }

    fn rollback(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
        use diesel::connection::TransactionManager;
        async move { C::TransactionManager::rollback_transaction(self) }
    }

    fn in_transaction(&mut self) -> bool {
        use diesel::connection::TransactionManager;
        matches!(
            C::TransactionManager::transaction_manager_status_mut(self).transaction_depth(),
            Ok(Some(_))
        )
    }

    async fn run_sql(&mut self, sql: &'static str) -> QueryResult<()> {
        diesel::connection::SimpleConnection::batch_execute(self, sql)
    }

    fn abandon(&mut self) {
        use diesel::connection::TransactionManager;
        C::TransactionManager::transaction_manager_status_mut(self).set_in_error();
    }
}

/// Rolls back, or marks the connection broken if dropped before
/// [`finish`](TransactionGuard::finish): the guard of [`transaction!`].
#[doc(hidden)]
pub struct TransactionGuard<'c, C: Transact<K>, K> {
    pub conn: &'c mut C,
    done: bool,
    kind: std::marker::PhantomData<fn() -> K>,
}

impl<'c, C: Transact<K>, K> TransactionGuard<'c, C, K> {
    /// `BEGIN` (or a savepoint), and a guard that ends it.
    pub async fn begin(conn: &'c mut C) -> QueryResult<Self> {
        conn.begin().await?;
        Ok(TransactionGuard {
            conn,
            done: false,
            kind: std::marker::PhantomData,
        })
    }

    /// Commits on `Ok`, rolls back on `Err`.
    pub async fn finish<T>(mut self, result: QueryResult<T>) -> QueryResult<T> {
        let end = match &result {
            Ok(_) => match self.conn.commit().await {
                Ok(()) => Ok(()),
                // A savepoint whose release failed (the server rolled back
                // the transaction around it: a Galera certification
                // failure) is still open in diesel's count: rolling it back
                // ends it there, and marks the outer transaction for a
                // rollback. A failed top-level COMMIT diesel rolls back.
                Err(e) => {
                    if self.conn.in_transaction() {
                        let _ = self.conn.rollback().await;
                    }
                    Err(e)
                }
            },
            // The statement's own error is the one to report, also when
            // the rollback fails: a MySQL deadlock or Galera certification
            // failure has already rolled back the whole transaction, so
            // rolling back to the savepoint of a write inside it fails
            // ("SAVEPOINT .. does not exist"), and the deadlock is what
            // tells `retry` to run the transaction again. diesel marks the
            // outer transaction for a rollback then.
            Err(_) => {
                let _ = self.conn.rollback().await;
                Ok(())
            }
        };
        self.done = true;
        end.and(result)
    }
}

impl<C: Transact<K>, K> Drop for TransactionGuard<'_, C, K> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.abandon();
        }
    }
}

/// Runs `$body` (which uses `$conn`) in a transaction on `$conn`: the
/// body's `?` ends it with a rollback.
macro_rules! transaction {
    ($conn:ident, $body:expr) => {{
        let guard = $crate::exec::TransactionGuard::begin($conn).await?;
        let result = async {
            let $conn = &mut *guard.conn;
            $body
        }
        .await;
        guard.finish(result).await
    }};
}
pub(crate) use transaction;

/// Runs the one-statement write `$body` as it is, or in a savepoint when
/// the connection is inside a transaction on PostgreSQL (see
/// `crate::write`).
macro_rules! savepoint {
    ($c:ty, $k:ty, $conn:ident, $body:expr) => {{
        let postgres = <<$c as $crate::exec::OnBackend<$k>>::Backend as $crate::OrmBackend>::DIALECT
            == $crate::Dialect::Postgres;
        if postgres && $crate::exec::Transact::<$k>::in_transaction($conn) {
            $crate::exec::transaction!($conn, $body)
        } else {
            $body
        }
    }};
}
pub(crate) use savepoint;

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use diesel_async::{AsyncConnection, AsyncConnectionCore};

    impl<Q, C> Execute<C, Async> for Q
    where
        C: AsyncConnectionCore,
        Q: diesel_async::methods::ExecuteDsl<C> + Send,
    {
        fn execute<'c>(
            self,
            conn: &'c mut C,
        ) -> impl Future<Output = QueryResult<usize>> + Send + 'c
        where
            Self: 'c,
        {
            diesel_async::methods::ExecuteDsl::execute(self, conn)
        }
    }

    impl<'q, Q, C, U> FetchIn<'q, C, Async, U> for Q
    where
        C: AsyncConnectionCore,
        Q: diesel_async::methods::LoadQuery<'q, C, U> + Send + 'q,
        U: Send + 'static,
    {
        fn load<'c>(self, conn: &'c mut C) -> impl Future<Output = QueryResult<Vec<U>>> + Send + 'c
        where
            'q: 'c,
        {
            diesel_async::RunQueryDsl::load(self, conn)
        }

        fn get_result<'c>(self, conn: &'c mut C) -> impl Future<Output = QueryResult<U>> + Send + 'c
        where
            'q: 'c,
        {
            diesel_async::RunQueryDsl::get_result(self, conn)
        }
    }

    impl<C> OnBackend<Async> for C
    where
        C: AsyncConnectionCore + Send,
        C::Backend: crate::OrmBackend,
    {
        type Backend = C::Backend;
    }

    impl<C> Transact<Async> for C
    where
        C: AsyncConnection,
        C::Backend: crate::OrmBackend,
    {
        fn begin(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
            use diesel_async::TransactionManager;
            C::TransactionManager::begin_transaction(self)
        }

        fn commit(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
            use diesel_async::TransactionManager;
            C::TransactionManager::commit_transaction(self)
        }

        fn rollback(&mut self) -> impl Future<Output = QueryResult<()>> + Send {
            use diesel_async::TransactionManager;
            C::TransactionManager::rollback_transaction(self)
        }

        fn in_transaction(&mut self) -> bool {
            use diesel_async::TransactionManager;
            matches!(
                C::TransactionManager::transaction_manager_status_mut(self).transaction_depth(),
                Ok(Some(_))
            )
        }

        fn run_sql(&mut self, sql: &'static str) -> impl Future<Output = QueryResult<()>> + Send {
            diesel_async::SimpleAsyncConnection::batch_execute(self, sql)
        }

        fn abandon(&mut self) {
            use diesel_async::TransactionManager;
            C::TransactionManager::transaction_manager_status_mut(self).set_in_error();
        }
    }

    macro_rules! asynchronous {
        ($($(#[$cfg:meta])* $conn:ty),* $(,)?) => {$(
            $(#[$cfg])*
            impl ConnKind for $conn {
                type Kind = Async;
            }
        )*};
    }

    /// A shared connection: the reads awaited together on it are pipelined
    /// (sent before the first answer comes back). Writers, which run in
    /// transactions, need `&mut` of the connection itself.
    #[cfg(feature = "postgres")]
    impl ConnKind for &diesel_async::AsyncPgConnection {
        type Kind = Async;
    }

    asynchronous!(
        #[cfg(feature = "postgres")]
        diesel_async::AsyncPgConnection,
        #[cfg(feature = "mysql")]
        diesel_async::AsyncMysqlConnection,
    );

    #[cfg(feature = "sqlite")]
    impl<C> ConnKind for diesel_async::sync_connection_wrapper::SyncConnectionWrapper<C>
    where
        Self: AsyncConnection,
    {
        type Kind = Async;
    }

    #[cfg(feature = "deadpool")]
    impl<C> ConnKind
        for deadpool::managed::Object<
            diesel_async::pooled_connection::AsyncDieselConnectionManager<C>,
        >
    where
        C: ConnKind<Kind = Async>,
        diesel_async::pooled_connection::AsyncDieselConnectionManager<C>:
            deadpool::managed::Manager<Type = C>,
    {
        type Kind = Async;
    }

    #[cfg(feature = "bb8")]
    impl<C> ConnKind
        for bb8::PooledConnection<
            '_,
            diesel_async::pooled_connection::AsyncDieselConnectionManager<C>,
        >
    where
        C: ConnKind<Kind = Async>,
        diesel_async::pooled_connection::AsyncDieselConnectionManager<C>:
            bb8::ManageConnection<Connection = C>,
    {
        type Kind = Async;
    }
}
