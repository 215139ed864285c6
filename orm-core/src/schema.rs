//! Table definitions the derive records, and the DDL built from them.
//!
//! Every `#[derive(Model)]` records its columns in [`Model::TABLE`] and the
//! foreign keys and join tables of its associations in [`Model::RELATIONS`].
//! [`Schema`] gathers them for a set of models and renders `CREATE TABLE`
//! statements in dependency order for one [`Dialect`].

use std::collections::BTreeSet;

use diesel::query_builder::SqlQuery;
use diesel::{sql_query, sql_types};

use crate::backend::{Dialect, OrmBackend};
use crate::exec::{self, transaction, ConnKind, Execute, OnBackend, Transact};
use crate::model::Model;

/// The column types orm-core can write DDL for and compare with a
/// database's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `SmallInt` (`i16`)
    SmallInt,
    /// `Integer` (`i32`)
    Integer,
    /// `BigInt` (`i64`)
    BigInt,
    /// `Float` (`f32`)
    Float,
    /// `Double` (`f64`)
    Double,
    /// `Bool` (`bool`)
    Bool,
    /// `Text`, and `Varchar`, which diesel spells the same (`String`)
    Text,
    /// `Binary` (`Vec<u8>`)
    Binary,
    /// `Timestamp` (`chrono::NaiveDateTime`)
    Timestamp,
    /// `Timestamptz` on PostgreSQL, `TimestamptzSqlite` on SQLite
    /// (`chrono::DateTime<Utc>`)
    TimestampTz,
    /// `Date` (`chrono::NaiveDate`)
    Date,
    /// `Time` (`chrono::NaiveTime`)
    Time,
    /// `Numeric` (`bigdecimal::BigDecimal`, orm-core feature `numeric`)
    Numeric,
    /// `Uuid` (`uuid::Uuid`, feature `uuid`); PostgreSQL only
    Uuid,
    /// `Json` (`serde_json::Value`, feature `serde_json`)
    Json,
    /// `Jsonb` (`serde_json::Value`, feature `serde_json`); PostgreSQL only
    Jsonb,
    /// `Array<T>` (`Vec<T>`); PostgreSQL only
    Array(&'static ColumnType),
    /// `Inet` (`ipnet::IpNet`, feature `ipnet`); PostgreSQL only
    Inet,
    /// `Cidr` (`ipnet::IpNet`, feature `ipnet`); PostgreSQL only
    Cidr,
    /// `MacAddr` (`[u8; 6]`); PostgreSQL only
    MacAddr,
    /// A type of the application's own, such as a PostgreSQL enum (see
    /// [`DdlType`]).
    Custom(&'static CustomType),
}

/// A column type of the application's own: how each backend spells it in
/// DDL, and how PostgreSQL's and MySQL's catalogs name it
/// (`information_schema.columns.data_type`) for [`Schema::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomType {
    /// In SQLite's DDL (`TEXT`).
    pub sqlite: &'static str,
    /// In PostgreSQL's DDL (`mood`, a type created by a migration).
    pub postgres: &'static str,
    /// In MySQL's DDL (`ENUM('sad', 'happy')`).
    pub mysql: &'static str,
    /// What PostgreSQL's catalog says (`USER-DEFINED` for an enum).
    pub postgres_catalog: &'static str,
    /// What MySQL's catalog says (`enum`).
    pub mysql_catalog: &'static str,
}

impl ColumnType {
    pub(crate) fn sql(self, dialect: Dialect) -> String {
        use ColumnType::*;
        let name = match (self, dialect) {
            (SmallInt, _) => "SMALLINT",
            (Integer, _) => "INTEGER",
            (BigInt, _) => "BIGINT",
            (Float, Dialect::Mysql) => "FLOAT",
            (Float, _) => "REAL",
            (Double, Dialect::Sqlite | Dialect::Mysql) => "DOUBLE",
            (Double, Dialect::Postgres) => "DOUBLE PRECISION",
            (Bool, _) => "BOOLEAN",
            (Text, _) => "TEXT",
            (Binary, Dialect::Sqlite | Dialect::Mysql) => "BLOB",
            (Binary, Dialect::Postgres) => "BYTEA",
            (Timestamp, Dialect::Mysql) => "DATETIME(6)",
            (Timestamp, _) => "TIMESTAMP",
            (TimestampTz, Dialect::Postgres) => "TIMESTAMPTZ",
            (TimestampTz, Dialect::Mysql) => "DATETIME(6)",
            (TimestampTz, Dialect::Sqlite) => "TIMESTAMP",
            (Date, _) => "DATE",
            (Time, Dialect::Mysql) => "TIME(6)",
            (Time, _) => "TIME",
            (Numeric, _) => "NUMERIC",
            (Uuid, Dialect::Postgres) => "UUID",
            (Uuid, Dialect::Mysql) => "BINARY(16)",
            (Uuid, Dialect::Sqlite) => "BLOB",
            (Json, Dialect::Postgres) => "JSON",
            (Json | Jsonb, Dialect::Mysql) => "JSON",
            (Json | Jsonb, Dialect::Sqlite) => "TEXT",
            (Jsonb, Dialect::Postgres) => "JSONB",
            (Array(inner), Dialect::Postgres) => return format!("{}[]", inner.sql(dialect)),
            (Array(_), _) => "TEXT",
            (Inet, Dialect::Postgres) => "INET",
            (Cidr, Dialect::Postgres) => "CIDR",
            (MacAddr, Dialect::Postgres) => "MACADDR",
            (Inet | Cidr | MacAddr, _) => "TEXT",
            (Custom(custom), Dialect::Sqlite) => custom.sqlite,
            (Custom(custom), Dialect::Postgres) => custom.postgres,
            (Custom(custom), Dialect::Mysql) => custom.mysql,
        };
        name.to_string()
    }
}

/// A diesel SQL type orm-core can write DDL for and compare with a
/// catalog.
///
/// orm-core implements it for diesel's SQL types. For a SQL type of the
/// application's own (a `#[derive(SqlType)]` struct, such as a PostgreSQL
/// enum), implement it with a [`ColumnType::Custom`]:
///
/// ```
/// use orm_core::diesel; // diesel's derives name `diesel::..`
/// use orm_core::schema::{ColumnType, CustomType, DdlType};
///
/// #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
/// #[diesel(postgres_type(name = "mood"))]
/// pub struct Mood;
///
/// impl DdlType for Mood {
///     const TYPE: ColumnType = ColumnType::Custom(&CustomType {
///         sqlite: "TEXT",
///         postgres: "mood",
///         mysql: "ENUM('sad', 'happy')",
///         postgres_catalog: "USER-DEFINED",
///         mysql_catalog: "enum",
///     });
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "orm-core cannot create a column of SQL type `{Self}`",
    label = "this field's SQL type",
    note = "supported: diesel's SmallInt, Integer, BigInt, Float, Double, Bool, Text/Varchar, Binary, Timestamp, Date, Time, Numeric, Json, and on PostgreSQL Timestamptz, Uuid, Jsonb, Array<T>, Inet, Cidr, MacAddr; Nullable of each",
    note = "for a SQL type of your own, implement `orm_core::schema::DdlType` for it"
)]
pub trait DdlType {
    /// The column type.
    const TYPE: ColumnType;
    /// Whether the column accepts NULL.
    const NULLABLE: bool = false;
}

macro_rules! ddl_types {
    ($($st:ident => $ct:ident),*) => {$(
        impl DdlType for sql_types::$st { const TYPE: ColumnType = ColumnType::$ct; }
    )*};
}
ddl_types!(SmallInt => SmallInt, Integer => Integer, BigInt => BigInt, Float => Float,
    Double => Double, Bool => Bool, Text => Text, Binary => Binary, Timestamp => Timestamp,
    Date => Date, Time => Time, Numeric => Numeric, Json => Json);

#[cfg(feature = "postgres")]
ddl_types!(Timestamptz => TimestampTz, Uuid => Uuid, Jsonb => Jsonb, Inet => Inet, Cidr => Cidr,
    MacAddr => MacAddr);

#[cfg(feature = "sqlite")]
ddl_types!(TimestamptzSqlite => TimestampTz);

#[cfg(feature = "postgres")]
impl<T: DdlType + sql_types::SqlType> DdlType for sql_types::Array<T> {
    const TYPE: ColumnType = ColumnType::Array(&T::TYPE);
}

impl<T: DdlType + sql_types::SqlType> DdlType for sql_types::Nullable<T> {
    const TYPE: ColumnType = T::TYPE;
    const NULLABLE: bool = true;
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    /// The column name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Whether the database assigns its value (an integer primary key).
    pub auto_increment: bool,
    /// What the database puts in it when an insert leaves it out.
    pub default: ColumnDefault,
}

/// What the database puts in a column an insert leaves out, as the model
/// declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnDefault {
    /// Nothing: every insert gives a value (a field without `default`).
    None,
    /// The current time, in UTC (`created_at`/`updated_at` of timestamps).
    Now,
    /// `DEFAULT <expression>`, as `#[model(default = "0")]` spells it.
    Expr(&'static str),
    /// A default the database has but the model does not spell
    /// (`#[model(default)]`): checked to exist, but [`Schema::sql`] cannot
    /// write it.
    Exists,
    /// Not the model's to say: a `read_only` column (generated, or kept by
    /// a trigger) or one only a `table!` declares. Never compared.
    Unchecked,
}

impl ColumnDef {
    /// The `created_at`/`updated_at` columns of a join table with timestamps.
    const TIMESTAMPS: [ColumnDef; 2] = [
        ColumnDef::timestamp("created_at"),
        ColumnDef::timestamp("updated_at"),
    ];

    const fn timestamp(name: &'static str) -> Self {
        ColumnDef {
            name,
            ty: ColumnType::Timestamp,
            nullable: false,
            auto_increment: false,
            default: ColumnDefault::Now,
        }
    }
}

/// One table: its name, columns and primary key.
#[derive(Debug)]
pub struct TableDef {
    /// The table name.
    pub name: &'static str,
    /// The columns in declaration order.
    pub columns: &'static [ColumnDef],
    /// The primary-key columns.
    pub primary_key: &'static [&'static str],
}

impl TableDef {
    fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A referential action of a foreign key (`on_delete = "restrict"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `CASCADE`: delete (or update) the referencing rows too.
    Cascade,
    /// `SET NULL`: set the key of the referencing rows to NULL.
    SetNull,
    /// `RESTRICT`: refuse the change while rows reference it.
    Restrict,
    /// `NO ACTION`: refuse the change at the end of the statement.
    NoAction,
    /// `SET DEFAULT`: set the key of the referencing rows to its default.
    SetDefault,
}

impl Action {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::Restrict => "RESTRICT",
            Action::NoAction => "NO ACTION",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// How one foreign key is declared: its actions (`None`: the default) and
/// whether a FOREIGN KEY constraint is created at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint {
    /// `ON DELETE`; default SET NULL for a nullable key, CASCADE otherwise.
    pub on_delete: Option<Action>,
    /// `ON UPDATE`; default CASCADE.
    pub on_update: Option<Action>,
    /// Whether the FOREIGN KEY is created (`constraints = false`: only the
    /// column and its index).
    pub enforced: bool,
}

impl Constraint {
    /// The defaults: enforced, with the default actions.
    pub const DEFAULT: Constraint = Constraint {
        on_delete: None,
        on_update: None,
        enforced: true,
    };

    /// `self`, with what `other` declares where `self` keeps a default.
    fn or(self, other: Constraint) -> Constraint {
        Constraint {
            on_delete: self.on_delete.or(other.on_delete),
            on_update: self.on_update.or(other.on_update),
            enforced: self.enforced && other.enforced,
        }
    }
}

/// A join table generated for `belongs_to_many(.., through = "...")`.
#[derive(Debug)]
pub struct JoinTableDef {
    /// The table name.
    pub name: &'static str,
    /// The two key columns, each referencing a model table's primary key,
    /// with how the declaring side constrains it; together they are the
    /// primary key.
    pub keys: [(&'static str, &'static TableDef, Constraint); 2],
    /// Whether rows carry `created_at`/`updated_at`, set by the database.
    pub timestamps: bool,
    /// Whether it is the project's own `table!` (`through = schema::rsvps`),
    /// whose key columns may come in either order.
    pub existing: bool,
}

/// What an association contributes to the schema.
#[derive(Debug)]
pub enum Relation {
    /// `table.columns` reference the primary key of `references`.
    ForeignKey {
        /// The table holding the key column.
        table: &'static TableDef,
        /// The key column, or the columns of a multi-column key in the
        /// order of the referenced primary key's.
        columns: &'static [&'static str],
        /// The referenced table.
        references: &'static TableDef,
        /// Its actions and whether it is enforced.
        constraint: Constraint,
        /// Whether at most one row may hold each key (a `has_one`).
        unique: bool,
    },
    /// A join table.
    JoinTable(&'static JoinTableDef),
    /// An exclusive arc: exactly one of `columns` of `table` is set (a
    /// `CHECK`), each a key of its own table.
    ExclusiveArc {
        /// The table holding the key columns.
        table: &'static TableDef,
        /// The key columns, one per model the row may point at.
        columns: &'static [&'static str],
    },
}

pub(crate) struct Fk {
    pub(crate) column: &'static str,
    /// The columns of a multi-column key `column` is one of (empty for a
    /// key of one column): one constraint, written with its first column.
    pub(crate) group: &'static [&'static str],
    pub(crate) references: &'static TableDef,
    /// Whether the column accepts NULL, for the default ON DELETE.
    nullable: bool,
    pub(crate) constraint: Constraint,
    /// A `has_one` key: its index is UNIQUE.
    pub(crate) unique: bool,
    /// A key of an exclusive arc, which its CHECK holds to "exactly one
    /// set": `SET NULL` would break it, so deleting the parent deletes the
    /// row; MySQL and MariaDB refuse any referential action on a column a
    /// CHECK names, so there the parent's delete is refused while rows point
    /// at it.
    pub(crate) arc: bool,
    /// Another table an association declares this column a key of (a
    /// polymorphic key declared without `constraints = false`).
    pub(crate) also_references: Option<&'static str>,
}

impl Fk {
    /// The key's columns: `column`, or its group.
    pub(crate) fn columns(&self) -> &[&'static str] {
        if self.group.is_empty() {
            std::slice::from_ref(&self.column)
        } else {
            self.group
        }
    }

    /// Whether this column writes the key's constraint and index: one
    /// column of a multi-column key does, the first.
    pub(crate) fn leads(&self) -> bool {
        self.group.first().is_none_or(|first| *first == self.column)
    }

    pub(crate) fn on_delete(&self, dialect: Dialect) -> Action {
        let default = match (self.arc, dialect) {
            (true, Dialect::Mysql) => Action::Restrict,
            (true, _) => Action::Cascade,
            (false, _) if self.nullable => Action::SetNull,
            (false, _) => Action::Cascade,
        };
        self.constraint.on_delete.unwrap_or(default)
    }

    pub(crate) fn on_update(&self, dialect: Dialect) -> Action {
        let default = if self.arc && dialect == Dialect::Mysql {
            Action::Restrict
        } else {
            Action::Cascade
        };
        self.constraint.on_update.unwrap_or(default)
    }
}

/// A table as `Schema` will create it.
pub(crate) struct Planned {
    pub(crate) name: &'static str,
    pub(crate) columns: Vec<ColumnDef>,
    pub(crate) primary_key: Vec<&'static str>,
    pub(crate) fks: Vec<Fk>,
    /// The project's own join table: its key's column order is its own.
    pub(crate) key_in_any_order: bool,
    /// Exclusive arcs: of each, exactly one column is set.
    pub(crate) arcs: Vec<&'static [&'static str]>,
}

impl Planned {
    pub(crate) fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `column` is in the primary key or is a foreign key: indexed.
    pub(crate) fn is_key(&self, column: &str) -> bool {
        self.primary_key.contains(&column) || self.fks.iter().any(|fk| fk.column == column)
    }

    /// The SQL type of `column`: MySQL cannot index a TEXT column without
    /// a prefix length, so key text columns are `VARCHAR(255)` there.
    pub(crate) fn column_type(&self, column: &ColumnDef, dialect: Dialect) -> String {
        match (column.ty, dialect) {
            (ColumnType::Text, Dialect::Mysql) if self.is_key(column.name) => "VARCHAR(255)".into(),
            (ty, dialect) => ty.sql(dialect),
        }
    }
}

/// The tables of a set of models and their join tables.
///
/// ```
/// # use orm_core::prelude::*;
/// # #[derive(Model, Debug, Clone, PartialEq)]
/// # pub struct User { pub id: i32, pub name: String }
/// let mut conn = orm_core::sqlite::memory().unwrap();
/// Schema::new().model::<User>().create_all(&mut conn).unwrap();
/// assert_eq!(User::count(&mut conn).unwrap(), 0);
/// ```
#[derive(Default)]
pub struct Schema {
    tables: Vec<&'static TableDef>,
    relations: Vec<&'static Relation>,
    /// Per table, every column its `table!` declares (see `full_table`).
    table_columns: Vec<(&'static str, Vec<ColumnDef>)>,
    /// Every foreign key as if declared `constraints = false`.
    without_foreign_keys: bool,
}

/// The columns of a diesel `table!` (its `AllColumns` tuple), for
/// [`Schema::full_table`]: implemented for tuples of up to 32 columns
/// whose SQL types implement [`DdlType`].
pub trait TableColumns {
    /// Each column's name, type and nullability, in the `table!`'s order.
    fn column_defs() -> Vec<ColumnDef>;
}

macro_rules! table_columns {
    ($($c:ident)+) => {
        impl<$($c),+> TableColumns for ($($c,)+)
        where
            $($c: diesel::Column, <$c as diesel::Expression>::SqlType: DdlType,)+
        {
            fn column_defs() -> Vec<ColumnDef> {
                vec![$(ColumnDef {
                    name: $c::NAME,
                    ty: <<$c as diesel::Expression>::SqlType as DdlType>::TYPE,
                    nullable: <<$c as diesel::Expression>::SqlType as DdlType>::NULLABLE,
                    auto_increment: false,
                    default: ColumnDefault::Unchecked,
                }),+]
            }
        }
    };
}

macro_rules! table_columns_up_to {
    ($first:ident $($rest:ident)*) => {
        table_columns!($first $($rest)*);
        table_columns_up_to!($($rest)*);
    };
    () => {};
}
table_columns_up_to!(
    C32 C31 C30 C29 C28 C27 C26 C25 C24 C23 C22 C21 C20 C19 C18 C17
    C16 C15 C14 C13 C12 C11 C10 C9 C8 C7 C6 C5 C4 C3 C2 C1
);

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every foreign key as if its association said `constraints = false`:
    /// the key columns and their indexes, no `FOREIGN KEY`, and a check
    /// that expects none. For engines that have no foreign keys or refuse
    /// them across shards (Vitess, PlanetScale): there a missing parent and
    /// `ON DELETE` are the application's to handle (see the README's
    /// portability rules).
    pub fn without_foreign_keys(mut self) -> Self {
        self.without_foreign_keys = true;
        self
    }

    /// Adds the table of `M` and the foreign keys and join tables its
    /// associations declare.
    pub fn model<M: Model>(mut self) -> Self {
        if !self.tables.iter().any(|t| t.name == M::TABLE.name) {
            self.tables.push(M::TABLE);
        }
        self.relations.extend(M::RELATIONS.iter());
        self
    }

    /// Adds the lock table of [`cluster::certify_locks`](crate::cluster::certify_locks),
    /// `orm_locks`, which parent locks on a multi-primary cluster write.
    pub fn lock_table(mut self) -> Self {
        if !self
            .tables
            .iter()
            .any(|t| t.name == crate::cluster::LOCK_TABLE.name)
        {
            self.tables.push(&crate::cluster::LOCK_TABLE);
        }
        self
    }

    /// Adds `M` as [`model`](Self::model) does, with every column of the
    /// `table!` it reads from, not only those its struct has: for a struct
    /// over an existing table that leaves columns out (a search vector a
    /// trigger keeps, a counter), so that [`check`](Self::check) does not
    /// report them as undeclared and [`sql`](Self::sql) creates them. A
    /// column the struct leaves out is created as its `table!` types it,
    /// and its default is not checked.
    pub fn full_table<M: Model>(mut self) -> Self
    where
        <M::Table as diesel::Table>::AllColumns: TableColumns,
    {
        self = self.model::<M>();
        let columns = <<M::Table as diesel::Table>::AllColumns as TableColumns>::column_defs();
        self.table_columns.push((M::TABLE.name, columns));
        self
    }

    /// The columns of `table`: its model's, or with `full_table` those of
    /// its `table!`, in the `table!`'s order, each as the model declares it
    /// where the struct has it.
    fn columns(&self, table: &TableDef) -> Vec<ColumnDef> {
        let Some((_, all)) = self.table_columns.iter().find(|(t, _)| *t == table.name) else {
            return table.columns.to_vec();
        };
        all.iter()
            .map(|c| *table.column(c.name).unwrap_or(c))
            .collect()
    }

    pub(crate) fn plan(&self) -> Vec<Planned> {
        let mut planned: Vec<Planned> = self
            .tables
            .iter()
            .map(|t| Planned {
                name: t.name,
                columns: self.columns(t),
                primary_key: t.primary_key.to_vec(),
                fks: Vec::new(),
                key_in_any_order: false,
                arcs: Vec::new(),
            })
            .collect();
        for relation in &self.relations {
            match relation {
                Relation::ForeignKey {
                    table,
                    columns,
                    references,
                    constraint,
                    unique,
                } => {
                    let Some(p) = planned.iter_mut().find(|p| p.name == table.name) else {
                        continue;
                    };
                    let group: &'static [&'static str] =
                        if columns.len() > 1 { columns } else { &[] };
                    for column in columns.iter() {
                        let nullable = table.column(column).is_some_and(|c| c.nullable);
                        // Declared by both sides: what either says beats a default.
                        match p.fks.iter_mut().find(|fk| fk.column == *column) {
                            Some(fk) => {
                                fk.constraint = fk.constraint.or(*constraint);
                                fk.unique |= *unique;
                                if fk.references.name != references.name {
                                    fk.also_references = Some(references.name);
                                }
                            }
                            None => p.fks.push(Fk {
                                column,
                                group,
                                references,
                                nullable,
                                constraint: *constraint,
                                unique: *unique,
                                arc: false,
                                also_references: None,
                            }),
                        }
                    }
                }
                Relation::JoinTable(join) => {
                    if let Some(p) = planned.iter_mut().find(|p| p.name == join.name) {
                        for (column, _, constraint) in &join.keys {
                            if let Some(fk) = p.fks.iter_mut().find(|fk| fk.column == *column) {
                                fk.constraint = fk.constraint.or(*constraint);
                            }
                        }
                        continue;
                    }
                    let mut columns: Vec<ColumnDef> = join
                        .keys
                        .iter()
                        .map(|(column, references, _)| ColumnDef {
                            name: column,
                            ty: pk_type(references),
                            nullable: false,
                            auto_increment: false,
                            default: ColumnDefault::None,
                        })
                        .collect();
                    if join.timestamps {
                        columns.extend(ColumnDef::TIMESTAMPS);
                    }
                    let fks = join
                        .keys
                        .iter()
                        .map(|(column, references, constraint)| Fk {
                            column,
                            group: &[],
                            references,
                            nullable: false,
                            constraint: *constraint,
                            unique: false,
                            arc: false,
                            also_references: None,
                        })
                        .collect();
                    planned.push(Planned {
                        name: join.name,
                        columns,
                        primary_key: join.keys.iter().map(|k| k.0).collect(),
                        fks,
                        key_in_any_order: join.existing,
                        arcs: Vec::new(),
                    });
                }
                Relation::ExclusiveArc { table, columns } => {
                    if let Some(p) = planned.iter_mut().find(|p| p.name == table.name) {
                        if !p.arcs.contains(columns) {
                            p.arcs.push(columns);
                        }
                    }
                }
            }
        }
        for p in &mut planned {
            for fk in &mut p.fks {
                fk.arc = p.arcs.iter().any(|arc| arc.contains(&fk.column));
                fk.constraint.enforced &= !self.without_foreign_keys;
            }
        }
        order_by_dependencies(planned)
    }

    /// The DDL statements for `dialect`, parents before the tables that
    /// reference them. `Err` if a declaration cannot be rendered as declared
    /// in `dialect`: a `default` field without its expression, or
    /// `set_default` on MySQL/MariaDB, whose InnoDB rejects it or, on
    /// MariaDB, silently turns it into `RESTRICT`.
    pub fn sql(&self, dialect: Dialect) -> Result<Vec<String>, SchemaError> {
        let plan = self.plan();
        validate(&plan, dialect)?;
        let mut statements = Vec::new();
        for table in plan {
            statements.push(create_table(&table, table.name, dialect));
            statements.extend(indexes(&table, dialect));
        }
        Ok(statements)
    }

    /// Writes the schema as a diesel migration for `dialect`: a directory
    /// `<version>_<name>` under `dir` (the version is the current UTC time,
    /// as `diesel migration generate` names them) with `up.sql` (the
    /// [`sql`](Self::sql) statements) and `down.sql` (the tables dropped in
    /// reverse order). Run it with `diesel migration run` or
    /// `diesel_migrations`. Returns the directory.
    pub fn write_migration(
        &self,
        dir: impl AsRef<std::path::Path>,
        name: &str,
        dialect: Dialect,
    ) -> std::io::Result<std::path::PathBuf> {
        let path = migration_dir(dir.as_ref(), name);
        let mut up = self
            .sql(dialect)
            .map_err(std::io::Error::other)?
            .join(";\n\n");
        std::fs::create_dir_all(&path)?;
        up.push_str(";\n");
        let down: Vec<String> = self
            .plan()
            .iter()
            .rev()
            .map(|t| format!("DROP TABLE {};\n", quote(t.name, dialect)))
            .collect();
        std::fs::write(path.join("up.sql"), up)?;
        std::fs::write(path.join("down.sql"), down.concat())?;
        Ok(path)
    }

    /// Creates every table in one transaction; with no models, does
    /// nothing. On an async connection it returns a future:
    /// `schema.create_all(&mut conn).await`.
    pub fn create_all<'c, C, K>(&'c self, conn: &'c mut C) -> K::Out<'c, ()>
    where
        C: CreateTables<K>,
        K: exec::Kind,
    {
        K::run(async move {
            let statements = self.sql(C::DIALECT)?;
            if statements.is_empty() {
                return Ok(());
            }
            C::create(conn, statements).await
        })
    }
}

/// A connection [`Schema::create_all`] runs on, of kind `K`: every
/// connection, blocking or async, of a backend orm-core supports.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection orm-core knows",
    label = "pass a `&mut` diesel or diesel-async connection",
    note = "a pool is not a connection: pass `&mut pool.get()?` (`&mut pool.get().await?` for an async pool)",
    note = "diesel-async's connections need orm-core's `async` feature"
)]
pub trait CreateTables<K>: Send + Sized {
    /// The connection's SQL dialect.
    #[doc(hidden)]
    const DIALECT: Dialect;
    /// Runs `statements` in one transaction.
    #[doc(hidden)]
    fn create(
        conn: &mut Self,
        statements: Vec<String>,
    ) -> impl std::future::Future<Output = diesel::QueryResult<()>> + Send + '_;
}

#[diagnostic::do_not_recommend]
impl<C, K> CreateTables<K> for C
where
    C: ConnKind<Kind = K> + Transact<K>,
    K: exec::Kind,
    SqlQuery: Execute<C, K>,
{
    const DIALECT: Dialect = <<C as OnBackend<K>>::Backend as OrmBackend>::DIALECT;
    async fn create(conn: &mut C, statements: Vec<String>) -> diesel::QueryResult<()> {
        transaction!(conn, {
            for statement in statements {
                sql_query(statement).execute(conn).await?;
            }
            Ok(())
        })
    }
}

/// A schema that cannot be created as declared in a dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError(String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SchemaError {}

/// So that `schema.sql(dialect)?` works in a function returning
/// `QueryResult`.
impl From<SchemaError> for diesel::result::Error {
    fn from(e: SchemaError) -> Self {
        diesel::result::Error::QueryBuilderError(Box::new(e))
    }
}

fn pk_type(table: &TableDef) -> ColumnType {
    table
        .primary_key
        .first()
        .and_then(|pk| table.column(pk))
        .map_or(ColumnType::Integer, |c| c.ty)
}

/// `dir/<version>_<name>`, the version the current UTC time as `diesel
/// migration generate` writes it, a second later than any migration
/// already in `dir` so that two written in one second keep their order.
pub(crate) fn migration_dir(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let latest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let version = file.get(..17)?;
            chrono::NaiveDateTime::parse_from_str(version, "%Y-%m-%d-%H%M%S").ok()
        })
        .max();
    let now = chrono::Utc::now().naive_utc();
    let at = match latest {
        Some(latest) if latest >= now - chrono::Duration::milliseconds(999) => {
            latest + chrono::Duration::seconds(1)
        }
        _ => now,
    };
    dir.join(format!("{}_{name}", at.format("%Y-%m-%d-%H%M%S")))
}

pub(crate) fn quote(identifier: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", identifier.replace('`', "``")),
        Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", identifier.replace('"', "\"\"")),
    }
}

/// `Err` for a declaration `dialect` cannot render (see [`Schema::sql`]).
pub(crate) fn validate(plan: &[Planned], dialect: Dialect) -> Result<(), SchemaError> {
    for table in plan {
        spelled(table, &table.columns)?;
        one_table_per_key(table)?;
    }
    validate_actions(plan, dialect)
}

/// `Err` for a key column two associations declare a FOREIGN KEY to two
/// tables (a polymorphic key: one column cannot reference both).
fn one_table_per_key(table: &Planned) -> Result<(), SchemaError> {
    let conflict = table
        .fks
        .iter()
        .find(|fk| fk.constraint.enforced && fk.also_references.is_some());
    match conflict {
        Some(fk) => Err(SchemaError(format!(
            "column `{}.{}` is declared a foreign key to `{}` and to `{}`: one column cannot reference \
             two tables; for a polymorphic key give its associations `constraints = false`",
            table.name,
            fk.column,
            fk.references.name,
            fk.also_references.unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

/// `Err` if one of `columns` has a default the model does not spell, so
/// that it cannot be created.
pub(crate) fn spelled(table: &Planned, columns: &[ColumnDef]) -> Result<(), SchemaError> {
    match columns.iter().find(|c| c.default == ColumnDefault::Exists) {
        Some(c) => Err(SchemaError(format!(
            "column `{}.{}` is `default` without an expression, so its DDL cannot be \
             written; give the expression: `#[model(default = \"0\")]`",
            table.name, c.name
        ))),
        None => Ok(()),
    }
}

/// `Err` for a referential action `dialect` does not enforce.
pub(crate) fn validate_actions(plan: &[Planned], dialect: Dialect) -> Result<(), SchemaError> {
    if dialect == Dialect::Mysql {
        for table in plan {
            for fk in &table.fks {
                let c = fk.constraint;
                if c.enforced
                    && (c.on_delete == Some(Action::SetDefault)
                        || c.on_update == Some(Action::SetDefault))
                {
                    return Err(SchemaError(format!(
                        "foreign key `{}.{}` declares `set_default`, which MySQL/MariaDB do not \
                         enforce (InnoDB rejects it; MariaDB turns it into RESTRICT); choose \
                         another action or `constraints = false`",
                        table.name, fk.column
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The index of each foreign-key column that does not lead the primary key
/// (UNIQUE for a `has_one` key).
pub(crate) fn indexes(table: &Planned, dialect: Dialect) -> Vec<String> {
    let mut statements = Vec::new();
    for fk in table.fks.iter().filter(|fk| fk.leads()) {
        let columns = fk.columns();
        if !table.primary_key.starts_with(columns) {
            let (kind, suffix) = if fk.unique {
                ("UNIQUE INDEX", "key")
            } else {
                ("INDEX", "idx")
            };
            statements.push(format!(
                "CREATE {kind} {} ON {} ({})",
                quote(
                    &format!("{}_{}_{suffix}", table.name, columns.join("_")),
                    dialect
                ),
                quote(table.name, dialect),
                quoted(columns, dialect)
            ));
        }
    }
    statements
}

/// `a, b`, each quoted.
fn quoted(columns: &[&str], dialect: Dialect) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| quote(c, dialect)).collect();
    quoted.join(", ")
}

/// `FOREIGN KEY (column) REFERENCES parent (key) ON DELETE .. ON UPDATE ..`
/// (`FOREIGN KEY (a, b) REFERENCES parent (x, y)` for a multi-column key).
pub(crate) fn foreign_key(fk: &Fk, dialect: Dialect) -> String {
    let target_pk = match fk.references.primary_key {
        key if !fk.group.is_empty() => key,
        [first, ..] => std::slice::from_ref(first),
        [] => &["id"][..],
    };
    format!(
        "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        quoted(fk.columns(), dialect),
        quote(fk.references.name, dialect),
        quoted(target_pk, dialect),
        fk.on_delete(dialect).sql(),
        fk.on_update(dialect).sql(),
    )
}

/// `CREATE TABLE name (..)` for `table` (named otherwise while SQLite
/// rebuilds it).
pub(crate) fn create_table(table: &Planned, name: &str, dialect: Dialect) -> String {
    let single_auto_pk = table.primary_key.len() == 1;
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| column(table, c, dialect))
        .collect();
    if !single_auto_pk {
        let pk: Vec<String> = table
            .primary_key
            .iter()
            .map(|c| quote(c, dialect))
            .collect();
        parts.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    }
    for fk in table
        .fks
        .iter()
        .filter(|fk| fk.constraint.enforced && fk.leads())
    {
        parts.push(foreign_key(fk, dialect));
    }
    for arc in &table.arcs {
        let set: Vec<String> = arc
            .iter()
            .map(|c| format!("CASE WHEN {} IS NULL THEN 0 ELSE 1 END", quote(c, dialect)))
            .collect();
        parts.push(format!("CHECK ({} = 1)", set.join(" + ")));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        quote(name, dialect),
        parts.join(",\n  ")
    )
}

/// One column's definition: name, type, key, NOT NULL, checks, default.
pub(crate) fn column(table: &Planned, c: &ColumnDef, dialect: Dialect) -> String {
    let is_pk = table.primary_key.len() == 1 && table.primary_key[0] == c.name;
    let mut col = format!("{} ", quote(c.name, dialect));
    let ty = table.column_type(c, dialect);
    match (is_pk && c.auto_increment, dialect) {
        // Only a column declared exactly INTEGER PRIMARY KEY is the rowid.
        (true, Dialect::Sqlite) => col.push_str("INTEGER"),
        (true, Dialect::Postgres) => {
            col.push_str(&ty);
            col.push_str(" GENERATED BY DEFAULT AS IDENTITY");
        }
        (true, Dialect::Mysql) => {
            col.push_str(&ty);
            col.push_str(" AUTO_INCREMENT");
        }
        (false, _) => col.push_str(&ty),
    }
    if is_pk {
        col.push_str(" PRIMARY KEY");
    } else if !c.nullable {
        col.push_str(" NOT NULL");
    }
    // SQLite keeps 64 bits in any INTEGER column: hold an `i16`/`i32`
    // column to its Rust type's range, so a key assigned past it (the
    // rowid after 2147483647) is an error and not a wrapped value.
    if dialect == Dialect::Sqlite {
        let range = match c.ty {
            ColumnType::SmallInt => Some((i16::MIN as i32, i16::MAX as i32)),
            ColumnType::Integer => Some((i32::MIN, i32::MAX)),
            _ => None,
        };
        if let Some((min, max)) = range {
            let name = quote(c.name, dialect);
            col.push_str(&format!(" CHECK ({name} BETWEEN {min} AND {max})"));
        }
    }
    if let Some(default) = default_value(c, dialect) {
        col.push_str(" DEFAULT ");
        col.push_str(&default);
    }
    col
}

/// The expression of a column's `DEFAULT`, if the model spells one.
pub(crate) fn default_value(c: &ColumnDef, dialect: Dialect) -> Option<String> {
    // UTC, as `create` and `save` write it.
    let now = match dialect {
        Dialect::Sqlite => "CURRENT_TIMESTAMP",
        Dialect::Postgres => "(now() AT TIME ZONE 'UTC')",
        Dialect::Mysql => "(UTC_TIMESTAMP(6))",
    };
    match c.default {
        ColumnDefault::Now => Some(now.to_string()),
        // Parenthesized: SQLite and MySQL take any expression so.
        ColumnDefault::Expr(sql) => Some(format!("({sql})")),
        _ => None,
    }
}

/// Orders tables so that each comes after the tables it references (cycles
/// other than self-references keep their declared order).
fn order_by_dependencies(mut pending: Vec<Planned>) -> Vec<Planned> {
    let mut done: BTreeSet<&'static str> = BTreeSet::new();
    let names: BTreeSet<&'static str> = pending.iter().map(|p| p.name).collect();
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|p| {
            p.fks.iter().all(|fk| {
                let r = fk.references.name;
                r == p.name || done.contains(r) || !names.contains(r)
            })
        });
        let next = pending.remove(ready.unwrap_or(0));
        done.insert(next.name);
        ordered.push(next);
    }
    ordered
}
