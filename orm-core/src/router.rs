//! Reads on read replicas, writes on the primary: [`Router`], and the
//! connection it hands out, [`Routed`].
//!
//! A [`Routed`] connection is a diesel connection (every generated method,
//! `query()` and diesel's own DSL take it) that sends each statement where it
//! can run: a plain `SELECT` outside a transaction to a replica, everything
//! else (writes, `SELECT .. FOR UPDATE`, every statement of a transaction) to
//! the primary. It checks out a pooled connection of either side only when a
//! statement first needs it, and keeps it for its life, so one request's
//! reads see one replica's history, never an older one after a newer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::{
    get_default_instrumentation, CacheSize, Connection, ConnectionSealed, Instrumentation,
    InstrumentationEvent, LoadConnection, SimpleConnection, TransactionManager,
    TransactionManagerStatus,
};
use diesel::expression::QueryMetadata;
use diesel::query_builder::{Query, QueryFragment, QueryId};
use diesel::r2d2::{ConnectionManager, Pool, PoolError, PooledConnection, R2D2Connection};
use diesel::result::{ConnectionError, ConnectionResult, DatabaseErrorKind, Error, QueryResult};

use crate::exec::{Blocking, ConnKind};
use crate::OrmBackend;

type Managed<C> = Pool<ConnectionManager<C>>;
type StateData<C> =
    <<C as Connection>::TransactionManager as TransactionManager<C>>::TransactionStateData;
/// A connection of one of a [`Router`]'s pools.
pub type Pooled<C> = PooledConnection<ConnectionManager<C>>;

/// A primary's pool and its read replicas' pools: hands out [`Routed`]
/// connections, which send plain reads to a replica and everything else to
/// the primary.
///
/// Cloning is cheap (the pools are shared). With no replica, every statement
/// goes to the primary.
///
/// **Read-your-writes.** Replicas apply the primary's writes a little later
/// (milliseconds on a LAN, more under load). After a [`Routed`] connection
/// writes, its reads go to the primary for [`read_your_writes`] (2 seconds
/// unless set, as Rails' automatic role switching does); a later request
/// carries the moment of its last write on with [`get_after`]; and
/// [`Routed::pin_to_primary`] or [`primary`] reads from the primary
/// outright.
///
/// [`read_your_writes`]: Router::read_your_writes
/// [`get_after`]: Router::get_after
/// [`primary`]: Router::primary
pub struct Router<C: R2D2Connection + 'static> {
    primary: Managed<C>,
    replicas: Arc<[Managed<C>]>,
    next: Arc<AtomicUsize>,
    window: Duration,
}

impl<C: R2D2Connection + 'static> Clone for Router<C> {
    fn clone(&self) -> Self {
        Router {
            primary: self.primary.clone(),
            replicas: Arc::clone(&self.replicas),
            next: Arc::clone(&self.next),
            window: self.window,
        }
    }
}

impl<C: R2D2Connection + 'static> std::fmt::Debug for Router<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("replicas", &self.replicas.len())
            .field("read_your_writes", &self.window)
            .finish_non_exhaustive()
    }
}

impl<C: R2D2Connection + 'static> Router<C> {
    /// A router over the primary's pool and the replicas' pools (any
    /// number, none included).
    pub fn new(primary: Managed<C>, replicas: impl IntoIterator<Item = Managed<C>>) -> Self {
        Router {
            primary,
            replicas: replicas.into_iter().collect(),
            next: Arc::new(AtomicUsize::new(0)),
            window: Duration::from_secs(2),
        }
    }

    /// How long after a write a [`Routed`] connection keeps reading from the
    /// primary: at least the replicas' lag. Zero turns it off.
    pub fn read_your_writes(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// A connection that routes each statement. It takes no pooled
    /// connection until a statement needs one.
    pub fn get(&self) -> Routed<C>
    where
        StateData<C>: Default,
    {
        self.get_after(None)
    }

    /// [`get`](Self::get) for a caller that wrote at `last_write` (what
    /// [`Routed::last_write`] said, carried over from an earlier request):
    /// its reads go to the primary until the read-your-writes window after
    /// that write has passed.
    pub fn get_after(&self, last_write: Option<Instant>) -> Routed<C>
    where
        StateData<C>: Default,
    {
        Routed {
            router: self.clone(),
            primary: None,
            replica: None,
            last_write,
            pinned: false,
            idle: TransactionManagerStatus::default(),
            idle_state: StateData::<C>::default(),
            served: Served::default(),
            instrumentation: Forward::default(),
            forwarding: false,
            cache_size: None,
        }
    }

    /// A connection of the primary's pool, for work that must see the
    /// latest writes.
    pub fn primary(&self) -> Result<Pooled<C>, PoolError> {
        self.primary.get()
    }

    /// A connection of the next replica's pool (in turn), or of the
    /// primary's when there is no replica. A write sent on it is refused by
    /// the replica: PostgreSQL's hot standby answers `Err(DatabaseError(
    /// ReadOnlyTransaction, ..))`, SQLSTATE 25006.
    pub fn replica(&self) -> Result<Pooled<C>, PoolError> {
        match self.next_replica() {
            Some(pool) => pool.get(),
            None => self.primary.get(),
        }
    }

    fn next_replica(&self) -> Option<&Managed<C>> {
        let n = self.replicas.len();
        (n > 0).then(|| &self.replicas[self.next.fetch_add(1, Ordering::Relaxed) % n])
    }
}

/// How many statements a [`Routed`] connection sent to each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Statements run on the primary (including `BEGIN` and `COMMIT`).
    pub primary: usize,
    /// Statements run on a replica.
    pub replica: usize,
}

/// A connection from [`Router::get`]: a diesel connection that runs plain
/// reads on a replica and everything else on the primary (see [`Router`]).
///
/// A statement goes to a replica when it is a `SELECT` without a locking
/// clause (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), run outside a
/// transaction, on a connection that is not pinned and has not written
/// within the read-your-writes window; when no replica connection can be
/// had, it runs on the primary instead. A `SELECT` that writes (`SELECT
/// nextval(..)`, a function with side effects) must be run on a pinned
/// connection or [`Router::primary`]. Session settings (`SET ..`) belong
/// in the pools' `CustomizeConnection`, which sets up both sides.
pub struct Routed<C: R2D2Connection + 'static> {
    router: Router<C>,
    primary: Option<Pooled<C>>,
    replica: Option<Pooled<C>>,
    last_write: Option<Instant>,
    pinned: bool,
    /// The transaction status and state while no primary connection is
    /// held: none.
    idle: TransactionManagerStatus,
    idle_state: StateData<C>,
    served: Served,
    instrumentation: Forward,
    forwarding: bool,
    cache_size: Option<CacheSize>,
}

impl<C: R2D2Connection + 'static> std::fmt::Debug for Routed<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routed")
            .field("served", &self.served)
            .field("pinned", &self.pinned)
            .field("last_write", &self.last_write)
            .finish_non_exhaustive()
    }
}

impl<C: R2D2Connection + 'static> Routed<C> {
    /// Sends every later statement to the primary.
    pub fn pin_to_primary(&mut self) {
        self.pinned = true;
    }

    /// When this connection last wrote (or last committed a transaction),
    /// to carry on to [`Router::get_after`].
    pub fn last_write(&self) -> Option<Instant> {
        self.last_write
    }

    /// How many statements went to each side so far.
    pub fn served(&self) -> Served {
        self.served
    }

    /// The primary connection, checked out on first use.
    fn writer(&mut self) -> QueryResult<&mut C> {
        self.served.primary += 1;
        let setup = self.setup();
        let conn = checkout(&mut self.primary, &self.router.primary, "primary", setup)?;
        Ok(&mut **conn)
    }

    /// Where `source` runs: a replica when it is a plain read that may see
    /// a replica's state, else the primary (which then counts as written
    /// to, unless it is a read).
    fn route<T: QueryFragment<C::Backend>>(&mut self, source: &T) -> QueryResult<&mut C>
    where
        C::Backend: OrmBackend,
    {
        // Without replicas there is nothing to decide (nor to render).
        if self.router.replicas.is_empty() || self.in_transaction() {
            return self.writer();
        }
        let read = C::Backend::sql(source).is_ok_and(|sql| reads_only(&sql));
        if !read {
            self.last_write = Some(Instant::now());
        }
        let recent = self
            .last_write
            .is_some_and(|at| at.elapsed() < self.router.window);
        if read && !recent && !self.pinned && self.replica_ready() {
            self.served.replica += 1;
            let conn = self
                .replica
                .as_mut()
                .ok_or_else(|| no_connection("replica"))?;
            return Ok(&mut **conn);
        }
        self.writer()
    }

    /// Whether a replica connection is held or can be had now.
    fn replica_ready(&mut self) -> bool {
        if self.replica.is_some() {
            return true;
        }
        let Some(pool) = self.router.next_replica() else {
            return false;
        };
        let setup = self.setup();
        checkout(&mut self.replica, pool, "replica", setup).is_ok()
    }

    fn in_transaction(&mut self) -> bool {
        self.primary.as_mut().is_some_and(|conn| {
            matches!(
                C::TransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
                Ok(Some(_)) | Err(_)
            )
        })
    }

    fn setup(&self) -> Setup {
        Setup {
            forward: self.forwarding.then(|| self.instrumentation.clone()),
            cache_size: self.cache_size,
        }
    }

    fn held(&mut self) -> impl Iterator<Item = &mut Pooled<C>> {
        self.primary.iter_mut().chain(self.replica.iter_mut())
    }
}

/// What a connection checked out of a pool is given: the routed
/// connection's instrumentation and statement cache size.
struct Setup {
    forward: Option<Forward>,
    cache_size: Option<CacheSize>,
}

/// `slot`'s connection, checked out of `pool` if it holds none.
fn checkout<'s, C: R2D2Connection + 'static>(
    slot: &'s mut Option<Pooled<C>>,
    pool: &Managed<C>,
    side: &str,
    setup: Setup,
) -> QueryResult<&'s mut Pooled<C>> {
    if slot.is_none() {
        let mut conn = pool
            .get()
            .map_err(|e| no_connection(&format!("{side} pool: {e}")))?;
        if let Some(forward) = setup.forward {
            conn.set_instrumentation(forward);
        }
        if let Some(size) = setup.cache_size {
            conn.set_prepared_statement_cache_size(size);
        }
        *slot = Some(conn);
    }
    slot.as_mut().ok_or_else(|| no_connection(side))
}

fn no_connection(from: &str) -> Error {
    Error::DatabaseError(
        DatabaseErrorKind::UnableToSendCommand,
        Box::new(format!("no connection from the {from}")),
    )
}

/// Whether a statement is a `SELECT` without a locking clause: what a hot
/// standby runs and what changes nothing. Values are bound parameters, so the text
/// holds only keywords and identifiers; an identifier that looks like a
/// locking clause sends the read to the primary, which is merely slower.
fn reads_only(sql: &str) -> bool {
    let sql = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let select = sql
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"));
    let upper = sql.to_ascii_uppercase();
    const LOCKS: [&str; 3] = [" FOR UPDATE", " FOR SHARE", " LOCK IN SHARE MODE"];
    const MORE_LOCKS: [&str; 2] = [" FOR NO KEY UPDATE", " FOR KEY SHARE"];
    select
        && !LOCKS
            .iter()
            .chain(&MORE_LOCKS)
            .any(|lock| upper.contains(lock))
}

/// The routed connection's instrumentation, shared by the pooled
/// connections it holds.
#[derive(Clone, Default)]
struct Forward(Arc<Mutex<Option<Box<dyn Instrumentation>>>>);

impl Instrumentation for Forward {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(inner) = inner.as_mut() {
            inner.on_connection_event(event);
        }
    }
}

impl<C: R2D2Connection + 'static> Drop for Routed<C> {
    fn drop(&mut self) {
        // Back in the pool, a connection reports to no one's log.
        if self.forwarding {
            for conn in self.held() {
                conn.set_instrumentation(get_default_instrumentation());
            }
        }
    }
}

impl<C: R2D2Connection + 'static> ConnectionSealed for Routed<C> {}

impl<C: R2D2Connection + 'static> SimpleConnection for Routed<C> {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        self.last_write = Some(Instant::now());
        self.writer()?.batch_execute(query)
    }
}

impl<C> Connection for Routed<C>
where
    C: R2D2Connection + 'static,
    StateData<C>: Default + Send,
{
    type Backend = C::Backend;
    type TransactionManager = RoutedTransactions;

    fn establish(_: &str) -> ConnectionResult<Self> {
        Err(ConnectionError::BadConnection(
            "a routed connection comes from Router::get".into(),
        ))
    }

    fn execute_returning_count<T>(&mut self, source: &T) -> QueryResult<usize>
    where
        T: QueryFragment<Self::Backend> + QueryId,
    {
        self.last_write = Some(Instant::now());
        self.writer()?.execute_returning_count(source)
    }

    fn transaction_state(&mut self) -> &mut StateData<C> {
        match self.primary.as_mut() {
            Some(conn) => (**conn).transaction_state(),
            // Only a transaction's statements reach the state, and a
            // transaction checks out the primary first.
            None => &mut self.idle_state,
        }
    }

    fn instrumentation(&mut self) -> &mut dyn Instrumentation {
        &mut self.instrumentation
    }

    fn set_instrumentation(&mut self, instrumentation: impl Instrumentation) {
        *self
            .instrumentation
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(instrumentation));
        if !self.forwarding {
            self.forwarding = true;
            let forward = self.instrumentation.clone();
            for conn in self.held() {
                conn.set_instrumentation(forward.clone());
            }
        }
    }

    fn set_prepared_statement_cache_size(&mut self, size: CacheSize) {
        self.cache_size = Some(size);
        for conn in self.held() {
            conn.set_prepared_statement_cache_size(size);
        }
    }
}

impl<C, B> LoadConnection<B> for Routed<C>
where
    C: R2D2Connection + LoadConnection<B> + 'static,
    C::Backend: OrmBackend,
    StateData<C>: Default + Send,
{
    type Cursor<'conn, 'query>
        = <C as LoadConnection<B>>::Cursor<'conn, 'query>
    where
        Self: 'conn;
    type Row<'conn, 'query>
        = <C as LoadConnection<B>>::Row<'conn, 'query>
    where
        Self: 'conn;

    fn load<'conn, 'query, T>(
        &'conn mut self,
        source: T,
    ) -> QueryResult<Self::Cursor<'conn, 'query>>
    where
        T: Query + QueryFragment<Self::Backend> + QueryId + 'query,
        Self::Backend: QueryMetadata<T::SqlType>,
    {
        self.route(&source)?.load(source)
    }
}

/// The transactions of a [`Routed`] connection: on the primary, whose
/// connection `BEGIN` checks out. Committing counts as a write.
#[derive(Debug)]
pub struct RoutedTransactions;

impl<C> TransactionManager<Routed<C>> for RoutedTransactions
where
    C: R2D2Connection + 'static,
    StateData<C>: Default + Send,
{
    type TransactionStateData = StateData<C>;

    fn begin_transaction(conn: &mut Routed<C>) -> QueryResult<()> {
        C::TransactionManager::begin_transaction(conn.writer()?)
    }

    fn rollback_transaction(conn: &mut Routed<C>) -> QueryResult<()> {
        C::TransactionManager::rollback_transaction(conn.writer()?)
    }

    fn commit_transaction(conn: &mut Routed<C>) -> QueryResult<()> {
        conn.last_write = Some(Instant::now());
        C::TransactionManager::commit_transaction(conn.writer()?)
    }

    fn transaction_manager_status_mut(conn: &mut Routed<C>) -> &mut TransactionManagerStatus {
        match conn.primary.as_mut() {
            Some(primary) => C::TransactionManager::transaction_manager_status_mut(primary),
            None => &mut conn.idle,
        }
    }
}

impl<C> ConnKind for Routed<C>
where
    C: R2D2Connection + ConnKind<Kind = Blocking> + 'static,
    StateData<C>: Send,
{
    type Kind = Blocking;
}

#[cfg(test)]
mod tests {
    use super::reads_only;

    #[test]
    fn only_plain_selects_are_reads() {
        assert!(reads_only(
            "SELECT `users`.`id` FROM `users` WHERE (`users`.`id` = ?)"
        ));
        assert!(reads_only("  (SELECT 1) UNION (SELECT 2)"));
        assert!(reads_only("select count(*) from \"rsvps\""));
        assert!(!reads_only(
            "SELECT \"events\".\"id\" FROM \"events\" WHERE 1 = 1 FOR UPDATE"
        ));
        assert!(!reads_only("SELECT 1 FROM t FOR NO KEY UPDATE"));
        assert!(!reads_only("SELECT 1 FROM t FOR SHARE"));
        assert!(!reads_only("SELECT 1 FROM t LOCK IN SHARE MODE"));
        assert!(!reads_only("INSERT INTO t (a) VALUES ($1) RETURNING t.id"));
        assert!(!reads_only(
            "WITH moved AS (DELETE FROM t RETURNING *) SELECT * FROM moved"
        ));
        assert!(!reads_only("UPDATE t SET a = $1"));
        assert!(!reads_only(""));
    }
}
