//! What orm-core needs to know about each diesel backend.

use diesel::backend::Backend;
use diesel::query_builder::QueryFragment;
use diesel::result::QueryResult;

use crate::assoc::scope::ErasedScope;

/// The SQL dialects orm-core renders DDL and conflict-ignoring inserts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or newer (the bundled build is always new enough).
    Sqlite,
    /// PostgreSQL 12 or newer.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or newer.
    Mysql,
}

/// A diesel backend orm-core supports.
///
/// Implemented for [`diesel::sqlite::Sqlite`], [`diesel::pg::Pg`] and
/// `diesel::mysql::Mysql` (feature `mysql`); it is
/// sealed because generated SQL has to be checked against every dialect.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a backend orm-core supports",
    note = "enable the `sqlite`, `postgres` or `mysql` feature of orm-core and use its connection type"
)]
pub trait OrmBackend: Backend + sealed::Sealed {
    /// The dialect used for DDL and for the statements orm-core writes itself.
    const DIALECT: Dialect;
    /// How many bound parameters one statement may carry. Multi-row inserts
    /// and `IN (...)` lists are split into chunks below this.
    const MAX_BIND_PARAMS: usize;

    /// How many parameters `query` binds (an upper bound: its placeholders),
    /// so that key lists leave room for the rest of a statement.
    fn binds_in<Q: QueryFragment<Self> + ?Sized>(query: &Q) -> QueryResult<usize> {
        Ok(placeholders(&Self::sql(query)?, Self::DIALECT))
    }

    /// `query`'s SQL, with placeholders for its bound values.
    fn sql<Q: QueryFragment<Self> + ?Sized>(query: &Q) -> QueryResult<String>;

    /// Renders an association's scope on this backend.
    fn walk_scope<'b>(
        scope: &'b dyn ErasedScope,
        out: diesel::query_builder::AstPass<'_, 'b, Self>,
    ) -> QueryResult<()>;
}

/// Renders `query` for `DB`.
macro_rules! sql {
    () => {
        fn sql<Q: QueryFragment<Self> + ?Sized>(query: &Q) -> QueryResult<String> {
            use diesel::query_builder::QueryBuilder;
            let mut sql = <Self as Backend>::QueryBuilder::default();
            query.to_sql(&mut sql, &Self::default())?;
            Ok(sql.finish())
        }
    };
}

/// The bind placeholders in `sql`: the highest `$n` on PostgreSQL, the
/// `?` outside quotes elsewhere.
fn placeholders(sql: &str, dialect: Dialect) -> usize {
    if dialect == Dialect::Postgres {
        return sql
            .split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                rest[..digits].parse::<usize>().ok()
            })
            .max()
            .unwrap_or(0);
    }
    let mut quote = None;
    let mut count = 0;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"' | '`') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '?') => count += 1,
            _ => {}
        }
    }
    count
}

mod sealed {
    pub trait Sealed {}
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for diesel::sqlite::Sqlite {}
#[cfg(feature = "sqlite")]
impl OrmBackend for diesel::sqlite::Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;
    // SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite (>= 3.32).
    const MAX_BIND_PARAMS: usize = 32_766;
    sql!();
    fn walk_scope<'b>(
        scope: &'b dyn ErasedScope,
        out: diesel::query_builder::AstPass<'_, 'b, Self>,
    ) -> QueryResult<()> {
        scope.walk_sqlite(out)
    }
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for diesel::pg::Pg {}
#[cfg(feature = "postgres")]
impl OrmBackend for diesel::pg::Pg {
    const DIALECT: Dialect = Dialect::Postgres;
    // The wire protocol counts parameters in an i16.
    const MAX_BIND_PARAMS: usize = 65_535;
    sql!();
    fn walk_scope<'b>(
        scope: &'b dyn ErasedScope,
        out: diesel::query_builder::AstPass<'_, 'b, Self>,
    ) -> QueryResult<()> {
        scope.walk_pg(out)
    }
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for diesel::mysql::Mysql {}
#[cfg(feature = "mysql")]
impl OrmBackend for diesel::mysql::Mysql {
    const DIALECT: Dialect = Dialect::Mysql;
    // The protocol counts parameters in a u16.
    const MAX_BIND_PARAMS: usize = 65_535;
    sql!();
    fn walk_scope<'b>(
        scope: &'b dyn ErasedScope,
        out: diesel::query_builder::AstPass<'_, 'b, Self>,
    ) -> QueryResult<()> {
        scope.walk_mysql(out)
    }
}

/// How many items of `params_per_item` bound parameters fit in one statement
/// on `DB`, leaving room for `extra` other parameters.
pub(crate) fn chunk_size<DB: OrmBackend>(params_per_item: usize, extra: usize) -> usize {
    (DB::MAX_BIND_PARAMS.saturating_sub(extra) / params_per_item).max(1)
}

/// A query whose bound parameters can be counted on a connection `C`'s
/// backend: what eager loading refined by a closure needs, to chunk the
/// parents' keys by what the whole statement binds.
#[diagnostic::on_unimplemented(
    message = "the refined query `{Self}` cannot be rendered for `{C}`'s backend",
    note = "refine the query with diesel's query builder (filter, order, limit, select)"
)]
pub trait CountBinds<C, K = <C as crate::ConnKind>::Kind> {
    /// How many parameters the statement binds.
    fn binds(&self) -> QueryResult<usize>;
}

impl<Q, C, K> CountBinds<C, K> for Q
where
    C: crate::exec::OnBackend<K>,
    Q: QueryFragment<C::Backend>,
{
    fn binds(&self) -> QueryResult<usize> {
        <C::Backend as OrmBackend>::binds_in(self)
    }
}

/// A connection whose backend is `DB`: the one bound application code
/// generic over the connection needs to call every generated method.
///
/// ```
/// use orm_core::prelude::*;
/// use orm_core::diesel::sqlite::Sqlite;
/// # #[derive(Model, Debug, Clone, PartialEq)]
/// # pub struct Event { pub id: i32, pub title: String }
///
/// // Runs on a `SqliteConnection`, a pooled one, or any wrapper of either.
/// fn rename<C: orm_core::Conn<Sqlite>>(id: i32, title: &str, conn: &mut C) -> QueryResult<Event> {
///     let mut event = Event::find(id, conn)?;
///     event.title = title.into();
///     event.save(conn)?;
///     Ok(event)
/// }
/// ```
///
/// Code generic over the backend too (`C: Connection` with any `Backend`)
/// cannot call them: diesel checks each statement against its backend at
/// compile time, so the backend must be known. Write the function once per
/// backend you use (a `macro_rules!` does it), or keep it generic over
/// `DB` and call it with each backend's `Conn<DB>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection to `{DB}`",
    note = "orm-core's backends are `Sqlite`, `Pg` and `Mysql` (from `orm_core::diesel`)"
)]
pub trait Conn<DB: Backend>:
    diesel::Connection<Backend = DB>
    + diesel::connection::LoadConnection
    + crate::ConnKind<Kind = crate::Blocking>
    + 'static
{
}

impl<DB, C> Conn<DB> for C
where
    DB: Backend,
    C: diesel::Connection<Backend = DB>
        + diesel::connection::LoadConnection
        + crate::ConnKind<Kind = crate::Blocking>
        + 'static,
{
}

/// `conn` as the `SqliteConnection` it is or holds (an r2d2 pooled one),
/// for what diesel runs only there (a multi-row `INSERT .. RETURNING`).
#[cfg(feature = "sqlite")]
pub(crate) fn as_sqlite_connection<C: 'static>(
    conn: &mut C,
) -> Option<&mut diesel::SqliteConnection> {
    let conn: &mut dyn std::any::Any = conn;
    #[cfg(feature = "r2d2")]
    if conn
        .downcast_ref::<diesel::r2d2::PooledConnection<
            diesel::r2d2::ConnectionManager<diesel::SqliteConnection>,
        >>()
        .is_some()
    {
        return conn
            .downcast_mut::<diesel::r2d2::PooledConnection<
                diesel::r2d2::ConnectionManager<diesel::SqliteConnection>,
            >>()
            .map(|pooled| &mut **pooled);
    }
    conn.downcast_mut::<diesel::SqliteConnection>()
}

/// The `SyncConnectionWrapper` of diesel-async's SQLite behind `conn`, if
/// it is one (plain, or pooled by deadpool), for the statements diesel runs
/// on a `SqliteConnection` only (a multi-row `INSERT .. RETURNING`), which
/// the wrapper runs on its connection in a blocking task.
#[cfg(all(feature = "sqlite", feature = "async"))]
pub(crate) fn as_sqlite_wrapper<C: 'static>(
    conn: &mut C,
) -> Option<
    &mut diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>,
> {
    type Wrapper =
        diesel_async::sync_connection_wrapper::SyncConnectionWrapper<diesel::SqliteConnection>;
    let conn: &mut dyn std::any::Any = conn;
    #[cfg(feature = "deadpool")]
    {
        type Pooled = deadpool::managed::Object<
            diesel_async::pooled_connection::AsyncDieselConnectionManager<Wrapper>,
        >;
        if conn.is::<Pooled>() {
            return conn.downcast_mut::<Pooled>().map(|pooled| &mut **pooled);
        }
    }
    conn.downcast_mut::<Wrapper>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_binds_not_quoted_text() {
        assert_eq!(
            placeholders("SELECT $1, $12, $3 FROM t", Dialect::Postgres),
            12
        );
        assert_eq!(placeholders("SELECT 1", Dialect::Postgres), 0);
        assert_eq!(
            placeholders("SELECT ?, '?', \"a?\" FROM t WHERE x = ?", Dialect::Sqlite),
            2
        );
        assert_eq!(placeholders("SELECT `?`, ? FROM t", Dialect::Mysql), 1);
    }
}
