//! The [`Model`] trait the derive implements, and the CRUD operations every
//! model gets.

use std::fmt::Debug;
use std::hash::Hash;

use diesel::associations::HasTable;
use diesel::dsl;
use diesel::dsl::SqlTypeOf;
use diesel::expression::{AsExpression, Expression};
use diesel::query_builder::IntoUpdateTarget;
use diesel::query_builder::QueryId;
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::query_dsl::LoadQuery;
use diesel::result::{Error, QueryResult};
use diesel::sql_types::SingleValue;
use diesel::{Column, ExpressionMethods, Insertable, QueryDsl, RunQueryDsl, Table};

use diesel::query_builder::{AstPass, InsertStatement, Query, QueryFragment, ReturningClause};

use crate::backend::{Dialect, OrmBackend};
use crate::cluster::{self, CertifiedLock};
use crate::exec::{savepoint, transaction, ConnKind, Execute, Fetch, FetchIn, Kind, Transact};
use crate::instrument::traced;
use crate::key_columns::KeyColumns;
use crate::schema::{Relation, TableDef};
use std::future::Future;

/// A struct with `#[derive(Model)]`: one row of one table.
///
/// The derive implements it; its items say where the model's data lives.
/// The CRUD methods (`create`, `find`, `save`, ...) are generated inherent
/// methods that call [`Crud`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "add `#[derive(Model)]` to `{Self}`",
    note = "associations can only point at structs that derive `orm_core::Model`"
)]
pub trait Model: Sized + Send + Sync + 'static {
    /// The diesel table (`events::table`).
    type Table: Table + HasTable<Table = Self::Table> + Default + Copy + QueryId + Send;
    /// The primary-key column (`events::id`), or [`Cols`](crate::Cols) of
    /// the columns of a composite key (`Cols<(rsvps::event_id,
    /// rsvps::guest_id)>`).
    type PrimaryKey: KeyColumns<Self::Id>;
    /// The Rust type of the primary key (`i32`, or `(i32, i32)`).
    type Id: Clone + Eq + Hash + Debug + Send + Sync + 'static;
    /// The columns the struct's fields read, in the fields' order
    /// (`(events::id, events::title)`). Every read selects them by name, so
    /// a struct need not follow its table's column order, and may leave
    /// columns out.
    type Columns: diesel::SelectableExpression<Self::Table>
        + diesel::expression::ValidGrouping<(), IsAggregate = diesel::expression::is_aggregate::No>
        + Copy
        + QueryId
        + Send;
    /// The insertable struct (`NewEvent`).
    type New: Insertable<Self::Table>;
    /// The struct's name, for messages.
    const NAME: &'static str;
    /// The table's columns, for DDL.
    const TABLE: &'static TableDef;
    /// Foreign keys and join tables this model's associations declare, for DDL.
    const RELATIONS: &'static [Relation];
    /// [`Columns`](Self::Columns), the select list of every read.
    const COLUMNS: Self::Columns;
    /// This row's primary-key value.
    fn id(&self) -> Self::Id;

    /// The key a `New` row will have, when it carries it (a key the
    /// database does not assign). Used where an INSERT cannot return the row
    /// (MySQL).
    fn new_id(new: &Self::New) -> Option<Self::Id> {
        let _ = new;
        None
    }

    /// The key the database assigned, from MySQL's `LAST_INSERT_ID()`, for
    /// a single integer key.
    fn auto_id(last_insert_id: u64) -> Option<Self::Id> {
        let _ = last_insert_id;
        None
    }

    /// This row's typed key.
    fn key(&self) -> crate::Key<Self> {
        crate::Key::new(self.id())
    }
}

/// A model whose primary key is one column: what `belongs_to_many`'s
/// source and target need.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a composite primary key",
    note = "a `belongs_to_many` joins models with a single-column primary key; `has_one`, `has_many` and `belongs_to` take keys of several columns (`foreign_key(a, b)`)"
)]
pub trait SingleKey:
    Model<
    PrimaryKey: Column<Table = Self::Table> + Expression<SqlType: SingleValue> + ExpressionMethods,
    Id: AsExpression<SqlTypeOf<Self::PrimaryKey>>,
>
{
}

impl<M> SingleKey for M where
    M: Model<
        PrimaryKey: Column<Table = Self::Table>
                        + Expression<SqlType: SingleValue>
                        + ExpressionMethods,
        Id: AsExpression<SqlTypeOf<Self::PrimaryKey>>,
    >
{
}

/// The diesel table of a model.
pub type TableOf<M> = <M as Model>::Table;
/// The primary-key column of a model.
pub type PkOf<M> = <M as Model>::PrimaryKey;
/// The primary-key type of a model.
pub type IdOf<M> = <M as Model>::Id;
/// The columns a model's fields read, in field order.
pub type ColumnsOf<M> = <M as Model>::Columns;
/// `SELECT <the model's columns> FROM table`: what every read of rows
/// starts from.
pub type Rows<M> = dsl::Select<TableOf<M>, ColumnsOf<M>>;
/// `pk = ?`, or `a = ? AND b = ?` for a composite key.
pub type KeyEq<M> = <PkOf<M> as KeyColumns<IdOf<M>>>::Eq;
/// `pk IN (?, ..)`, or `(a, b) IN ((?, ?), ..)` for a composite key.
pub type KeyIn<M> = <PkOf<M> as KeyColumns<IdOf<M>>>::In;
/// `table WHERE pk = ?`: the target of an UPDATE or DELETE of one row.
pub type ById<M> = dsl::Filter<TableOf<M>, KeyEq<M>>;
/// `table WHERE pk IN (?, ..)`: the target of an UPDATE of several rows.
pub type ByIds<M> = dsl::Filter<TableOf<M>, KeyIn<M>>;
/// `SELECT <columns> FROM table WHERE pk = ?`
pub type RowById<M> = dsl::Filter<Rows<M>, KeyEq<M>>;
/// `SELECT <columns> FROM table WHERE pk IN (?, ..)`
pub type RowsByIds<M> = dsl::Filter<Rows<M>, KeyIn<M>>;
/// `SELECT EXISTS (q)`
pub type Exists<Q> = dsl::select<dsl::exists<Q>>;
/// `SELECT COUNT(*) FROM (q)`
pub type CountOf<Q> = dsl::Select<Q, dsl::count_star>;
/// The boxed query `Model::query()` returns.
pub type BoxedQuery<'a, M, DB> = dsl::IntoBoxed<'a, Rows<M>, DB>;

/// `SELECT <the model's columns> FROM table`.
pub fn rows<M: Model>() -> Rows<M>
where
    M::Table: SelectDsl<M::Columns>,
{
    SelectDsl::select(M::Table::default(), M::COLUMNS)
}
/// `INSERT INTO table (..) VALUES (..)` for a model's `New` struct.
pub type InsertNew<M> = dsl::Values<dsl::insert_into<TableOf<M>>, <M as Model>::New>;
/// `INSERT INTO table (..) VALUES (..), (..)` for several `New` structs.
pub type InsertNews<M> = dsl::Values<dsl::insert_into<TableOf<M>>, Vec<<M as Model>::New>>;
/// `INSERT .. RETURNING <the model's columns>`, of one row or several.
pub type Returning<Q, M> = <Q as WithReturning<ColumnsOf<M>>>::Out;

/// An INSERT statement given a `RETURNING returns` clause.
pub trait WithReturning<E> {
    /// The statement with the clause.
    type Out;
    /// Adds `RETURNING returns`.
    fn returning(self, returns: E) -> Self::Out
    where
        Self::Out: Query;
}

impl<T: diesel::QuerySource, U, Op, E> WithReturning<E> for InsertStatement<T, U, Op> {
    type Out = InsertStatement<T, U, Op, ReturningClause<E>>;

    fn returning(self, returns: E) -> Self::Out
    where
        Self::Out: Query,
    {
        InsertStatement::returning(self, returns)
    }
}

/// How a backend inserts rows and gives them back: `INSERT .. RETURNING` on
/// SQLite and PostgreSQL; the INSERT, then the row by its key on MySQL.
#[diagnostic::on_unimplemented(
    message = "`{M}` rows cannot be inserted through a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)"
)]
pub trait InsertRows<M: Model, C, K = <C as ConnKind>::Kind>: OrmBackend {
    /// Inserts `new` and returns the stored row.
    fn create(new: M::New, conn: &mut C) -> impl Future<Output = QueryResult<M>> + Send;
}

/// Several rows at once (staged `add_new`, `create_many`): one `INSERT ..
/// RETURNING` on PostgreSQL and on a `SqliteConnection`, a row at a time on
/// other SQLite connections and on MySQL.
#[diagnostic::on_unimplemented(
    message = "several `{M}` rows cannot be inserted at once through a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, or a pooled one); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)"
)]
pub trait InsertMany<M: Model, C, K = <C as ConnKind>::Kind>: OrmBackend {
    /// Inserts `news` (at most a chunk under the parameter limit) and
    /// returns the stored rows, in order.
    fn create_many(
        news: Vec<M::New>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<M>>> + Send;
}

macro_rules! insert_returning {
    ($($backend:ty: $feature:literal),*) => {$(
        #[cfg(feature = $feature)]
        impl<M, C, K> InsertRows<M, C, K> for $backend
        where
            M: Model,
            M::New: Send,
            C: Transact<K, Backend = $backend>,
            Returning<InsertNew<M>, M>: Query + Fetch<C, K, M>,
        {
            fn create(new: M::New, conn: &mut C) -> impl Future<Output = QueryResult<M>> + Send {
                let insert = diesel::insert_into(M::Table::default()).values(new);
                FetchIn::get_result(WithReturning::returning(insert, M::COLUMNS), conn)
            }
        }

    )*};
}
insert_returning!(diesel::sqlite::Sqlite: "sqlite", diesel::pg::Pg: "postgres");

#[cfg(feature = "postgres")]
impl<M, C, K> InsertMany<M, C, K> for diesel::pg::Pg
where
    M: Model,
    M::New: Send,
    C: Transact<K, Backend = diesel::pg::Pg>,
    Returning<InsertNews<M>, M>: Query + Fetch<C, K, M>,
    M::New: diesel::internal::derives::insertable::UndecoratedInsertRecord<M::Table>,
{
    fn create_many(
        news: Vec<M::New>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<M>>> + Send {
        let insert = diesel::insert_into(M::Table::default()).values(news);
        FetchIn::load(WithReturning::returning(insert, M::COLUMNS), conn)
    }
}

/// SQLite: one multi-row `INSERT .. RETURNING` on a `SqliteConnection`
/// (plain or pooled by r2d2), which is the only connection diesel runs one
/// on, and on diesel-async's `SyncConnectionWrapper` of one (plain or pooled
/// by deadpool), which runs it on that connection; a cached one-row
/// `INSERT .. RETURNING` per row on any other SQLite connection (bb8's
/// pooled wrapper, one of your own), so that code generic over
/// [`Conn`](crate::Conn) can call it.
#[cfg(feature = "sqlite")]
impl<M, C, K> InsertMany<M, C, K> for diesel::sqlite::Sqlite
where
    M: Model,
    M::New: Send,
    C: Transact<K, Backend = diesel::sqlite::Sqlite> + 'static,
    diesel::sqlite::Sqlite: InsertRows<M, C, K>,
    Returning<InsertNews<M>, M>: Query + LoadQuery<'static, diesel::SqliteConnection, M>,
    M::New: diesel::internal::derives::insertable::UndecoratedInsertRecord<M::Table>,
{
    async fn create_many(news: Vec<M::New>, conn: &mut C) -> QueryResult<Vec<M>> {
        let insert = |news: Vec<M::New>, sqlite: &mut diesel::SqliteConnection| {
            let insert = diesel::insert_into(M::Table::default()).values(news);
            WithReturning::returning(insert, M::COLUMNS).get_results(sqlite)
        };
        if let Some(sqlite) = crate::backend::as_sqlite_connection(conn) {
            return insert(news, sqlite);
        }
        // diesel-async's SQLite: the same statement, on its connection.
        #[cfg(feature = "async")]
        if let Some(wrapper) = crate::backend::as_sqlite_wrapper(conn) {
            return wrapper
                .spawn_blocking(move |sqlite| insert(news, sqlite))
                .await;
        }
        one_at_a_time::<M, C, K, Self>(news, conn).await
    }
}

/// Inserts `news` with one `InsertRows::create` each.
async fn one_at_a_time<M, C, K, DB>(news: Vec<M::New>, conn: &mut C) -> QueryResult<Vec<M>>
where
    M: Model,
    DB: InsertRows<M, C, K>,
{
    let mut rows = Vec::with_capacity(news.len());
    for new in news {
        rows.push(DB::create(new, conn).await?);
    }
    Ok(rows)
}

/// `SELECT LAST_INSERT_ID()`
#[cfg(feature = "mysql")]
type LastInsertId = dsl::select<
    diesel::expression::SqlLiteral<diesel::sql_types::Unsigned<diesel::sql_types::BigInt>>,
>;

#[cfg(feature = "mysql")]
impl<M, C, K> InsertRows<M, C, K> for diesel::mysql::Mysql
where
    M: ModelQuery,
    M::New: Send,
    C: Transact<K, Backend = diesel::mysql::Mysql>,
    InsertNew<M>: Execute<C, K>,
    M::RowById: Fetch<C, K, M>,
    LastInsertId: Fetch<C, K, u64>,
{
    async fn create(new: M::New, conn: &mut C) -> QueryResult<M> {
        let key = M::new_id(&new);
        Execute::execute(diesel::insert_into(M::Table::default()).values(new), conn).await?;
        let id = match key {
            Some(id) => id,
            None => {
                let last: LastInsertId = diesel::select(dsl::sql("LAST_INSERT_ID()"));
                M::auto_id(FetchIn::get_result(last, conn).await?).ok_or(Error::NotFound)?
            }
        };
        M::row_by_id(id).get_result(conn).await
    }
}

#[cfg(feature = "mysql")]
impl<M, C, K> InsertMany<M, C, K> for diesel::mysql::Mysql
where
    M: Model,
    M::New: Send,
    C: Transact<K, Backend = diesel::mysql::Mysql>,
    diesel::mysql::Mysql: InsertRows<M, C, K>,
{
    fn create_many(
        news: Vec<M::New>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<M>>> + Send {
        // No RETURNING: one INSERT and one read per row.
        one_at_a_time::<M, C, K, Self>(news, conn)
    }
}

/// `create_many` of a model on a connection `C` of kind `K`: what the
/// generated `Model::create_many` runs.
#[diagnostic::on_unimplemented(
    message = "several `{Self}` rows cannot be inserted at once through a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)"
)]
pub trait CreateMany<C, K = <C as ConnKind>::Kind>: Model {
    /// Inserts `news` and returns the stored rows, in order (Sequelize's
    /// `bulkCreate`): one `INSERT .. RETURNING` per chunk of rows that fits
    /// the parameter limit on PostgreSQL and on a `SqliteConnection` (other
    /// SQLite connections: one per row, see [`InsertMany`]), an INSERT and
    /// a read per row on MySQL. All rows or none: unless it is one
    /// statement, it runs in a transaction.
    fn create_many(
        news: Vec<Self::New>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self>>> + Send;
}

#[diagnostic::do_not_recommend]
impl<M, C, K> CreateMany<C, K> for M
where
    C: ConnKind<Kind = K>,
    M: Model<New: Send>,
    C: Transact<K>,
    C::Backend: InsertMany<M, C, K>,
{
    async fn create_many(news: Vec<M::New>, conn: &mut C) -> QueryResult<Vec<M>> {
        let per_statement =
            crate::backend::chunk_size::<C::Backend>(M::TABLE.columns.len().max(1), 0);
        // One statement only where the backend writes several rows in one
        // (PostgreSQL; SQLite may insert a row at a time, see `InsertMany`).
        let one = news.len() <= 1
            || (news.len() <= per_statement && C::Backend::DIALECT == Dialect::Postgres);
        if one {
            savepoint!(
                C,
                K,
                conn,
                insert_chunks::<M, C, K>(news, per_statement, conn).await
            )
        } else {
            transaction!(
                conn,
                insert_chunks::<M, C, K>(news, per_statement, conn).await
            )
        }
    }
}

/// Inserts `news` in chunks of `per_statement` rows.
async fn insert_chunks<M, C, K>(
    news: Vec<M::New>,
    per_statement: usize,
    conn: &mut C,
) -> QueryResult<Vec<M>>
where
    M: Model,
    C: Transact<K>,
    C::Backend: InsertMany<M, C, K>,
{
    let mut rows = Vec::with_capacity(news.len());
    let mut pending = news.into_iter().peekable();
    while pending.peek().is_some() {
        let chunk: Vec<_> = pending.by_ref().take(per_statement).collect();
        rows.extend(<C::Backend as InsertMany<M, C, K>>::create_many(chunk, conn).await?);
    }
    Ok(rows)
}

/// The statements of a model, as types (no connection needed).
pub trait ModelQuery: Model {
    /// `table WHERE pk = ?`, for an UPDATE or DELETE.
    type ById: IntoUpdateTarget<Table = Self::Table>;
    /// `SELECT <columns> FROM table WHERE pk = ?`
    type RowById;
    /// `SELECT EXISTS (table WHERE pk = ?)`
    type Exists;
    /// `SELECT COUNT(*) FROM table`
    type Count;
    /// `SELECT <columns> FROM table`
    type All;
    /// The row with key `id`, to update or delete.
    fn by_id(id: Self::Id) -> Self::ById;
    /// The row with key `id`, to read.
    fn row_by_id(id: Self::Id) -> Self::RowById;
    /// Whether the row with key `id` exists.
    fn exists(id: Self::Id) -> Self::Exists;
    /// The number of rows.
    fn count() -> Self::Count;
    /// Every row.
    fn all() -> Self::All;
}

/// `SELECT <columns> FROM table WHERE pk IN (?, ..)` (`(a, b) IN ((?, ?),
/// ..)` for a composite key).
pub trait KeysQuery: Model {
    /// `SELECT <columns> FROM table WHERE pk IN (?, ..)`
    type ByIds;
    /// The rows with keys `ids`.
    fn by_ids(ids: Vec<Self::Id>) -> Self::ByIds;
}

impl<M> KeysQuery for M
where
    M: Model,
    M::Table: SelectDsl<M::Columns>,
    Rows<M>: FilterDsl<KeyIn<M>>,
{
    type ByIds = RowsByIds<M>;

    fn by_ids(ids: Vec<M::Id>) -> RowsByIds<M> {
        FilterDsl::filter(rows::<M>(), M::PrimaryKey::default().key_in(ids))
    }
}

impl<M> ModelQuery for M
where
    M: Model,
    M::Table: FilterDsl<KeyEq<M>> + SelectDsl<dsl::count_star> + SelectDsl<M::Columns>,
    Rows<M>: FilterDsl<KeyEq<M>>,
    ById<M>: IntoUpdateTarget<Table = M::Table>,
    dsl::exists<ById<M>>: Expression,
    Exists<ById<M>>: diesel::query_builder::AsQuery,
{
    type ById = ById<M>;
    type RowById = RowById<M>;
    type Exists = Exists<ById<M>>;
    type Count = CountOf<M::Table>;
    type All = Rows<M>;

    fn by_id(id: M::Id) -> ById<M> {
        FilterDsl::filter(M::Table::default(), M::PrimaryKey::default().key_eq(id))
    }

    fn row_by_id(id: M::Id) -> RowById<M> {
        FilterDsl::filter(rows::<M>(), M::PrimaryKey::default().key_eq(id))
    }

    fn exists(id: M::Id) -> Self::Exists {
        diesel::select(dsl::exists(Self::by_id(id)))
    }

    fn count() -> Self::Count {
        M::Table::default().count()
    }

    fn all() -> Rows<M> {
        rows::<M>()
    }
}

/// The CRUD operations of a model on a connection `C`.
///
/// Implemented for every model and every connection whose backend can run
/// the statements; the derive's `create`, `find`, ... forward here.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be loaded or stored through a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait Crud<C, K = <C as ConnKind>::Kind>: Model {
    /// Inserts `new` and returns the stored row with its database-assigned key.
    fn create(new: Self::New, conn: &mut C) -> impl Future<Output = QueryResult<Self>> + Send;
    /// [`create`](Self::create) without the savepoint a write takes inside
    /// the caller's transaction: for writers that run it in their own.
    #[doc(hidden)]
    fn insert(new: Self::New, conn: &mut C) -> impl Future<Output = QueryResult<Self>> + Send;
    /// The row with primary key `id`; `Err(NotFound)` if there is none.
    fn find(id: Self::Id, conn: &mut C) -> impl Future<Output = QueryResult<Self>> + Send;
    /// Whether a row with primary key `id` exists.
    fn exists(id: Self::Id, conn: &mut C) -> impl Future<Output = QueryResult<bool>> + Send;
    /// Every row of the table.
    fn all(conn: &mut C) -> impl Future<Output = QueryResult<Vec<Self>>> + Send;
    /// How many rows the table holds.
    fn count(conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send;
    /// Writes every field of `self` to its row; `Err(NotFound)` if the row is gone.
    fn save<'c>(&'c self, conn: &'c mut C) -> impl Future<Output = QueryResult<()>> + Send + 'c;
    /// Deletes this row; `Err(NotFound)` if it was already gone.
    fn delete(&self, conn: &mut C) -> impl Future<Output = QueryResult<()>> + Send;
    /// Locks the row with key `id` until the end of the transaction
    /// (`SELECT .. FOR NO KEY UPDATE` on PostgreSQL, `FOR UPDATE` on MySQL,
    /// and on a cluster a certified write too, see [`cluster`](crate::cluster);
    /// on SQLite only reads it); `Err(NotFound)` if there is none.
    /// Association writers take it on their parent row, so that two of them
    /// on one parent run one after the other (see the README's
    /// concurrency section).
    fn lock(id: Self::Id, conn: &mut C) -> impl Future<Output = QueryResult<()>> + Send;
}

#[diagnostic::do_not_recommend]
impl<M, C, K> Crud<C, K> for M
where
    C: ConnKind<Kind = K>,
    M: ModelQuery + Send + Sync,
    M::New: Send,
    K: Kind,
    C: Transact<K>,
    C::Backend: InsertRows<M, C, K>,
    M::RowById: Fetch<C, K, M>,
    M::Exists: Fetch<C, K, bool>,
    M::All: Fetch<C, K, M>,
    M::Count: Fetch<C, K, i64>,
    for<'a> &'a M: diesel::AsChangeset<Target = M::Table>,
    for<'a> dsl::Update<M::ById, &'a M>: Execute<C, K> + diesel::query_builder::AsQuery,
    dsl::delete<M::ById>: Execute<C, K>,
    ForUpdate<M::RowById>: Fetch<C, K, M>,
    CertifiedLock: Execute<C, K>,
{
    fn create(new: M::New, conn: &mut C) -> impl Future<Output = QueryResult<M>> + Send {
        traced(M::NAME, "", "create", async move {
            savepoint!(C, K, conn, Self::insert(new, conn).await)
        })
    }

    fn insert(new: M::New, conn: &mut C) -> impl Future<Output = QueryResult<M>> + Send {
        <C::Backend as InsertRows<M, C, K>>::create(new, conn)
    }

    fn find(id: M::Id, conn: &mut C) -> impl Future<Output = QueryResult<M>> + Send {
        traced(
            M::NAME,
            "",
            "find",
            FetchIn::get_result(M::row_by_id(id), conn),
        )
    }

    fn exists(id: M::Id, conn: &mut C) -> impl Future<Output = QueryResult<bool>> + Send {
        FetchIn::get_result(<M as ModelQuery>::exists(id), conn)
    }

    fn all(conn: &mut C) -> impl Future<Output = QueryResult<Vec<M>>> + Send {
        traced(
            M::NAME,
            "",
            "all",
            FetchIn::load(<M as ModelQuery>::all(), conn),
        )
    }

    fn count(conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send {
        traced(
            M::NAME,
            "",
            "count",
            FetchIn::get_result(<M as ModelQuery>::count(), conn),
        )
    }

    fn save<'c>(&'c self, conn: &'c mut C) -> impl Future<Output = QueryResult<()>> + Send + 'c {
        traced(M::NAME, "", "save", async move {
            let update = diesel::update(M::by_id(self.id())).set(self);
            one_row(savepoint!(
                C,
                K,
                conn,
                Execute::execute(update, conn).await
            )?)
        })
    }

    fn delete(&self, conn: &mut C) -> impl Future<Output = QueryResult<()>> + Send {
        traced(M::NAME, "", "delete", async move {
            let delete = diesel::delete(M::by_id(self.id()));
            one_row(savepoint!(
                C,
                K,
                conn,
                Execute::execute(delete, conn).await
            )?)
        })
    }

    async fn lock(id: M::Id, conn: &mut C) -> QueryResult<()> {
        let mysql = <C::Backend as OrmBackend>::DIALECT == Dialect::Mysql;
        let certified = (mysql && cluster::certifies_locks()).then(|| CertifiedLock::of::<M>(&id));
        let rows: Vec<M> = FetchIn::load(ForUpdate(M::row_by_id(id)), conn).await?;
        one_row(rows.len())?;
        if let Some(certified) = certified {
            cluster::written(Execute::execute(certified, conn).await?)?;
        }
        Ok(())
    }
}

fn one_row(rows: usize) -> QueryResult<()> {
    if rows == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// `q FOR NO KEY UPDATE` on PostgreSQL (which a foreign-key check's `KEY
/// SHARE` lock does not wait for), `q FOR UPDATE` on MySQL; `q` itself on
/// SQLite, where a writing transaction already excludes other writers.
#[derive(Debug, Clone, Copy)]
pub struct ForUpdate<Q>(pub Q);

impl<Q: Query> Query for ForUpdate<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryId> QueryId for ForUpdate<Q> {
    type QueryId = ForUpdate<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q, C> RunQueryDsl<C> for ForUpdate<Q> {}

impl<Q: QueryFragment<DB>, DB: OrmBackend> QueryFragment<DB> for ForUpdate<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        match DB::DIALECT {
            Dialect::Postgres => out.push_sql(" FOR NO KEY UPDATE"),
            Dialect::Mysql => out.push_sql(" FOR UPDATE"),
            Dialect::Sqlite => {}
        }
        Ok(())
    }
}

/// A model field by name, looked up by other models' derives (a `has_many`
/// on `User` finds `Post`'s `author_id` through it). `NAME` is a hash of the
/// column name that the derive computes; see [`field_hash`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no field for a key column this association names",
    label = "this column must be a field of `{Self}`",
    note = "the `foreign_key` of `has_one`/`has_many` is a field of the target model; the `foreign_key` and `other_key` of `belongs_to_many .. through = Model` are fields of the join model"
)]
pub trait Field<const NAME: u64>: Model {
    /// The column (`posts::author_id`).
    type Column: Column<Table = Self::Table> + Default + Copy + QueryId + Send;
    /// The field's Rust type (`Option<i32>`).
    type Value;
    /// Sets this field on an insertable `New` struct.
    fn set_on_new(new: &mut Self::New, value: Self::Value);
    /// This field of `row`.
    fn get(row: &Self) -> &Self::Value;
}

/// The hash `#[derive(Model)]` uses to name a field in [`Field`]
/// (64-bit FNV-1a of the column name).
pub const fn field_hash(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The type of a foreign-key field that points at a key of type `Id`:
/// `Id` itself (NOT NULL) or `Option<Id>` (nullable).
#[diagnostic::on_unimplemented(
    message = "a foreign key of type `{Self}` cannot hold a key of type `{Id}`",
    label = "the foreign key field must be `{Id}` or `Option<{Id}>`"
)]
pub trait ForeignKey<Id>: Clone {
    /// What a `belongs_to` getter returns for this key: `T` for a NOT NULL
    /// key, `Option<T>` for a nullable one.
    type Target<T>;
    /// The key value pointing at `id`.
    fn from_id(id: Id) -> Self;
    /// The value meaning "no parent", if the column is nullable.
    fn null() -> Option<Self>;
    /// The key this value points at, if any.
    fn get(&self) -> Option<&Id>;
    /// Loads the target with `load` if the key points somewhere.
    fn load<T>(&self, load: impl FnOnce(Id) -> QueryResult<T>) -> QueryResult<Self::Target<T>>;
}

/// A foreign key that may be NULL, which is what removing a row from a
/// `has_many` association writes.
#[diagnostic::on_unimplemented(
    message = "the foreign key of this association is NOT NULL, so it cannot be set to NULL",
    label = "`{Self}` cannot be set to NULL",
    note = "make the foreign-key field an `Option<_>` to allow `remove_*`, `set_*` and `clear_*` (has_many) and `unset_*` (belongs_to, has_one)"
)]
pub trait NullableKey {}
#[diagnostic::do_not_recommend]
impl<T> NullableKey for Option<T> {}

// One impl per form, for any key type (a `Uuid`, a newtype): an error for
// a field of another type then names the two it takes, not every key type.
#[diagnostic::do_not_recommend]
impl<K: Clone> ForeignKey<K> for K {
    type Target<T> = T;
    fn from_id(id: K) -> Self {
        id
    }
    fn null() -> Option<Self> {
        None
    }
    fn get(&self) -> Option<&K> {
        Some(self)
    }
    fn load<T>(&self, load: impl FnOnce(K) -> QueryResult<T>) -> QueryResult<T> {
        load(self.clone())
    }
}

#[diagnostic::do_not_recommend]
impl<K: Clone> ForeignKey<K> for Option<K> {
    type Target<T> = Option<T>;
    fn from_id(id: K) -> Self {
        Some(id)
    }
    fn null() -> Option<Self> {
        Some(None)
    }
    fn get(&self) -> Option<&K> {
        self.as_ref()
    }
    fn load<T>(&self, load: impl FnOnce(K) -> QueryResult<T>) -> QueryResult<Option<T>> {
        self.clone().map(load).transpose()
    }
}
