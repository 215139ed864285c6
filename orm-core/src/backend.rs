//! What orm-core needs to know about each diesel backend.

use diesel::backend::Backend;

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
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for diesel::pg::Pg {}
#[cfg(feature = "postgres")]
impl OrmBackend for diesel::pg::Pg {
    const DIALECT: Dialect = Dialect::Postgres;
    // The wire protocol counts parameters in an i16.
    const MAX_BIND_PARAMS: usize = 65_535;
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for diesel::mysql::Mysql {}
#[cfg(feature = "mysql")]
impl OrmBackend for diesel::mysql::Mysql {
    const DIALECT: Dialect = Dialect::Mysql;
    // The protocol counts parameters in a u16.
    const MAX_BIND_PARAMS: usize = 65_535;
}

/// How many items of `params_per_item` bound parameters fit in one statement
/// on `DB`, leaving room for `extra` other parameters.
pub(crate) fn chunk_size<DB: OrmBackend>(params_per_item: usize, extra: usize) -> usize {
    ((DB::MAX_BIND_PARAMS - extra) / params_per_item).max(1)
}
