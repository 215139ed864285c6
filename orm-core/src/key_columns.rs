//! Keys of one column or of several: what a primary key or a foreign key is
//! to the statements that read and write through it.
//!
//! A one-column key is the diesel column itself, so its statements are the
//! ones diesel's guide writes (`posts.author_id = ?`, `IN (..)`). A key of
//! several columns (a composite primary key, a multi-column foreign key) is
//! [`Cols`] of them: `(a = ? AND b = ?)` and the row-value `(a, b) IN ((?,
//! ?), ..)`, which SQLite (3.15+), PostgreSQL and MySQL/MariaDB share.

use diesel::backend::Backend;
use diesel::dsl;
use diesel::dsl::SqlTypeOf;
use diesel::expression::array_comparison::AsInExpression;
use diesel::expression::{
    is_aggregate, AppearsOnTable, AsExpression, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, SingleValue};
use diesel::{Column, ExpressionMethods};

/// Several columns as one key: `Cols<(orders::tenant_id, orders::number)>`,
/// a composite primary key or a multi-column foreign key, whose values are
/// tuples (`(i32, i32)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cols<T>(pub T);

// Where the key's columns appear, the key does: the correlations of
// `has_*_where` check it so.
impl<T: Expression> Expression for Cols<T> {
    type SqlType = T::SqlType;
}
impl<T: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Cols<T> {}

/// The columns of a key, whose values are `V`: the conditions and the
/// changeset every statement through the key is made of.
#[diagnostic::on_unimplemented(
    message = "the key `{Self}` does not hold values of type `{V}`",
    label = "a key of other columns than the key it points at",
    note = "a foreign key names one column per column of the primary key it points at, in its order: `foreign_key = \"order_id\"` for one, `foreign_key(tenant_id, order_number)` for several"
)]
pub trait KeyColumns<V>: Default + Copy + QueryId + Send + 'static {
    /// How many columns, so how many parameters one key binds.
    const WIDTH: usize;
    /// `col = ?`, or `(a = ? AND b = ?)`.
    type Eq;
    /// `col <> ?`, or `NOT (a = ? AND b = ?)`.
    type Ne;
    /// `col IN (?, ..)`, or `(a, b) IN ((?, ?), ..)`.
    type In;
    /// `SET col = ?`, or `SET a = ?, b = ?`.
    type Set;
    /// The columns as a select list: `col`, or `(a, b)`.
    type Select: Expression + Copy;
    /// The rows whose key is `value`.
    fn key_eq(self, value: V) -> Self::Eq;
    /// The rows whose key is not `value`.
    fn key_ne(self, value: V) -> Self::Ne;
    /// The rows whose key is one of `values`.
    fn key_in(self, values: Vec<V>) -> Self::In;
    /// Sets the key to `value`.
    fn key_set(self, value: V) -> Self::Set;
    /// The key's columns, to select.
    fn select(self) -> Self::Select;
}

#[diagnostic::do_not_recommend]
impl<C, V> KeyColumns<V> for C
where
    C: Column
        + Expression<SqlType: SingleValue>
        + ExpressionMethods
        + Default
        + Copy
        + QueryId
        + Send
        + 'static,
    V: AsExpression<SqlTypeOf<C>>,
    Vec<V>: AsInExpression<SqlTypeOf<C>>,
{
    const WIDTH: usize = 1;
    type Eq = dsl::Eq<C, V>;
    type Ne = dsl::NotEq<C, V>;
    type In = dsl::EqAny<C, Vec<V>>;
    type Set = dsl::Eq<C, V>;
    type Select = C;

    fn key_eq(self, value: V) -> Self::Eq {
        self.eq(value)
    }
    fn key_ne(self, value: V) -> Self::Ne {
        self.ne(value)
    }
    fn key_in(self, values: Vec<V>) -> Self::In {
        self.eq_any(values)
    }
    fn key_set(self, value: V) -> Self::Set {
        self.eq(value)
    }
    fn select(self) -> C {
        self
    }
}

/// A key's columns one by one (one column, or [`Cols`] of several): what
/// the conditions orm-core writes itself name, such as a correlated
/// subquery's `inner = outer`.
pub trait KeyParts<DB: Backend> {
    /// The table of the key's columns.
    type Table: 'static;
    /// The columns' names, in order.
    const NAMES: &'static [&'static str];
    /// Column `i`, as a query names it (`"posts"."author_id"`).
    fn walk_part<'b>(&'b self, i: usize, out: AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

impl<C, DB> KeyParts<DB> for C
where
    DB: Backend,
    C: Column<Table: 'static> + QueryFragment<DB>,
{
    type Table = C::Table;
    const NAMES: &'static [&'static str] = &[C::NAME];
    fn walk_part<'b>(&'b self, _: usize, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.walk_ast(out)
    }
}

/// `inner = outer` for two keys of as many columns: `(a = x AND b = y)` for
/// several.
pub(crate) fn walk_equal<'b, DB, Inner, Outer>(
    inner: &'b Inner,
    outer: &'b Outer,
    mut out: AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend,
    Inner: KeyParts<DB>,
    Outer: KeyParts<DB>,
{
    let several = Inner::NAMES.len() > 1;
    if several {
        out.push_sql("(");
    }
    for i in 0..Inner::NAMES.len() {
        if i > 0 {
            out.push_sql(" AND ");
        }
        inner.walk_part(i, out.reborrow())?;
        out.push_sql(" = ");
        outer.walk_part(i, out.reborrow())?;
    }
    if several {
        out.push_sql(")");
    }
    Ok(())
}

/// `(a = ? AND b = ?)`: a key of several columns equal to one value.
#[derive(Debug, Clone, Copy)]
pub struct RowEq<C, E> {
    columns: C,
    values: E,
}

/// `NOT (a = ? AND b = ?)`
#[derive(Debug, Clone, Copy)]
pub struct RowNe<C, E>(RowEq<C, E>);

/// `(a, b) IN ((?, ?), ..)`: a key of several columns equal to one of
/// several values (`1 = 0` for none).
#[derive(Debug, Clone)]
pub struct RowIn<C, E> {
    columns: C,
    values: Vec<E>,
}

macro_rules! node_expression {
    ($($node:ident),*) => {$(
        impl<C, E> Expression for $node<C, E> {
            type SqlType = Bool;
        }
        impl<C: AppearsOnTable<QS>, E, QS> AppearsOnTable<QS> for $node<C, E> {}
        impl<C: SelectableExpression<QS>, E, QS> SelectableExpression<QS> for $node<C, E> {}
        impl<C, E> ValidGrouping<()> for $node<C, E> {
            type IsAggregate = is_aggregate::Never;
        }
    )*};
}
node_expression!(RowEq, RowNe, RowIn);

impl<C: QueryId, E: QueryId> QueryId for RowEq<C, E> {
    type QueryId = RowEq<C::QueryId, E::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID && E::HAS_STATIC_QUERY_ID;
}

impl<C: QueryId, E: QueryId> QueryId for RowNe<C, E> {
    type QueryId = RowNe<C::QueryId, E::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID && E::HAS_STATIC_QUERY_ID;
}

impl<C: 'static, E: 'static> QueryId for RowIn<C, E> {
    type QueryId = ();
    // The statement's text follows the number of keys.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, E, DB: Backend> QueryFragment<DB> for RowNe<C, E>
where
    RowEq<C, E>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("NOT ");
        self.0.walk_ast(out.reborrow())
    }
}

macro_rules! composite {
    ($($C:ident $V:ident $i:tt),+) => {
        #[diagnostic::do_not_recommend]
        impl<$($C, $V),+> KeyColumns<($($V,)+)> for Cols<($($C,)+)>
        where
            $($C: KeyColumns<$V> + Column + Expression<SqlType: SingleValue>,
            $V: AsExpression<SqlTypeOf<$C>>,)+
            ($($C,)+): Expression + Copy,
        {
            const WIDTH: usize = [$($i),+].len();
            type Eq = RowEq<($($C,)+), ($(<$V as AsExpression<SqlTypeOf<$C>>>::Expression,)+)>;
            type Ne = RowNe<($($C,)+), ($(<$V as AsExpression<SqlTypeOf<$C>>>::Expression,)+)>;
            type In = RowIn<($($C,)+), ($(<$V as AsExpression<SqlTypeOf<$C>>>::Expression,)+)>;
            type Set = ($(<$C as KeyColumns<$V>>::Set,)+);
            type Select = ($($C,)+);

            fn key_eq(self, value: ($($V,)+)) -> Self::Eq {
                RowEq { columns: self.0, values: ($(value.$i.as_expression(),)+) }
            }
            fn key_ne(self, value: ($($V,)+)) -> Self::Ne {
                RowNe(self.key_eq(value))
            }
            fn key_in(self, values: Vec<($($V,)+)>) -> Self::In {
                let values = values.into_iter().map(|v| ($(v.$i.as_expression(),)+)).collect();
                RowIn { columns: self.0, values }
            }
            fn key_set(self, value: ($($V,)+)) -> Self::Set {
                ($(self.0.$i.key_set(value.$i),)+)
            }
            fn select(self) -> Self::Select {
                self.0
            }
        }

        impl<DB: Backend, $($C: Column<Table: 'static> + QueryFragment<DB>,)+> KeyParts<DB>
            for Cols<($($C,)+)>
        {
            type Table = <A as Column>::Table;
            const NAMES: &'static [&'static str] = &[$(<$C as Column>::NAME),+];
            fn walk_part<'b>(&'b self, i: usize, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                match i {
                    $($i => self.0.$i.walk_ast(out),)+
                    _ => Ok(()),
                }
            }
        }

        impl<$($C: QueryId,)+> QueryId for Cols<($($C,)+)> {
            type QueryId = Cols<($($C::QueryId,)+)>;
            const HAS_STATIC_QUERY_ID: bool = $($C::HAS_STATIC_QUERY_ID)&&+;
        }

        impl<DB: Backend, $($C: QueryFragment<DB>, $V: QueryFragment<DB>),+> QueryFragment<DB>
            for RowEq<($($C,)+), ($($V,)+)>
        {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql("(");
                $(
                    if $i > 0 {
                        out.push_sql(" AND ");
                    }
                    self.columns.$i.walk_ast(out.reborrow())?;
                    out.push_sql(" = ");
                    self.values.$i.walk_ast(out.reborrow())?;
                )+
                out.push_sql(")");
                Ok(())
            }
        }

        impl<DB: Backend, $($C: QueryFragment<DB>, $V: QueryFragment<DB>),+> QueryFragment<DB>
            for RowIn<($($C,)+), ($($V,)+)>
        {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                if self.values.is_empty() {
                    out.push_sql("1 = 0");
                    return Ok(());
                }
                out.push_sql("(");
                $(
                    if $i > 0 {
                        out.push_sql(", ");
                    }
                    self.columns.$i.walk_ast(out.reborrow())?;
                )+
                out.push_sql(") IN (");
                for (n, value) in self.values.iter().enumerate() {
                    out.push_sql(if n == 0 { "(" } else { ", (" });
                    $(
                        if $i > 0 {
                            out.push_sql(", ");
                        }
                        value.$i.walk_ast(out.reborrow())?;
                    )+
                    out.push_sql(")");
                }
                out.push_sql(")");
                Ok(())
            }
        }
    };
}

composite!(A VA 0, B VB 1);
composite!(A VA 0, B VB 1, C VC 2);
composite!(A VA 0, B VB 1, C VC 2, D VD 3);
composite!(A VA 0, B VB 1, C VC 2, D VD 3, E VE 4);
composite!(A VA 0, B VB 1, C VC 2, D VD 3, E VE 4, F VF 5);
composite!(A VA 0, B VB 1, C VC 2, D VD 3, E VE 4, F VF 5, G VG 6);
composite!(A VA 0, B VB 1, C VC 2, D VD 3, E VE 4, F VF 5, G VG 6, H VH 7);

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;
    use diesel::sqlite::Sqlite;
    use diesel::QueryDsl;

    diesel::table! {
        lines (id) {
            id -> Integer,
            tenant_id -> Integer,
            order_number -> Integer,
        }
    }

    fn sql<Q: QueryFragment<Sqlite>>(q: Q) -> String {
        debug_query::<Sqlite, _>(&q).to_string()
    }

    #[test]
    fn one_column_is_diesels_own_condition() {
        let key = lines::order_number;
        assert_eq!(
            sql(lines::table.filter(key.key_eq(7))),
            sql(lines::table.filter(lines::order_number.eq(7)))
        );
        assert_eq!(
            sql(lines::table.filter(key.key_in(vec![1, 2]))),
            sql(lines::table.filter(lines::order_number.eq_any(vec![1, 2])))
        );
    }

    #[test]
    fn several_columns_are_one_row_value() {
        let key = Cols((lines::tenant_id, lines::order_number));
        assert_eq!(
            sql(lines::table.select(lines::id).filter(key.key_eq((1, 7)))),
            "SELECT `lines`.`id` FROM `lines` WHERE (`lines`.`tenant_id` = ? AND `lines`.`order_number` = ?) -- binds: [1, 7]"
        );
        assert_eq!(
            sql(lines::table.select(lines::id).filter(key.key_ne((1, 7)))),
            "SELECT `lines`.`id` FROM `lines` WHERE NOT (`lines`.`tenant_id` = ? AND `lines`.`order_number` = ?) -- binds: [1, 7]"
        );
        assert_eq!(
            sql(lines::table.select(lines::id).filter(key.key_in(vec![(1, 7), (2, 8)]))),
            "SELECT `lines`.`id` FROM `lines` WHERE (`lines`.`tenant_id`, `lines`.`order_number`) IN ((?, ?), (?, ?)) -- binds: [1, 7, 2, 8]"
        );
        assert_eq!(
            sql(lines::table
                .select(lines::id)
                .filter(key.key_in(Vec::<(i32, i32)>::new()))),
            "SELECT `lines`.`id` FROM `lines` WHERE 1 = 0 -- binds: []"
        );
        assert_eq!(
            <Cols<(lines::tenant_id, lines::order_number)> as KeyColumns<(i32, i32)>>::WIDTH,
            2
        );
    }
}
