//! The conflict-ignoring INSERT of join rows.
//!
//! diesel's `on_conflict_do_nothing()` statement type is not nameable outside
//! diesel, and generic code has to name it in a where-clause, so orm-core
//! renders this one statement itself:
//! `INSERT INTO "t" ("a", "b") VALUES ($1, $2), .. ON CONFLICT DO NOTHING`.
//! Uniqueness conflicts are ignored; foreign-key violations still fail.

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::{Column, Expression, QuerySource};

use super::belongs_to_many::{ManyToMany, SourceOf, TargetOf};
use crate::backend::{Dialect, OrmBackend};
use crate::model::IdOf;

/// One join row; its SQL depends only on its type, so diesel caches the
/// prepared statement.
pub struct InsertPair<A: ManyToMany> {
    pub(crate) table: <A::Through as QuerySource>::FromClause,
    pub(crate) source: IdOf<SourceOf<A>>,
    pub(crate) target: IdOf<TargetOf<A>>,
}

/// One join row: (source key, target key).
pub type Pair<A> = (IdOf<SourceOf<A>>, IdOf<TargetOf<A>>);

/// Many join rows in one statement (never cached: the SQL depends on the
/// row count).
pub struct InsertPairs<'a, A: ManyToMany> {
    pub(crate) table: <A::Through as QuerySource>::FromClause,
    pub(crate) rows: &'a [Pair<A>],
}

type SourceSql<A> = <<A as ManyToMany>::SourceKey as Expression>::SqlType;
type TargetSql<A> = <<A as ManyToMany>::TargetKey as Expression>::SqlType;

fn walk_insert<'b, A, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    table: &'b <A::Through as QuerySource>::FromClause,
    rows: impl Iterator<Item = (&'b IdOf<SourceOf<A>>, &'b IdOf<TargetOf<A>>)>,
) -> QueryResult<()>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    out.push_sql("INSERT INTO ");
    table.walk_ast(out.reborrow())?;
    out.push_sql(" (");
    out.push_identifier(A::SourceKey::NAME)?;
    out.push_sql(", ");
    out.push_identifier(A::TargetKey::NAME)?;
    out.push_sql(") VALUES ");
    for (i, (source, target)) in rows.enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        out.push_sql("(");
        out.push_bind_param::<SourceSql<A>, _>(source)?;
        out.push_sql(", ");
        out.push_bind_param::<TargetSql<A>, _>(target)?;
        out.push_sql(")");
    }
    match DB::DIALECT {
        Dialect::Sqlite | Dialect::Postgres => out.push_sql(" ON CONFLICT DO NOTHING"),
    }
    Ok(())
}

impl<A, DB> QueryFragment<DB> for InsertPair<A>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_insert::<A, DB>(
            &mut out,
            &self.table,
            std::iter::once((&self.source, &self.target)),
        )
    }
}

impl<A, DB> QueryFragment<DB> for InsertPairs<'_, A>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>> + HasSqlType<TargetSql<A>>,
    <A::Through as QuerySource>::FromClause: QueryFragment<DB>,
    IdOf<SourceOf<A>>: ToSql<SourceSql<A>, DB>,
    IdOf<TargetOf<A>>: ToSql<TargetSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        walk_insert::<A, DB>(&mut out, &self.table, self.rows.iter().map(|(s, t)| (s, t)))
    }
}

impl<A: ManyToMany> QueryId for InsertPair<A> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<A: ManyToMany> QueryId for InsertPairs<'_, A> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
