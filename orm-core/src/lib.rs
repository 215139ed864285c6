//! A derive-macro ORM with Sequelize-style associations, on top of diesel.
//!
//! The README follows: the attribute reference, every generated method,
//! and how they behave.
#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

pub mod assoc;
mod backend;
mod checked;
pub mod cli;
pub mod cluster;
mod drift;
pub mod exec;
mod instrument;
mod key;
mod key_columns;
mod migrate;
mod model;
pub mod nested;
mod page;
pub mod retry;
#[cfg(feature = "r2d2")]
pub mod router;
pub mod schema;
mod set;
mod write;

pub use assoc::has::NewWithKey;
pub use assoc::staged::{Changes, Pending};
pub use backend::{Conn, Dialect, OrmBackend};
pub use chrono;
pub use diesel;
/// diesel-async, whose connections and pools the generated methods take
/// with the `async` feature.
#[cfg(feature = "async")]
pub use diesel_async;
pub use drift::{Drift, ReadCatalog};
pub use exec::{Async, Blocking, ConnKind, Kind, Out};
#[cfg(feature = "tracing")]
pub use instrument::SqlTrace;
pub use instrument::{Instrumented, QueryLog};
pub use key::{AsKey, IntoKeys, Key};
pub use key_columns::{Cols, KeyColumns, KeyParts, RowEq, RowIn, RowNe};
pub use migrate::Migration;
pub use model::{
    field_hash, CreateMany, Crud, Field, ForeignKey, KeysQuery, Model, ModelQuery, NullableKey,
    SingleKey,
};
pub use model::{
    rows, BoxedQuery, ById, ByIds, ColumnsOf, CountOf, Exists, IdOf, InsertMany, InsertNew,
    InsertNews, InsertRows, KeyEq, KeyIn, PkOf, Returning, RowById, Rows, RowsByIds, TableOf,
    WithReturning,
};
pub use nested::include;
pub use orm_derive::{table, Model};
pub use page::{Counted, Lent, Limited, Page, Paginate, Paginated};
#[cfg(feature = "async")]
pub use retry::retry_async;
pub use retry::{is_retryable, retry, Retried, Retry};
#[cfg(feature = "r2d2")]
pub use router::{Routed, Router, Served};
pub use schema::{Schema, SchemaError};
pub use set::SetDiff;

/// `use orm_core::prelude::*;` brings the derive, the traits generated code
/// needs in scope, and diesel's prelude.
pub mod prelude {
    pub use crate::nested::{Include as _, Refine as _};
    pub use crate::{Key, Model, Paginate, Schema, SetDiff};
    pub use chrono::NaiveDateTime;
    pub use diesel::prelude::*;
    pub use diesel::result::QueryResult;
}

/// Connections to SQLite with foreign keys enforced.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, ConnectionResult, SqliteConnection};

    /// Opens `url` (a path, `:memory:` or a `file:` URI) and turns on
    /// foreign-key enforcement, which SQLite leaves off by default.
    pub fn open(url: &str) -> ConnectionResult<SqliteConnection> {
        let mut conn = SqliteConnection::establish(url)?;
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }

    /// A fresh in-memory database with foreign keys enforced.
    pub fn memory() -> ConnectionResult<SqliteConnection> {
        open(":memory:")
    }

    /// What [`pool`] runs on every connection it opens: foreign keys on,
    /// WAL mode (readers do not wait for the writer), and a busy timeout so
    /// that writers wait for each other instead of failing with
    /// "database is locked".
    #[cfg(feature = "r2d2")]
    #[derive(Debug, Clone, Copy)]
    pub struct Pragmas {
        /// How long a writer waits for another, in milliseconds.
        pub busy_timeout_ms: u32,
    }

    #[cfg(feature = "r2d2")]
    impl diesel::r2d2::CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
        fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
            conn.batch_execute(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL",
                self.busy_timeout_ms
            ))
            .map_err(diesel::r2d2::Error::QueryError)
        }
    }

    /// A pool of at most `size` connections to the database file `path`,
    /// each set up by [`Pragmas`] with a 5-second busy timeout. (An
    /// in-memory database is private to one connection, so a pool needs a
    /// file.)
    #[cfg(feature = "r2d2")]
    pub fn pool(
        path: &str,
        size: u32,
    ) -> Result<
        diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<SqliteConnection>>,
        diesel::r2d2::PoolError,
    > {
        diesel::r2d2::Pool::builder()
            .max_size(size)
            .connection_customizer(Box::new(Pragmas {
                busy_timeout_ms: 5000,
            }))
            .build(diesel::r2d2::ConnectionManager::new(path))
    }
}

/// Connections to PostgreSQL.
#[cfg(feature = "postgres")]
pub mod pg {
    use diesel::{Connection, ConnectionResult, PgConnection};

    /// Connects to `url` (`postgres://user@host/db`).
    pub fn connect(url: &str) -> ConnectionResult<PgConnection> {
        PgConnection::establish(url)
    }
}

/// The fallback of an association's gate: see `__private::not_a_model`.
#[doc(hidden)]
#[macro_export]
macro_rules! __orm_not_a_model {
    (@else { $($otherwise:tt)* } $($items:tt)*) => { $($otherwise)* };
}

/// The check of a gate's fallback where a model is named by a type alias:
/// see `__private::Probe`.
#[doc(hidden)]
#[macro_export]
macro_rules! __orm_named_by_alias {
    ($gate:ident) => {
        const _: () = {
            use $crate::__private::NotModel as _;
            ::core::assert!(
                !$crate::__private::Probe::<$gate>::IS_MODEL,
                "this names a model by a type alias, which hides its associations' macro: name the struct (or a `use` of it)",
            );
        };
    };
}

/// Items used by generated code. Not public API: they may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::assoc::belongs_to_many::{TargetsAt, TargetsQuery};
    pub use crate::assoc::has::{base, Base, ChildrenAt, ChildrenQuery};
    pub use crate::assoc::poly;
    pub use crate::assoc::related::ParentOf;
    pub use crate::assoc::scope::{
        assign, value, Assign, ErasedScope, NoScope, NoSet, Scope, ScopeCell, Scoped, Writable,
    };
    pub use crate::assoc::*;
    pub use crate::backend::CountBinds;
    pub use crate::checked::{Checked, Unchecked};
    pub use crate::schema::{
        Action, ColumnDef, ColumnDefault, ColumnType, Constraint, DdlType, JoinTableDef, Relation,
        TableDef,
    };
    pub use diesel::internal::table_macro::JoinOn;

    /// A foreign key `on_delete`/`on_update = "set_null"` can act on.
    #[diagnostic::on_unimplemented(
        message = "`set_null` needs a nullable foreign key, and this one is `{Self}`",
        label = "declared `on_delete`/`on_update = \"set_null\"` here",
        note = "make the foreign-key field an `Option<_>`, or choose another action"
    )]
    pub trait SetNullKey {}
    impl<T> SetNullKey for Option<T> {}

    /// Compiles only for a nullable key type (see [`SetNullKey`]).
    pub fn set_null_needs_nullable<T: SetNullKey>() {}
    pub use diesel;
    pub use orm_derive::__table_in as table_in;

    pub use crate::__orm_named_by_alias as named_by_alias;
    /// What an association's gate expands to when the name it was given has
    /// no model's macro (orm-derive's `expand::gate`): its `@else` part, and
    /// nothing of the association.
    pub use crate::__orm_not_a_model as not_a_model;

    /// The type an association's gate names where the name it was given has
    /// no type either (a typo, which the association's check reports).
    #[allow(non_camel_case_types)]
    pub struct not_a_model {}

    /// Whether `T` is a model, for the gate's fallback: a model there was
    /// named by something without its macro, a type alias
    /// (`Probe::<T>::IS_MODEL`: the inherent constant where `T: Model`, the
    /// trait's elsewhere).
    pub struct Probe<T: ?Sized>(core::marker::PhantomData<T>);
    /// The answer where `T` is not a model.
    pub trait NotModel {
        /// `false`.
        const IS_MODEL: bool = false;
    }
    impl<T: ?Sized> NotModel for Probe<T> {}
    impl<T: crate::Model> Probe<T> {
        /// `true`.
        pub const IS_MODEL: bool = true;
    }

    /// The SQL type of a generated join table's column that holds another
    /// model's key: that model's macro implements it (`@join_key`), and the
    /// gate's `@else` does when there is no such model, so the table module
    /// never names the other model.
    pub trait JoinKey {
        /// The key's SQL type.
        type SqlType;
    }

    /// The Rust type of that column, on a private marker of the declaring
    /// model's module (a private model's key named in an impl for a public
    /// column would be E0446).
    pub trait JoinKeyId {
        /// The key's Rust type.
        type Id;
    }

    /// Where an association names a model, the one check that it is one
    /// (what the association emits is inside that model's macro, so it is
    /// dropped, not checked again, when there is none).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a model",
        label = "add `#[derive(Model)]` to `{Self}`",
        note = "associations can only point at structs that derive `orm_core::Model`"
    )]
    pub trait IsModel {
        /// Named by the check, `<Tag as IsModel>::IS`.
        const IS: () = ();
    }
    #[diagnostic::do_not_recommend]
    impl<T: crate::Model> IsModel for T {}

    /// Where an association reads a column of another model (the key of a
    /// `has_many`, the keys of a join model), the one check that it has it;
    /// `H` is [`field_hash`](crate::field_hash) of the column's name.
    /// `N` is a unit struct the check declares under the column's name,
    /// for the message to say it.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` has no field `{N}`, which this association names",
        label = "`{N}` must be a field of `{Self}`",
        note = "name the field the association uses with `foreign_key = \"..\"` (for `has_one`/`has_many`, a field of the target model) or `other_key = \"..\"` (with `foreign_key`, the fields of the join model of `belongs_to_many .. through = Model`)"
    )]
    pub trait HasColumn<N, const H: u64> {
        /// Named by the check, `<Post as HasColumn<author_id, H>>::IS`.
        const IS: () = ();
    }
    #[diagnostic::do_not_recommend]
    impl<T: crate::Field<H>, N, const H: u64> HasColumn<N, H> for T {}

    /// Where an association goes through a join model, the one check that
    /// its primary key is the association's two key columns, named by their
    /// [`field_hash`](crate::field_hash)es.
    #[diagnostic::on_unimplemented(
        message = "the primary key of `{Self}` is not this association's two key columns",
        label = "a join model's primary key must be the `foreign_key` and `other_key` columns",
        note = "declare it with `#[model(primary_key(a_id, b_id))]` on the join model"
    )]
    pub trait IsJoinModel<const S: u64, const T: u64> {
        /// Named by the check, `<Rsvp as IsJoinModel<S, T>>::IS`.
        const IS: () = ();
    }
    #[diagnostic::do_not_recommend]
    impl<M: JoinKeys<S, T>, const S: u64, const T: u64> IsJoinModel<S, T> for M {}

    /// Where an association goes through a join model `J`, the one check
    /// that the key column holding `M`'s key (of type `Self`) has the type
    /// of that key, `K`. The association's impls convert through it (the
    /// identity) on the same tokens, so that a wrong type is this error
    /// alone.
    #[diagnostic::on_unimplemented(
        message = "`{J}` holds `{M}`'s key as `{Self}`, but `{M}`'s key is `{K}`",
        label = "the key columns of `{J}` must have the types of the keys they hold",
        note = "make the field of `{J}` holding `{M}`'s key a `{K}`"
    )]
    pub trait JoinKeyType<K, J, M>: Sized {
        /// Named by the check, `<i64 as JoinKeyType<i32, Rsvp, User>>::IS`.
        const IS: () = ();
        /// The key as the join model's field holds it.
        fn from_key(key: K) -> Self;
        /// The join model's field as the key.
        fn as_key(&self) -> &K;
    }
    impl<K, J, M> JoinKeyType<K, J, M> for K {
        fn from_key(key: K) -> K {
            key
        }
        fn as_key(&self) -> &K {
            self
        }
    }
    /// A model's key type, as [`JoinKeyType`]'s checks name it (an alias
    /// under `__private`, so that the user's spans they carry do not read
    /// as qualifications of a `Model` in scope).
    pub type KeyOf<M> = <M as crate::Model>::Id;
    /// The type of a model's field, named by its hash, as [`KeyOf`].
    pub type FieldOf<M, const H: u64> = <M as crate::Field<H>>::Value;
    pub use std::{borrow::Cow, option::Option, result::Result, vec::Vec};

    pub use crate::assoc::through::TargetAndJoin;

    /// The rows of `set_*_with`: every one of `targets` with `payload`, then
    /// every override with its own (a later row for a target wins).
    pub fn with_overrides<T: crate::Model, P: Clone>(
        targets: Vec<T::Id>,
        payload: P,
        overrides: &[(crate::Key<T>, P)],
    ) -> Vec<(T::Id, P)> {
        let mut rows: Vec<_> = targets.into_iter().map(|t| (t, payload.clone())).collect();
        rows.extend(overrides.iter().map(|(k, p)| (k.id().clone(), p.clone())));
        rows
    }

    /// The time `created_at`/`updated_at` are set to: now in UTC, to the
    /// microsecond (what PostgreSQL stores, so a row reads back equal).
    pub fn now() -> chrono::NaiveDateTime {
        use chrono::{SubsecRound, Utc};
        Utc::now().naive_utc().trunc_subsecs(6)
    }

    /// The keys of `items`.
    pub fn ids<M: crate::Model>(items: &[M]) -> Vec<M::Id> {
        items.iter().map(M::id).collect()
    }

    /// The key columns of a generated join table, for [`check_join_keys`].
    pub trait JoinTableKeys {
        /// The two key columns, in the table's order.
        const KEYS: [&'static str; 2];
        /// Whether the table has `created_at`/`updated_at`.
        const TIMESTAMPS: bool;
    }

    const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Fails compilation when the join table `T` that is in scope was
    /// declared by the other side with different key columns or timestamps.
    pub const fn check_join_keys<T: JoinTableKeys>(keys: [&str; 2], timestamps: bool) {
        if !(str_eq(T::KEYS[0], keys[0]) && str_eq(T::KEYS[1], keys[1])) {
            panic!(
                "the two sides of this `belongs_to_many` disagree on the join table's key columns: \
                 one side's `other_key` must be the other side's `foreign_key`"
            );
        }
        if T::TIMESTAMPS != timestamps {
            panic!("only one side of this `belongs_to_many` gives `timestamps`: give it on both");
        }
    }
}
