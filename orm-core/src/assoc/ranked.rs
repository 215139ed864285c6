//! A per-parent limit for eager loading ("the 3 latest posts of each
//! user") in one statement, with a window function:
//!
//! ```sql
//! SELECT "posts"."id", .. FROM (
//!   SELECT "posts"."id", .., ROW_NUMBER() OVER (
//!     PARTITION BY "posts"."author_id" ORDER BY "posts"."id" DESC) AS "__orm_rank"
//!   FROM "posts" WHERE "posts"."author_id" IN ($1, ..)
//! ) AS "posts" WHERE "__orm_rank" <= $n ORDER BY "posts"."id" DESC
//! ```
//!
//! The derived table takes the table's name, so the outer select list and
//! ORDER BY are the table's own columns. [`RankedTargets`] is the same
//! through a join table. SQLite (3.25+, the bundled build
//! is newer), PostgreSQL and MySQL 8 / MariaDB 10.2 all have `ROW_NUMBER`.

use diesel::backend::Backend;
use diesel::dsl::SqlTypeOf;
use diesel::expression::{AppearsOnTable, Expression};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType};
use diesel::{QuerySource, RunQueryDsl, Table};

use super::belongs_to_many::{JoinCondition, ManyToMany, ManyToManyDef, SourceOf, TargetOf};
use super::has::{scoped, Condition, OneToMany};
use super::push_binds;
use super::through::TargetJoin;
use crate::key_columns::KeyColumns;
use crate::model::{ColumnsOf, IdOf, Model, PkOf, TableOf};

type Target<A> = TableOf<<A as OneToMany>::Target>;
type SId<A> = IdOf<<A as OneToMany>::Source>;

/// The first `limit` rows by `order` pointing at each of `sources`.
pub struct Ranked<A: OneToMany, O> {
    limit: i64,
    order: O,
    table: <Target<A> as QuerySource>::FromClause,
    /// Every column of the table, which `order` may name.
    columns: <Target<A> as Table>::AllColumns,
    /// The columns the model reads.
    fields: ColumnsOf<<A as OneToMany>::Target>,
    /// The key's columns, `PARTITION BY` them.
    partition: KeySelect<A>,
    /// `key IN (sources)`
    keys: KeyIn<A>,
    scope: Condition<A>,
}

type KeySelect<A> = <<A as OneToMany>::ForeignKey as KeyColumns<SId<A>>>::Select;
type KeyIn<A> = <<A as OneToMany>::ForeignKey as KeyColumns<SId<A>>>::In;

impl<A: OneToMany, O> Ranked<A, O>
where
    O: Expression + AppearsOnTable<Target<A>>,
{
    /// The first `limit` rows by `order` (`posts::id.desc()`) of each of `sources`.
    pub fn new(sources: Vec<SId<A>>, limit: i64, order: O) -> Self {
        let key = A::ForeignKey::default();
        Ranked {
            partition: <A::ForeignKey as KeyColumns<SId<A>>>::select(key),
            keys: <A::ForeignKey as KeyColumns<SId<A>>>::key_in(key, sources),
            limit,
            order,
            table: Target::<A>::default().from_clause(),
            columns: Target::<A>::all_columns(),
            fields: <A::Target as Model>::COLUMNS,
            scope: Default::default(),
        }
    }
}

impl<A: OneToMany, O> Query for Ranked<A, O> {
    type SqlType = SqlTypeOf<ColumnsOf<<A as OneToMany>::Target>>;
}

impl<A: OneToMany, O, C> RunQueryDsl<C> for Ranked<A, O> {}

impl<A: OneToMany, O> QueryId for Ranked<A, O> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// The window function's column.
const RANK: &str = "__orm_rank";

impl<A, O, DB> QueryFragment<DB> for Ranked<A, O>
where
    A: OneToMany,
    DB: Backend,
    O: QueryFragment<DB>,
    <Target<A> as QuerySource>::FromClause: QueryFragment<DB>,
    <Target<A> as Table>::AllColumns: QueryFragment<DB>,
    ColumnsOf<<A as OneToMany>::Target>: QueryFragment<DB>,
    KeySelect<A>: QueryFragment<DB>,
    KeyIn<A>: QueryFragment<DB>,
    Condition<A>: QueryFragment<DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.fields.walk_ast(out.reborrow())?;
        out.push_sql(" FROM (SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(", ROW_NUMBER() OVER (PARTITION BY ");
        self.partition.walk_ast(out.reborrow())?;
        out.push_sql(" ORDER BY ");
        self.order.walk_ast(out.reborrow())?;
        out.push_sql(") AS ");
        out.push_identifier(RANK)?;
        out.push_sql(" FROM ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.keys.walk_ast(out.reborrow())?;
        if scoped::<A>() {
            out.push_sql(" AND (");
            self.scope.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(") AS ");
        out.push_identifier(<A::Target as Model>::TABLE.name)?;
        out.push_sql(" WHERE ");
        out.push_identifier(RANK)?;
        out.push_sql(" <= ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" ORDER BY ");
        self.order.walk_ast(out.reborrow())?;
        Ok(())
    }
}

/// The first `limit` targets by `order` of each of `sources`, through the
/// join table, with the source each belongs to:
///
/// ```sql
/// SELECT "users"."id", .., "__orm_source" FROM (
///   SELECT "users"."id", .., "rsvps"."event_id" AS "__orm_source", ROW_NUMBER() OVER (
///     PARTITION BY "rsvps"."event_id" ORDER BY "users"."name") AS "__orm_rank"
///   FROM "users" INNER JOIN "rsvps" ON "users"."id" = "rsvps"."guest_id"
///   WHERE "rsvps"."event_id" IN ($1, ..)
/// ) AS "users" WHERE "__orm_rank" <= $n ORDER BY "users"."name"
/// ```
pub struct RankedTargets<A: ManyToManyDef, O> {
    sources: Vec<MSId<A>>,
    limit: i64,
    order: O,
    join: TargetJoin<A>,
    /// Every column of the target's table, which `order` may name.
    columns: <MTarget<A> as Table>::AllColumns,
    /// The columns the target model reads.
    fields: ColumnsOf<TargetOf<A>>,
}

type MTarget<A> = TableOf<TargetOf<A>>;
type MSId<A> = IdOf<SourceOf<A>>;
type SourceSql<A> = SqlTypeOf<<A as ManyToManyDef>::SourceKey>;

/// The window's source column.
const SOURCE: &str = "__orm_source";

impl<A: ManyToMany, O> RankedTargets<A, O>
where
    O: Expression + AppearsOnTable<MTarget<A>>,
{
    /// The first `limit` targets by `order` (`users::name.asc()`, on the
    /// target's columns) of each of `sources`.
    pub fn new(sources: Vec<MSId<A>>, limit: i64, order: O) -> Self {
        RankedTargets {
            sources,
            limit,
            order,
            join: TargetJoin::new(),
            columns: MTarget::<A>::all_columns(),
            fields: <TargetOf<A> as Model>::COLUMNS,
        }
    }
}

impl<A: ManyToMany, O> Query for RankedTargets<A, O> {
    type SqlType = (SqlTypeOf<ColumnsOf<TargetOf<A>>>, SourceSql<A>);
}

impl<A: ManyToMany, O, C> RunQueryDsl<C> for RankedTargets<A, O> {}

impl<A: ManyToMany, O> QueryId for RankedTargets<A, O> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<A, O, DB> QueryFragment<DB> for RankedTargets<A, O>
where
    A: ManyToMany,
    DB: Backend + HasSqlType<SourceSql<A>>,
    O: QueryFragment<DB>,
    <MTarget<A> as QuerySource>::FromClause: QueryFragment<DB>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    <MTarget<A> as Table>::AllColumns: QueryFragment<DB>,
    ColumnsOf<TargetOf<A>>: QueryFragment<DB>,
    PkOf<TargetOf<A>>: QueryFragment<DB>,
    A::TargetKey: QueryFragment<DB>,
    A::SourceKey: QueryFragment<DB>,
    JoinCondition<A>: QueryFragment<DB>,
    MSId<A>: ToSql<SourceSql<A>, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let source_key = &self.join.source_key;
        out.push_sql("SELECT ");
        self.fields.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        out.push_identifier(SOURCE)?;
        out.push_sql(" FROM (SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        source_key.walk_ast(out.reborrow())?;
        out.push_sql(" AS ");
        out.push_identifier(SOURCE)?;
        out.push_sql(", ROW_NUMBER() OVER (PARTITION BY ");
        source_key.walk_ast(out.reborrow())?;
        out.push_sql(" ORDER BY ");
        self.order.walk_ast(out.reborrow())?;
        out.push_sql(") AS ");
        out.push_identifier(RANK)?;
        out.push_sql(" FROM ");
        self.join.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        source_key.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        push_binds::<SourceSql<A>, _, _>(&mut out, &self.sources)?;
        out.push_sql(")) AS ");
        out.push_identifier(<TargetOf<A> as Model>::TABLE.name)?;
        out.push_sql(" WHERE ");
        out.push_identifier(RANK)?;
        out.push_sql(" <= ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" ORDER BY ");
        self.order.walk_ast(out.reborrow())?;
        Ok(())
    }
}
