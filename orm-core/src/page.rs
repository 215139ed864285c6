//! Pagination of any query: a page of rows and the total, in two
//! statements.

use std::future::Future;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::{Error, QueryResult};
use diesel::serialize::ToSql;
use diesel::sql_types::BigInt;

use crate::exec::{transaction, ConnKind, FetchIn, Kind, Transact};

/// One page of rows and what the whole query holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows of this page, in the query's order.
    pub items: Vec<T>,
    /// How many rows the whole query has.
    pub total: i64,
    /// This page's number, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl<T> Page<T> {
    /// How many pages the query fills (0 when it has no rows).
    pub fn pages(&self) -> i64 {
        (self.total + self.per_page - 1) / self.per_page
    }
}

/// `.paginate(page, per_page)` on any diesel query: `Model::query()`, an
/// association's `*_query()`, or a query of your own.
///
/// ```
/// # use orm_core::prelude::*;
/// use orm_core::Paginate;
/// # #[derive(Model, Debug, Clone, PartialEq)]
/// # pub struct Event { pub id: i32, pub title: String }
/// # let mut conn = orm_core::sqlite::memory().unwrap();
/// # Schema::new().model::<Event>().create_all(&mut conn).unwrap();
/// # for i in 0..45 { Event::create(NewEvent { title: format!("e{i}") }, &mut conn).unwrap(); }
/// let page = Event::query()
///     .order(events::id)
///     .paginate(3, 20)
///     .load_page::<Event, _>(&mut conn)
///     .unwrap();
/// assert_eq!((page.items.len(), page.total, page.pages()), (5, 45, 3));
/// ```
pub trait Paginate: Sized {
    /// Page `page` (from 1) of `per_page` rows.
    fn paginate(self, page: i64, per_page: i64) -> Paginated<Self> {
        Paginated {
            query: self,
            page,
            per_page,
        }
    }
}

impl<Q: Query> Paginate for Q {}

/// A connection of kind `K` that loads pages of `Q` as rows `T`: the one
/// bound of [`Paginated::load_page`] on its connection and row type, so
/// that a mistake in either is one error.
#[diagnostic::on_unimplemented(
    message = "this query's page cannot be loaded on a `{Self}`",
    label = "a `&mut` connection, with the query's rows loaded as the page's `T`",
    note = "a pool is not a connection: pass `&mut pool.get()?` (`&mut pool.get().await?` for an async pool)",
    note = "the page's rows (`Page<T>`) must be what the query's rows load into, as with diesel's `load::<T>`"
)]
pub trait LoadsPage<Q, T, K>: ConnKind<Kind = K> + Transact<K> {
    /// `SELECT COUNT(*) FROM (query)`
    #[doc(hidden)]
    fn total<'c>(
        query: &'c mut Q,
        conn: &'c mut Self,
    ) -> impl Future<Output = QueryResult<i64>> + Send + 'c;
    /// `query LIMIT .. OFFSET ..`
    #[doc(hidden)]
    fn rows<'c>(
        query: &'c mut Q,
        limit: i64,
        offset: i64,
        conn: &'c mut Self,
    ) -> impl Future<Output = QueryResult<Vec<T>>> + Send + 'c;
}

#[diagnostic::do_not_recommend]
impl<C, Q, T, K> LoadsPage<Q, T, K> for C
where
    C: ConnKind<Kind = K> + Transact<K>,
    for<'q> Counted<Lent<'q, Q>>: FetchIn<'q, C, K, i64>,
    for<'q> Limited<Lent<'q, Q>>: FetchIn<'q, C, K, T>,
{
    fn total<'c>(
        query: &'c mut Q,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<i64>> + Send + 'c {
        Counted(Lent(query)).get_result(conn)
    }
    fn rows<'c>(
        query: &'c mut Q,
        limit: i64,
        offset: i64,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Vec<T>>> + Send + 'c {
        let query = Lent(query);
        Limited {
            query,
            limit,
            offset,
        }
        .load(conn)
    }
}

/// A query with a page to load; see [`Paginate`].
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is loaded"]
pub struct Paginated<Q> {
    query: Q,
    page: i64,
    per_page: i64,
}

impl<Q> Paginated<Q> {
    /// Runs `SELECT COUNT(*) FROM (query)` and `query LIMIT per_page OFFSET
    /// ..`: two statements, in one transaction so that the page and the
    /// total agree. `Err` for a page below 1 or a page size below 1, before
    /// any statement runs. The query must not have a LIMIT of its own, and
    /// its binds must be owned values (`name.eq(name.clone())`, not
    /// `name.eq(&name)`): each of the two statements borrows the query in
    /// turn inside the operation, so it cannot hold a borrow of its own.
    /// On an async connection it returns a future.
    pub fn load_page<'c, T, K>(self, conn: &'c mut impl LoadsPage<Q, T, K>) -> K::Out<'c, Page<T>>
    where
        K: Kind,
        Q: Send + 'c,
        T: Send + 'c,
    {
        K::run(async move {
            let mut query = self.query;
            let (page, per_page) = (self.page, self.per_page);
            if page < 1 || per_page < 1 {
                return Err(Error::QueryBuilderError(
                    format!(
                        "page {page} of {per_page} rows: pages count from 1 and hold at least one row"
                    )
                    .into(),
                ));
            }
            let offset = (page - 1).checked_mul(per_page).ok_or_else(|| {
                Error::QueryBuilderError(format!("page {page} is out of range").into())
            })?;
            transaction!(conn, {
                let total = LoadsPage::total(&mut query, conn).await?;
                let items = LoadsPage::rows(&mut query, per_page, offset, conn).await?;
                Ok(Page {
                    items,
                    total,
                    page,
                    per_page,
                })
            })
        })
    }
}

/// A query lent to one of the two statements of a page. Lent by `&mut`, so
/// that the future running the statement is `Send` for any `Send` query
/// (diesel's boxed queries are not `Sync`, so a `&` of one is not `Send`).
#[derive(Debug)]
pub struct Lent<'q, Q>(&'q mut Q);

impl<Q: Query> Query for Lent<'_, Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for Lent<'_, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Lent<'_, Q> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

/// `SELECT COUNT(*) FROM (query) AS "__orm_page"`.
#[derive(Debug, Clone, Copy)]
pub struct Counted<Q>(Q);

/// `query LIMIT $1 OFFSET $2`.
#[derive(Debug, Clone, Copy)]
pub struct Limited<Q> {
    query: Q,
    limit: i64,
    offset: i64,
}

impl<Q> Query for Counted<Q> {
    type SqlType = BigInt;
}

impl<Q: Query> Query for Limited<Q> {
    type SqlType = Q::SqlType;
}

// The SQL text carries the inner query's: diesel caches it by that text.
impl<Q> QueryId for Counted<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> QueryId for Limited<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, C> diesel::RunQueryDsl<C> for Counted<Q> {}
impl<Q, C> diesel::RunQueryDsl<C> for Limited<Q> {}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Counted<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("SELECT COUNT(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS ");
        out.push_identifier("__orm_page")
    }
}

impl<Q, DB> QueryFragment<DB> for Limited<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" OFFSET ");
        out.push_bind_param::<BigInt, _>(&self.offset)
    }
}
