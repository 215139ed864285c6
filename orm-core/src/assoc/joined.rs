//! The targets of a `belongs_to_many` association read through one join,
//! the statement diesel's guide writes as
//! `Rsvp::belonging_to(&event).inner_join(users::table)`:
//!
//! ```sql
//! SELECT "users"."id", "users"."name" FROM "users"
//! INNER JOIN "rsvps" ON "users"."id" = "rsvps"."guest_id"
//! WHERE "rsvps"."event_id" = $1
//! ```
//!
//! [`JoinedTargets`] (one source) has a static query id, so diesel prepares
//! it once per connection and reuses it without building its SQL again.
//! [`SourcesAndTargets`] (eager loading) selects the source key too, for
//! many sources at once.

use std::marker::PhantomData;

use diesel::expression::Expression;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::RunQueryDsl;

use super::belongs_to_many::{ManyToMany, ManyToManyDef, SourceOf, TargetOf};
use super::push_binds;
use super::through::TargetJoin;
use crate::backend::OrmBackend;
use crate::model::{ColumnsOf, IdOf, Model};

type SId<A> = IdOf<SourceOf<A>>;
type TargetColumns<A> = ColumnsOf<TargetOf<A>>;
type SourceSql<A> = <<A as ManyToManyDef>::SourceKey as Expression>::SqlType;

/// `SELECT columns FROM "users" INNER JOIN "rsvps" ON .. WHERE
/// "rsvps"."event_id"`: what both statements start with.
fn select_where_source<'b, A, S, DB>(
    out: &mut AstPass<'_, 'b, DB>,
    columns: &'b S,
    join: &'b TargetJoin<A>,
) -> QueryResult<()>
where
    A: ManyToMany,
    DB: OrmBackend,
    S: QueryFragment<DB>,
    TargetJoin<A>: QueryFragment<DB>,
    A::SourceKey: QueryFragment<DB>,
{
    out.push_sql("SELECT ");
    columns.walk_ast(out.reborrow())?;
    out.push_sql(" FROM ");
    join.walk_ast(out.reborrow())?;
    out.push_sql(" WHERE ");
    join.source_key.walk_ast(out.reborrow())
}

/// The targets of one source, through one join (see the module docs).
pub struct JoinedTargets<A: ManyToMany> {
    join: TargetJoin<A>,
    columns: TargetColumns<A>,
    source: SId<A>,
}

impl<A: ManyToMany> JoinedTargets<A> {
    /// The targets of source `source`.
    pub fn new(source: SId<A>) -> Self {
        JoinedTargets {
            join: TargetJoin::new(),
            columns: <TargetOf<A> as Model>::COLUMNS,
            source,
        }
    }
}

/// The query id of [`JoinedTargets`]: its SQL depends on `A` alone.
pub struct JoinedTargetsId<A>(PhantomData<A>);

impl<A: ManyToMany> QueryId for JoinedTargets<A> {
    type QueryId = JoinedTargetsId<A>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<A: ManyToMany> Query for JoinedTargets<A> {
    type SqlType = <TargetColumns<A> as Expression>::SqlType;
}

impl<A: ManyToMany, C> RunQueryDsl<C> for JoinedTargets<A> {}

impl<A, DB> QueryFragment<DB> for JoinedTargets<A>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>>,
    TargetJoin<A>: QueryFragment<DB>,
    TargetColumns<A>: QueryFragment<DB>,
    A::SourceKey: QueryFragment<DB>,
    SId<A>: ToSql<SourceSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        select_where_source(&mut out, &self.columns, &self.join)?;
        out.push_sql(" = ");
        out.push_bind_param::<SourceSql<A>, _>(&self.source)
    }
}

/// The targets of many sources with the source each belongs to, through
/// one join: `SELECT "rsvps"."event_id", "users".* FROM "users" INNER JOIN
/// "rsvps" ON .. WHERE "rsvps"."event_id" IN ($1, ..)`; loaded as
/// `(source key, target)`.
pub struct SourcesAndTargets<A: ManyToMany> {
    join: TargetJoin<A>,
    columns: (A::SourceKey, TargetColumns<A>),
    sources: Vec<SId<A>>,
}

impl<A: ManyToMany> SourcesAndTargets<A> {
    /// The targets of `sources`.
    pub fn new(sources: Vec<SId<A>>) -> Self {
        SourcesAndTargets {
            join: TargetJoin::new(),
            columns: (A::SourceKey::default(), <TargetOf<A> as Model>::COLUMNS),
            sources,
        }
    }
}

// The SQL depends on the number of sources: diesel caches it by its text.
impl<A: ManyToMany> QueryId for SourcesAndTargets<A> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<A: ManyToMany> Query for SourcesAndTargets<A> {
    type SqlType = (SourceSql<A>, <TargetColumns<A> as Expression>::SqlType);
}

impl<A: ManyToMany, C> RunQueryDsl<C> for SourcesAndTargets<A> {}

impl<A, DB> QueryFragment<DB> for SourcesAndTargets<A>
where
    A: ManyToMany,
    DB: OrmBackend + HasSqlType<SourceSql<A>>,
    TargetJoin<A>: QueryFragment<DB>,
    (A::SourceKey, TargetColumns<A>): QueryFragment<DB>,
    A::SourceKey: QueryFragment<DB>,
    SId<A>: ToSql<SourceSql<A>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        select_where_source(&mut out, &self.columns, &self.join)?;
        out.push_sql(" IN (");
        push_binds::<SourceSql<A>, _, _>(&mut out, &self.sources)?;
        out.push_sql(")");
        Ok(())
    }
}
