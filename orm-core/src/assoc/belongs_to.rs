//! `belongs_to`: the foreign key lives on the declaring model's own table.

use diesel::dsl;
use diesel::query_builder::AsQuery;
use diesel::result::{Error, QueryResult};
use diesel::AsChangeset;

use std::borrow::Cow;
use std::future::Future;

use crate::exec::{savepoint, transaction, ConnKind, Execute, Kind, Transact};
use crate::instrument::traced;
use crate::key_columns::KeyColumns;
use crate::model::{Crud, ForeignKey, IdOf, Model, ModelQuery, NullableKey, TableOf};

/// A `belongs_to` association: `Source` points at `Target` through its own
/// `ForeignKey` field.
pub trait BelongsTo: 'static {
    /// The association's name as its reader spells it (`guests`, `author`),
    /// for the spans of its calls.
    const NAME: &'static str;
    /// The model declaring the association (`Post`).
    type Source: Model;
    /// The parent model (`User`).
    type Target: Model;
    /// The key column on the source's table (`posts::author_id`), or
    /// [`Cols`](crate::Cols) of the columns of a multi-column key.
    type ForeignKey: KeyColumns<Self::KeyValue>;
    /// The key field's Rust type (`Option<i32>`; a tuple for a multi-column
    /// key).
    type KeyValue: ForeignKey<IdOf<Self::Target>>;
    /// The key field of `source` (the key fields, as a tuple, of a
    /// multi-column key).
    fn key(source: &Self::Source) -> Cow<'_, Self::KeyValue>;
    /// Sets the key field of `source`.
    fn set_key(source: &mut Self::Source, value: Self::KeyValue);
}

type Kv<A> = <A as BelongsTo>::KeyValue;
/// What the `belongs_to` getter returns: the parent, or `Option` of it when
/// the key is nullable.
pub type Parent<A> =
    <Kv<A> as ForeignKey<IdOf<<A as BelongsTo>::Target>>>::Target<<A as BelongsTo>::Target>;
type SetKey<A> = <<A as BelongsTo>::ForeignKey as KeyColumns<Kv<A>>>::Set;

/// The statements of a [`BelongsTo`] association, as types.
pub trait BelongsToQuery: BelongsTo {
    /// `UPDATE posts SET author_id = ? WHERE id = ?`
    type SetParent;
    /// Points the source row with key `id` at `value`.
    fn set_parent(id: IdOf<Self::Source>, value: Self::KeyValue) -> Self::SetParent;
}

impl<A> BelongsToQuery for A
where
    A: BelongsTo,
    A::Source: ModelQuery,
    SetKey<A>: AsChangeset<Target = TableOf<A::Source>>,
    dsl::Update<<A::Source as ModelQuery>::ById, SetKey<A>>: AsQuery,
{
    type SetParent = dsl::Update<<A::Source as ModelQuery>::ById, SetKey<A>>;

    fn set_parent(id: IdOf<A::Source>, value: A::KeyValue) -> Self::SetParent {
        diesel::update(A::Source::by_id(id)).set(A::ForeignKey::default().key_set(value))
    }
}

/// The operations of a `belongs_to` association on a connection `C` of
/// kind `K`.
#[diagnostic::on_unimplemented(
    message = "this `belongs_to` association cannot run on a `{C}`",
    note = "use a connection of a backend orm-core supports (SqliteConnection, PgConnection, MysqlConnection, diesel-async's with the `async` feature, or a pooled one; only `&AsyncPgConnection` is taken by shared reference); in code generic over the connection, bound it with `orm_core::Conn<Sqlite>` (or `Pg`, `Mysql`); a pool or a `Router` is not a connection (pass `&mut pool.get()?`, `&mut router.get()`, or `.get().await?` for an async pool); a connection that is already a `&mut` is passed as it is (`conn`, not `&mut conn`)"
)]
pub trait BelongsToOps<C, K = <C as ConnKind>::Kind>: BelongsTo {
    /// [`Parent<Self>`], which the generated getter names by its type
    /// (`Parent = User`), so that its body is checked against that bound
    /// and not once more against the key's type.
    type Parent;
    /// The parent of `source`: the row itself for a NOT NULL key, an
    /// `Option` for a nullable one. A key pointing at a missing row is
    /// `Err(NotFound)`.
    fn load(
        source: &Self::Source,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Self::Parent>> + Send;
    /// Points `source` at `target`, in the table and in the struct.
    fn set<'c>(
        source: &'c mut Self::Source,
        target: IdOf<Self::Target>,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send + 'c;
    /// Inserts a parent and points `source` at it, in one transaction.
    fn create<'c>(
        source: &'c mut Self::Source,
        new: <Self::Target as Model>::New,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<Self::Target>> + Send + 'c;
}

#[diagnostic::do_not_recommend]
impl<A, C, K> BelongsToOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: BelongsToQuery<KeyValue: Send + Sync>,
    K: Kind,
    C: Transact<K>,
    A::Source: Crud<C, K>,
    A::Target: Crud<C, K>,
    <A::Target as Model>::New: Send,
    A::SetParent: Execute<C, K>,
{
    type Parent = Parent<A>;

    fn load(
        source: &A::Source,
        conn: &mut C,
    ) -> impl Future<Output = QueryResult<Parent<A>>> + Send {
        let key = A::key(source).into_owned();
        traced(<A::Source as Model>::NAME, A::NAME, "load", async move {
            let row = match key.get() {
                Some(id) => Some(A::Target::find(id.clone(), conn).await?),
                None => None,
            };
            key.load(|_| row.ok_or(Error::NotFound))
        })
    }

    fn set<'c>(
        source: &'c mut A::Source,
        target: IdOf<A::Target>,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send + 'c {
        traced(<A::Source as Model>::NAME, A::NAME, "set", async move {
            let value = Kv::<A>::from_id(target);
            let update = A::set_parent(source.id(), value.clone());
            if savepoint!(C, K, conn, update.execute(conn).await)? == 0 {
                return Err(Error::NotFound);
            }
            A::set_key(source, value);
            Ok(())
        })
    }

    fn create<'c>(
        source: &'c mut A::Source,
        new: <A::Target as Model>::New,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<A::Target>> + Send + 'c {
        traced(<A::Source as Model>::NAME, A::NAME, "create", async move {
            let id = source.id();
            let (target, value) = transaction!(conn, {
                let target = A::Target::insert(new, conn).await?;
                let value = Kv::<A>::from_id(target.id());
                if A::set_parent(id, value.clone()).execute(conn).await? == 0 {
                    return Err(Error::NotFound);
                }
                Ok((target, value))
            })?;
            A::set_key(source, value);
            Ok(target)
        })
    }
}

/// `unset_*` of a `belongs_to` with a nullable key: Sequelize's
/// `setAuthor(null)`.
#[diagnostic::on_unimplemented(
    message = "the foreign key of this `belongs_to` is NOT NULL, so it cannot be unset",
    note = "make the foreign-key field an `Option<_>` to use `unset_*`"
)]
pub trait UnsetOps<C, K = <C as ConnKind>::Kind>: BelongsToOps<C, K> {
    /// Sets the key of `source` to NULL, in the table and in the struct.
    fn unset<'c>(
        source: &'c mut Self::Source,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send + 'c;
}

impl<A, C, K> UnsetOps<C, K> for A
where
    C: ConnKind<Kind = K>,
    A: BelongsToOps<C, K> + BelongsToQuery<KeyValue: Send + Sync>,
    C: Transact<K>,
    Kv<A>: NullableKey,
    A::SetParent: Execute<C, K>,
{
    fn unset<'c>(
        source: &'c mut A::Source,
        conn: &'c mut C,
    ) -> impl Future<Output = QueryResult<()>> + Send + 'c {
        traced(<A::Source as Model>::NAME, A::NAME, "unset", async move {
            let null = Kv::<A>::null().ok_or(Error::NotFound)?;
            let update = A::set_parent(source.id(), null.clone());
            if savepoint!(C, K, conn, update.execute(conn).await)? == 0 {
                return Err(Error::NotFound);
            }
            A::set_key(source, null);
            Ok(())
        })
    }
}
