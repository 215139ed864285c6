//! Join models: a `belongs_to_many` association `through = Rsvp`, where the
//! join table is a model of its own with a payload (`status`, ...).
//!
//! The join model's derive implements [`JoinModel`] (its payload struct and
//! the columns an upsert writes) and [`JoinKeys`] (its insertable row from
//! the two keys and a payload). The association's derive implements
//! [`ThroughModel`] on its marker. Reads that return the join rows use
//! [`ThroughQuery`]: the targets joined with their join rows, filtered and
//! ordered on the columns of either.

use diesel::backend::Backend;
use diesel::dsl::{self, SqlTypeOf};
use diesel::expression::{AppearsOnTable, Expression};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, BoolOrNullableBool, HasSqlType};
use diesel::{QuerySource, RunQueryDsl};

use super::belongs_to_many::{
    join_scoped, JoinCondition, ManyToMany, ManyToManyDef, SourceOf, TargetOf,
};
use super::eager::Parents;
use super::push_binds;
use crate::backend::{chunk_size, CountBinds, Dialect, OrmBackend};
use crate::exec::{ConnKind, Fetch, FetchIn, Kind, Transact};
use crate::instrument::traced;
use crate::model::{ColumnsOf, Field, IdOf, Model, PkOf, TableOf};
use std::future::Future;

/// A model that can be the join model of a `belongs_to_many` (`through =
/// Rsvp`): its primary key is the two key columns, and its other columns
/// are the payload. The derive implements it for every model with a
/// two-column primary key.
pub trait JoinModel: Model {
    /// The join row's own columns (`RsvpPayload`).
    type Payload: Clone;
    /// The columns adding an associated pair again overwrites: the payload,
    /// and `updated_at` when the model has timestamps.
    const UPDATE_COLUMNS: &'static [&'static str];
}

/// The insertable row of join model `Self` from the two keys of an
/// association, named by the [`Field`] hashes `S` (the source's key
/// column) and `T` (the target's).
#[diagnostic::on_unimplemented(
    message = "the primary key of `{Self}` is not this association's two key columns",
    label = "a join model's primary key must be the `foreign_key` and `other_key` columns",
    note = "declare it with `#[model(primary_key(a_id, b_id))]` on the join model"
)]
pub trait JoinKeys<const S: u64, const T: u64>: JoinModel + Field<S> + Field<T> {
    /// The row joining `source` and `target`, carrying `payload`.
    fn new_row(
        source: <Self as Field<S>>::Value,
        target: <Self as Field<T>>::Value,
        payload: Self::Payload,
    ) -> Self::New;
}

/// A `belongs_to_many` association through a join model.
pub trait ThroughModel: ManyToManyDef {
    /// The join model (`Rsvp`).
    type Join: JoinModel<Table = Self::Through, Payload = Self::Payload>;
    /// The source key a join row holds.
    fn source_of(row: &Self::Join) -> &IdOf<SourceOf<Self>>;
}

type SId<A> = IdOf<SourceOf<A>>;
/// A target with its join row, as the `*_with_through` reads return them.
pub type WithJoin<A> = (TargetOf<A>, <A as ThroughModel>::Join);
type TargetTable<A> = TableOf<TargetOf<A>>;
type TargetColumns<A> = ColumnsOf<TargetOf<A>>;
type JoinColumns<A> = ColumnsOf<<A as ThroughModel>::Join>;

/// What a [`ThroughQuery`] selects unless told otherwise: every column of
/// the target and of the join row, loaded as `(User, Rsvp)`.
pub type TargetAndJoin<A> = (TargetColumns<A>, JoinColumns<A>);

/// The targets of an association joined with their join rows:
///
/// ```sql
/// SELECT "users".*, "rsvps".* FROM "users"
/// INNER JOIN "rsvps" ON "users"."id" = "rsvps"."guest_id"
/// WHERE "rsvps"."event_id" = $1 [AND (filter) ..] [ORDER BY ..] [LIMIT ..]
/// ```
///
/// Filters and orders take diesel expressions on the columns of either
/// table (`rsvps::status.eq("going")`, `users::name.asc()`); values are
/// bound parameters. From the generated `guests_through()`.
#[must_use = "a query does nothing until it is loaded"]
pub struct ThroughQuery<A: ManyToManyDef, S = TargetAndJoin<A>, W = (), O = ()> {
    base: Base<A>,
    select: S,
    filter: W,
    order: O,
}

/// The parts of a [`ThroughQuery`] its builder methods keep.
struct Base<A: ManyToManyDef> {
    sources: Vec<SId<A>>,
    join: TargetJoin<A>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `"users" INNER JOIN "rsvps" ON "users"."id" = "rsvps"."guest_id"`: the
/// targets with their join rows, which the source key column filters.
pub(crate) struct TargetJoin<A: ManyToManyDef> {
    target: <TargetTable<A> as QuerySource>::FromClause,
    through: <A::Through as QuerySource>::FromClause,
    pk: PkOf<TargetOf<A>>,
    target_key: A::TargetKey,
    /// The join table's column holding the source key (`"rsvps"."event_id"`).
    pub(crate) source_key: A::SourceKey,
    /// The association's scope on its join rows, part of the join's `ON`.
    scope: JoinCondition<A>,
}

impl<A: ManyToManyDef> TargetJoin<A> {
    pub(crate) fn new() -> Self {
        TargetJoin {
            target: TargetTable::<A>::default().from_clause(),
            through: A::Through::default().from_clause(),
            pk: Default::default(),
            target_key: Default::default(),
            source_key: Default::default(),
            scope: Default::default(),
        }
    }
}

impl<A, DB> QueryFragment<DB> for TargetJoin<A>
where
    A: ManyToMany,
    DB: Backend,
    <TargetTable<A> as QuerySource>::FromClause: QueryFragment<DB>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    PkOf<TargetOf<A>>: QueryFragment<DB>,
    A::TargetKey: QueryFragment<DB>,
    JoinCondition<A>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.target.walk_ast(out.reborrow())?;
        out.push_sql(" INNER JOIN ");
        self.through.walk_ast(out.reborrow())?;
        out.push_sql(" ON ");
        self.pk.walk_ast(out.reborrow())?;
        out.push_sql(" = ");
        self.target_key.walk_ast(out.reborrow())?;
        if join_scoped::<A>() {
            out.push_sql(" AND ");
            self.scope.walk_ast(out.reborrow())?;
        }
        Ok(())
    }
}

/// Names the table of [`ThroughQuery`]'s join an expression is on: the
/// join table ([`OnJoin`]) or the target's ([`OnTarget`]). Inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an expression on the join table or on the target table",
    note = "filter and order a through query on the columns of one of the two tables per call"
)]
pub trait OnJoined<A, Which> {}
/// See [`OnJoined`].
pub struct OnJoin;
/// See [`OnJoined`].
pub struct OnTarget;

impl<A: ManyToMany, E: AppearsOnTable<A::Through>> OnJoined<A, OnJoin> for E {}
impl<A: ManyToMany, E: AppearsOnTable<TargetTable<A>>> OnJoined<A, OnTarget> for E {}

/// `previous AND (predicate)` in a [`ThroughQuery`]'s WHERE clause.
pub struct And<W, P>(W, P);

/// ` ORDER BY expression` of a [`ThroughQuery`].
pub struct OrderBy<O>(O);

impl<A: ThroughModel> ThroughQuery<A> {
    /// The targets of the sources `sources`, with their join rows.
    pub fn new(sources: Vec<SId<A>>) -> Self {
        ThroughQuery {
            base: Base {
                sources,
                join: TargetJoin::new(),
                limit: None,
                offset: None,
            },
            select: (<TargetOf<A> as Model>::COLUMNS, <A::Join as Model>::COLUMNS),
            filter: (),
            order: (),
        }
    }
}

impl<A: ManyToMany, S, W, O> ThroughQuery<A, S, W, O> {
    /// Keeps the rows `predicate` holds for; `predicate` is on the columns
    /// of the join table or of the target table. Several filters combine
    /// with AND.
    pub fn filter<P, Which>(self, predicate: P) -> ThroughQuery<A, S, And<W, P>, O>
    where
        P: Expression<SqlType: BoolOrNullableBool> + OnJoined<A, Which>,
    {
        ThroughQuery {
            base: self.base,
            select: self.select,
            filter: And(self.filter, predicate),
            order: self.order,
        }
    }

    /// Orders the rows by `order` (`rsvps::status.desc()`), on the columns
    /// of the join table or of the target table; replaces an earlier order.
    pub fn order<E, Which>(self, order: E) -> ThroughQuery<A, S, W, OrderBy<E>>
    where
        E: Expression + OnJoined<A, Which>,
    {
        ThroughQuery {
            base: self.base,
            select: self.select,
            filter: self.filter,
            order: OrderBy(order),
        }
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: i64) -> Self {
        self.base.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: i64) -> Self {
        self.base.offset = Some(n);
        self
    }

    /// Selects the target and only the join columns `columns` (Sequelize's
    /// `joinTableAttributes`): `.select_through((rsvps::status,))` loads as
    /// `(User, (String,))`.
    pub fn select_through<J>(self, columns: J) -> ThroughQuery<A, (TargetColumns<A>, J), W, O>
    where
        J: Expression + AppearsOnTable<A::Through>,
    {
        ThroughQuery {
            base: self.base,
            select: (<TargetOf<A> as Model>::COLUMNS, columns),
            filter: self.filter,
            order: self.order,
        }
    }

    /// Counts the rows instead of loading them (the order, limit and offset
    /// are dropped): `SELECT COUNT(*) FROM .. WHERE ..`, loaded as `i64`.
    pub fn count(self) -> ThroughQuery<A, dsl::count_star, W, ()> {
        ThroughQuery {
            base: Base {
                limit: None,
                offset: None,
                ..self.base
            },
            select: dsl::count_star(),
            filter: self.filter,
            order: (),
        }
    }
}

impl<A: ManyToMany, S: Expression, W, O> Query for ThroughQuery<A, S, W, O> {
    type SqlType = S::SqlType;
}

impl<A: ManyToMany, S, W, O, C> RunQueryDsl<C> for ThroughQuery<A, S, W, O> {}

impl<A: ManyToMany, S, W, O> QueryId for ThroughQuery<A, S, W, O> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

type SourceSql<A> = SqlTypeOf<<A as ManyToManyDef>::SourceKey>;

impl<A, S, W, O, DB> QueryFragment<DB> for ThroughQuery<A, S, W, O>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>>,
    S: QueryFragment<DB>,
    W: QueryFragment<DB>,
    O: QueryFragment<DB>,
    <TargetTable<A> as QuerySource>::FromClause: QueryFragment<DB>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    PkOf<TargetOf<A>>: QueryFragment<DB>,
    A::SourceKey: QueryFragment<DB>,
    A::TargetKey: QueryFragment<DB>,
    JoinCondition<A>: QueryFragment<DB>,
    SId<A>: ToSql<SourceSql<A>, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let base = &self.base;
        out.push_sql("SELECT ");
        self.select.walk_ast(out.reborrow())?;
        out.push_sql(" FROM ");
        base.join.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        base.join.source_key.walk_ast(out.reborrow())?;
        if let [source] = &base.sources[..] {
            out.push_sql(" = ");
            out.push_bind_param::<SourceSql<A>, _>(source)?;
        } else {
            out.push_sql(" IN (");
            push_binds::<SourceSql<A>, _, _>(&mut out, &base.sources)?;
            out.push_sql(")");
        }
        self.filter.walk_ast(out.reborrow())?;
        self.order.walk_ast(out.reborrow())?;
        match (&base.limit, &base.offset) {
            (None, None) => {}
            (limit, offset) => {
                out.push_sql(" LIMIT ");
                match (limit, DB::DIALECT) {
                    (Some(n), _) => out.push_bind_param::<BigInt, _>(n)?,
                    // OFFSET needs a LIMIT before it; these mean none.
                    (None, Dialect::Mysql) => out.push_sql("18446744073709551615"),
                    (None, _) => out.push_sql("-1"),
                }
                if let Some(n) = offset {
                    out.push_sql(" OFFSET ");
                    out.push_bind_param::<BigInt, _>(n)?;
                }
            }
        }
        Ok(())
    }
}

impl<W, P, DB> QueryFragment<DB> for And<W, P>
where
    DB: Backend,
    W: QueryFragment<DB>,
    P: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" AND (");
        self.1.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<O: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for OrderBy<O> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" ORDER BY ");
        self.0.walk_ast(out)
    }
}

/// The reads of an association through a join model on a connection `C` of
/// kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `belongs_to_many` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)"
)]
pub trait ThroughOps<C, K = <C as ConnKind>::Kind>: ThroughModel + Sized {
    /// The targets of source `id` with their join rows, one statement.
    fn load_with_through(
        id: SId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<(Self::Target, Self::Join)>>> + Send;

    /// The targets of each of `sources` with their join rows, aligned with
    /// `sources`. One statement per chunk of keys.
    fn load_many_with_through(
        sources: Vec<SId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<WithJoin<Self>>>>> + Send;

    /// [`load_many_with_through`](Self::load_many_with_through) with the
    /// query refined by `refine` (filter, order).
    fn load_many_with_through_where<W, O>(
        sources: Vec<SId<Self>>,
        refine: impl Fn(ThroughQuery<Self>) -> ThroughQuery<Self, TargetAndJoin<Self>, W, O> + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<WithJoin<Self>>>>> + Send
    where
        ThroughQuery<Self, TargetAndJoin<Self>, W, O>:
            Fetch<C, K, (Self::Target, Self::Join)> + CountBinds<C, K>;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> ThroughOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ThroughModel + ManyToMany,
    A::Target: Clone,
    A::Join: Clone,
    K: Kind,
    C: Transact<K>,
    ThroughQuery<A>: Fetch<C, K, (A::Target, A::Join)> + CountBinds<C, K>,
{
    fn load_with_through(
        id: SId<A>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<(A::Target, A::Join)>>> + Send {
        let load = FetchIn::load(ThroughQuery::<A>::new(vec![id]), conn);
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_with_through",
            load,
        )
    }

    fn load_many_with_through(
        sources: Vec<SId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<WithJoin<A>>>>> + Send {
        let load = with_through_in_chunks::<A, C, K, _, _>(sources, |q| q, conn);
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many_with_through",
            load,
        )
    }

    fn load_many_with_through_where<W, O>(
        sources: Vec<SId<A>>,
        refine: impl Fn(ThroughQuery<A>) -> ThroughQuery<A, TargetAndJoin<A>, W, O> + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<WithJoin<A>>>>> + Send
    where
        ThroughQuery<A, TargetAndJoin<A>, W, O>:
            Fetch<C, K, (A::Target, A::Join)> + CountBinds<C, K>,
    {
        let load = with_through_in_chunks::<A, C, K, _, _>(sources, refine, conn);
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many_with_through_where",
            load,
        )
    }
}

/// The targets and join rows of each of `sources`, `refine`d, aligned with
/// them: one statement per chunk of keys, leaving room for what the
/// refinement binds.
async fn with_through_in_chunks<A, C, K, W, O>(
    sources: Vec<SId<A>>,
    refine: impl Fn(ThroughQuery<A>) -> ThroughQuery<A, TargetAndJoin<A>, W, O> + Send,
    conn: &mut C,
) -> QueryResult<Vec<Vec<WithJoin<A>>>>
where
    A: ThroughModel<Target: Clone, Join: Clone> + ManyToMany,
    C: Transact<K>,
    ThroughQuery<A, TargetAndJoin<A>, W, O>: Fetch<C, K, (A::Target, A::Join)> + CountBinds<C, K>,
{
    let parents = Parents::of(&sources);
    let keys = &parents.distinct;
    let mut grouped = parents.grouping();
    // Room for what the refinement binds: the statement for one key
    // binds it and the refinement's own values.
    let extra = match keys.first() {
        Some(first) => refine(ThroughQuery::new(vec![first.clone()])).binds()? - 1,
        None => 0,
    };
    for chunk in keys.chunks(chunk_size::<C::Backend>(1, extra)) {
        let rows: Vec<(A::Target, A::Join)> =
            FetchIn::load(refine(ThroughQuery::new(chunk.to_vec())), conn).await?;
        for row in rows {
            let source = A::source_of(&row.1).clone();
            grouped.push(&source, row);
        }
    }
    Ok(grouped.finish())
}
