//! `belongs_to_many`: two models joined through a join table.

use diesel::dsl;
use diesel::expression::array_comparison::AsInExpression;
use diesel::expression::{AsExpression, Expression};
use diesel::query_builder::QueryId;
use diesel::query_builder::{AsQuery, IntoUpdateTarget};
use diesel::query_dsl::methods::{FilterDsl, SelectDsl};
use diesel::result::QueryResult;
use diesel::sql_types::SingleValue;
use diesel::{Column, ExpressionMethods, Table};

use std::collections::HashSet;

use super::all_associated;
use super::in_subquery::InSubquery;
use super::insert::{Conflict, Guarded, InsertPair, LockingInsert, Plain};
use super::joined::JoinedTargets;
use super::scope::AssocScope;
use crate::backend::{chunk_size, Dialect};
use crate::exec::{savepoint, transaction, ConnKind, Execute, Fetch, FetchIn, Kind, Transact};
use crate::instrument::traced;
use crate::model::{CountOf, Crud, Exists, ForUpdate, IdOf, Model, PkOf, TableOf};
use crate::set::{dedup, diff, SetDiff};
use crate::write::{dialect, parent_known, removed_or_gone, row_exists, with_parent_lock};
use std::future::Future;

/// A `belongs_to_many` association, described by the derive as types: the
/// join table and its two key columns.
///
/// What orm-core's operations take is [`ManyToMany`]: this description
/// with keys whose types fit the key columns. The derive checks that once
/// (through a join model, `JoinKeyType`), so that a key of another type is
/// that one error and not one more for each item naming the description.
pub trait ManyToManyDef: 'static {
    /// The association's name as its reader spells it (`guests`, `author`),
    /// for the spans of its calls.
    const NAME: &'static str;
    /// The model declaring the association (`Event`).
    type Source: Model;
    /// The associated model (`User`).
    type Target: Model;
    /// The join table (`rsvps::table`).
    type Through: Table + Default + Copy + QueryId + Send;
    /// The join-table column holding the source's key (`rsvps::event_id`).
    type SourceKey: Column<Table = Self::Through>
        + Expression<SqlType: SingleValue>
        + ExpressionMethods
        + Default
        + Copy
        + QueryId
        + Send;
    /// The join-table column holding the target's key (`rsvps::guest_id`).
    type TargetKey: Column<Table = Self::Through>
        + Expression<SqlType: SingleValue>
        + ExpressionMethods
        + Default
        + Copy
        + QueryId
        + Send;

    /// The association's scope on its join rows ([`NoScope`](super::scope::NoScope), or
    /// [`Scope<Self>`](super::scope::Scope) for a `through_scope`): the join
    /// rows its reads see, and what its writers set on the rows they add.
    type Scope: AssocScope<Self::Through>;

    /// What a join row carries besides its two keys: `()` for a join table
    /// the derive generates, the join model's payload for `through = Model`.
    type Payload: Clone;
    /// The INSERT that adds join rows (see [`ManyToManyDef::insert`]).
    type Insert: QueryId + LockingInsert<Self::Source, Self::Target>;
    /// How many columns one inserted join row binds, for chunking.
    const ROW_COLUMNS: usize = 2;
    /// Whether a join row is its two keys alone (a join table, not a join
    /// model): then one row goes in as an [`InsertPair`].
    const KEYS_ONLY: bool = false;

    /// The INSERT of `rows`; a pair that is already associated keeps its
    /// row ([`Conflict::Keep`]) or gets the new payload ([`Conflict::Update`]).
    fn insert(rows: Vec<Row<Self>>, conflict: Conflict) -> Self::Insert;

    /// For a `symmetric` self-reference, the source key `source` as a
    /// target key (the same value); `None` for every other association.
    fn mirror_key(source: &IdOf<Self::Source>) -> Option<IdOf<Self::Target>> {
        let _ = source;
        None
    }

    /// For a `symmetric` self-reference, the target key `target` as a source
    /// key (the same value); `None` for every other association.
    fn mirror_target(target: &IdOf<Self::Target>) -> Option<IdOf<Self::Source>> {
        let _ = target;
        None
    }
}

/// A [`ManyToManyDef`] whose models' keys fit its key columns (binds of the
/// columns' SQL types): every association the derive describes.
pub trait ManyToMany:
    ManyToManyDef<
    Source: Model<Id: AsExpression<dsl::SqlTypeOf<Self::SourceKey>>>,
    Target: Model<Id: AsExpression<dsl::SqlTypeOf<Self::TargetKey>>>,
>
{
}

impl<A> ManyToMany for A
where
    A: ManyToManyDef,
    IdOf<A::Source>: AsExpression<dsl::SqlTypeOf<A::SourceKey>>,
    IdOf<A::Target>: AsExpression<dsl::SqlTypeOf<A::TargetKey>>,
{
}

/// The source model of an association.
pub type SourceOf<A> = <A as ManyToManyDef>::Source;
/// The target model of an association.
pub type TargetOf<A> = <A as ManyToManyDef>::Target;
type Through<A> = <A as ManyToManyDef>::Through;
type SourceKey<A> = <A as ManyToManyDef>::SourceKey;
type Sc<A> = <A as ManyToManyDef>::Scope;
/// `rsvps`, or `taggings WHERE taggable_type = 'post'` for an association
/// with a `through_scope`: the join rows the association sees.
pub type JoinBase<A> = <Sc<A> as AssocScope<Through<A>>>::Base;
/// The association's scope on its join rows as a condition of its own:
/// `()`, or [`Scope<A>`](super::scope::Scope).
pub type JoinCondition<A> = <Sc<A> as AssocScope<Through<A>>>::Condition;
type TargetKey<A> = <A as ManyToManyDef>::TargetKey;
type SId<A> = IdOf<SourceOf<A>>;
type TId<A> = IdOf<TargetOf<A>>;
/// The payload of an association's join rows.
pub type PayloadOf<A> = <A as ManyToManyDef>::Payload;
/// One join row to insert: source key, target key, payload.
pub type Row<A> = (SId<A>, TId<A>, PayloadOf<A>);

/// `rsvps WHERE event_id = ?`
pub type JoinRows<A> = dsl::Filter<JoinBase<A>, dsl::Eq<SourceKey<A>, SId<A>>>;
/// `SELECT guest_id FROM rsvps WHERE event_id = ?`
pub type TargetIds<A> = dsl::Select<JoinRows<A>, TargetKey<A>>;
/// `rsvps WHERE event_id = ? AND guest_id = ?`
pub type JoinRow<A> = dsl::Filter<JoinRows<A>, dsl::Eq<TargetKey<A>, TId<A>>>;
/// `rsvps WHERE event_id = ? AND guest_id IN (?, ..)`
pub type JoinRowsIn<A> = dsl::Filter<JoinRows<A>, dsl::EqAny<TargetKey<A>, Vec<TId<A>>>>;
/// `rsvps WHERE event_id = ? AND guest_id NOT IN (?, ..)`
pub type JoinRowsNotIn<A> = dsl::Filter<JoinRows<A>, dsl::NeAny<TargetKey<A>, Vec<TId<A>>>>;
/// `friendships WHERE friend_id = ?`: the mirrored rows of a symmetric
/// self-reference.
pub type MirrorRows<A> = dsl::Filter<Through<A>, dsl::Eq<TargetKey<A>, TId<A>>>;
/// `friendships WHERE friend_id = ? AND user_id IN (?, ..)`
pub type MirrorRowsIn<A> = dsl::Filter<MirrorRows<A>, dsl::EqAny<SourceKey<A>, Vec<SId<A>>>>;
/// `friendships WHERE friend_id = ? AND user_id NOT IN (?, ..)`
pub type MirrorRowsNotIn<A> = dsl::Filter<MirrorRows<A>, dsl::NeAny<SourceKey<A>, Vec<SId<A>>>>;
/// `users WHERE id IN (SELECT guest_id FROM rsvps WHERE event_id = ?)`:
/// what `guests_query()` returns.
pub type TargetsQuery<'q, A, S> = <A as TargetsAt<'q, S>>::Query;

/// [`ManyToManyQuery::targets`] behind a bound that names a lifetime of the
/// method it bounds (`guests_query<'q>`). A bound on concrete types alone is
/// checked where the derive declares the method, so an association whose
/// tables don't fit together failed there once for each statement type;
/// this one is checked where the method is called.
pub trait TargetsAt<'q, S> {
    /// What `guests_query()` returns.
    type Query;
    /// The targets of `source`, as a query.
    fn query(source: &S) -> Self::Query;
}

impl<A: ManyToManyQuery> TargetsAt<'_, A::Source> for A {
    type Query = A::Targets;
    fn query(source: &A::Source) -> Self::Query {
        A::targets(source.id())
    }
}

/// The statements of a [`ManyToMany`] association, as types (no connection
/// needed). Implemented for every association whose tables fit together.
pub trait ManyToManyQuery: ManyToMany {
    /// `users WHERE id IN (SELECT guest_id FROM rsvps WHERE event_id = ?)`
    type Targets;
    /// `SELECT guest_id FROM rsvps WHERE event_id = ?`
    type TargetIds;
    /// `SELECT COUNT(*) FROM rsvps WHERE event_id = ?`
    type Count;
    /// `SELECT EXISTS (rsvps WHERE event_id = ? AND guest_id = ?)`
    type Exists;
    /// `SELECT COUNT(*) FROM rsvps WHERE event_id = ? AND guest_id IN (..)`
    type CountIn;
    /// `SELECT guest_id FROM rsvps WHERE event_id = ? AND guest_id IN (..)`
    type TargetIdsIn;
    /// `DELETE FROM rsvps WHERE event_id = ?`
    type DeleteAll;
    /// `DELETE FROM rsvps WHERE event_id = ? AND guest_id = ?`
    type DeleteOne;
    /// `DELETE FROM rsvps WHERE event_id = ? AND guest_id IN (..)`
    type DeleteIn;
    /// `DELETE FROM friendships WHERE friend_id = ?`
    type DeleteMirrorAll;
    /// `DELETE FROM friendships WHERE friend_id = ? AND user_id IN (..)`
    type DeleteMirrorIn;
    /// `DELETE FROM rsvps WHERE event_id = ? AND guest_id NOT IN (..)`
    type DeleteNotIn;
    /// `DELETE FROM friendships WHERE friend_id = ? AND user_id NOT IN (..)`
    type DeleteMirrorNotIn;
    /// The targets of source `id`.
    fn targets(id: SId<Self>) -> Self::Targets;
    /// The target keys of source `id`.
    fn target_ids(id: SId<Self>) -> Self::TargetIds;
    /// Counts the join rows of source `id`.
    fn count(id: SId<Self>) -> Self::Count;
    /// Whether the join row of `id` and `target` exists.
    fn exists(id: SId<Self>, target: TId<Self>) -> Self::Exists;
    /// Counts the join rows of `id` and any of `targets`.
    fn count_in(id: SId<Self>, targets: Vec<TId<Self>>) -> Self::CountIn;
    /// Which of `targets` are associated with `id`.
    fn target_ids_in(id: SId<Self>, targets: Vec<TId<Self>>) -> Self::TargetIdsIn;
    /// Deletes the join rows of source `id`.
    fn delete_all(id: SId<Self>) -> Self::DeleteAll;
    /// Deletes the join row of `id` and `target`.
    fn delete_one(id: SId<Self>, target: TId<Self>) -> Self::DeleteOne;
    /// Deletes the join rows of `id` and any of `targets`.
    fn delete_in(id: SId<Self>, targets: Vec<TId<Self>>) -> Self::DeleteIn;
    /// Deletes the rows whose target key is `id`.
    fn delete_mirror_all(id: TId<Self>) -> Self::DeleteMirrorAll;
    /// Deletes the rows whose target key is `id` and source key any of `sources`.
    fn delete_mirror_in(id: TId<Self>, sources: Vec<SId<Self>>) -> Self::DeleteMirrorIn;
    /// Deletes the join rows of `id` whose target is none of `keep`.
    fn delete_not_in(id: SId<Self>, keep: Vec<TId<Self>>) -> Self::DeleteNotIn;
    /// Deletes the rows whose target key is `id` and source key none of `keep`.
    fn delete_mirror_not_in(id: TId<Self>, keep: Vec<SId<Self>>) -> Self::DeleteMirrorNotIn;
}

fn mirror_rows<A: ManyToMany>(id: TId<A>) -> MirrorRows<A>
where
    Through<A>: FilterDsl<dsl::Eq<TargetKey<A>, TId<A>>>,
{
    FilterDsl::filter(A::Through::default(), A::TargetKey::default().eq(id))
}

fn join_rows<A: ManyToMany>(id: SId<A>) -> JoinRows<A>
where
    JoinBase<A>: FilterDsl<dsl::Eq<SourceKey<A>, SId<A>>>,
{
    FilterDsl::filter(join_base::<A>(), A::SourceKey::default().eq(id))
}

/// The join rows association `A` sees ([`JoinBase`]).
pub(crate) fn join_base<A: ManyToManyDef>() -> JoinBase<A> {
    Sc::<A>::base()
}

/// Whether association `A` has a scope on its join rows.
pub(crate) fn join_scoped<A: ManyToManyDef>() -> bool {
    super::scope::is_scope::<Sc<A>>()
}

impl<A> ManyToManyQuery for A
where
    A: ManyToMany,
    JoinBase<A>: FilterDsl<dsl::Eq<SourceKey<A>, SId<A>>>,
    JoinRows<A>: SelectDsl<TargetKey<A>>
        + SelectDsl<dsl::count_star>
        + FilterDsl<dsl::Eq<TargetKey<A>, TId<A>>>
        + FilterDsl<dsl::EqAny<TargetKey<A>, Vec<TId<A>>>>
        + IntoUpdateTarget,
    JoinRow<A>: IntoUpdateTarget,
    JoinRowsIn<A>: SelectDsl<dsl::count_star> + SelectDsl<TargetKey<A>> + IntoUpdateTarget,
    Vec<TId<A>>: AsInExpression<dsl::SqlTypeOf<TargetKey<A>>>,
    TableOf<TargetOf<A>>: FilterDsl<InSubquery<PkOf<TargetOf<A>>, TargetIds<A>>>,
    dsl::exists<JoinRow<A>>: Expression,
    Exists<JoinRow<A>>: AsQuery,
    Through<A>: FilterDsl<dsl::Eq<TargetKey<A>, TId<A>>>,
    MirrorRows<A>: FilterDsl<dsl::EqAny<SourceKey<A>, Vec<SId<A>>>> + IntoUpdateTarget,
    MirrorRowsIn<A>: IntoUpdateTarget,
    Vec<SId<A>>: AsInExpression<dsl::SqlTypeOf<SourceKey<A>>>,
    JoinRows<A>: FilterDsl<dsl::NeAny<TargetKey<A>, Vec<TId<A>>>>,
    JoinRowsNotIn<A>: IntoUpdateTarget,
    MirrorRows<A>: FilterDsl<dsl::NeAny<SourceKey<A>, Vec<SId<A>>>>,
    MirrorRowsNotIn<A>: IntoUpdateTarget,
{
    type Targets = dsl::Filter<TableOf<TargetOf<A>>, InSubquery<PkOf<TargetOf<A>>, TargetIds<A>>>;
    type TargetIds = TargetIds<A>;
    type Count = CountOf<JoinRows<A>>;
    type Exists = Exists<JoinRow<A>>;
    type CountIn = CountOf<JoinRowsIn<A>>;
    type TargetIdsIn = dsl::Select<JoinRowsIn<A>, TargetKey<A>>;
    type DeleteAll = dsl::delete<JoinRows<A>>;
    type DeleteOne = dsl::delete<JoinRow<A>>;
    type DeleteIn = dsl::delete<JoinRowsIn<A>>;
    type DeleteMirrorAll = dsl::delete<MirrorRows<A>>;
    type DeleteMirrorIn = dsl::delete<MirrorRowsIn<A>>;
    type DeleteNotIn = dsl::delete<JoinRowsNotIn<A>>;
    type DeleteMirrorNotIn = dsl::delete<MirrorRowsNotIn<A>>;

    fn targets(id: SId<A>) -> Self::Targets {
        let pk = PkOf::<TargetOf<A>>::default();
        FilterDsl::filter(
            TableOf::<TargetOf<A>>::default(),
            InSubquery::new(pk, Self::target_ids(id)),
        )
    }

    fn target_ids(id: SId<A>) -> TargetIds<A> {
        SelectDsl::select(join_rows::<A>(id), A::TargetKey::default())
    }

    fn count(id: SId<A>) -> Self::Count {
        SelectDsl::select(join_rows::<A>(id), dsl::count_star())
    }

    fn exists(id: SId<A>, target: TId<A>) -> Self::Exists {
        let row = FilterDsl::filter(join_rows::<A>(id), A::TargetKey::default().eq(target));
        diesel::select(dsl::exists(row))
    }

    fn count_in(id: SId<A>, targets: Vec<TId<A>>) -> Self::CountIn {
        let rows = FilterDsl::filter(join_rows::<A>(id), A::TargetKey::default().eq_any(targets));
        SelectDsl::select(rows, dsl::count_star())
    }

    fn target_ids_in(id: SId<A>, targets: Vec<TId<A>>) -> Self::TargetIdsIn {
        let rows = FilterDsl::filter(join_rows::<A>(id), A::TargetKey::default().eq_any(targets));
        SelectDsl::select(rows, A::TargetKey::default())
    }

    fn delete_all(id: SId<A>) -> Self::DeleteAll {
        diesel::delete(join_rows::<A>(id))
    }

    fn delete_one(id: SId<A>, target: TId<A>) -> Self::DeleteOne {
        diesel::delete(FilterDsl::filter(
            join_rows::<A>(id),
            A::TargetKey::default().eq(target),
        ))
    }

    fn delete_in(id: SId<A>, targets: Vec<TId<A>>) -> Self::DeleteIn {
        diesel::delete(FilterDsl::filter(
            join_rows::<A>(id),
            A::TargetKey::default().eq_any(targets),
        ))
    }

    fn delete_mirror_all(id: TId<A>) -> Self::DeleteMirrorAll {
        diesel::delete(mirror_rows::<A>(id))
    }

    fn delete_mirror_in(id: TId<A>, sources: Vec<SId<A>>) -> Self::DeleteMirrorIn {
        diesel::delete(FilterDsl::filter(
            mirror_rows::<A>(id),
            A::SourceKey::default().eq_any(sources),
        ))
    }

    fn delete_not_in(id: SId<A>, keep: Vec<TId<A>>) -> Self::DeleteNotIn {
        diesel::delete(FilterDsl::filter(
            join_rows::<A>(id),
            A::TargetKey::default().ne_all(keep),
        ))
    }

    fn delete_mirror_not_in(id: TId<A>, keep: Vec<SId<A>>) -> Self::DeleteMirrorNotIn {
        diesel::delete(FilterDsl::filter(
            mirror_rows::<A>(id),
            A::SourceKey::default().ne_all(keep),
        ))
    }
}

/// The reads and removals of a `belongs_to_many` association on a
/// connection `C` of kind `K`; the generated `guests`, `remove_guest`, ...
/// run them. Additions are [`ManyToManyAdd`].
#[diagnostic::on_unimplemented(
    message = "this `belongs_to_many` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait ManyToManyOps<C, K = <C as ConnKind>::Kind>: ManyToManyDef {
    /// The targets associated with source `id`.
    fn load(
        id: SId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self::Target>>> + Send;
    /// How many targets are associated with source `id`.
    fn count(id: SId<Self>, conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send;
    /// Whether `target` is associated with source `id`.
    fn has(
        id: SId<Self>,
        target: TId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send;
    /// Whether every one of `targets` is associated with source `id`.
    fn has_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send;
    /// Removes the association with `target`; the number of join rows deleted.
    fn remove(
        id: SId<Self>,
        target: TId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Removes the associations with `targets`.
    fn remove_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Removes every association of source `id`.
    fn clear(id: SId<Self>, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> ManyToManyOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ManyToManyQuery,
    K: Kind,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    JoinedTargets<A>: Fetch<C, K, A::Target>,
    <A as ManyToManyQuery>::Count: Fetch<C, K, i64>,
    <A as ManyToManyQuery>::Exists: Fetch<C, K, bool>,
    A::CountIn: Fetch<C, K, i64>,
    A::DeleteAll: Execute<C, K>,
    A::DeleteOne: Execute<C, K>,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorAll: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
{
    fn load(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<Vec<A::Target>>> + Send {
        // One join, as diesel's `belonging_to(..).inner_join(..)`: a static
        // statement (`guests_query()`'s `IN (SELECT ..)` shape is for
        // refining, where a join would change the query's type).
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load",
            JoinedTargets::<A>::new(id).load(conn),
        )
    }

    fn count(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send {
        let count = <A as ManyToManyQuery>::count(id);
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "count",
            count.get_result(conn),
        )
    }

    fn has(
        id: SId<A>,
        target: TId<A>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send {
        let exists = <A as ManyToManyQuery>::exists(id, target);
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "has",
            exists.get_result(conn),
        )
    }

    fn has_all(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "has_all", {
            let chunk = chunk_size::<C::Backend>(1, 1);
            all_associated(
                targets,
                chunk,
                move |keys| A::count_in(id.clone(), keys),
                conn,
            )
        })
    }

    fn remove(
        id: SId<A>,
        target: TId<A>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "remove", async move {
            if A::mirror_key(&id).is_some() {
                // Two rows: the pair and its mirror.
                return remove_pairs::<A, C, K>(id, vec![target], conn).await;
            }
            remove_one::<A, C, K>(id, target, conn).await
        })
    }

    fn remove_all(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "remove_all",
            async move {
                let mut targets = dedup(targets);
                if targets.len() == 1 && A::mirror_key(&id).is_none() {
                    return remove_one::<A, C, K>(id, targets.remove(0), conn).await;
                }
                remove_pairs::<A, C, K>(id, targets, conn).await
            },
        )
    }

    fn clear(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "clear", async move {
            let removed = match A::mirror_key(&id) {
                None if dialect::<C, K>() == Dialect::Sqlite => {
                    // One statement, and SQLite's write lock is the only lock.
                    A::delete_all(id.clone()).execute(conn).await?
                }
                mirror => with_parent_lock!(A::Source, C, K, &id, conn, {
                    // This side's rows first, so a row paired with itself is
                    // counted (its mirror is the same row).
                    let removed = A::delete_all(id.clone()).execute(conn).await?;
                    if let Some(mirror) = mirror {
                        A::delete_mirror_all(mirror).execute(conn).await?;
                    }
                    Ok(removed)
                })?,
            };
            parent_known::<A::Source, C, K>(&id, removed > 0, conn).await?;
            Ok(removed)
        })
    }
}

/// Removes one pair: one statement, no lock (see the locking scheme), and
/// no savepoint, since deleting a join row cannot break a foreign key.
async fn remove_one<A, C, K>(id: SId<A>, target: TId<A>, conn: &mut C) -> QueryResult<usize>
where
    A: ManyToManyQuery,
    A::Source: Crud<C, K>,
    A::DeleteOne: Execute<C, K>,
{
    let removed = A::delete_one(id.clone(), target).execute(conn).await?;
    removed_or_gone::<A::Source, C, K>(removed, &id, conn).await
}

/// Removes several pairs (and their mirrors) under the parent's lock.
async fn remove_pairs<A, C, K>(id: SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize>
where
    A: ManyToManyQuery,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
{
    if targets.is_empty() {
        row_exists::<A::Source, C, K>(&id, conn).await?;
        return Ok(0);
    }
    let removed = with_parent_lock!(A::Source, C, K, &id, conn, {
        delete_pairs::<A, C, K>(&id, targets, conn).await
    })?;
    parent_known::<A::Source, C, K>(&id, removed > 0, conn).await?;
    Ok(removed)
}

/// An association whose join rows can be added without naming a payload:
/// a generated join table, or a join model whose payload is `Default`.
#[diagnostic::on_unimplemented(
    message = "the join rows of this association carry a payload that has no default",
    label = "`add_*`, `set_*`, `create_*` and staged changes insert the default payload",
    note = "use the `*_with` methods and pass the payload, or implement `Default` for the payload struct"
)]
pub trait DefaultPayload: ManyToMany {
    /// The payload plain additions insert.
    fn default_payload() -> Self::Payload;
}

impl<A: ManyToMany<Payload: Default>> DefaultPayload for A {
    fn default_payload() -> A::Payload {
        A::Payload::default()
    }
}

/// The additions of a `belongs_to_many` association on a connection `C` of
/// kind `K`: plain (`add_guest`, which needs [`DefaultPayload`]) and with a
/// payload (`add_guest_with`, for `through = Model`).
#[diagnostic::on_unimplemented(
    message = "this `belongs_to_many` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait ManyToManyAdd<C, K = <C as ConnKind>::Kind>: ManyToManyDef {
    /// Associates every one of `targets` with `payload`; a pair that is
    /// already associated keeps its row or gets `payload`, as `conflict`
    /// says. Returns the join rows written.
    fn add_with(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        payload: Self::Payload,
        conflict: Conflict,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Makes `rows` (targets with their payloads) the whole association:
    /// removes the others, and adds the new ones (or, with
    /// `Conflict::Update`, writes every row's payload), in one transaction.
    fn set_with(
        id: SId<Self>,
        rows: Vec<(TId<Self>, Self::Payload)>,
        conflict: Conflict,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send;
    /// Inserts a new target and associates it with `payload`, in one
    /// transaction.
    fn create_with(
        id: SId<Self>,
        new: <Self::Target as Model>::New,
        payload: Self::Payload,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Self::Target>> + Send;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> ManyToManyAdd<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: ManyToManyQuery<Payload: Send + Sync>,
    K: Kind,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    A::Target: Crud<C, K>,
    <A::Target as Model>::New: Send,
    ForUpdate<A::TargetIds>: Fetch<C, K, TId<A>>,
    A::TargetIdsIn: Fetch<C, K, TId<A>>,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
    A::DeleteNotIn: Execute<C, K>,
    A::DeleteMirrorNotIn: Execute<C, K>,
    A::Insert: Execute<C, K>,
    InsertPair<A, Plain>: Execute<C, K>,
    InsertPair<A, Guarded>: Execute<C, K>,
{
    fn add_with(
        id: SId<A>,
        targets: Vec<TId<A>>,
        payload: A::Payload,
        conflict: Conflict,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "add_with",
            add_with::<A, C, K>(id, targets, payload, conflict, conn),
        )
    }

    fn set_with(
        id: SId<A>,
        rows: Vec<(TId<A>, A::Payload)>,
        conflict: Conflict,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "set_with",
            set_with::<A, C, K>(id, rows, conflict, conn),
        )
    }

    fn create_with(
        id: SId<A>,
        new: <A::Target as Model>::New,
        payload: A::Payload,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<A::Target>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "create_with",
            async move {
                transaction!(conn, {
                    let target = A::Target::insert(new, conn).await?;
                    insert_rows::<A, C, K>(&id, vec![(target.id(), payload)], Conflict::Keep, conn)
                        .await?;
                    Ok(target)
                })
            },
        )
    }
}

async fn add_with<A, C, K>(
    id: SId<A>,
    targets: Vec<TId<A>>,
    payload: A::Payload,
    conflict: Conflict,
    conn: &mut C,
) -> QueryResult<usize>
where
    A: ManyToManyQuery<Payload: Send + Sync>,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    A::Target: Crud<C, K>,
    A::TargetIdsIn: Fetch<C, K, TId<A>>,
    A::Insert: Execute<C, K>,
    InsertPair<A, Plain>: Execute<C, K>,
    InsertPair<A, Guarded>: Execute<C, K>,
{
    let targets = dedup(targets);
    if targets.is_empty() {
        // Nothing to write, but a parent whose row is gone is an error.
        row_exists::<A::Source, C, K>(&id, conn).await?;
        return Ok(0);
    }
    let rows = |targets: Vec<TId<A>>| targets.into_iter().map(|t| (t, payload.clone()));
    let dialect = dialect::<C, K>();
    if dialect == Dialect::Mysql && conflict == Conflict::Keep {
        // MySQL counts a duplicate that ON DUPLICATE KEY leaves alone as
        // a row written: under the lock, leave out the pairs that exist,
        // so the count is of rows inserted.
        return with_parent_lock!(A::Source, C, K, &id, conn, {
            add_locked::<A, C, K>(&id, targets, payload.clone(), conflict, conn).await
        });
    }
    // Inside the caller's transaction on PostgreSQL, a one-row add is a
    // statement that cannot fail on a missing row, instead of a
    // savepoint around one that can: one round trip, not three.
    let guard = dialect == Dialect::Postgres && conn.in_transaction();
    if let [target] = &targets[..] {
        // One row (and its mirror): one statement, no lock.
        let (s, t) = (id.clone(), target.clone());
        let mirrored = A::mirror_key(&id).is_some();
        let written = if A::KEYS_ONLY && !mirrored {
            // The statement `add_*` runs in a loop: typed, so diesel
            // finds it prepared without rendering it (no row `Vec`).
            if guard {
                InsertPair::<A, Guarded>::new(s, t).execute(conn).await?
            } else {
                let insert = InsertPair::<A, Plain>::new(s, t);
                savepoint!(C, K, conn, insert.execute(conn).await)?
            }
        } else {
            let all = join_rows_of::<A>(&id, rows(targets.clone()).collect());
            let mut insert = A::insert(all.rows, conflict);
            if guard {
                insert.guard(s, t);
                insert.execute(conn).await?
            } else {
                savepoint!(C, K, conn, insert.execute(conn).await)?
            }
        };
        if guard && written == 0 {
            row_exists::<A::Source, C, K>(&id, conn).await?;
            row_exists::<A::Target, C, K>(target, conn).await?;
        }
        return Ok(associations(mirrored, written));
    }
    let all = join_rows_of::<A>(&id, rows(targets).collect());
    let mirrored = all.mirrored;
    if all.rows.len() <= chunk_size::<C::Backend>(A::ROW_COLUMNS, 1) {
        let mut insert = A::insert(all.rows, conflict);
        // SQLite's write lock; on MySQL, the shared lock InnoDB's
        // foreign-key check takes on the parent; on PostgreSQL, the lock
        // the INSERT takes itself.
        insert.lock_source(id.clone());
        let written = savepoint!(C, K, conn, insert.execute(conn).await)?;
        if written == 0 {
            row_exists::<A::Source, C, K>(&id, conn).await?;
        }
        return Ok(associations(mirrored, written));
    }
    with_parent_lock!(
        A::Source,
        C,
        K,
        &id,
        conn,
        all.insert::<C, K>(conflict, conn).await
    )
}

async fn set_with<A, C, K>(
    id: SId<A>,
    rows: Vec<(TId<A>, A::Payload)>,
    conflict: Conflict,
    conn: &mut C,
) -> QueryResult<SetDiff>
where
    A: ManyToManyQuery<Payload: Send + Sync>,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    ForUpdate<A::TargetIds>: Fetch<C, K, TId<A>>,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
    A::DeleteNotIn: Execute<C, K>,
    A::DeleteMirrorNotIn: Execute<C, K>,
    A::Insert: Execute<C, K>,
{
    // The last payload given for a target wins.
    let mut rows: Vec<_> = rows.into_iter().rev().collect();
    let mut seen = HashSet::new();
    rows.retain(|(t, _)| seen.insert(t.clone()));
    rows.reverse();
    let wanted: Vec<_> = rows.iter().map(|(t, _)| t.clone()).collect();
    let diff = if dialect::<C, K>() != Dialect::Mysql
        && conflict == Conflict::Keep
        && wanted.len() < chunk_size::<C::Backend>(1, 1)
    {
        // No read: the INSERT leaves the kept rows alone and counts the
        // new ones, the DELETE removes and counts the rest.
        with_parent_lock!(A::Source, C, K, &id, conn, {
            let added = join_rows_of::<A>(&id, rows)
                .insert::<C, K>(conflict, conn)
                .await?;
            let removed = delete_others::<A, C, K>(&id, wanted, conn).await?;
            Ok(SetDiff { added, removed })
        })?
    } else {
        // MySQL counts duplicates as written, an upsert writes every
        // row, and NOT IN has to fit one statement: read the current
        // keys (locking them) and write the difference.
        with_parent_lock!(A::Source, C, K, &id, conn, {
            let current = ForUpdate(A::target_ids(id.clone())).load(conn).await?;
            let (to_add, to_remove) = diff(current, &wanted);
            let removed = delete_pairs::<A, C, K>(&id, to_remove, conn).await?;
            let added = to_add.len();
            if conflict == Conflict::Keep {
                let new: HashSet<_> = to_add.into_iter().collect();
                rows.retain(|(t, _)| new.contains(t));
            }
            insert_rows::<A, C, K>(&id, rows, conflict, conn).await?;
            Ok(SetDiff { added, removed })
        })?
    };
    parent_known::<A::Source, C, K>(&id, diff.added + diff.removed > 0, conn).await?;
    Ok(diff)
}

/// The plain additions (`add_guest`, `set_guests`, `create_guest`, staged
/// changes) of a `belongs_to_many` association on a connection `C` of kind
/// `K`: they insert the [`DefaultPayload`].
#[diagnostic::on_unimplemented(
    message = "the plain `add_*`, `set_*` and `create_*` of this `belongs_to_many` association cannot run on a `{C}`",
    note = "they need a join model's payload with `Default` (otherwise use the `*_with` methods) and a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait DefaultAdd<C, K = <C as ConnKind>::Kind>: ManyToManyAdd<C, K> {
    /// Associates `targets`, leaving pairs that exist untouched.
    fn add_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Makes `targets` the whole association, touching only what changes.
    fn set(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send;
    /// Inserts a new target and associates it, in one transaction.
    fn create(
        id: SId<Self>,
        new: <Self::Target as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Self::Target>> + Send;
}

// `DefaultPayload` is a bound here and not a supertrait: generated code
// names `DefaultAdd<C>` in where-clauses, where a bound without `C` that
// does not hold would be an error at the definition, not at the call.
impl<A: ManyToManyAdd<C, K> + DefaultPayload, C, K> DefaultAdd<C, K> for A {
    fn add_all(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        A::add_with(id, targets, A::default_payload(), Conflict::Keep, conn)
    }

    fn set(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send {
        let payload = A::default_payload();
        let rows = targets.into_iter().map(|t| (t, payload.clone())).collect();
        A::set_with(id, rows, Conflict::Keep, conn)
    }

    fn create(
        id: SId<A>,
        new: <A::Target as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<A::Target>> + Send {
        A::create_with(id, new, A::default_payload(), conn)
    }
}

/// For a symmetric self-reference: `id` as a target key and `targets` as
/// source keys, the other halves of the mirrored rows. A target that is
/// `id` itself is left out: the pair `(a, a)` is its own mirror.
fn mirrored<'a, A: ManyToMany>(
    id: &SId<A>,
    targets: impl IntoIterator<Item = &'a TId<A>>,
) -> Option<(TId<A>, Vec<SId<A>>)> {
    let mirror = A::mirror_key(id)?;
    let sources = targets
        .into_iter()
        .filter(|t| **t != mirror)
        .map(A::mirror_target)
        .collect::<Option<_>>()?;
    Some((mirror, sources))
}

/// The join rows to insert for one source: its pairs, and for a symmetric
/// association their mirrors.
pub(crate) struct JoinRowsOf<A: ManyToMany> {
    rows: Vec<Row<A>>,
    mirrored: bool,
}

/// The rows of `id` with `rows` (targets and payloads), mirrors first.
pub(crate) fn join_rows_of<A: ManyToMany>(
    id: &SId<A>,
    rows: Vec<(TId<A>, A::Payload)>,
) -> JoinRowsOf<A> {
    let mirror = A::mirror_key(id);
    let mut all: Vec<Row<A>> = Vec::with_capacity(rows.len() * 2);
    if let Some(mirror) = &mirror {
        // `(t, id)` for each `(id, t)`, but `(id, id)`, which is its own
        // mirror. On a symmetric self-reference every target key is also a
        // source key.
        all.extend(
            rows.iter()
                .filter(|(t, _)| t != mirror)
                .filter_map(|(t, p)| {
                    A::mirror_target(t).map(|source| (source, mirror.clone(), p.clone()))
                }),
        );
    }
    let mirrored = mirror.is_some();
    all.extend(rows.into_iter().map(|(t, p)| (id.clone(), t, p)));
    JoinRowsOf {
        rows: all,
        mirrored,
    }
}

/// The associations `written` join rows stand for: a mirrored pair is two
/// rows, a row paired with itself one.
fn associations(mirrored: bool, written: usize) -> usize {
    if mirrored {
        written.div_ceil(2)
    } else {
        written
    }
}

impl<A: ManyToMany<Payload: Send>> JoinRowsOf<A> {
    /// Inserts the rows in one statement per chunk (several chunks need the
    /// caller's transaction); returns the associations written.
    async fn insert<C, K>(self, conflict: Conflict, conn: &mut C) -> QueryResult<usize>
    where
        C: Transact<K>,
        A::Insert: Execute<C, K>,
    {
        if self.rows.is_empty() {
            return Ok(0);
        }
        let size = chunk_size::<C::Backend>(A::ROW_COLUMNS, 0);
        // MySQL counts an updated duplicate twice; every row of an upsert is
        // written once.
        let rows_written = (dialect::<C, K>() == Dialect::Mysql && conflict == Conflict::Update)
            .then_some(self.rows.len());
        let mut written = 0;
        let mut rest = self.rows.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk = rest.by_ref().take(size).collect();
            written += A::insert(chunk, conflict).execute(conn).await?;
        }
        Ok(associations(self.mirrored, rows_written.unwrap_or(written)))
    }
}

/// Adds `targets` with `payload` to `id`'s association, inside a writer
/// that holds the parent's lock. On MySQL, which counts a duplicate that
/// ON DUPLICATE KEY leaves alone as a row written, the pairs that exist are
/// read first and left out, so the count is of rows inserted.
pub(crate) async fn add_locked<A, C, K>(
    id: &SId<A>,
    mut targets: Vec<TId<A>>,
    payload: A::Payload,
    conflict: Conflict,
    conn: &mut C,
) -> QueryResult<usize>
where
    A: ManyToManyQuery<Payload: Send>,
    C: Transact<K>,
    A::TargetIdsIn: Fetch<C, K, TId<A>>,
    A::Insert: Execute<C, K>,
{
    if dialect::<C, K>() == Dialect::Mysql && conflict == Conflict::Keep {
        let mut existing = HashSet::new();
        for chunk in targets.chunks(chunk_size::<C::Backend>(1, 1)) {
            existing.extend(
                A::target_ids_in(id.clone(), chunk.to_vec())
                    .load(conn)
                    .await?,
            );
        }
        targets.retain(|t| !existing.contains(t));
    }
    let rows = targets.into_iter().map(|t| (t, payload.clone())).collect();
    insert_rows::<A, C, K>(id, rows, conflict, conn).await
}

/// Inserts the join rows of `id` and `rows` (and their mirrors) in one
/// statement per chunk; several chunks run in one transaction. Returns how
/// many associations were written (a mirrored pair counts once).
pub(crate) async fn insert_rows<A, C, K>(
    id: &SId<A>,
    rows: Vec<(TId<A>, A::Payload)>,
    conflict: Conflict,
    conn: &mut C,
) -> QueryResult<usize>
where
    A: ManyToMany<Payload: Send>,
    C: Transact<K>,
    A::Insert: Execute<C, K>,
{
    let all = join_rows_of::<A>(id, rows);
    if all.rows.len() <= chunk_size::<C::Backend>(A::ROW_COLUMNS, 0) {
        all.insert::<C, K>(conflict, conn).await
    } else {
        transaction!(conn, all.insert::<C, K>(conflict, conn).await)
    }
}

/// Deletes the join rows of `id` and `targets` (and their mirrors); returns
/// how many of `targets` were associated.
pub(crate) async fn delete_pairs<A, C, K>(
    id: &SId<A>,
    targets: Vec<TId<A>>,
    conn: &mut C,
) -> QueryResult<usize>
where
    A: ManyToManyQuery,
    C: Transact<K>,
    A::DeleteIn: Execute<C, K>,
    A::DeleteMirrorIn: Execute<C, K>,
{
    // This side's rows first, so that a row paired with itself (its own
    // mirror) is counted.
    let mut removed = 0;
    for chunk in targets.chunks(chunk_size::<C::Backend>(1, 1)) {
        removed += A::delete_in(id.clone(), chunk.to_vec())
            .execute(conn)
            .await?;
    }
    if let Some((mirror, sources)) = mirrored::<A>(id, &targets) {
        for chunk in sources.chunks(chunk_size::<C::Backend>(1, 1)) {
            A::delete_mirror_in(mirror.clone(), chunk.to_vec())
                .execute(conn)
                .await?;
        }
    }
    Ok(removed)
}

/// Deletes the join rows of `id` whose target is not in `keep` (and their
/// mirrors), in one statement each; returns how many were associated.
async fn delete_others<A, C, K>(id: &SId<A>, keep: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize>
where
    A: ManyToManyQuery,
    A::DeleteNotIn: Execute<C, K>,
    A::DeleteMirrorNotIn: Execute<C, K>,
{
    let mirror = A::mirror_key(id);
    let sources: Option<Vec<SId<A>>> = mirror
        .as_ref()
        .and_then(|_| keep.iter().map(A::mirror_target).collect());
    let removed = A::delete_not_in(id.clone(), keep).execute(conn).await?;
    if let (Some(mirror), Some(sources)) = (mirror, sources) {
        A::delete_mirror_not_in(mirror, sources)
            .execute(conn)
            .await?;
    }
    Ok(removed)
}
