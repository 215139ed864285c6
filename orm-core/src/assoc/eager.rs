//! Eager loading: the associated rows of many parents at once, in a fixed
//! number of statements whatever the number of parents (one per chunk of
//! keys under the backend's parameter limit), aligned with the parents.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;

use diesel::dsl;
use diesel::expression::array_comparison::AsInExpression;
use diesel::expression::{AppearsOnTable, Expression};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::result::{Error, QueryResult};
use diesel::ExpressionMethods;
use std::future::Future;

use super::belongs_to::{BelongsTo, Parent};
use super::belongs_to_many::{join_base, JoinBase, ManyToMany, ManyToManyDef};
use super::has::{base_rows, Base, BaseRows, OneToMany};
use super::joined::SourcesAndTargets;
use super::ranked::{Ranked, RankedTargets};
use crate::backend::{chunk_size, CountBinds};
use crate::exec::{ConnKind, Fetch, FetchIn, Kind, OnBackend};
use crate::instrument::traced;
use crate::key_columns::KeyColumns;
use crate::model::{ColumnsOf, ForeignKey, IdOf, KeysQuery, Model, TableOf};
use crate::set::dedup;

type SId<A> = IdOf<<A as ManyToManyDef>::Source>;
type TId<A> = IdOf<<A as ManyToManyDef>::Target>;
type Sk<A> = <A as ManyToManyDef>::SourceKey;
type Tk<A> = <A as ManyToManyDef>::TargetKey;
/// `SELECT event_id, guest_id FROM rsvps WHERE event_id IN (..)`
pub type PairsIn<A> =
    dsl::Select<dsl::Filter<JoinBase<A>, dsl::EqAny<Sk<A>, Vec<SId<A>>>>, (Sk<A>, Tk<A>)>;

/// Loads the rows of `M` with keys `ids`, by key, one statement per chunk.
async fn rows_by_id<M, C, K>(ids: Vec<M::Id>, conn: &mut C) -> QueryResult<HashMap<M::Id, M>>
where
    M: KeysQuery,
    C: OnBackend<K>,
    M::ByIds: Fetch<C, K, M>,
{
    let mut rows = HashMap::with_capacity(ids.len());
    let width = <M::PrimaryKey as KeyColumns<M::Id>>::WIDTH;
    for chunk in ids.chunks(chunk_size::<C::Backend>(width, 0)) {
        for row in M::by_ids(chunk.to_vec()).load(conn).await? {
            rows.insert(row.id(), row);
        }
    }
    Ok(rows)
}

/// Eager loading of a `belongs_to_many` association, on a connection `C`
/// of kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `belongs_to_many` association cannot be eager-loaded on a `{C}`",
    note = "eager loading clones rows shared by several parents: the target model must be `Clone`"
)]
pub trait ManyToManyEager<C, K = <C as ConnKind>::Kind>: ManyToManyDef + Sized {
    /// The targets of each of `sources`, aligned with them: one statement
    /// (the targets joined with the join rows) per chunk of keys.
    fn load_many(
        sources: Vec<SId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send;
    /// [`load_many`](Self::load_many) with the targets' query refined by
    /// `refine` (filter, order, select ..): a target it leaves out is left out
    /// of every parent, and each parent's targets keep the query's order.
    fn load_many_where<Q>(
        sources: Vec<SId<Self>>,
        refine: impl Fn(<Self::Target as KeysQuery>::ByIds) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send
    where
        Self::Target: KeysQuery,
        Q: Fetch<C, K, Self::Target> + CountBinds<C, K>;
    /// The first `limit` targets by `order` of each of `sources`, aligned
    /// with them: one statement per chunk of keys, with a window function
    /// ([`RankedTargets`]).
    fn load_top<O>(
        sources: Vec<SId<Self>>,
        limit: i64,
        order: O,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send
    where
        O: Expression + AppearsOnTable<TableOf<Self::Target>> + Clone + Send,
        RankedTargets<Self, O>: Fetch<C, K, (Self::Target, SId<Self>)>;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> ManyToManyEager<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ManyToMany,
    K: Kind,
    C: OnBackend<K>,
    A::Target: KeysQuery + Clone,
    <A::Target as KeysQuery>::ByIds: Fetch<C, K, A::Target> + CountBinds<C, K>,
    JoinBase<A>: FilterDsl<dsl::EqAny<Sk<A>, Vec<SId<A>>>>,
    dsl::Filter<JoinBase<A>, dsl::EqAny<Sk<A>, Vec<SId<A>>>>: SelectDsl<(Sk<A>, Tk<A>)>,
    Vec<SId<A>>: AsInExpression<dsl::SqlTypeOf<Sk<A>>>,
    PairsIn<A>: Fetch<C, K, (SId<A>, TId<A>)>,
    SourcesAndTargets<A>: Fetch<C, K, (SId<A>, A::Target)>,
{
    fn load_many(
        sources: Vec<SId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many",
            async move {
                // One join per chunk (diesel's `belonging_to(&events).inner_join(..)`);
                // a target shared by several parents comes once per parent.
                let parents = Parents::of(&sources);
                let mut grouped = parents.grouping();
                for chunk in parents.distinct.chunks(chunk_size::<C::Backend>(1, 0)) {
                    let rows = SourcesAndTargets::<A>::new(chunk.to_vec())
                        .load(conn)
                        .await?;
                    for (source, target) in rows {
                        grouped.push(&source, target);
                    }
                }
                Ok(grouped.finish())
            },
        )
    }

    fn load_many_where<Q>(
        sources: Vec<SId<A>>,
        refine: impl Fn(<A::Target as KeysQuery>::ByIds) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send
    where
        Q: Fetch<C, K, A::Target> + CountBinds<C, K>,
    {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many_where",
            async move {
                let parents = Parents::of(&sources);
                let mut parents_of: HashMap<TId<A>, Vec<SId<A>>> = HashMap::new();
                for chunk in parents.distinct.chunks(chunk_size::<C::Backend>(1, 0)) {
                    let rows = FilterDsl::filter(
                        join_base::<A>(),
                        A::SourceKey::default().eq_any(chunk.to_vec()),
                    );
                    let query =
                        SelectDsl::select(rows, (A::SourceKey::default(), A::TargetKey::default()));
                    let pairs: Vec<(SId<A>, TId<A>)> = query.load(conn).await?;
                    for (source, target) in pairs {
                        parents_of.entry(target).or_default().push(source);
                    }
                }
                let targets: Vec<TId<A>> = parents_of.keys().cloned().collect();
                let mut grouped = parents.grouping();
                // Room for what the refinement binds: the statement for one key
                // binds it and the refinement's own values.
                let extra = match targets.first() {
                    Some(first) => refine(A::Target::by_ids(vec![first.clone()])).binds()? - 1,
                    None => 0,
                };
                for chunk in targets.chunks(chunk_size::<C::Backend>(1, extra)) {
                    // In the refined query's order, each target under each parent.
                    let rows = refine(A::Target::by_ids(chunk.to_vec())).load(conn).await?;
                    for row in rows {
                        for parent in parents_of.get(&Model::id(&row)).into_iter().flatten() {
                            grouped.push(parent, row.clone());
                        }
                    }
                }
                Ok(grouped.finish())
            },
        )
    }

    fn load_top<O>(
        sources: Vec<SId<A>>,
        limit: i64,
        order: O,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send
    where
        O: Expression + AppearsOnTable<TableOf<A::Target>> + Clone + Send,
        RankedTargets<A, O>: Fetch<C, K, (A::Target, SId<A>)>,
    {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_top",
            async move {
                let parents = Parents::of(&sources);
                let mut grouped = parents.grouping();
                for chunk in parents.distinct.chunks(chunk_size::<C::Backend>(1, 1)) {
                    let ranked = RankedTargets::<A, O>::new(chunk.to_vec(), limit, order.clone());
                    for (row, source) in ranked.load(conn).await? {
                        grouped.push(&source, row);
                    }
                }
                Ok(grouped.finish())
            },
        )
    }
}

type OSId<A> = IdOf<<A as OneToMany>::Source>;
/// `author_id IN (..)`
type FkIn<A> = <<A as OneToMany>::ForeignKey as KeyColumns<OSId<A>>>::In;
/// `posts WHERE author_id IN (..)`: the query eager loading of a
/// `has_many`/`has_one` runs, which `load_*_where` can refine.
pub type ChildrenOf<A> = <A as EagerChildren>::ChildrenOf;

/// The statement eager loading of a `has_many`/`has_one` runs.
pub trait EagerChildren: OneToMany {
    /// `posts WHERE author_id IN (..)`
    type ChildrenOf;
    /// The rows pointing at any of `sources`.
    fn children_of(sources: Vec<OSId<Self>>) -> Self::ChildrenOf;
}

impl<A> EagerChildren for A
where
    A: OneToMany,
    Base<A>: SelectDsl<ColumnsOf<A::Target>>,
    BaseRows<A>: FilterDsl<FkIn<A>>,
{
    type ChildrenOf = dsl::Filter<BaseRows<A>, FkIn<A>>;

    fn children_of(sources: Vec<OSId<A>>) -> Self::ChildrenOf {
        let keys = <A::ForeignKey as KeyColumns<OSId<A>>>::key_in(Default::default(), sources);
        FilterDsl::filter(base_rows::<A>(), keys)
    }
}

/// Eager loading of a `has_many` or `has_one` association, on a connection
/// `C` of kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `has_many`/`has_one` association cannot be eager-loaded on a `{C}`",
    note = "eager loading copies rows for a parent given twice: the target model must be `Clone`"
)]
pub trait OneToManyEager<C, K = <C as ConnKind>::Kind>: EagerChildren + Sized {
    /// The rows pointing at each of `sources`, aligned with them: one
    /// statement per chunk of keys.
    fn load_many(
        sources: Vec<OSId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send;
    /// [`load_many`](Self::load_many) with the query refined by `refine`;
    /// each parent's rows keep the query's order.
    fn load_many_where<Q>(
        sources: Vec<OSId<Self>>,
        refine: impl Fn(ChildrenOf<Self>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send
    where
        Q: Fetch<C, K, Self::Target> + CountBinds<C, K>;
    /// The first `limit` rows by `order` pointing at each of `sources`,
    /// aligned with them: one statement per chunk of keys, with a window
    /// function ([`Ranked`]).
    fn load_top<O>(
        sources: Vec<OSId<Self>>,
        limit: i64,
        order: O,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<Self::Target>>>> + Send
    where
        O: Expression + AppearsOnTable<TableOf<Self::Target>> + Clone + Send,
        Ranked<Self, O>: Fetch<C, K, Self::Target>;
    /// The first row pointing at each of `sources` (`has_one`).
    fn load_first(
        sources: Vec<OSId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Option<Self::Target>>>> + Send;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> OneToManyEager<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: EagerChildren,
    K: Kind,
    C: OnBackend<K>,
    A::Target: Clone,
    ChildrenOf<A>: Fetch<C, K, A::Target> + CountBinds<C, K>,
{
    fn load_many(
        sources: Vec<OSId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send {
        // Unrefined, the statement binds the keys alone.
        let load = children_in_chunks::<A, _, C, K>(sources, |q| q, 0, conn);
        traced(<A::Source as Model>::NAME, A::NAME, "load_many", load)
    }

    fn load_many_where<Q>(
        sources: Vec<OSId<A>>,
        refine: impl Fn(ChildrenOf<A>) -> Q + Send,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send
    where
        Q: Fetch<C, K, A::Target> + CountBinds<C, K>,
    {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many_where",
            async move {
                // Room for what the refinement binds (see the many-to-many case).
                let extra = match sources.first() {
                    Some(first) => refine(A::children_of(vec![first.clone()])).binds()? - 1,
                    None => 0,
                };
                children_in_chunks::<A, _, C, K>(sources, refine, extra, conn).await
            },
        )
    }

    fn load_top<O>(
        sources: Vec<OSId<A>>,
        limit: i64,
        order: O,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Vec<A::Target>>>> + Send
    where
        O: Expression + AppearsOnTable<TableOf<A::Target>> + Clone + Send,
        Ranked<A, O>: Fetch<C, K, A::Target>,
    {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_top",
            async move {
                let parents = Parents::of(&sources);
                let mut grouped = parents.grouping();
                for chunk in parents.distinct.chunks(chunk_size::<C::Backend>(1, 1)) {
                    let ranked = Ranked::<A, O>::new(chunk.to_vec(), limit, order.clone());
                    grouped.push_children::<A>(ranked.load(conn).await?);
                }
                Ok(grouped.finish())
            },
        )
    }

    async fn load_first(
        sources: Vec<OSId<A>>,
        conn: &mut C,
    ) -> QueryResult<Vec<Option<A::Target>>> {
        let many = Self::load_many(sources, conn).await?;
        Ok(many
            .into_iter()
            .map(|rows| rows.into_iter().next())
            .collect())
    }
}

/// The rows pointing at each of `sources`, aligned with them: `refine`d,
/// one statement per chunk of keys, leaving room for `extra` other binds.
async fn children_in_chunks<A, Q, C, K>(
    sources: Vec<OSId<A>>,
    refine: impl Fn(ChildrenOf<A>) -> Q + Send,
    extra: usize,
    conn: &mut C,
) -> QueryResult<Vec<Vec<A::Target>>>
where
    A: EagerChildren,
    A::Target: Clone,
    C: OnBackend<K>,
    Q: Fetch<C, K, A::Target>,
{
    let parents = Parents::of(&sources);
    let mut grouped = parents.grouping();
    let width = <A::ForeignKey as KeyColumns<OSId<A>>>::WIDTH;
    for chunk in parents
        .distinct
        .chunks(chunk_size::<C::Backend>(width, extra))
    {
        grouped.push_children::<A>(refine(A::children_of(chunk.to_vec())).load(conn).await?);
    }
    Ok(grouped.finish())
}

/// The parents of an eager load: each distinct key, and where it first
/// appears among them (one map for both, as diesel's `grouped_by` has).
pub(crate) struct Parents<'a, K> {
    sources: &'a [K],
    first: HashMap<&'a K, usize>,
    /// The keys to load, each once, in first-seen order.
    pub(crate) distinct: Vec<K>,
}

impl<'a, K: Eq + Hash + Clone> Parents<'a, K> {
    pub(crate) fn of(sources: &'a [K]) -> Self {
        let mut first = HashMap::with_capacity(sources.len());
        let mut distinct = Vec::with_capacity(sources.len());
        for (i, key) in sources.iter().enumerate() {
            if let Entry::Vacant(slot) = first.entry(key) {
                slot.insert(i);
                distinct.push(key.clone());
            }
        }
        Parents {
            sources,
            first,
            distinct,
        }
    }

    /// An empty list of rows for each parent, to [`Grouping::push`] into.
    pub(crate) fn grouping<V>(&self) -> Grouping<'_, 'a, K, V> {
        Grouping {
            rows: self.sources.iter().map(|_| Vec::new()).collect(),
            parents: self,
        }
    }
}

/// Rows being grouped under the parents of an eager load, aligned with them.
pub(crate) struct Grouping<'p, 'a, K, V> {
    parents: &'p Parents<'a, K>,
    rows: Vec<Vec<V>>,
}

impl<K: Eq + Hash + Clone, V> Grouping<'_, '_, K, V> {
    /// `row` under the parent `key` (in the order pushed); a key that is not
    /// one of the parents is left out.
    pub(crate) fn push(&mut self, key: &K, row: V) {
        if let Some(&i) = self.parents.first.get(key) {
            self.rows[i].push(row);
        }
    }

    /// Each child under the parent its foreign key names.
    fn push_children<A>(&mut self, children: Vec<V>)
    where
        A: OneToMany<Source: Model<Id = K>, Target = V>,
    {
        for child in children {
            let key = A::key_of(&child);
            let slot = (*key)
                .get()
                .and_then(|key| self.parents.first.get(key).copied());
            if let Some(i) = slot {
                self.rows[i].push(child);
            }
        }
    }

    /// The groups, aligned with the parents: a parent listed twice gets
    /// its rows twice, one with none an empty list.
    pub(crate) fn finish(mut self) -> Vec<Vec<V>>
    where
        V: Clone,
    {
        let parents = self.parents;
        if parents.distinct.len() < parents.sources.len() {
            for (i, key) in parents.sources.iter().enumerate() {
                let j = parents.first[key];
                if j != i {
                    self.rows[i] = self.rows[j].clone();
                }
            }
        }
        self.rows
    }
}

/// Eager loading of a `belongs_to` association, on a connection `C` of
/// kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `belongs_to` association cannot be eager-loaded on a `{C}`",
    note = "eager loading shares a parent between its children: the parent model must be `Clone`"
)]
pub trait BelongsToEager<C, K = <C as ConnKind>::Kind>: BelongsTo {
    /// [`Parent<Self>`], named as `BelongsToOps::Parent` is.
    type Parent;
    /// The parent of each of `sources`, aligned with them: one statement per
    /// chunk of keys. A key pointing at a missing row is `Err(NotFound)`.
    fn load_many<'c>(
        sources: &'c [Self::Source],
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self::Parent>>> + Send + 'c;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> BelongsToEager<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: BelongsTo,
    K: Kind,
    C: OnBackend<K>,
    A::Target: KeysQuery + Clone,
    <A::Target as KeysQuery>::ByIds: Fetch<C, K, A::Target>,
{
    type Parent = Parent<A>;

    fn load_many<'c>(
        sources: &'c [A::Source],
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Vec<Parent<A>>>> + Send + 'c {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load_many",
            async move {
                let keys = dedup(sources.iter().filter_map(|s| (*A::key(s)).get().cloned()));
                let parents = rows_by_id::<A::Target, C, K>(keys, conn).await?;
                sources
                    .iter()
                    .map(|s| {
                        (*A::key(s)).load(|id| parents.get(&id).cloned().ok_or(Error::NotFound))
                    })
                    .collect()
            },
        )
    }
}
