//! Integer reads that fail instead of wrapping.
//!
//! SQLite stores up to 64 bits in any INTEGER column, and diesel reads an
//! `Integer` into an `i32` with `sqlite3_value_int`, which keeps the low 32
//! bits: 2^31 reads back as -2147483648. A model's `i16`/`i32` fields are
//! read through [`Checked`] instead, so an out-of-range value is an `Err`.
//! (The tables `Schema` creates on SQLite also refuse such values with a
//! CHECK, so they only arrive from tables created otherwise.)

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::sql_types::{Integer, SingleValue, SmallInt};

/// An `i16` or `i32` read from the database, checked against its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked<T>(pub T);

/// What diesel's `#[derive(FromSqlRow)]` writes: a single value loads
/// through its `FromSql`.
impl<T, ST, DB> Queryable<ST, DB> for Checked<T>
where
    DB: Backend,
    ST: SingleValue,
    Self: FromSql<ST, DB>,
{
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl<T> Checked<T> {
    /// The value read.
    pub fn get(self) -> T {
        self.0
    }
}

/// `Checked<T>` and `Option<Checked<T>>` as the field type they stand for.
pub trait Unchecked {
    /// The field's type (`i32`, `Option<i32>`).
    type Field;
    /// The value read.
    fn unchecked(self) -> Self::Field;
}

impl<T> Unchecked for Checked<T> {
    type Field = T;
    fn unchecked(self) -> T {
        self.0
    }
}

impl<T> Unchecked for Option<Checked<T>> {
    type Field = Option<T>;
    fn unchecked(self) -> Option<T> {
        self.map(Checked::get)
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use diesel::sql_types::BigInt;
    use diesel::sqlite::Sqlite;

    fn in_range<T: TryFrom<i64>>(
        value: <Sqlite as Backend>::RawValue<'_>,
        column: &str,
    ) -> deserialize::Result<Checked<T>> {
        let wide = <i64 as FromSql<BigInt, Sqlite>>::from_sql(value)?;
        T::try_from(wide).map(Checked).map_err(|_| {
            format!(
                "{wide} is out of range for the {} of {column} column",
                std::any::type_name::<T>()
            )
            .into()
        })
    }

    impl FromSql<Integer, Sqlite> for Checked<i32> {
        fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
            in_range(value, "an INTEGER")
        }
    }

    impl FromSql<SmallInt, Sqlite> for Checked<i16> {
        fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
            in_range(value, "a SMALLINT")
        }
    }
}

/// Backends whose integer columns hold exactly their type: diesel's own
/// reads are already checked there.
macro_rules! exact {
    ($($backend:ty: $feature:literal),*) => {$(
        #[cfg(feature = $feature)]
        impl FromSql<Integer, $backend> for Checked<i32> {
            fn from_sql(value: <$backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i32 as FromSql<Integer, $backend>>::from_sql(value).map(Checked)
            }
        }

        #[cfg(feature = $feature)]
        impl FromSql<SmallInt, $backend> for Checked<i16> {
            fn from_sql(value: <$backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i16 as FromSql<SmallInt, $backend>>::from_sql(value).map(Checked)
            }
        }
    )*};
}
exact!(diesel::pg::Pg: "postgres", diesel::mysql::Mysql: "mysql");
