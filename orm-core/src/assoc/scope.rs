//! Association scopes: a fixed filter on the target's table
//! (`#[has_many(Post, as = "PublishedPosts", scope = posts::published.eq(true))]`)
//! that every read of the association applies, and that its writers set
//! where it is a simple equality.
//!
//! The filter is any boolean expression on the target's table, kept behind
//! [`ErasedScope`] (an association's type can't name the type of an
//! expression written in an attribute); [`Scope`] renders it. Its SQL is
//! fixed per association, so statements with it are prepared once, like
//! diesel's static queries.

use std::marker::PhantomData;
use std::sync::OnceLock;

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, NonAggregate, ValidGrouping};
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::query_dsl::methods::FilterDsl;
use diesel::query_source::{AppearsInFromClause, Once, Table};
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, BoolOrNullableBool};
use diesel::{dsl, SelectableExpression};

use crate::backend::OrmBackend;

/// A scope's expression, on every backend orm-core is built for.
pub trait ErasedScope: Send + Sync + 'static {
    /// Renders the expression on SQLite.
    #[cfg(feature = "sqlite")]
    fn walk_sqlite<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()>;
    /// Renders the expression on PostgreSQL.
    #[cfg(feature = "postgres")]
    fn walk_pg<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()>;
    /// Renders the expression on MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    fn walk_mysql<'b>(&'b self, out: AstPass<'_, 'b, diesel::mysql::Mysql>) -> QueryResult<()>;
}

macro_rules! on_backend {
    ($name:ident, $feature:literal, $backend:ty) => {
        #[doc = concat!("`QueryFragment<", stringify!($backend), ">` where the `", $feature, "` feature is on.")]
        #[cfg(feature = $feature)]
        pub trait $name: QueryFragment<$backend> {}
        #[cfg(feature = $feature)]
        impl<E: QueryFragment<$backend>> $name for E {}
        #[doc = concat!("Nothing: the `", $feature, "` feature is off.")]
        #[cfg(not(feature = $feature))]
        pub trait $name {}
        #[cfg(not(feature = $feature))]
        impl<E> $name for E {}
    };
}
on_backend!(OnSqlite, "sqlite", diesel::sqlite::Sqlite);
on_backend!(OnPg, "postgres", diesel::pg::Pg);
on_backend!(OnMysql, "mysql", diesel::mysql::Mysql);

impl<E: OnSqlite + OnPg + OnMysql + Send + Sync + 'static> ErasedScope for E {
    #[cfg(feature = "sqlite")]
    fn walk_sqlite<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        self.walk_ast(out)
    }
    #[cfg(feature = "postgres")]
    fn walk_pg<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        self.walk_ast(out)
    }
    #[cfg(feature = "mysql")]
    fn walk_mysql<'b>(&'b self, out: AstPass<'_, 'b, diesel::mysql::Mysql>) -> QueryResult<()> {
        self.walk_ast(out)
    }
}

/// An association with a scope (the derive implements it).
pub trait Scoped: 'static {
    /// The target's table, which the scope filters.
    type Table: Table;
    /// The scope's columns and values, which its writers set: `(posts::published.eq(true),)`
    /// for a simple equality, else [`NoSet`] (and the association is not
    /// [`Writable`]).
    type Set: AsChangeset<Target = Self::Table> + Send;
    /// The columns to set.
    fn set() -> Self::Set;
    /// The scope's expression, built once.
    fn scope() -> &'static dyn ErasedScope;
}

/// The scope's expression as the derive hands it over: checked to be a
/// boolean condition on `T`'s columns alone.
#[diagnostic::on_unimplemented(
    message = "a `scope` is a condition on the columns of `{T}`",
    label = "not a condition on `{T}` alone: write a filter of its columns, as in `scope = posts::published.eq(true)` or `scope = posts::deleted_at.is_null()`"
)]
pub trait ScopeOn<T>: ErasedScope {}
#[diagnostic::do_not_recommend]
impl<T, E> ScopeOn<T> for E where
    E: Expression<SqlType: BoolOrNullableBool> + AppearsOnTable<T> + NonAggregate + ErasedScope
{
}

/// Where a scoped association keeps its expression: built on first use,
/// then shared by every statement.
pub struct ScopeCell(OnceLock<Box<dyn ErasedScope>>);

impl ScopeCell {
    /// An empty cell, for a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ScopeCell(OnceLock::new())
    }

    /// The scope `expr` builds, a condition on table `T`.
    pub fn get<T, E: ScopeOn<T>>(
        &'static self,
        expr: impl FnOnce() -> E,
    ) -> &'static dyn ErasedScope {
        &**self.0.get_or_init(|| Box::new(expr()))
    }
}

/// `column = value`, a column of a simple-equality scope as its writers set
/// it: the target `M`'s field `H` (see [`Field`](crate::Field)).
pub type Assign<M, const H: u64> =
    dsl::Eq<<M as crate::Field<H>>::Column, <M as crate::Field<H>>::Value>;

/// A value a scope sets in a field of type `T`: `T` itself, or what
/// converts into it (a `&str` into a `String`).
#[diagnostic::on_unimplemented(
    message = "the scope sets a field of type `{T}` to a `{Self}`",
    label = "not a `{T}`",
    note = "write the value as the target model's field holds it"
)]
pub trait ScopeValue<T> {
    /// The value as the field holds it.
    fn into_field(self) -> T;
}

#[diagnostic::do_not_recommend]
impl<T, V: Into<T>> ScopeValue<T> for V {
    fn into_field(self) -> T {
        self.into()
    }
}

/// `value` as field `H` of `M` holds it.
pub fn value<M: crate::Field<H>, const H: u64>(value: impl ScopeValue<M::Value>) -> M::Value {
    value.into_field()
}

/// The [`Assign`] of `value`.
pub fn assign<M: crate::Field<H>, const H: u64>(value: M::Value) -> Assign<M, H>
where
    M::Column: diesel::ExpressionMethods + Expression<SqlType: diesel::sql_types::SqlType>,
    M::Value: diesel::expression::AsExpression<dsl::SqlTypeOf<M::Column>>,
{
    diesel::ExpressionMethods::eq(M::Column::default(), value)
}

/// `published = true`: the scope of association `A`, as an expression.
pub struct Scope<A>(PhantomData<fn() -> A>);

impl<A> Default for Scope<A> {
    fn default() -> Self {
        Scope(PhantomData)
    }
}
impl<A> Clone for Scope<A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Scope<A> {}
impl<A> std::fmt::Debug for Scope<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scope")
    }
}

impl<A> Expression for Scope<A> {
    type SqlType = Bool;
}

impl<A: Scoped, QS: AppearsInFromClause<A::Table, Count = Once>> AppearsOnTable<QS> for Scope<A> {}
impl<A: Scoped, QS: AppearsInFromClause<A::Table, Count = Once>> SelectableExpression<QS>
    for Scope<A>
{
}

impl<A> ValidGrouping<()> for Scope<A> {
    type IsAggregate = is_aggregate::Never;
}

impl<A: Scoped, DB: OrmBackend> QueryFragment<DB> for Scope<A> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        DB::walk_scope(A::scope(), out)
    }
}

impl<A: 'static> QueryId for Scope<A> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// An association's scope, on the rows of its target's table `T`: none
/// ([`NoScope`]), or [`Scope<A>`](Scope) for an association `A` that
/// declares one.
pub trait AssocScope<T> {
    /// The rows the association sees: `posts`, or `posts WHERE <scope>`.
    type Base;
    /// What attaching a row sets besides its key: nothing ([`NoSet`]), or
    /// the scope's columns.
    type Set: AsChangeset<Target = T> + Send;
    /// The scope as a condition of its own, for statements orm-core
    /// writes itself: `()` (which renders nothing), or [`Scope<A>`](Scope).
    type Condition: Default + Send;
    /// The rows.
    fn base() -> Self::Base;
    /// The columns to set.
    fn set() -> Self::Set;
}

/// An association without a scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoScope;

/// Whether `S`, an association's [`AssocScope`], is a scope ([`Scope<A>`](Scope))
/// rather than [`NoScope`].
pub(crate) fn is_scope<S: 'static>() -> bool {
    std::any::TypeId::of::<S>() != std::any::TypeId::of::<NoScope>()
}

impl<T: Table + Default + Send> AssocScope<T> for NoScope {
    type Base = T;
    type Set = NoSet<T>;
    type Condition = ();
    fn base() -> T {
        T::default()
    }
    fn set() -> NoSet<T> {
        NoSet::default()
    }
}

impl<T, A> AssocScope<T> for Scope<A>
where
    T: Table + Default + FilterDsl<Scope<A>>,
    A: Scoped<Table = T>,
{
    type Base = dsl::Filter<T, Scope<A>>;
    type Set = A::Set;
    type Condition = Self;
    fn base() -> Self::Base {
        FilterDsl::filter(T::default(), Scope::default())
    }
    fn set() -> A::Set {
        A::set()
    }
}

/// The scope's columns, set by a writer of the association: nothing
/// without a scope, in a `SET` it renders nothing (diesel leaves out a
/// no-op part of a changeset).
#[derive(Debug, Clone, Copy)]
pub struct NoSet<T>(PhantomData<fn() -> T>);

impl<T> Default for NoSet<T> {
    fn default() -> Self {
        NoSet(PhantomData)
    }
}

impl<T: Table> AsChangeset for NoSet<T> {
    type Target = T;
    type Changeset = Self;
    fn as_changeset(self) -> Self {
        self
    }
}

impl<T, DB: Backend> QueryFragment<DB> for NoSet<T> {
    fn walk_ast<'b>(&'b self, _: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Ok(())
    }
    fn is_noop(&self, _: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<T: 'static> QueryId for NoSet<T> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// An association whose writers can keep its scope: it has none, or it is
/// a simple equality (`posts::published.eq(true)`, several joined by
/// `.and(..)`) that they set.
#[diagnostic::on_unimplemented(
    message = "the scope of this association is not a simple equality, so its writers could not keep it",
    label = "the association's reads apply its scope; its writers are only for a scope of the form `posts::column.eq(value)` (or several joined by `.and(..)`)",
    note = "write the rows with another association without this scope, or with the target model's own methods"
)]
pub trait Writable {}
