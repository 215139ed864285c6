//! Parents by their related rows, as expressions of the parents' query:
//! whether a parent has a related row (optionally, one a refinement keeps)
//! and how many it has; and the counts of many parents' related rows at once.
//!
//! A filter is `EXISTS (SELECT .. FROM <refined rows> WHERE <key> =
//! <parent's column>)`, the refinement an ordinary diesel query over the
//! target's table and the correlation orm-core's own expression, since two
//! derives cannot declare their tables joinable
//! (`allow_tables_to_appear_in_same_query!`). For a self-reference, where
//! the inner table would hide the outer one, the refined rows get an alias:
//! `EXISTS (SELECT 1 FROM (<refined rows>) AS orm_related WHERE
//! orm_related.<key> = <parent's column>)`.
//!
//! ```ignore
//! // Events with a guest whose name starts with "A", and those without one.
//! Event::query().filter(Event::has_guests_where(|q| q.filter(users::name.like("A%"))));
//! Event::query().filter(!Event::has_guests_where(|q| q.filter(users::name.like("A%"))));
//! // Events by their number of guests.
//! Event::query().order(Event::guests_count().desc());
//! // The number of guests of each of `events`, aligned with them.
//! let counts: Vec<i64> = Event::count_guests_for(&events, conn)?;
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::ops::Not;

use diesel::backend::Backend;
use diesel::dsl;
use diesel::expression::array_comparison::AsInExpression;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::internal::table_macro::JoinOn;
use diesel::query_builder::{AsQuery, AstPass, QueryFragment, QueryId};
use diesel::query_dsl::methods::{FilterDsl, GroupByDsl, SelectDsl};
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Bool};
use diesel::ExpressionMethods;

use super::belongs_to::BelongsTo;
use super::belongs_to_many::{join_base, JoinBase, JoinCondition, ManyToMany, ManyToManyDef};
use super::eager::Parents;
use super::has::{base, Base, Condition, OneToMany};
use super::in_subquery::InSubquery;
use crate::backend::{chunk_size, CountBinds};
use crate::exec::{ConnKind, Fetch, Kind, OnBackend};
use crate::instrument::traced;
use crate::key_columns::{walk_equal, KeyColumns, KeyParts};
use crate::model::{ForeignKey, IdOf, Model, PkOf, SingleKey, TableOf};

const ALIAS: &str = "orm_related";

/// Whether a parent has a related row: `EXISTS (<rows>)`, where `rows`
/// are the refined related rows whose column `inner` equals the parent's
/// column `outer` ([`Correlate`]). `!` negates it (`NOT EXISTS`: a parent
/// whose key is NULL has no related row).
#[derive(Debug, Clone, Copy)]
pub struct Related<Outer, Inner, Rows, P> {
    outer: Outer,
    inner: std::marker::PhantomData<(Inner, P)>,
    rows: Rows,
}

impl<Outer: Default, Inner, Rows, P> Related<Outer, Inner, Rows, P> {
    fn new(rows: Rows) -> Self {
        Related {
            outer: Outer::default(),
            inner: std::marker::PhantomData,
            rows,
        }
    }
}

/// `inner = outer`: the related rows' key column and the parent's column it
/// names, one of the outer query. Of one table with itself (a
/// self-reference) it would compare the inner row with itself: then it is
/// `1 = 1` and [`Related`] correlates the rows under an alias instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Correlate<Inner, Outer> {
    inner: Inner,
    outer: Outer,
}

/// Whether `inner` and `outer` are columns of one table.
fn one_table<DB: Backend, Inner: KeyParts<DB>, Outer: KeyParts<DB>>() -> bool {
    std::any::TypeId::of::<Inner::Table>() == std::any::TypeId::of::<Outer::Table>()
}

impl<Inner, Outer> Expression for Correlate<Inner, Outer> {
    type SqlType = Bool;
}

// On the related rows' table: the outer column is the outer query's.
impl<Inner: AppearsOnTable<QS>, Outer, QS> AppearsOnTable<QS> for Correlate<Inner, Outer> {}

impl<Inner: SelectableExpression<QS>, Outer, QS> SelectableExpression<QS>
    for Correlate<Inner, Outer>
{
}

impl<Inner, Outer> ValidGrouping<()> for Correlate<Inner, Outer> {
    type IsAggregate = is_aggregate::Never;
}

impl<Inner, Outer, DB> QueryFragment<DB> for Correlate<Inner, Outer>
where
    DB: Backend,
    Inner: KeyParts<DB>,
    Outer: KeyParts<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if one_table::<DB, Inner, Outer>() {
            out.push_sql("1 = 1");
            return Ok(());
        }
        walk_equal(&self.inner, &self.outer, out)
    }
}

impl<Inner: QueryId, Outer: QueryId> QueryId for Correlate<Inner, Outer> {
    type QueryId = Correlate<Inner::QueryId, Outer::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Inner::HAS_STATIC_QUERY_ID && Outer::HAS_STATIC_QUERY_ID;
}

/// `<refined rows> WHERE .. AND inner = outer`
pub type Correlated<Q, Inner, Outer> = <dsl::Filter<Q, Correlate<Inner, Outer>> as AsQuery>::Query;

/// `NOT EXISTS (..)`: `!` of a [`Related`] filter.
#[derive(Debug, Clone, Copy)]
pub struct NotRelated<Outer, Inner, Rows, P>(Related<Outer, Inner, Rows, P>);

impl<Outer, Inner, Rows, P> Not for Related<Outer, Inner, Rows, P> {
    type Output = NotRelated<Outer, Inner, Rows, P>;
    fn not(self) -> Self::Output {
        NotRelated(self)
    }
}

impl<Outer, Inner, Rows, P> Expression for Related<Outer, Inner, Rows, P> {
    type SqlType = Bool;
}

impl<Outer, Inner, Rows, P> Expression for NotRelated<Outer, Inner, Rows, P> {
    type SqlType = Bool;
}

/// The parent model `Self` of a [`Related`] filter on a query over `QS`:
/// where the filter is valid (the subquery names nothing of the outer query
/// but `Outer`, a column of `Self`). `#[derive(Model)]` implements it for
/// the model's table; the impl below, for joins of a model's table.
#[diagnostic::on_unimplemented(
    message = "this filter keeps `{Self}` rows, not rows of `{QS}`",
    label = "filters the rows of another table",
    note = "`Model::has_*_where(..)` filters `Model`'s rows: use it in `Model::query()`, or in another query over `Model`'s table"
)]
pub trait ParentOf<QS, Outer> {}

/// The parent of the inner [`Related`] of `has_*_where` on a
/// `belongs_to_many`: the join rows, an internal query.
#[derive(Debug, Clone, Copy)]
pub enum JoinRows {}

#[diagnostic::do_not_recommend]
impl<QS, Outer: AppearsOnTable<QS>> ParentOf<QS, Outer> for JoinRows {}

/// A model's rows joined with others.
#[diagnostic::do_not_recommend]
impl<P: crate::Model, Outer, J, On> ParentOf<JoinOn<J, On>, Outer> for P where
    Outer: AppearsOnTable<JoinOn<J, On>>
{
}

impl<Outer, Inner, Rows, P: ParentOf<QS, Outer>, QS> AppearsOnTable<QS>
    for Related<Outer, Inner, Rows, P>
where
    Self: Expression,
{
}

impl<Outer, Inner, Rows, P: ParentOf<QS, Outer>, QS> SelectableExpression<QS>
    for Related<Outer, Inner, Rows, P>
where
    Self: AppearsOnTable<QS>,
{
}

impl<Outer, Inner, Rows, P: ParentOf<QS, Outer>, QS> AppearsOnTable<QS>
    for NotRelated<Outer, Inner, Rows, P>
where
    Self: Expression,
{
}

impl<Outer, Inner, Rows, P: ParentOf<QS, Outer>, QS> SelectableExpression<QS>
    for NotRelated<Outer, Inner, Rows, P>
where
    Self: AppearsOnTable<QS>,
{
}

impl<Outer, Inner, Rows, P> ValidGrouping<()> for Related<Outer, Inner, Rows, P> {
    type IsAggregate = is_aggregate::Never;
}

impl<Outer, Inner, Rows, P> ValidGrouping<()> for NotRelated<Outer, Inner, Rows, P> {
    type IsAggregate = is_aggregate::Never;
}

impl<Outer, Inner, Rows, P, DB> QueryFragment<DB> for Related<Outer, Inner, Rows, P>
where
    DB: Backend,
    Outer: KeyParts<DB>,
    Inner: KeyParts<DB>,
    Rows: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !one_table::<DB, Inner, Outer>() {
            out.push_sql("EXISTS (");
            self.rows.walk_ast(out.reborrow())?;
            out.push_sql(")");
            return Ok(());
        }
        out.push_sql("EXISTS (SELECT 1 FROM (");
        self.rows.walk_ast(out.reborrow())?;
        out.push_sql(") AS ");
        out.push_identifier(ALIAS)?;
        out.push_sql(" WHERE ");
        walk_aliased::<DB, Inner, Outer>(&self.outer, out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// The columns of key `K` as the aliased related rows name them:
/// `orm_related.a`.
struct Aliased<K>(std::marker::PhantomData<K>);

impl<K: KeyParts<DB>, DB: Backend> KeyParts<DB> for Aliased<K> {
    type Table = K::Table;
    const NAMES: &'static [&'static str] = K::NAMES;
    fn walk_part<'b>(&'b self, i: usize, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_identifier(ALIAS)?;
        out.push_sql(".");
        out.push_identifier(K::NAMES[i])
    }
}

/// `orm_related.a = x`, or `(orm_related.a = x AND orm_related.b = y)`:
/// the aliased related rows' key `Inner` equal to the outer query's `outer`.
fn walk_aliased<'b, DB, Inner, Outer>(outer: &'b Outer, out: AstPass<'_, 'b, DB>) -> QueryResult<()>
where
    DB: Backend,
    Inner: KeyParts<DB> + 'b,
    Outer: KeyParts<DB>,
{
    walk_equal(
        const { &Aliased::<Inner>(std::marker::PhantomData) },
        outer,
        out,
    )
}

impl<Outer, Inner, Rows, P, DB> QueryFragment<DB> for NotRelated<Outer, Inner, Rows, P>
where
    DB: Backend,
    Related<Outer, Inner, Rows, P>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("NOT ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Outer: QueryId, Inner: QueryId, Rows: QueryId, P: 'static> QueryId
    for Related<Outer, Inner, Rows, P>
{
    type QueryId = Related<Outer::QueryId, Inner::QueryId, Rows::QueryId, P>;
    const HAS_STATIC_QUERY_ID: bool =
        Outer::HAS_STATIC_QUERY_ID && Inner::HAS_STATIC_QUERY_ID && Rows::HAS_STATIC_QUERY_ID;
}

impl<Outer: QueryId, Inner: QueryId, Rows: QueryId, P: 'static> QueryId
    for NotRelated<Outer, Inner, Rows, P>
{
    type QueryId = NotRelated<Outer::QueryId, Inner::QueryId, Rows::QueryId, P>;
    const HAS_STATIC_QUERY_ID: bool =
        Outer::HAS_STATIC_QUERY_ID && Inner::HAS_STATIC_QUERY_ID && Rows::HAS_STATIC_QUERY_ID;
}

type HS<A> = <A as OneToMany>::Source;
type HT<A> = <A as OneToMany>::Target;
type HFk<A> = <A as OneToMany>::ForeignKey;
type BFk<A> = <A as BelongsTo>::ForeignKey;
type BT<A> = <A as BelongsTo>::Target;
type BS<A> = <A as BelongsTo>::Source;
type MS<A> = <A as ManyToManyDef>::Source;
type MT<A> = <A as ManyToManyDef>::Target;
type MSk<A> = <A as ManyToManyDef>::SourceKey;
type MTk<A> = <A as ManyToManyDef>::TargetKey;
type Through<A> = <A as ManyToManyDef>::Through;

/// The association kinds a refinement of related rows is a filter of, as
/// [`RelatedWhere`]'s second parameter: `has_many`/`has_one`.
#[derive(Debug)]
pub enum Children {}
/// `belongs_to`, for [`RelatedWhere`].
#[derive(Debug)]
pub enum Parent {}
/// `belongs_to_many`, for [`RelatedWhere`].
#[derive(Debug)]
pub enum Targets {}

/// A query over table `T` alone that diesel can run: what the closures of
/// `has_*_where` and `count_*_for_where` return.
#[diagnostic::on_unimplemented(
    message = "the closure's query is not a query over `{T}` alone",
    label = "a refinement of the association's target table",
    note = "return the table the closure is given, filtered on that table's own columns: a column of another table, the parent's included, is not one of them"
)]
pub trait Refines<T> {}

#[diagnostic::do_not_recommend]
impl<Q, T> Refines<T> for Q
where
    Q: AsQuery,
    Q::Query: diesel::query_builder::Query,
{
}

/// A refinement of association `A`'s target table (`Q`, what the closure
/// of `has_*_where` returns) as a filter of `A`'s source rows: those with
/// a related row the refinement keeps.
#[diagnostic::on_unimplemented(
    message = "the closure's query is not a refinement of this association's target table",
    label = "a query over the target's table alone",
    note = "return the table the closure is given, filtered on that table's own columns: a column of another table, the parent's included, is not one of them"
)]
pub trait RelatedWhere<A, Via>: Sized {
    /// [`HasChildren`], [`HasParent`] or [`HasTargets`].
    type Filter;
    /// The filter.
    fn filter(self) -> Self::Filter;
}

/// `EXISTS (SELECT .. FROM posts WHERE <refinement> AND posts.author_id =
/// users.id)`: what `User::has_posts_where` returns.
pub type HasChildren<A, Q> =
    Related<PkOf<HS<A>>, HFk<A>, Correlated<Q, HFk<A>, PkOf<HS<A>>>, HS<A>>;

#[diagnostic::do_not_recommend]
impl<A, Q> RelatedWhere<A, Children> for Q
where
    A: OneToMany,
    Q: FilterDsl<Correlate<HFk<A>, PkOf<HS<A>>>>,
    dsl::Filter<Q, Correlate<HFk<A>, PkOf<HS<A>>>>: AsQuery,
{
    type Filter = HasChildren<A, Q>;
    fn filter(self) -> Self::Filter {
        Related::new(FilterDsl::filter(self, Correlate::default()).as_query())
    }
}

/// `EXISTS (SELECT .. FROM users WHERE <refinement> AND users.id =
/// posts.author_id)`: what `Post::has_author_where` returns.
pub type HasParent<A, Q> = Related<BFk<A>, PkOf<BT<A>>, Correlated<Q, PkOf<BT<A>>, BFk<A>>, BS<A>>;

#[diagnostic::do_not_recommend]
impl<A, Q> RelatedWhere<A, Parent> for Q
where
    A: BelongsTo,
    Q: FilterDsl<Correlate<PkOf<BT<A>>, BFk<A>>>,
    dsl::Filter<Q, Correlate<PkOf<BT<A>>, BFk<A>>>: AsQuery,
{
    type Filter = HasParent<A, Q>;
    fn filter(self) -> Self::Filter {
        Related::new(FilterDsl::filter(self, Correlate::default()).as_query())
    }
}

/// `rsvps.user_id IN (SELECT users.id FROM <refined users>)`
pub type TargetIn<A, Q> = InSubquery<MTk<A>, dsl::Select<Q, PkOf<MT<A>>>>;

/// `EXISTS (SELECT .. FROM users WHERE <refinement> AND users.id =
/// rsvps.user_id)`: a join row's target is one the refinement keeps.
pub type TargetExists<A, Q> =
    Related<MTk<A>, PkOf<MT<A>>, Correlated<Q, PkOf<MT<A>>, MTk<A>>, JoinRows>;
/// `rsvps WHERE EXISTS (..users..)`
type RowsOfTargets<A, Q> = dsl::Filter<JoinBase<A>, TargetExists<A, Q>>;

/// `EXISTS (SELECT .. FROM rsvps WHERE EXISTS (SELECT .. FROM users WHERE
/// <refinement> AND users.id = rsvps.user_id) AND rsvps.event_id =
/// events.id)`: what `Event::has_guests_where` returns. The join rows of
/// the parent by its key, each target by its: the plan of the `EXISTS` over
/// `rsvps INNER JOIN users` one would write with diesel.
pub type HasTargets<A, Q> =
    Related<PkOf<MS<A>>, MSk<A>, Correlated<RowsOfTargets<A, Q>, MSk<A>, PkOf<MS<A>>>, MS<A>>;

#[diagnostic::do_not_recommend]
impl<A, Q> RelatedWhere<A, Targets> for Q
where
    A: ManyToManyDef<Source: SingleKey, Target: SingleKey>,
    Q: FilterDsl<Correlate<PkOf<MT<A>>, MTk<A>>>,
    dsl::Filter<Q, Correlate<PkOf<MT<A>>, MTk<A>>>: AsQuery,
    JoinBase<A>: FilterDsl<TargetExists<A, Q>>,
    RowsOfTargets<A, Q>: FilterDsl<Correlate<MSk<A>, PkOf<MS<A>>>>,
    dsl::Filter<RowsOfTargets<A, Q>, Correlate<MSk<A>, PkOf<MS<A>>>>: AsQuery,
{
    type Filter = HasTargets<A, Q>;
    fn filter(self) -> Self::Filter {
        let targets = Related::new(FilterDsl::filter(self, Correlate::default()).as_query());
        let rows = FilterDsl::filter(join_base::<A>(), targets);
        Related::new(FilterDsl::filter(rows, Correlate::default()).as_query())
    }
}

fn targets_in<A, Q>(refined: Q) -> TargetIn<A, Q>
where
    A: ManyToManyDef<Target: SingleKey>,
    Q: SelectDsl<PkOf<MT<A>>>,
{
    let targets = SelectDsl::select(refined, PkOf::<MT<A>>::default());
    InSubquery::new(MTk::<A>::default(), targets)
}

/// `(SELECT COUNT(*) FROM posts AS orm_related WHERE orm_related.author_id =
/// users.id)`: how many rows of `Table` point at the outer query's row
/// through `Key`, as a `BIGINT` expression of the outer query (to select,
/// filter or order by). The inner table is aliased, so that it may be the
/// outer one (a self-reference).
#[derive(Debug, Clone, Copy, Default)]
pub struct RelatedCount<Table, Key, Outer, Scope = ()> {
    table: Table,
    key: std::marker::PhantomData<Key>,
    outer: Outer,
    /// A `has_many`'s scope, or `()`.
    scope: Scope,
}

/// `Event::guests_count()`: the number of join rows of each event.
pub type TargetCount<A> = RelatedCount<Through<A>, MSk<A>, PkOf<MS<A>>, JoinCondition<A>>;
/// `User::posts_count()`: the number of posts of each user.
pub type ChildCount<A> = RelatedCount<TableOf<HT<A>>, HFk<A>, PkOf<HS<A>>, Condition<A>>;

/// How many `has_many` targets the outer query's row has.
pub fn child_count<A: OneToMany>() -> ChildCount<A> {
    RelatedCount::default()
}

/// How many `belongs_to_many` targets the outer query's row has: its join
/// rows, one per target.
pub fn target_count<A>() -> TargetCount<A>
where
    A: ManyToManyDef<Source: SingleKey>,
{
    RelatedCount::default()
}

impl<T, Key, Outer, S> Expression for RelatedCount<T, Key, Outer, S> {
    type SqlType = BigInt;
}

impl<T, Key, Outer: AppearsOnTable<QS>, QS, S> AppearsOnTable<QS>
    for RelatedCount<T, Key, Outer, S>
{
}

impl<T, Key, Outer: SelectableExpression<QS>, QS, S> SelectableExpression<QS>
    for RelatedCount<T, Key, Outer, S>
{
}

impl<T, Key, Outer, S> ValidGrouping<()> for RelatedCount<T, Key, Outer, S> {
    type IsAggregate = is_aggregate::Never;
}

impl<T, Key, Outer, S, DB> QueryFragment<DB> for RelatedCount<T, Key, Outer, S>
where
    DB: Backend,
    T: QueryFragment<DB>,
    Key: KeyParts<DB>,
    Outer: KeyParts<DB>,
    S: QueryFragment<DB> + 'static,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(SELECT COUNT(*) FROM ");
        if std::any::TypeId::of::<S>() == std::any::TypeId::of::<()>() {
            self.table.walk_ast(out.reborrow())?;
        } else {
            // The scope names the table, which the alias would hide: its
            // rows, as a derived table.
            out.push_sql("(SELECT ");
            for (i, name) in Key::NAMES.iter().enumerate() {
                out.push_sql(if i == 0 { "" } else { ", " });
                out.push_identifier(name)?;
            }
            out.push_sql(" FROM ");
            self.table.walk_ast(out.reborrow())?;
            out.push_sql(" WHERE ");
            self.scope.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(" AS ");
        out.push_identifier(ALIAS)?;
        out.push_sql(" WHERE ");
        walk_aliased::<DB, Key, Outer>(&self.outer, out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<T: QueryId, Key: QueryId, Outer: QueryId, S: QueryId> QueryId
    for RelatedCount<T, Key, Outer, S>
{
    type QueryId = RelatedCount<T::QueryId, Key::QueryId, Outer::QueryId, S::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = T::HAS_STATIC_QUERY_ID
        && Key::HAS_STATIC_QUERY_ID
        && Outer::HAS_STATIC_QUERY_ID
        && S::HAS_STATIC_QUERY_ID;
}

/// `posts.author_id IN (..)`
type HFkIn<A> = <HFk<A> as KeyColumns<IdOf<HS<A>>>>::In;
/// `posts.author_id` (the columns of a multi-column key) as a select list.
type HFkSelect<A> = <HFk<A> as KeyColumns<IdOf<HS<A>>>>::Select;

/// `SELECT posts.author_id, COUNT(*) FROM <refined posts> WHERE
/// posts.author_id IN (..) GROUP BY posts.author_id`
pub type ChildCounts<A, Q> = dsl::Select<
    dsl::GroupBy<dsl::Filter<Q, HFkIn<A>>, HFkSelect<A>>,
    (HFkSelect<A>, dsl::CountStar),
>;

/// A refinement of a `has_many` target's table that
/// [`OneToManyCounts::count_many_where`] can count by parent on `C`.
pub trait CountChildren<A: OneToMany, C, K>: Sized {
    /// [`ChildCounts`].
    type Counts: Fetch<C, K, (A::KeyValue, i64)> + CountBinds<C, K>;
    /// The statement counting the rows of `sources` this refinement keeps.
    fn counts(self, sources: Vec<IdOf<HS<A>>>) -> Self::Counts;
}

impl<A, Q, C, K> CountChildren<A, C, K> for Q
where
    A: OneToMany,
    Q: FilterDsl<HFkIn<A>>,
    dsl::Filter<Q, HFkIn<A>>: GroupByDsl<HFkSelect<A>>,
    dsl::GroupBy<dsl::Filter<Q, HFkIn<A>>, HFkSelect<A>>: SelectDsl<(HFkSelect<A>, dsl::CountStar)>,
    ChildCounts<A, Q>: Fetch<C, K, (A::KeyValue, i64)> + CountBinds<C, K>,
{
    type Counts = ChildCounts<A, Q>;
    fn counts(self, sources: Vec<IdOf<HS<A>>>) -> Self::Counts {
        let fk = HFk::<A>::default();
        let keys = <HFk<A> as KeyColumns<IdOf<HS<A>>>>::key_in(fk, sources);
        let columns = <HFk<A> as KeyColumns<IdOf<HS<A>>>>::select(fk);
        let rows = GroupByDsl::group_by(FilterDsl::filter(self, keys), columns);
        SelectDsl::select(rows, (columns, dsl::count_star()))
    }
}

/// `rsvps WHERE rsvps.event_id IN (..)`: the join rows of some parents.
pub type JoinRowsOf<A> = dsl::Filter<JoinBase<A>, dsl::EqAny<MSk<A>, Vec<IdOf<MS<A>>>>>;

/// `SELECT rsvps.event_id, COUNT(*) FROM <rows> GROUP BY rsvps.event_id`
pub type CountsBySource<A, Rows> =
    dsl::Select<dsl::GroupBy<Rows, MSk<A>>, (MSk<A>, dsl::CountStar)>;

/// `SELECT rsvps.event_id, COUNT(*) FROM rsvps WHERE rsvps.event_id IN (..)
/// AND rsvps.user_id IN (SELECT users.id FROM <refined users>) GROUP BY
/// rsvps.event_id`
pub type TargetCounts<A, Q> = CountsBySource<A, dsl::Filter<JoinRowsOf<A>, TargetIn<A, Q>>>;

/// The same without a refinement: the join rows of each parent, one per
/// target, and no target read.
pub type JoinRowCounts<A> = CountsBySource<A, JoinRowsOf<A>>;

/// [`JoinRowsOf`] `sources`.
fn join_rows_of<A>(sources: Vec<IdOf<MS<A>>>) -> JoinRowsOf<A>
where
    A: ManyToManyDef,
    JoinBase<A>: FilterDsl<dsl::EqAny<MSk<A>, Vec<IdOf<MS<A>>>>>,
    Vec<IdOf<MS<A>>>: AsInExpression<dsl::SqlTypeOf<MSk<A>>>,
{
    FilterDsl::filter(join_base::<A>(), MSk::<A>::default().eq_any(sources))
}

/// [`CountsBySource`] of `rows`.
fn counts_by_source<A, Rows>(rows: Rows) -> CountsBySource<A, Rows>
where
    A: ManyToManyDef,
    Rows: GroupByDsl<MSk<A>>,
    dsl::GroupBy<Rows, MSk<A>>: SelectDsl<(MSk<A>, dsl::CountStar)>,
{
    let sk = MSk::<A>::default();
    SelectDsl::select(GroupByDsl::group_by(rows, sk), (sk, dsl::count_star()))
}

/// A refinement of a `belongs_to_many` target's table that
/// [`ManyToManyCounts::count_many_where`] can count by parent on `C`.
pub trait CountTargets<A: ManyToManyDef, C, K>: Sized {
    /// [`TargetCounts`].
    type Counts: Fetch<C, K, (IdOf<MS<A>>, i64)> + CountBinds<C, K>;
    /// The statement counting the targets of `sources` this refinement keeps.
    fn counts(self, sources: Vec<IdOf<MS<A>>>) -> Self::Counts;
}

impl<A, Q, C, K> CountTargets<A, C, K> for Q
where
    A: ManyToManyDef<Target: SingleKey>,
    Q: SelectDsl<PkOf<MT<A>>>,
    JoinBase<A>: FilterDsl<dsl::EqAny<MSk<A>, Vec<IdOf<MS<A>>>>>,
    Vec<IdOf<MS<A>>>: AsInExpression<dsl::SqlTypeOf<MSk<A>>>,
    JoinRowsOf<A>: FilterDsl<TargetIn<A, Q>>,
    dsl::Filter<JoinRowsOf<A>, TargetIn<A, Q>>: GroupByDsl<MSk<A>>,
    dsl::GroupBy<dsl::Filter<JoinRowsOf<A>, TargetIn<A, Q>>, MSk<A>>:
        SelectDsl<(MSk<A>, dsl::CountStar)>,
    TargetCounts<A, Q>: Fetch<C, K, (IdOf<MS<A>>, i64)> + CountBinds<C, K>,
{
    type Counts = TargetCounts<A, Q>;
    fn counts(self, sources: Vec<IdOf<MS<A>>>) -> Self::Counts {
        let rows = FilterDsl::filter(join_rows_of::<A>(sources), targets_in::<A, Q>(self));
        counts_by_source::<A, _>(rows)
    }
}

/// Counts of a `has_many` association's rows for many parents, on a
/// connection `C` of kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `has_many` association's rows cannot be counted by parent on a `{C}`",
    note = "use a connection of a backend orm-core supports"
)]
pub trait OneToManyCounts<C, K = <C as ConnKind>::Kind>: OneToMany + Sized {
    /// How many related rows each of `sources` has, aligned with them: one
    /// `GROUP BY` statement per chunk of keys.
    fn count_many(
        sources: Vec<IdOf<Self::Source>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send;
    /// How many rows `refine` keeps of each of `sources`' related rows,
    /// aligned with them: one `GROUP BY` statement per chunk of keys.
    fn count_many_where<Q>(
        sources: Vec<IdOf<Self::Source>>,
        refine: impl Fn(Base<Self>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send
    where
        Q: CountChildren<Self, C, K>;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> OneToManyCounts<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: OneToMany,
    K: Kind,
    C: OnBackend<K>,
    Base<A>: CountChildren<A, C, K>,
{
    fn count_many(
        sources: Vec<IdOf<A::Source>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send {
        Self::count_many_where(sources, |q| q, conn)
    }

    fn count_many_where<Q>(
        sources: Vec<IdOf<A::Source>>,
        refine: impl Fn(Base<A>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send
    where
        Q: CountChildren<A, C, K>,
    {
        let count = move |keys| <Q as CountChildren<A, C, K>>::counts(refine(base::<A>()), keys);
        let counts = counts_in_chunks::<_, _, _, C, K>(
            sources,
            <HFk<A> as KeyColumns<IdOf<HS<A>>>>::WIDTH,
            count,
            |key: A::KeyValue| key.get().cloned(),
            conn,
        );
        traced(<A::Source as Model>::NAME, A::NAME, "count_many", counts)
    }
}

/// Counts of a `belongs_to_many` association's targets for many parents,
/// on a connection `C` of kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `belongs_to_many` association's targets cannot be counted by parent on a `{C}`",
    note = "use a connection of a backend orm-core supports"
)]
pub trait ManyToManyCounts<C, K = <C as ConnKind>::Kind>: ManyToManyDef + Sized {
    /// How many targets each of `sources` has, aligned with them: one
    /// `GROUP BY` statement per chunk of keys.
    fn count_many(
        sources: Vec<IdOf<Self::Source>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send;
    /// How many targets `refine` keeps of each of `sources`' targets,
    /// aligned with them: one `GROUP BY` statement per chunk of keys.
    fn count_many_where<Q>(
        sources: Vec<IdOf<Self::Source>>,
        refine: impl Fn(TableOf<Self::Target>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send
    where
        Q: CountTargets<Self, C, K>;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> ManyToManyCounts<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ManyToMany,
    K: Kind,
    C: OnBackend<K>,
    JoinBase<A>: FilterDsl<dsl::EqAny<MSk<A>, Vec<IdOf<MS<A>>>>>,
    Vec<IdOf<MS<A>>>: AsInExpression<dsl::SqlTypeOf<MSk<A>>>,
    JoinRowsOf<A>: GroupByDsl<MSk<A>>,
    dsl::GroupBy<JoinRowsOf<A>, MSk<A>>: SelectDsl<(MSk<A>, dsl::CountStar)>,
    JoinRowCounts<A>: Fetch<C, K, (IdOf<MS<A>>, i64)> + CountBinds<C, K>,
{
    fn count_many(
        sources: Vec<IdOf<A::Source>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send {
        // The join rows alone: without a refinement, no target is read.
        let count = |keys| counts_by_source::<A, _>(join_rows_of::<A>(keys));
        let counts = counts_in_chunks::<_, _, _, C, K>(sources, 1, count, Some, conn);
        traced(<A::Source as Model>::NAME, A::NAME, "count_many", counts)
    }

    fn count_many_where<Q>(
        sources: Vec<IdOf<A::Source>>,
        refine: impl Fn(TableOf<A::Target>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<i64>>> + Send
    where
        Q: CountTargets<A, C, K>,
    {
        let count =
            move |keys| <Q as CountTargets<A, C, K>>::counts(refine(Default::default()), keys);
        let counts = counts_in_chunks::<_, _, _, C, K>(sources, 1, count, Some, conn);
        traced(<A::Source as Model>::NAME, A::NAME, "count_many", counts)
    }
}

/// The counts `count` gives for each chunk of `sources`' distinct keys,
/// aligned with `sources` (0 for a key no row names), each key binding
/// `width` values. `parent` reads the key a counted row names.
async fn counts_in_chunks<Id, Kv, Q, C, K>(
    sources: Vec<Id>,
    width: usize,
    count: impl Fn(Vec<Id>) -> Q + Send,
    parent: impl Fn(Kv) -> Option<Id> + Send,
    conn: &mut C,
) -> QueryResult<Vec<i64>>
where
    Id: Eq + std::hash::Hash + Clone + Send + Sync,
    Kv: Send,
    C: OnBackend<K>,
    Q: Fetch<C, K, (Kv, i64)> + CountBinds<C, K>,
{
    let parents = Parents::of(&sources);
    // Room for what the refinement binds: the statement for one key binds
    // it and the refinement's own values.
    let extra = match parents.distinct.first() {
        Some(first) => count(vec![first.clone()]).binds()? - width,
        None => return Ok(Vec::new()),
    };
    let mut counts = HashMap::with_capacity(parents.distinct.len());
    for chunk in parents
        .distinct
        .chunks(chunk_size::<C::Backend>(width, extra))
    {
        for (key, n) in count(chunk.to_vec()).load(conn).await? {
            if let Some(key) = parent(key) {
                counts.insert(key, n);
            }
        }
    }
    Ok(sources
        .iter()
        .map(|key| counts.get(key).copied().unwrap_or(0))
        .collect())
}
