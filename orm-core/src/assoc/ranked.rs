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
//! ORDER BY are the table's own columns. SQLite (3.25+, the bundled build
//! is newer), PostgreSQL and MySQL 8 / MariaDB 10.2 all have `ROW_NUMBER`.

use diesel::backend::Backend;
use diesel::dsl::SqlTypeOf;
use diesel::expression::{AppearsOnTable, Expression};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType};
use diesel::{QuerySource, RunQueryDsl, Table};

use super::has::OneToMany;
use crate::model::{IdOf, Model, TableOf};

type Target<A> = TableOf<<A as OneToMany>::Target>;
type SId<A> = IdOf<<A as OneToMany>::Source>;

/// The first `limit` rows by `order` pointing at each of `sources`.
pub struct Ranked<A: OneToMany, O> {
    sources: Vec<SId<A>>,
    limit: i64,
    order: O,
    table: <Target<A> as QuerySource>::FromClause,
    columns: <Target<A> as Table>::AllColumns,
    key: A::ForeignKey,
}

impl<A: OneToMany, O> Ranked<A, O>
where
    O: Expression + AppearsOnTable<Target<A>>,
{
    /// The first `limit` rows by `order` (`posts::id.desc()`) of each of `sources`.
    pub fn new(sources: Vec<SId<A>>, limit: i64, order: O) -> Self {
        Ranked {
            sources,
            limit,
            order,
            table: Target::<A>::default().from_clause(),
            columns: Target::<A>::all_columns(),
            key: A::ForeignKey::default(),
        }
    }
}

impl<A: OneToMany, O> Query for Ranked<A, O> {
    type SqlType = SqlTypeOf<<Target<A> as Table>::AllColumns>;
}

impl<A: OneToMany, O, C> RunQueryDsl<C> for Ranked<A, O> {}

impl<A: OneToMany, O> QueryId for Ranked<A, O> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// The window function's column.
const RANK: &str = "__orm_rank";

type KeySql<A> = SqlTypeOf<<A as OneToMany>::ForeignKey>;

impl<A, O, DB> QueryFragment<DB> for Ranked<A, O>
where
    A: OneToMany,
    DB: Backend + HasSqlType<KeySql<A>>,
    O: QueryFragment<DB>,
    <Target<A> as QuerySource>::FromClause: QueryFragment<DB>,
    <Target<A> as Table>::AllColumns: QueryFragment<DB>,
    A::ForeignKey: QueryFragment<DB>,
    SId<A>: ToSql<KeySql<A>, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM (SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(", ROW_NUMBER() OVER (PARTITION BY ");
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(" ORDER BY ");
        self.order.walk_ast(out.reborrow())?;
        out.push_sql(") AS ");
        out.push_identifier(RANK)?;
        out.push_sql(" FROM ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.key.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, source) in self.sources.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<KeySql<A>, _>(source)?;
        }
        out.push_sql(")) AS ");
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
