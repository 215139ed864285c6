//! `column IN (SELECT ...)` over an uncorrelated subquery.
//!
//! diesel's `eq_any(subselect)` checks the subquery against the outer query's
//! FROM clause, which needs `allow_tables_to_appear_in_same_query!` between
//! the join table and the target table; two derives in different places
//! cannot emit that. The subquery here never refers to the outer query, so
//! it is valid on any FROM clause its column is valid on.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::Bool;

/// `column IN (subquery)`.
#[derive(Debug, Clone, Copy)]
pub struct InSubquery<Col, Q> {
    column: Col,
    subquery: Q,
}

impl<Col, Q> InSubquery<Col, Q> {
    /// `column IN (subquery)`; `subquery` must select one column of
    /// `column`'s type.
    pub fn new(column: Col, subquery: Q) -> Self {
        InSubquery { column, subquery }
    }
}

impl<Col: Expression, Q> Expression for InSubquery<Col, Q> {
    type SqlType = Bool;
}

impl<Col: AppearsOnTable<QS>, Q, QS> AppearsOnTable<QS> for InSubquery<Col, Q> {}

impl<Col: SelectableExpression<QS>, Q, QS> SelectableExpression<QS> for InSubquery<Col, Q> {}

impl<Col, Q> ValidGrouping<()> for InSubquery<Col, Q> {
    type IsAggregate = is_aggregate::Never;
}

impl<Col, Q, DB> QueryFragment<DB> for InSubquery<Col, Q>
where
    DB: Backend,
    Col: QueryFragment<DB>,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.subquery.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<Col: QueryId, Q: QueryId> QueryId for InSubquery<Col, Q> {
    type QueryId = InSubquery<Col::QueryId, Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Col::HAS_STATIC_QUERY_ID && Q::HAS_STATIC_QUERY_ID;
}
