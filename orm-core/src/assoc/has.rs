//! `has_one` and `has_many`: the foreign key lives on the target's table.

use diesel::connection::Connection;
use diesel::dsl;
use diesel::dsl::SqlTypeOf;
use diesel::expression::array_comparison::AsInExpression;
use diesel::expression::{AsExpression, Expression};
use diesel::query_builder::{AsQuery, IntoUpdateTarget, QueryId};
use diesel::query_dsl::methods::{ExecuteDsl, FilterDsl, LimitDsl, SelectDsl};
use diesel::query_dsl::LoadQuery;
use diesel::result::{Error, OptionalExtension, QueryResult};
use diesel::sql_types::SingleValue;
use diesel::AsChangeset;
use diesel::{Column, ExpressionMethods, RunQueryDsl};

use super::all_associated;
use super::reassign::{ParentAndChildIds, Reassign, SetChildren};
use crate::backend::{chunk_size, Dialect, OrmBackend};
use crate::exec::{block, Blocking};
use crate::model::{
    ensure_exists, removed_or_gone, rows, ByIds, ColumnsOf, CountOf, Crud, Exists, ForeignKey,
    IdOf, Model, NullableKey, PkOf, Rows, SingleKey, TableOf,
};
use crate::set::{dedup, diff, SetDiff};
use crate::write::{locked, one_statement, parent_exists};

/// A `has_one` or `has_many` association: `Target` rows point at `Source`
/// through `ForeignKey`.
pub trait OneToMany: 'static {
    /// The association's name as its reader spells it (`guests`, `author`),
    /// for the spans of its calls.
    const NAME: &'static str;
    /// The model declaring the association (`User`).
    type Source: Model<Id: AsExpression<SqlTypeOf<Self::ForeignKey>>>;
    /// The associated model (`Post`).
    type Target: SingleKey;
    /// The key column on the target's table (`posts::author_id`).
    type ForeignKey: Column<Table = TableOf<Self::Target>>
        + Expression<SqlType: SingleValue>
        + ExpressionMethods
        + Default
        + Copy
        + QueryId
        + Send;
    /// The key field's Rust type (`Option<i32>`).
    type KeyValue: ForeignKey<IdOf<Self::Source>>
        + AsExpression<SqlTypeOf<Self::ForeignKey>>
        + Send
        + 'static;
    /// Sets the key field of `new` before it is inserted.
    fn set_key_on_new(new: &mut <Self::Target as Model>::New, key: Self::KeyValue);
    /// The key field of a target row.
    fn key_of(target: &Self::Target) -> &Self::KeyValue;
}

type S<A> = <A as OneToMany>::Source;
type T<A> = <A as OneToMany>::Target;
type Fk<A> = <A as OneToMany>::ForeignKey;
type Kv<A> = <A as OneToMany>::KeyValue;
type SId<A> = IdOf<S<A>>;
type TId<A> = IdOf<T<A>>;

/// `posts WHERE author_id = ?`: the target of an UPDATE, or of a count.
pub type Children<A> = dsl::Filter<TableOf<T<A>>, dsl::Eq<Fk<A>, SId<A>>>;
/// `SELECT <columns> FROM posts WHERE author_id = ?`
pub type ChildRows<A> = dsl::Filter<Rows<T<A>>, dsl::Eq<Fk<A>, SId<A>>>;
/// `posts WHERE author_id = ? AND id = ?`
pub type Child<A> = dsl::Filter<Children<A>, dsl::Eq<PkOf<T<A>>, TId<A>>>;
/// `posts WHERE id = ?`
pub type OneTarget<A> = dsl::Filter<TableOf<T<A>>, dsl::Eq<PkOf<T<A>>, TId<A>>>;
/// `posts WHERE author_id = ? AND id IN (..)`
pub type ChildrenIn<A> = dsl::Filter<Children<A>, dsl::EqAny<PkOf<T<A>>, Vec<TId<A>>>>;
/// `posts WHERE author_id = ? AND id <> ?`
pub type OtherChildren<A> = dsl::Filter<Children<A>, dsl::NotEq<PkOf<T<A>>, TId<A>>>;
/// `SET author_id = ?`
pub type SetKey<A> = dsl::Eq<Fk<A>, Kv<A>>;
/// `SELECT <columns> FROM posts WHERE author_id = ?`: what `posts_query()`
/// returns.
pub type ChildrenQuery<'q, A, S> = <A as ChildrenAt<'q, S>>::Query;

/// [`OneToManyQuery::children`] behind a bound that names a lifetime of the
/// method it bounds, as [`TargetsAt`](super::belongs_to_many::TargetsAt).
pub trait ChildrenAt<'q, S> {
    /// What `posts_query()` returns.
    type Query;
    /// The children of `source`, as a query.
    fn query(source: &S) -> Self::Query;
}

impl<A: OneToManyQuery> ChildrenAt<'_, A::Source> for A {
    type Query = A::Children;
    fn query(source: &A::Source) -> Self::Query {
        A::children(source.id())
    }
}

/// The statements of a [`OneToMany`] association, as types.
pub trait OneToManyQuery: OneToMany {
    /// `SELECT <columns> FROM posts WHERE author_id = ?`
    type Children;
    /// `SELECT <columns> FROM posts WHERE author_id = ? LIMIT 1`
    type First;
    /// `SELECT COUNT(*) FROM posts WHERE author_id = ?`
    type Count;
    /// `SELECT EXISTS (posts WHERE author_id = ? AND id = ?)`
    type Exists;
    /// `SELECT COUNT(*) FROM posts WHERE author_id = ? AND id IN (..)`
    type CountIn;
    /// `SELECT id FROM posts WHERE author_id = ?`
    type ChildIds;
    /// `SELECT EXISTS (posts WHERE author_id = ? AND id <> ?)`
    type OthersExist;
    /// `UPDATE posts SET author_id = ? WHERE author_id = ? AND id <> ?`
    type DetachOthers;
    /// `UPDATE posts SET author_id = ? WHERE id IN (..)`
    type Attach;
    /// `UPDATE posts SET author_id = ? WHERE author_id = ? AND id IN (..)`
    type DetachIn;
    /// `UPDATE posts SET author_id = ? WHERE author_id = ?`
    type DetachAll;
    /// `UPDATE posts SET author_id = ? WHERE id = ?`: one row, a static
    /// statement (an `IN (..)` list is prepared again on every call).
    type AttachOne;
    /// `UPDATE posts SET author_id = ? WHERE author_id = ? AND id = ?`
    type DetachOne;
    /// The target rows of source `id`.
    fn children(id: SId<Self>) -> Self::Children;
    /// The first target row of source `id`.
    fn first(id: SId<Self>) -> Self::First;
    /// Counts the target rows of source `id`.
    fn count(id: SId<Self>) -> Self::Count;
    /// Whether `target` points at source `id`.
    fn exists(id: SId<Self>, target: TId<Self>) -> Self::Exists;
    /// Counts `targets` pointing at source `id`.
    fn count_in(id: SId<Self>, targets: Vec<TId<Self>>) -> Self::CountIn;
    /// The keys of the target rows of source `id`.
    fn child_ids(id: SId<Self>) -> Self::ChildIds;
    /// Whether rows other than `keep` point at source `id`.
    fn others_exist(id: SId<Self>, keep: TId<Self>) -> Self::OthersExist;
    /// Sets the key of rows other than `keep` pointing at `id` to `value`.
    fn detach_others(id: SId<Self>, keep: TId<Self>, value: Kv<Self>) -> Self::DetachOthers;
    /// Sets the key of `targets` to `value`.
    fn attach(targets: Vec<TId<Self>>, value: Kv<Self>) -> Self::Attach;
    /// Sets the key of `targets` pointing at `id` to `value`.
    fn detach_in(id: SId<Self>, targets: Vec<TId<Self>>, value: Kv<Self>) -> Self::DetachIn;
    /// Sets the key of every row pointing at `id` to `value`.
    fn detach_all(id: SId<Self>, value: Kv<Self>) -> Self::DetachAll;
    /// Sets the key of `target` to `value`.
    fn attach_one(target: TId<Self>, value: Kv<Self>) -> Self::AttachOne;
    /// Sets the key of `target`, if it points at `id`, to `value`.
    fn detach_one(id: SId<Self>, target: TId<Self>, value: Kv<Self>) -> Self::DetachOne;
}

fn children<A: OneToMany>(id: SId<A>) -> Children<A>
where
    TableOf<T<A>>: FilterDsl<dsl::Eq<Fk<A>, SId<A>>>,
{
    FilterDsl::filter(TableOf::<T<A>>::default(), A::ForeignKey::default().eq(id))
}

fn set_key<A: OneToMany>(value: Kv<A>) -> SetKey<A> {
    A::ForeignKey::default().eq(value)
}

impl<A> OneToManyQuery for A
where
    A: OneToMany,
    TableOf<T<A>>:
        FilterDsl<dsl::Eq<Fk<A>, SId<A>>> + FilterDsl<dsl::EqAny<PkOf<T<A>>, Vec<TId<A>>>>,
    Vec<TId<A>>: AsInExpression<SqlTypeOf<PkOf<T<A>>>>,
    TableOf<T<A>>: SelectDsl<ColumnsOf<T<A>>>,
    Rows<T<A>>: FilterDsl<dsl::Eq<Fk<A>, SId<A>>>,
    ChildRows<A>: LimitDsl,
    Children<A>: SelectDsl<dsl::count_star>
        + SelectDsl<PkOf<T<A>>>
        + FilterDsl<dsl::Eq<PkOf<T<A>>, TId<A>>>
        + FilterDsl<dsl::EqAny<PkOf<T<A>>, Vec<TId<A>>>>
        + FilterDsl<dsl::NotEq<PkOf<T<A>>, TId<A>>>
        + IntoUpdateTarget<Table = TableOf<T<A>>>,
    ChildrenIn<A>: SelectDsl<dsl::count_star> + IntoUpdateTarget<Table = TableOf<T<A>>>,
    OtherChildren<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    ByIds<T<A>>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    SetKey<A>: AsChangeset<Target = TableOf<T<A>>>,
    dsl::Update<OtherChildren<A>, SetKey<A>>: AsQuery,
    dsl::Update<ByIds<T<A>>, SetKey<A>>: AsQuery,
    dsl::Update<ChildrenIn<A>, SetKey<A>>: AsQuery,
    dsl::Update<Children<A>, SetKey<A>>: AsQuery,
    dsl::exists<Child<A>>: Expression,
    Exists<Child<A>>: AsQuery,
    dsl::exists<OtherChildren<A>>: Expression,
    Exists<OtherChildren<A>>: AsQuery,
    TableOf<T<A>>: FilterDsl<dsl::Eq<PkOf<T<A>>, TId<A>>>,
    OneTarget<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    Child<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    dsl::Update<OneTarget<A>, SetKey<A>>: AsQuery,
    dsl::Update<Child<A>, SetKey<A>>: AsQuery,
{
    type Children = ChildRows<A>;
    type First = dsl::Limit<ChildRows<A>>;
    type Count = CountOf<Children<A>>;
    type Exists = Exists<Child<A>>;
    type CountIn = CountOf<ChildrenIn<A>>;
    type ChildIds = dsl::Select<Children<A>, PkOf<T<A>>>;
    type OthersExist = Exists<OtherChildren<A>>;
    type DetachOthers = dsl::Update<OtherChildren<A>, SetKey<A>>;
    type Attach = dsl::Update<ByIds<T<A>>, SetKey<A>>;
    type DetachIn = dsl::Update<ChildrenIn<A>, SetKey<A>>;
    type DetachAll = dsl::Update<Children<A>, SetKey<A>>;
    type AttachOne = dsl::Update<OneTarget<A>, SetKey<A>>;
    type DetachOne = dsl::Update<Child<A>, SetKey<A>>;

    fn children(id: SId<A>) -> ChildRows<A> {
        FilterDsl::filter(rows::<T<A>>(), A::ForeignKey::default().eq(id))
    }
    fn first(id: SId<A>) -> Self::First {
        LimitDsl::limit(Self::children(id), 1)
    }
    fn count(id: SId<A>) -> Self::Count {
        SelectDsl::select(children::<A>(id), dsl::count_star())
    }
    fn exists(id: SId<A>, target: TId<A>) -> Self::Exists {
        diesel::select(dsl::exists(FilterDsl::filter(
            children::<A>(id),
            pk::<A>().eq(target),
        )))
    }
    fn count_in(id: SId<A>, targets: Vec<TId<A>>) -> Self::CountIn {
        let rows = FilterDsl::filter(children::<A>(id), pk::<A>().eq_any(targets));
        SelectDsl::select(rows, dsl::count_star())
    }
    fn child_ids(id: SId<A>) -> Self::ChildIds {
        SelectDsl::select(children::<A>(id), pk::<A>())
    }
    fn others_exist(id: SId<A>, keep: TId<A>) -> Self::OthersExist {
        diesel::select(dsl::exists(FilterDsl::filter(
            children::<A>(id),
            pk::<A>().ne(keep),
        )))
    }
    fn detach_others(id: SId<A>, keep: TId<A>, value: Kv<A>) -> Self::DetachOthers {
        diesel::update(FilterDsl::filter(children::<A>(id), pk::<A>().ne(keep)))
            .set(set_key::<A>(value))
    }
    fn attach(targets: Vec<TId<A>>, value: Kv<A>) -> Self::Attach {
        let rows = FilterDsl::filter(TableOf::<T<A>>::default(), pk::<A>().eq_any(targets));
        diesel::update(rows).set(set_key::<A>(value))
    }
    fn detach_in(id: SId<A>, targets: Vec<TId<A>>, value: Kv<A>) -> Self::DetachIn {
        let rows = FilterDsl::filter(children::<A>(id), pk::<A>().eq_any(targets));
        diesel::update(rows).set(set_key::<A>(value))
    }
    fn detach_all(id: SId<A>, value: Kv<A>) -> Self::DetachAll {
        diesel::update(children::<A>(id)).set(set_key::<A>(value))
    }
    fn attach_one(target: TId<A>, value: Kv<A>) -> Self::AttachOne {
        let row = FilterDsl::filter(TableOf::<T<A>>::default(), pk::<A>().eq(target));
        diesel::update(row).set(set_key::<A>(value))
    }
    fn detach_one(id: SId<A>, target: TId<A>, value: Kv<A>) -> Self::DetachOne {
        let row = FilterDsl::filter(children::<A>(id), pk::<A>().eq(target));
        diesel::update(row).set(set_key::<A>(value))
    }
}

fn pk<A: OneToMany>() -> PkOf<T<A>> {
    PkOf::<T<A>>::default()
}

/// The read operations shared by `has_one` and `has_many`, and attaching a
/// target row (pointing its key at the source).
#[diagnostic::on_unimplemented(
    message = "this `has_one`/`has_many` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, or a pooled one); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`)"
)]
pub trait OneToManyOps<C>: OneToMany {
    /// The targets of source `id`.
    fn load(id: SId<Self>, conn: &mut C) -> QueryResult<Vec<Self::Target>>;
    /// The first target of source `id`, if any.
    fn first(id: SId<Self>, conn: &mut C) -> QueryResult<Option<Self::Target>>;
    /// How many targets source `id` has.
    fn count(id: SId<Self>, conn: &mut C) -> QueryResult<i64>;
    /// Whether `target` points at source `id`.
    fn has(id: SId<Self>, target: TId<Self>, conn: &mut C) -> QueryResult<bool>;
    /// Whether every one of `targets` points at source `id`.
    fn has_all(id: SId<Self>, targets: Vec<TId<Self>>, conn: &mut C) -> QueryResult<bool>;
    /// Points `targets` at source `id`; `Err(NotFound)` (and no change) if
    /// any of them does not exist.
    fn add_all(id: SId<Self>, targets: Vec<TId<Self>>, conn: &mut C) -> QueryResult<usize>;
    /// Inserts `new` pointing at source `id`.
    fn create(
        id: SId<Self>,
        new: impl NewWithKey<<Self::Target as Model>::New, Self::KeyValue>,
        conn: &mut C,
    ) -> QueryResult<Self::Target>;
    /// Makes `target` the only row pointing at source `id` (`has_one`): other
    /// rows get a NULL key, or, if the key is NOT NULL, the call fails.
    fn set_one(id: SId<Self>, target: TId<Self>, conn: &mut C) -> QueryResult<()>;
    /// Inserts `new` as the only row pointing at source `id` (`has_one`).
    fn create_one(
        id: SId<Self>,
        new: impl NewWithKey<<Self::Target as Model>::New, Self::KeyValue>,
        conn: &mut C,
    ) -> QueryResult<Self::Target>;
}

impl<A, C> OneToManyOps<C> for A
where
    A: OneToManyQuery,
    C: Connection,
    C::Backend: OrmBackend,
    S<A>: Crud<C, Blocking>,
    T<A>: Crud<C, Blocking>,
    A::Children: LoadQuery<'static, C, T<A>> + RunQueryDsl<C>,
    A::First: LoadQuery<'static, C, T<A>> + RunQueryDsl<C>,
    <A as OneToManyQuery>::Count: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    <A as OneToManyQuery>::Exists: LoadQuery<'static, C, bool> + RunQueryDsl<C>,
    A::CountIn: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    A::OthersExist: LoadQuery<'static, C, bool> + RunQueryDsl<C>,
    A::DetachOthers: ExecuteDsl<C>,
    A::DetachAll: ExecuteDsl<C>,
    A::Attach: ExecuteDsl<C>,
    A::AttachOne: ExecuteDsl<C>,
{
    fn load(id: SId<A>, conn: &mut C) -> QueryResult<Vec<T<A>>> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "load");
        A::children(id).load(conn)
    }

    fn first(id: SId<A>, conn: &mut C) -> QueryResult<Option<T<A>>> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "first");
        A::first(id).get_result(conn).optional()
    }

    fn count(id: SId<A>, conn: &mut C) -> QueryResult<i64> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "count");
        <A as OneToManyQuery>::count(id).get_result(conn)
    }

    fn has(id: SId<A>, target: TId<A>, conn: &mut C) -> QueryResult<bool> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "has");
        <A as OneToManyQuery>::exists(id, target).get_result(conn)
    }

    fn has_all(id: SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<bool> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "has_all");
        all_associated(targets, chunk_size::<C::Backend>(1, 1), |keys| {
            A::count_in(id.clone(), keys).get_result(conn)
        })
    }

    fn add_all(id: SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "add_all");
        let targets = dedup(targets);
        if targets.len() <= 1 {
            // One row: one statement, no lock (see the locking scheme).
            return one_statement(conn, |conn| point_at::<A, C>(&id, targets, conn));
        }
        locked::<S<A>, C, _>(&id, conn, |conn| point_at::<A, C>(&id, targets, conn))
    }

    fn create(
        id: SId<A>,
        new: impl NewWithKey<<T<A> as Model>::New, Kv<A>>,
        conn: &mut C,
    ) -> QueryResult<T<A>> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "create");
        block(T::<A>::create(new_pointing_at::<A>(new, id), conn))
    }

    fn set_one(id: SId<A>, target: TId<A>, conn: &mut C) -> QueryResult<()> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "set_one");
        locked::<S<A>, C, _>(&id, conn, |conn| {
            detach_others::<A, C>(&id, target.clone(), conn)?;
            point_at::<A, C>(&id, vec![target], conn)?;
            Ok(())
        })
    }

    fn create_one(
        id: SId<A>,
        new: impl NewWithKey<<T<A> as Model>::New, Kv<A>>,
        conn: &mut C,
    ) -> QueryResult<T<A>> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "create_one");
        let new = new_pointing_at::<A>(new, id.clone());
        locked::<S<A>, C, _>(&id, conn, |conn| {
            // The previous row lets go first: the key column is UNIQUE.
            detach_all::<A, C>(&id, conn)?;
            block(T::<A>::insert(new, conn))
        })
    }
}

/// `new` (a `New*` or a closure building one from the key) with its key
/// field pointing at `id`.
fn new_pointing_at<A: OneToMany>(
    new: impl NewWithKey<<T<A> as Model>::New, Kv<A>>,
    id: SId<A>,
) -> <T<A> as Model>::New {
    new.with_key(Kv::<A>::from_id(id), A::set_key_on_new)
}

/// What `create_*` of a `has_many` or `has_one` takes: the target's `New*`,
/// or a closure that builds the `New*` from the key value, so that none has
/// to be made up. Either way the key field is then set to the key, so the
/// row always points at its parent:
///
/// ```ignore
/// user.create_post(|author_id| NewPost { author_id, title: "Hi".into() }, conn)?;
/// ```
///
/// The derive implements it for every `New*`.
pub trait NewWithKey<N, K> {
    /// The `New*` pointing at `key`; `set` writes the key into one.
    fn with_key(self, key: K, set: fn(&mut N, K)) -> N;
}

impl<N, K: Clone, F: FnOnce(K) -> N> NewWithKey<N, K> for F {
    fn with_key(self, key: K, set: fn(&mut N, K)) -> N {
        let mut new = self(key.clone());
        set(&mut new, key);
        new
    }
}

/// Points every one of `targets` at `parent`; `Err(NotFound)` if any of
/// them does not exist (the caller's transaction rolls back).
fn point_at<A, C>(parent: &SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize>
where
    A: OneToManyQuery,
    C: Connection,
    C::Backend: OrmBackend,
    S<A>: Crud<C, Blocking>,
    A::Attach: ExecuteDsl<C>,
    A::AttachOne: ExecuteDsl<C>,
{
    if targets.is_empty() {
        // Nothing to write, but a parent whose row is gone is still an error.
        ensure_exists::<S<A>, C>(parent, conn)?;
        return Ok(0);
    }
    let value = Kv::<A>::from_id(parent.clone());
    if let [target] = &targets[..] {
        let updated = ExecuteDsl::execute(A::attach_one(target.clone(), value), conn)?;
        return if updated == 0 {
            Err(Error::NotFound)
        } else {
            Ok(updated)
        };
    }
    let mut updated = 0;
    for chunk in targets.chunks(chunk_size::<C::Backend>(1, 1)) {
        updated += ExecuteDsl::execute(A::attach(chunk.to_vec(), value.clone()), conn)?;
    }
    if updated < targets.len() {
        return Err(Error::NotFound);
    }
    Ok(updated)
}

/// Detaches every row pointing at `id` except `keep`: sets their key to
/// NULL, or fails if the key is NOT NULL and there is such a row.
/// Sets the key of every row pointing at `id` to NULL; with a NOT NULL
/// key, `Err` if there is one (it cannot let go).
fn detach_all<A, C>(id: &SId<A>, conn: &mut C) -> QueryResult<()>
where
    A: OneToManyQuery,
    C: Connection,
    <A as OneToManyQuery>::Count: LoadQuery<'static, C, i64> + RunQueryDsl<C>,
    A::DetachAll: ExecuteDsl<C>,
{
    match Kv::<A>::null() {
        Some(null) => ExecuteDsl::execute(A::detach_all(id.clone(), null), conn).map(drop),
        None if <A as OneToManyQuery>::count(id.clone()).get_result::<i64>(conn)? > 0 => {
            Err(already_has::<A>())
        }
        None => Ok(()),
    }
}

fn already_has<A: OneToMany>() -> Error {
    Error::QueryBuilderError(
        format!(
            "this `{}` already has a `{}` and its foreign key is NOT NULL, so it cannot be detached",
            S::<A>::NAME,
            T::<A>::NAME
        )
        .into(),
    )
}

fn detach_others<A, C>(id: &SId<A>, keep: TId<A>, conn: &mut C) -> QueryResult<()>
where
    A: OneToManyQuery,
    C: Connection,
    A::OthersExist: LoadQuery<'static, C, bool> + RunQueryDsl<C>,
    A::DetachOthers: ExecuteDsl<C>,
{
    match Kv::<A>::null() {
        Some(null) => {
            ExecuteDsl::execute(A::detach_others(id.clone(), keep, null), conn)?;
            Ok(())
        }
        None if A::others_exist(id.clone(), keep).get_result(conn)? => Err(already_has::<A>()),
        None => Ok(()),
    }
}

/// The operations of `has_many` and `has_one` that write NULL into the
/// foreign key: removing, replacing, clearing and unsetting. Only for
/// nullable keys.
#[diagnostic::on_unimplemented(
    message = "the foreign key of this association is NOT NULL, so rows cannot be removed from it",
    label = "needs a nullable foreign key",
    note = "make the foreign-key field of the target an `Option<_>` to use `remove_*`, `set_*`, `clear_*` (has_many) and `unset_*` (has_one)"
)]
pub trait DetachOps<C>: OneToManyOps<C> {
    /// Sets the key of `targets` that point at `id` to NULL.
    fn remove_all(id: SId<Self>, targets: Vec<TId<Self>>, conn: &mut C) -> QueryResult<usize>;
    /// Makes `targets` exactly the rows pointing at `id`.
    fn set(id: SId<Self>, targets: Vec<TId<Self>>, conn: &mut C) -> QueryResult<SetDiff>;
    /// Sets the key of every row pointing at `id` to NULL.
    fn clear(id: SId<Self>, conn: &mut C) -> QueryResult<usize>;
}

impl<A, C> DetachOps<C> for A
where
    A: OneToManyOps<C> + OneToManyQuery,
    Kv<A>: NullableKey,
    C: Connection,
    C::Backend: OrmBackend,
    S<A>: Crud<C, Blocking>,
    A::ChildIds: LoadQuery<'static, C, TId<A>> + RunQueryDsl<C>,
    A::Attach: ExecuteDsl<C>,
    A::AttachOne: ExecuteDsl<C>,
    A::DetachIn: ExecuteDsl<C>,
    A::DetachOne: ExecuteDsl<C>,
    A::DetachAll: ExecuteDsl<C>,
    ParentAndChildIds<A>: LoadQuery<'static, C, Option<TId<A>>>,
    Reassign<A>: LoadQuery<'static, C, bool> + ExecuteDsl<C>,
    SetChildren<A>: LoadQuery<'static, C, Option<bool>>,
{
    fn remove_all(id: SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "remove_all");
        let targets = dedup(targets);
        if targets.len() <= 1 {
            // One row: one statement, no lock (see the locking scheme).
            let removed = one_statement(conn, |conn| detach::<A, C>(&id, targets, conn))?;
            return removed_or_gone::<S<A>, C>(removed, &id, conn);
        }
        let removed = locked::<S<A>, C, _>(&id, conn, |conn| detach::<A, C>(&id, targets, conn))?;
        parent_exists::<S<A>, C>(&id, removed > 0, conn)?;
        Ok(removed)
    }

    fn set(id: SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<SetDiff> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "set");
        let dialect = <C::Backend as OrmBackend>::DIALECT;
        conn.transaction(|conn| {
            if dialect == Dialect::Postgres
                && SetChildren::<A>::binds(targets.len())
                    <= <C::Backend as OrmBackend>::MAX_BIND_PARAMS
            {
                // After the lock, one statement that writes the difference
                // and says what it wrote (see `SetChildren`).
                let wanted = dedup(targets.clone());
                let count = wanted.len();
                block(S::<A>::lock(id.clone(), conn))?;
                let rows: Vec<Option<bool>> =
                    SetChildren::<A>::new(id.clone(), wanted).load(conn)?;
                if rows.iter().filter(|r| r.is_none()).count() < count {
                    // A target row does not exist: the transaction rolls back.
                    return Err(Error::NotFound);
                }
                let removed = rows.iter().filter(|&&r| r == Some(true)).count();
                let added = rows.iter().filter(|&&r| r == Some(false)).count();
                return Ok(SetDiff { added, removed });
            }
            let current: Vec<TId<A>> = if dialect == Dialect::Sqlite {
                // The transaction's write lock is the lock: the parent and
                // its children in one read (no row: the parent is gone).
                let rows: Vec<Option<TId<A>>> =
                    ParentAndChildIds::<A>::new(id.clone()).load(conn)?;
                if rows.is_empty() {
                    return Err(Error::NotFound);
                }
                rows.into_iter().flatten().collect()
            } else {
                // The lock in a statement of its own: a read that waited for
                // it would still see the children of its older snapshot.
                block(S::<A>::lock(id.clone(), conn))?;
                A::child_ids(id.clone()).load(conn)?
            };
            let (to_add, to_remove) = diff(current, &targets);
            let (added, removed) = (to_add.len(), to_remove.len());
            if added + removed == 0 {
                return Ok(SetDiff { added, removed });
            }
            // One UPDATE for every change, returning what it did (see
            // `Reassign`); MySQL has no `UPDATE .. RETURNING`, and a list too
            // long for one statement is written in chunks.
            let binds = 2 * added + removed + 2;
            if dialect != Dialect::Mysql && binds <= <C::Backend as OrmBackend>::MAX_BIND_PARAMS {
                let reassign = Reassign::<A>::new(id.clone(), to_add, to_remove);
                if dialect == Dialect::Sqlite {
                    if ExecuteDsl::execute(reassign.counted(), conn)? < added + removed {
                        return Err(Error::NotFound);
                    }
                    return Ok(SetDiff { added, removed });
                }
                let detached: Vec<bool> = reassign.load(conn)?;
                let removed = detached.iter().filter(|&&d| d).count();
                // Every target row changes its key; fewer attached rows
                // means one does not exist (and the transaction rolls back).
                if detached.len() - removed < added {
                    return Err(Error::NotFound);
                }
                return Ok(SetDiff { added, removed });
            }
            let removed = detach::<A, C>(&id, to_remove, conn)?;
            let added = if to_add.is_empty() {
                0
            } else {
                point_at::<A, C>(&id, to_add, conn)?
            };
            Ok(SetDiff { added, removed })
        })
    }

    fn clear(id: SId<A>, conn: &mut C) -> QueryResult<usize> {
        let _call = crate::instrument::call(<A::Source as Model>::NAME, A::NAME, "clear");
        let null = Kv::<A>::null().ok_or(Error::NotFound)?;
        let detach = A::detach_all(id.clone(), null);
        let removed = if <C::Backend as OrmBackend>::DIALECT == Dialect::Sqlite {
            ExecuteDsl::execute(detach, conn)?
        } else {
            // The UPDATE reads its snapshot: lock first, so that it sees the
            // rows a `set_*` that held the lock attached.
            locked::<S<A>, C, _>(&id, conn, |conn| ExecuteDsl::execute(detach, conn))?
        };
        parent_exists::<S<A>, C>(&id, removed > 0, conn)?;
        Ok(removed)
    }
}

fn detach<A, C>(id: &SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize>
where
    A: OneToManyQuery,
    C: Connection,
    C::Backend: OrmBackend,
    A::DetachIn: ExecuteDsl<C>,
    A::DetachOne: ExecuteDsl<C>,
{
    let Some(null) = Kv::<A>::null() else {
        return Err(Error::NotFound);
    };
    if let [target] = &targets[..] {
        return ExecuteDsl::execute(A::detach_one(id.clone(), target.clone(), null), conn);
    }
    let mut removed = 0;
    for chunk in targets.chunks(chunk_size::<C::Backend>(1, 2)) {
        removed +=
            ExecuteDsl::execute(A::detach_in(id.clone(), chunk.to_vec(), null.clone()), conn)?;
    }
    Ok(removed)
}
