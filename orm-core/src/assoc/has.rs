//! `has_one` and `has_many`: the foreign key lives on the target's table.

use diesel::dsl;
use diesel::expression::Expression;
use diesel::query_builder::{AsQuery, IntoUpdateTarget};
use diesel::query_dsl::methods::{FilterDsl, LimitDsl, SelectDsl};
use diesel::result::{Error, OptionalExtension, QueryResult};
use diesel::AsChangeset;
use std::borrow::Cow;
use std::future::Future;

use super::all_associated;
use super::reassign::{ParentAndChildIds, Reassign, SetChildren};
use super::scope::AssocScope;
use crate::backend::{chunk_size, Dialect, OrmBackend};
use crate::exec::{savepoint, transaction, ConnKind, Execute, Fetch, FetchIn, Kind, Transact};
use crate::instrument::traced;
use crate::key_columns::KeyColumns;
use crate::model::{
    ById, ByIds, ColumnsOf, CountOf, Crud, Exists, ForeignKey, IdOf, KeyEq, KeyIn, Model,
    NullableKey, PkOf, TableOf,
};
use crate::set::{dedup, diff, SetDiff};
use crate::write::{dialect, parent_known, removed_or_gone, row_exists, with_parent_lock};

/// A `has_one` or `has_many` association: `Target` rows point at `Source`
/// through `ForeignKey`.
pub trait OneToMany: 'static {
    /// The association's name as its reader spells it (`guests`, `author`),
    /// for the spans of its calls.
    const NAME: &'static str;
    /// The model declaring the association (`User`).
    type Source: Model;
    /// The associated model (`Post`).
    type Target: Model;
    /// The key column on the target's table (`posts::author_id`), or
    /// [`Cols`](crate::Cols) of the columns of a multi-column key.
    type ForeignKey: KeyColumns<IdOf<Self::Source>> + KeyColumns<Self::KeyValue>;
    /// The key field's Rust type (`Option<i32>`; a tuple for a multi-column
    /// key).
    type KeyValue: ForeignKey<IdOf<Self::Source>> + Send + 'static;
    /// The association's scope ([`NoScope`](super::scope::NoScope), or
    /// [`Scope<Self>`](super::scope::Scope)): the target rows its reads see
    /// and its writers detach, and what attaching a row sets.
    type Scope: AssocScope<TableOf<Self::Target>>;
    /// Sets the key field of `new` (and the scope's fields) before it is
    /// inserted.
    fn set_key_on_new(new: &mut <Self::Target as Model>::New, key: Self::KeyValue);
    /// The key field of a target row (the key fields, as a tuple, of a
    /// multi-column key).
    fn key_of(target: &Self::Target) -> Cow<'_, Self::KeyValue>;
}

type S<A> = <A as OneToMany>::Source;
type T<A> = <A as OneToMany>::Target;
type Fk<A> = <A as OneToMany>::ForeignKey;
type Kv<A> = <A as OneToMany>::KeyValue;
type SId<A> = IdOf<S<A>>;
type Sc<A> = <A as OneToMany>::Scope;

/// The target rows association `A` sees: `posts`, or with a scope `posts
/// WHERE <scope>`.
pub type Base<A> = <Sc<A> as AssocScope<TableOf<T<A>>>>::Base;
/// `SELECT <columns> FROM posts [WHERE <scope>]`
pub type BaseRows<A> = dsl::Select<Base<A>, ColumnsOf<T<A>>>;
/// The scope of association `A` as a condition of its own (`()` for none).
pub type Condition<A> = <Sc<A> as AssocScope<TableOf<T<A>>>>::Condition;
/// `SET author_id = ?` and the scope's columns: attaching a row.
pub type Attaching<A> = (SetKey<A>, <Sc<A> as AssocScope<TableOf<T<A>>>>::Set);
type TId<A> = IdOf<T<A>>;

/// `author_id = ?`: the rows pointing at one source.
pub type FkEq<A> = <Fk<A> as KeyColumns<SId<A>>>::Eq;
/// `posts WHERE author_id = ?`: the target of an UPDATE, or of a count.
pub type Children<A> = dsl::Filter<Base<A>, FkEq<A>>;
/// `SELECT <columns> FROM posts WHERE author_id = ?`
pub type ChildRows<A> = dsl::Filter<BaseRows<A>, FkEq<A>>;
/// `posts WHERE author_id = ? AND id = ?`
pub type Child<A> = dsl::Filter<Children<A>, KeyEq<T<A>>>;
/// `posts WHERE id = ?`
pub type OneTarget<A> = ById<T<A>>;
/// `posts WHERE author_id = ? AND id IN (..)`
pub type ChildrenIn<A> = dsl::Filter<Children<A>, KeyIn<T<A>>>;
/// `posts WHERE author_id = ? AND id <> ?`
pub type OtherChildren<A> = dsl::Filter<Children<A>, <PkOf<T<A>> as KeyColumns<TId<A>>>::Ne>;
/// `SET author_id = ?`
pub type SetKey<A> = <Fk<A> as KeyColumns<Kv<A>>>::Set;
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
    Base<A>: FilterDsl<FkEq<A>>,
{
    FilterDsl::filter(Sc::<A>::base(), fk_eq::<A>(id))
}

/// `author_id = ?`
pub(crate) fn fk_eq<A: OneToMany>(id: SId<A>) -> FkEq<A> {
    <Fk<A> as KeyColumns<SId<A>>>::key_eq(Fk::<A>::default(), id)
}

fn set_key<A: OneToMany>(value: Kv<A>) -> SetKey<A> {
    <Fk<A> as KeyColumns<Kv<A>>>::key_set(Fk::<A>::default(), value)
}

/// The target rows association `A` sees: `posts`, or `posts WHERE <scope>`.
pub fn base<A: OneToMany>() -> Base<A> {
    Sc::<A>::base()
}

/// `SELECT <columns> FROM posts [WHERE <scope>]`
pub(crate) fn base_rows<A: OneToMany>() -> BaseRows<A>
where
    Base<A>: SelectDsl<ColumnsOf<T<A>>>,
{
    SelectDsl::select(Sc::<A>::base(), T::<A>::COLUMNS)
}

fn attaching<A: OneToMany>(value: Kv<A>) -> Attaching<A> {
    (set_key::<A>(value), Sc::<A>::set())
}

/// Whether association `A` has a scope.
pub(crate) fn scoped<A: OneToMany>() -> bool {
    super::scope::is_scope::<Sc<A>>()
}

impl<A> OneToManyQuery for A
where
    A: OneToMany,
    Base<A>: FilterDsl<FkEq<A>> + SelectDsl<ColumnsOf<T<A>>>,
    TableOf<T<A>>: FilterDsl<KeyIn<T<A>>>,
    BaseRows<A>: FilterDsl<FkEq<A>>,
    ChildRows<A>: LimitDsl,
    Children<A>: SelectDsl<dsl::count_star>
        + SelectDsl<PkSelect<A>>
        + FilterDsl<KeyEq<T<A>>>
        + FilterDsl<KeyIn<T<A>>>
        + FilterDsl<<PkOf<T<A>> as KeyColumns<TId<A>>>::Ne>
        + IntoUpdateTarget<Table = TableOf<T<A>>>,
    ChildrenIn<A>: SelectDsl<dsl::count_star> + IntoUpdateTarget<Table = TableOf<T<A>>>,
    OtherChildren<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    ByIds<T<A>>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    SetKey<A>: AsChangeset<Target = TableOf<T<A>>>,
    Attaching<A>: AsChangeset<Target = TableOf<T<A>>>,
    dsl::Update<OtherChildren<A>, SetKey<A>>: AsQuery,
    dsl::Update<ByIds<T<A>>, Attaching<A>>: AsQuery,
    dsl::Update<ChildrenIn<A>, SetKey<A>>: AsQuery,
    dsl::Update<Children<A>, SetKey<A>>: AsQuery,
    dsl::exists<Child<A>>: Expression,
    Exists<Child<A>>: AsQuery,
    dsl::exists<OtherChildren<A>>: Expression,
    Exists<OtherChildren<A>>: AsQuery,
    TableOf<T<A>>: FilterDsl<KeyEq<T<A>>>,
    OneTarget<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    Child<A>: IntoUpdateTarget<Table = TableOf<T<A>>>,
    dsl::Update<OneTarget<A>, Attaching<A>>: AsQuery,
    dsl::Update<Child<A>, SetKey<A>>: AsQuery,
{
    type Children = ChildRows<A>;
    type First = dsl::Limit<ChildRows<A>>;
    type Count = CountOf<Children<A>>;
    type Exists = Exists<Child<A>>;
    type CountIn = CountOf<ChildrenIn<A>>;
    type ChildIds = dsl::Select<Children<A>, PkSelect<A>>;
    type OthersExist = Exists<OtherChildren<A>>;
    type DetachOthers = dsl::Update<OtherChildren<A>, SetKey<A>>;
    type Attach = dsl::Update<ByIds<T<A>>, Attaching<A>>;
    type DetachIn = dsl::Update<ChildrenIn<A>, SetKey<A>>;
    type DetachAll = dsl::Update<Children<A>, SetKey<A>>;
    type AttachOne = dsl::Update<OneTarget<A>, Attaching<A>>;
    type DetachOne = dsl::Update<Child<A>, SetKey<A>>;

    fn children(id: SId<A>) -> ChildRows<A> {
        FilterDsl::filter(base_rows::<A>(), fk_eq::<A>(id))
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
            pk::<A>().key_eq(target),
        )))
    }
    fn count_in(id: SId<A>, targets: Vec<TId<A>>) -> Self::CountIn {
        let rows = FilterDsl::filter(children::<A>(id), pk::<A>().key_in(targets));
        SelectDsl::select(rows, dsl::count_star())
    }
    fn child_ids(id: SId<A>) -> Self::ChildIds {
        SelectDsl::select(children::<A>(id), pk::<A>().select())
    }
    fn others_exist(id: SId<A>, keep: TId<A>) -> Self::OthersExist {
        diesel::select(dsl::exists(FilterDsl::filter(
            children::<A>(id),
            pk::<A>().key_ne(keep),
        )))
    }
    fn detach_others(id: SId<A>, keep: TId<A>, value: Kv<A>) -> Self::DetachOthers {
        diesel::update(FilterDsl::filter(children::<A>(id), pk::<A>().key_ne(keep)))
            .set(set_key::<A>(value))
    }
    fn attach(targets: Vec<TId<A>>, value: Kv<A>) -> Self::Attach {
        let rows = FilterDsl::filter(TableOf::<T<A>>::default(), pk::<A>().key_in(targets));
        diesel::update(rows).set(attaching::<A>(value))
    }
    fn detach_in(id: SId<A>, targets: Vec<TId<A>>, value: Kv<A>) -> Self::DetachIn {
        let rows = FilterDsl::filter(children::<A>(id), pk::<A>().key_in(targets));
        diesel::update(rows).set(set_key::<A>(value))
    }
    fn detach_all(id: SId<A>, value: Kv<A>) -> Self::DetachAll {
        diesel::update(children::<A>(id)).set(set_key::<A>(value))
    }
    fn attach_one(target: TId<A>, value: Kv<A>) -> Self::AttachOne {
        let row = FilterDsl::filter(TableOf::<T<A>>::default(), pk::<A>().key_eq(target));
        diesel::update(row).set(attaching::<A>(value))
    }
    fn detach_one(id: SId<A>, target: TId<A>, value: Kv<A>) -> Self::DetachOne {
        let row = FilterDsl::filter(children::<A>(id), pk::<A>().key_eq(target));
        diesel::update(row).set(set_key::<A>(value))
    }
}

fn pk<A: OneToMany>() -> PkOf<T<A>> {
    PkOf::<T<A>>::default()
}

/// How many values a key of columns `K` binds.
fn width<K: KeyColumns<V>, V>() -> usize {
    K::WIDTH
}

/// The target's key columns as a select list.
type PkSelect<A> = <PkOf<T<A>> as KeyColumns<TId<A>>>::Select;

/// The read operations shared by `has_one` and `has_many`, and attaching a
/// target row (pointing its key at the source), on a connection `C` of
/// kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `has_one`/`has_many` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait OneToManyOps<C, K = <C as ConnKind>::Kind>: OneToMany {
    /// The targets of source `id`.
    fn load(
        id: SId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Vec<Self::Target>>> + Send;
    /// The first target of source `id`, if any.
    fn first(
        id: SId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Option<Self::Target>>> + Send;
    /// How many targets source `id` has.
    fn count(id: SId<Self>, conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send;
    /// Whether `target` points at source `id`.
    fn has(
        id: SId<Self>,
        target: TId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send;
    /// Whether every one of `targets` points at source `id`.
    fn has_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<bool>> + Send;
    /// Points `targets` at source `id`; `Err(NotFound)` (and no change) if
    /// any of them does not exist.
    fn add_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Inserts `new` (pointing at source `id`, see [`new_pointing_at`]).
    fn create(
        id: SId<Self>,
        new: <Self::Target as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Self::Target>> + Send;
    /// Makes `target` the only row pointing at source `id` (`has_one`): other
    /// rows get a NULL key, or, if the key is NOT NULL, the call fails.
    fn set_one(
        id: SId<Self>,
        target: TId<Self>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send;
    /// Inserts `new` (pointing at source `id`, see [`new_pointing_at`]) as
    /// the only row pointing at it (`has_one`).
    fn create_one(
        id: SId<Self>,
        new: <Self::Target as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Self::Target>> + Send;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> OneToManyOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: OneToManyQuery<KeyValue: Send + Sync>,
    K: Kind,
    C: Transact<K>,
    S<A>: Crud<C, K>,
    T<A>: Crud<C, K>,
    <T<A> as Model>::New: Send,
    A::Children: Fetch<C, K, T<A>>,
    A::First: Fetch<C, K, T<A>>,
    <A as OneToManyQuery>::Count: Fetch<C, K, i64>,
    <A as OneToManyQuery>::Exists: Fetch<C, K, bool>,
    A::CountIn: Fetch<C, K, i64>,
    A::OthersExist: Fetch<C, K, bool>,
    A::DetachOthers: Execute<C, K>,
    A::DetachAll: Execute<C, K>,
    A::Attach: Execute<C, K>,
    A::AttachOne: Execute<C, K>,
{
    fn load(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<Vec<T<A>>>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "load",
            A::children(id).load(conn),
        )
    }

    fn first(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<Option<T<A>>>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "first", async move {
            A::first(id).get_result(conn).await.optional()
        })
    }

    fn count(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<i64>> + Send {
        let count = <A as OneToManyQuery>::count(id);
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
        let exists = <A as OneToManyQuery>::exists(id, target);
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
            let chunk =
                chunk_size::<C::Backend>(width::<PkOf<T<A>>, TId<A>>(), width::<Fk<A>, SId<A>>());
            all_associated(
                targets,
                chunk,
                move |keys| A::count_in(id.clone(), keys),
                conn,
            )
        })
    }

    fn add_all(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "add_all", async move {
            let targets = dedup(targets);
            if targets.len() <= 1 {
                // One row: one statement, no lock (see the locking scheme).
                return savepoint!(C, K, conn, point_at::<A, C, K>(&id, targets, conn).await);
            }
            with_parent_lock!(
                S<A>,
                C,
                K,
                &id,
                conn,
                point_at::<A, C, K>(&id, targets, conn).await
            )
        })
    }

    fn create(
        id: SId<A>,
        new: <T<A> as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<T<A>>> + Send {
        let _ = id;
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "create",
            T::<A>::create(new, conn),
        )
    }

    fn set_one(
        id: SId<A>,
        target: TId<A>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "set_one", async move {
            with_parent_lock!(S<A>, C, K, &id, conn, {
                detach_others::<A, C, K>(&id, target.clone(), conn).await?;
                point_at::<A, C, K>(&id, vec![target], conn).await?;
                Ok(())
            })
        })
    }

    fn create_one(
        id: SId<A>,
        new: <T<A> as Model>::New,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<T<A>>> + Send {
        traced(
            <A::Source as Model>::NAME,
            A::NAME,
            "create_one",
            async move {
                with_parent_lock!(S<A>, C, K, &id, conn, {
                    // The previous row lets go first: the key column is UNIQUE.
                    detach_all::<A, C, K>(&id, conn).await?;
                    T::<A>::insert(new, conn).await
                })
            },
        )
    }
}

/// `new` (a `New*` or a closure building one from the key) with its key
/// field pointing at `id`: what the generated `create_*` of a `has_many` or
/// `has_one` passes on.
pub fn new_pointing_at<A: OneToMany>(
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
async fn point_at<A, C, K>(
    parent: &SId<A>,
    targets: Vec<TId<A>>,
    conn: &mut C,
) -> QueryResult<usize>
where
    A: OneToManyQuery<KeyValue: Send + Sync>,
    C: Transact<K>,
    S<A>: Crud<C, K>,
    A::Attach: Execute<C, K>,
    A::AttachOne: Execute<C, K>,
{
    if targets.is_empty() {
        // Nothing to write, but a parent whose row is gone is still an error.
        row_exists::<S<A>, C, K>(parent, conn).await?;
        return Ok(0);
    }
    let value = Kv::<A>::from_id(parent.clone());
    if let [target] = &targets[..] {
        let updated = A::attach_one(target.clone(), value).execute(conn).await?;
        return if updated == 0 {
            Err(Error::NotFound)
        } else {
            Ok(updated)
        };
    }
    let mut updated = 0;
    let size = chunk_size::<C::Backend>(width::<PkOf<T<A>>, TId<A>>(), width::<Fk<A>, Kv<A>>());
    for chunk in targets.chunks(size) {
        updated += A::attach(chunk.to_vec(), value.clone())
            .execute(conn)
            .await?;
    }
    if updated < targets.len() {
        return Err(Error::NotFound);
    }
    Ok(updated)
}

/// Sets the key of every row pointing at `id` to NULL; with a NOT NULL
/// key, `Err` if there is one (it cannot let go).
async fn detach_all<A, C, K>(id: &SId<A>, conn: &mut C) -> QueryResult<()>
where
    A: OneToManyQuery,
    <A as OneToManyQuery>::Count: Fetch<C, K, i64>,
    A::DetachAll: Execute<C, K>,
{
    match Kv::<A>::null() {
        Some(null) => A::detach_all(id.clone(), null)
            .execute(conn)
            .await
            .map(drop),
        None if <A as OneToManyQuery>::count(id.clone())
            .get_result(conn)
            .await?
            > 0 =>
        {
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

/// Detaches every row pointing at `id` except `keep`: sets their key to
/// NULL, or fails if the key is NOT NULL and there is such a row.
async fn detach_others<A, C, K>(id: &SId<A>, keep: TId<A>, conn: &mut C) -> QueryResult<()>
where
    A: OneToManyQuery,
    A::OthersExist: Fetch<C, K, bool>,
    A::DetachOthers: Execute<C, K>,
{
    match Kv::<A>::null() {
        Some(null) => {
            A::detach_others(id.clone(), keep, null)
                .execute(conn)
                .await?;
            Ok(())
        }
        None if A::others_exist(id.clone(), keep).get_result(conn).await? => {
            Err(already_has::<A>())
        }
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
pub trait DetachOps<C, K = <C as ConnKind>::Kind>: OneToManyOps<C, K> {
    /// Sets the key of `targets` that point at `id` to NULL.
    fn remove_all(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<usize>> + Send;
    /// Makes `targets` exactly the rows pointing at `id`.
    fn set(
        id: SId<Self>,
        targets: Vec<TId<Self>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send;
    /// Sets the key of every row pointing at `id` to NULL.
    fn clear(id: SId<Self>, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send;
    /// [`clear`](Self::clear) for `has_one`: whether a row let go.
    fn unset(id: SId<Self>, conn: &mut C) -> impl Future<Output = QueryResult<bool>> + Send;
}

impl<A, C, K> DetachOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: OneToManyOps<C, K> + OneToManyQuery<KeyValue: Send + Sync>,
    Kv<A>: NullableKey,
    K: Kind,
    C: Transact<K>,
    S<A>: Crud<C, K>,
    A::ChildIds: Fetch<C, K, TId<A>>,
    A::Attach: Execute<C, K>,
    A::AttachOne: Execute<C, K>,
    A::DetachIn: Execute<C, K>,
    A::DetachOne: Execute<C, K>,
    A::DetachAll: Execute<C, K>,
    ParentAndChildIds<A>: Fetch<C, K, Option<TId<A>>>,
    Reassign<A>: Fetch<C, K, bool>,
    Reassign<A>: Execute<C, K>,
    SetChildren<A>: Fetch<C, K, Option<bool>>,
{
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
                let targets = dedup(targets);
                if targets.len() <= 1 {
                    // One row: one statement, no lock (see the locking scheme).
                    let removed =
                        savepoint!(C, K, conn, detach::<A, C, K>(&id, targets, conn).await)?;
                    return removed_or_gone::<S<A>, C, K>(removed, &id, conn).await;
                }
                let removed = with_parent_lock!(S<A>, C, K, &id, conn, {
                    detach::<A, C, K>(&id, targets, conn).await
                })?;
                parent_known::<S<A>, C, K>(&id, removed > 0, conn).await?;
                Ok(removed)
            },
        )
    }

    fn set(
        id: SId<A>,
        targets: Vec<TId<A>>,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<SetDiff>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "set", async move {
            transaction!(conn, set_children::<A, C, K>(id, targets, conn).await)
        })
    }

    fn clear(id: SId<A>, conn: &mut C) -> impl Future<Output = QueryResult<usize>> + Send {
        traced(<A::Source as Model>::NAME, A::NAME, "clear", async move {
            let null = Kv::<A>::null().ok_or(Error::NotFound)?;
            let detach = A::detach_all(id.clone(), null);
            let removed = if dialect::<C, K>() == Dialect::Sqlite {
                detach.execute(conn).await?
            } else {
                // The UPDATE reads its snapshot: lock first, so that it sees the
                // rows a `set_*` that held the lock attached.
                with_parent_lock!(S<A>, C, K, &id, conn, detach.execute(conn).await)?
            };
            parent_known::<S<A>, C, K>(&id, removed > 0, conn).await?;
            Ok(removed)
        })
    }

    async fn unset(id: SId<A>, conn: &mut C) -> QueryResult<bool> {
        Ok(Self::clear(id, conn).await? > 0)
    }
}

/// The body of `set_*` (`has_many`), inside its transaction.
async fn set_children<A, C, K>(
    id: SId<A>,
    targets: Vec<TId<A>>,
    conn: &mut C,
) -> QueryResult<SetDiff>
where
    A: OneToManyQuery<KeyValue: Send + Sync>,
    C: Transact<K>,
    S<A>: Crud<C, K>,
    A::ChildIds: Fetch<C, K, TId<A>>,
    A::Attach: Execute<C, K>,
    A::AttachOne: Execute<C, K>,
    A::DetachIn: Execute<C, K>,
    A::DetachOne: Execute<C, K>,
    ParentAndChildIds<A>: Fetch<C, K, Option<TId<A>>>,
    Reassign<A>: Fetch<C, K, bool>,
    Reassign<A>: Execute<C, K>,
    SetChildren<A>: Fetch<C, K, Option<bool>>,
{
    let dialect = dialect::<C, K>();
    // A scope is left to the statements that know it: the generic ones.
    let scoped = scoped::<A>();
    let max_binds = <C::Backend as OrmBackend>::MAX_BIND_PARAMS;
    if !scoped
        && dialect == Dialect::Postgres
        && SetChildren::<A>::binds(targets.len()) <= max_binds
    {
        // After the lock, one statement that writes the difference
        // and says what it wrote (see `SetChildren`).
        let wanted = dedup(targets.clone());
        let count = wanted.len();
        S::<A>::lock(id.clone(), conn).await?;
        let rows: Vec<Option<bool>> = SetChildren::<A>::new(id.clone(), wanted).load(conn).await?;
        if rows.iter().filter(|r| r.is_none()).count() < count {
            // A target row does not exist: the transaction rolls back.
            return Err(Error::NotFound);
        }
        let removed = rows.iter().filter(|&&r| r == Some(true)).count();
        let added = rows.iter().filter(|&&r| r == Some(false)).count();
        return Ok(SetDiff { added, removed });
    }
    let current: Vec<TId<A>> = if !scoped && dialect == Dialect::Sqlite {
        // The transaction's write lock is the lock: the parent and
        // its children in one read (no row: the parent is gone).
        let rows: Vec<Option<TId<A>>> = ParentAndChildIds::<A>::new(id.clone()).load(conn).await?;
        if rows.is_empty() {
            return Err(Error::NotFound);
        }
        rows.into_iter().flatten().collect()
    } else {
        // The lock in a statement of its own: a read that waited for
        // it would still see the children of its older snapshot.
        S::<A>::lock(id.clone(), conn).await?;
        A::child_ids(id.clone()).load(conn).await?
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
    if !scoped && dialect != Dialect::Mysql && binds <= max_binds {
        let reassign = Reassign::<A>::new(id.clone(), to_add, to_remove);
        if dialect == Dialect::Sqlite {
            if reassign.counted().execute(conn).await? < added + removed {
                return Err(Error::NotFound);
            }
            return Ok(SetDiff { added, removed });
        }
        let detached: Vec<bool> = reassign.load(conn).await?;
        let removed = detached.iter().filter(|&&d| d).count();
        // Every target row changes its key; fewer attached rows
        // means one does not exist (and the transaction rolls back).
        if detached.len() - removed < added {
            return Err(Error::NotFound);
        }
        return Ok(SetDiff { added, removed });
    }
    let removed = detach::<A, C, K>(&id, to_remove, conn).await?;
    let added = if to_add.is_empty() {
        0
    } else {
        point_at::<A, C, K>(&id, to_add, conn).await?
    };
    Ok(SetDiff { added, removed })
}

async fn detach<A, C, K>(id: &SId<A>, targets: Vec<TId<A>>, conn: &mut C) -> QueryResult<usize>
where
    A: OneToManyQuery<KeyValue: Send + Sync>,
    C: Transact<K>,
    A::DetachIn: Execute<C, K>,
    A::DetachOne: Execute<C, K>,
{
    let Some(null) = Kv::<A>::null() else {
        return Err(Error::NotFound);
    };
    if let [target] = &targets[..] {
        return A::detach_one(id.clone(), target.clone(), null)
            .execute(conn)
            .await;
    }
    let mut removed = 0;
    let fk = width::<Fk<A>, Kv<A>>();
    let size = chunk_size::<C::Backend>(width::<PkOf<T<A>>, TId<A>>(), 2 * fk);
    for chunk in targets.chunks(size) {
        removed += A::detach_in(id.clone(), chunk.to_vec(), null.clone())
            .execute(conn)
            .await?;
    }
    Ok(removed)
}
