//! The schema check: the tables a [`Schema`] would create, compared with a
//! live database's catalog (tables, columns, types, nullability, primary
//! keys, foreign keys and their actions, whether a column has a default),
//! every difference reported.

use std::collections::BTreeSet;
use std::fmt;

use std::future::Future;

use diesel::query_builder::SqlQuery;
use diesel::result::QueryResult;
use diesel::sql_query;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::QueryableByName;

use crate::backend::{Dialect, OrmBackend};
use crate::exec::{self, ConnKind, Fetch, FetchIn, OnBackend};
use crate::schema::{Action, ColumnDef, ColumnDefault, ColumnType, Planned, Schema};

/// One difference between the models and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A model's table does not exist.
    MissingTable {
        /// The table.
        table: String,
    },
    /// A model's column does not exist.
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The table has a column no model declares.
    ExtraColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column has another type than the model's.
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The type the model gives it, as the database names it.
        expected: String,
        /// The type it has.
        found: String,
    },
    /// A column accepts NULL where the model's does not, or the reverse.
    Nullability {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the model's column accepts NULL.
        expected_nullable: bool,
    },
    /// The primary key has other columns.
    PrimaryKey {
        /// The table.
        table: String,
        /// The model's key columns.
        expected: Vec<String>,
        /// The table's.
        found: Vec<String>,
    },
    /// A column has a database default where the model gives it none, or
    /// the reverse (`#[model(default)]`).
    ColumnDefault {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the model's column has a default.
        expected_default: bool,
    },
    /// A foreign key the models declare is not in the database.
    MissingForeignKey {
        /// The table.
        table: String,
        /// The key column.
        column: String,
        /// The table it should reference.
        references: String,
    },
    /// The database has a foreign key no model declares.
    ExtraForeignKey {
        /// The table.
        table: String,
        /// The key column.
        column: String,
        /// The table it references.
        references: String,
    },
    /// A foreign key acts otherwise on delete or on update than its
    /// association declares (`on_delete`, `on_update`, or their defaults).
    ForeignKeyAction {
        /// The table.
        table: String,
        /// The key column.
        column: String,
        /// `ON DELETE` or `ON UPDATE`.
        event: String,
        /// The action the model declares (`CASCADE`).
        expected: String,
        /// The action the database has.
        found: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::MissingTable { table } => write!(f, "table `{table}` is missing"),
            Drift::MissingColumn { table, column } => {
                write!(f, "column `{table}.{column}` is missing")
            }
            Drift::ExtraColumn { table, column } => {
                write!(f, "column `{table}.{column}` is in the database but in no model")
            }
            Drift::ColumnType {
                table,
                column,
                expected,
                found,
            } => write!(f, "column `{table}.{column}` is {found}, the model says {expected}"),
            Drift::Nullability {
                table,
                column,
                expected_nullable,
            } => {
                let (model, db) = if *expected_nullable {
                    ("nullable", "NOT NULL")
                } else {
                    ("NOT NULL", "nullable")
                };
                write!(f, "column `{table}.{column}` is {db}, the model says {model}")
            }
            Drift::ColumnDefault {
                table,
                column,
                expected_default,
            } => {
                let (model, db) = if *expected_default {
                    ("has one", "has no default")
                } else {
                    ("has none", "has a default")
                };
                write!(f, "column `{table}.{column}` {db}, the model {model}")
            }
            Drift::PrimaryKey {
                table,
                expected,
                found,
            } => write!(
                f,
                "primary key of `{table}` is ({}), the model says ({})",
                found.join(", "),
                expected.join(", ")
            ),
            Drift::MissingForeignKey {
                table,
                column,
                references,
            } => write!(
                f,
                "foreign key `{table}.{column}` -> `{references}` is missing"
            ),
            Drift::ExtraForeignKey {
                table,
                column,
                references,
            } => write!(
                f,
                "foreign key `{table}.{column}` -> `{references}` is in the database but in no model"
            ),
            Drift::ForeignKeyAction {
                table,
                column,
                event,
                expected,
                found,
            } => write!(
                f,
                "foreign key `{table}.{column}` is {event} {found}, the model says {expected}"
            ),
        }
    }
}

/// One column of the catalog.
#[doc(hidden)]
#[derive(QueryableByName)]
pub struct CatalogColumn {
    #[diesel(sql_type = Text)]
    pub(crate) table_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) column_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) data_type: String,
    /// The type as DDL spells it (`character varying(20)`, `varchar(20)`).
    #[diesel(sql_type = Text)]
    pub(crate) column_type: String,
    #[diesel(sql_type = Bool)]
    pub(crate) not_null: bool,
    #[diesel(sql_type = Bool)]
    pub(crate) has_default: bool,
    /// The default's expression, as the catalog keeps it.
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) default_value: Option<String>,
    /// The column's position in the primary key (1-based), 0 if none.
    #[diesel(sql_type = Integer)]
    pub(crate) pk: i32,
}

/// One foreign-key column of the catalog.
#[doc(hidden)]
#[derive(QueryableByName)]
pub struct CatalogForeignKey {
    #[diesel(sql_type = Text)]
    pub(crate) table_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) column_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) referenced: String,
    #[diesel(sql_type = Text)]
    pub(crate) referenced_column: String,
    #[diesel(sql_type = Text)]
    pub(crate) on_delete: String,
    #[diesel(sql_type = Text)]
    pub(crate) on_update: String,
    /// Its name (empty on SQLite, whose keys are changed by a rebuild).
    #[diesel(sql_type = Text)]
    pub(crate) constraint_name: String,
}

// `table_xinfo` lists generated columns too (`hidden` 2 and 3; 1 is a
// virtual table's hidden column).
const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     p.type AS data_type, p.type AS column_type, p.\"notnull\" AS not_null, \
     p.dflt_value IS NOT NULL AS has_default, p.dflt_value AS default_value, p.pk AS pk \
     FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
     WHERE m.type = 'table' AND p.hidden <> 1";
const SQLITE_FOREIGN_KEYS: &str = "SELECT m.name AS table_name, f.\"from\" AS column_name, \
     f.\"table\" AS referenced, COALESCE(f.\"to\", '') AS referenced_column, \
     f.on_delete AS on_delete, f.on_update AS on_update, '' AS constraint_name \
     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'";
const PG_COLUMNS: &str =
    "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
     c.data_type::text AS data_type, \
     pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type, \
     c.is_nullable = 'NO' AS not_null, c.column_default IS NOT NULL AS has_default, \
     c.column_default::text AS default_value, COALESCE(k.position, 0) AS pk \
     FROM information_schema.columns c \
     JOIN pg_catalog.pg_attribute a ON a.attname = c.column_name \
       AND a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass \
     LEFT JOIN ( \
       SELECT u.table_name, u.column_name, u.ordinal_position::integer AS position \
       FROM information_schema.table_constraints t \
       JOIN information_schema.key_column_usage u \
         ON u.constraint_name = t.constraint_name AND u.table_schema = t.table_schema \
       WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = current_schema() \
     ) k ON k.table_name = c.table_name AND k.column_name = c.column_name \
     WHERE c.table_schema = current_schema()";
// MariaDB answers a condition on the schema of an `information_schema`
// table by opening that database's tables only, but it sees no such
// condition in a join's `ON` clause: joined on `k.table_schema =
// c.table_schema`, `key_column_usage` opened every table of every database
// (`EXPLAIN`: "Scanned all databases"), slow on a busy server and, on a
// Galera node, aborted by DDL in any other database. So each joined table
// is restricted to `DATABASE()`, the key columns in a derived table that
// `DISTINCT` keeps from being merged back into the join.
const MYSQL_COLUMNS: &str = "SELECT c.table_name AS table_name, c.column_name AS column_name, \
     c.data_type AS data_type, c.column_type AS column_type, c.is_nullable = 'NO' AS not_null, \
     COALESCE(c.column_default <> 'NULL', FALSE) AS has_default, \
     NULLIF(c.column_default, 'NULL') AS default_value, \
     CAST(COALESCE(k.ordinal_position, 0) AS SIGNED) AS pk \
     FROM information_schema.columns c LEFT JOIN ( \
       SELECT DISTINCT table_name, column_name, ordinal_position \
       FROM information_schema.key_column_usage \
       WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY' \
     ) k ON k.table_name = c.table_name AND k.column_name = c.column_name \
     WHERE c.table_schema = DATABASE()";
const MYSQL_FOREIGN_KEYS: &str = "SELECT k.table_name AS table_name, \
     k.column_name AS column_name, k.referenced_table_name AS referenced, \
     k.referenced_column_name AS referenced_column, \
     r.delete_rule AS on_delete, r.update_rule AS on_update, k.constraint_name AS constraint_name \
     FROM information_schema.key_column_usage k \
     JOIN information_schema.referential_constraints r \
       ON r.constraint_schema = DATABASE() AND r.constraint_name = k.constraint_name \
       AND r.table_name = k.table_name \
     WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL";
const PG_FOREIGN_KEYS: &str = "SELECT u.table_name::text AS table_name, \
     u.column_name::text AS column_name, r.table_name::text AS referenced, \
     r.column_name::text AS referenced_column, \
     rc.delete_rule::text AS on_delete, rc.update_rule::text AS on_update, \
     t.constraint_name::text AS constraint_name \
     FROM information_schema.table_constraints t \
     JOIN information_schema.key_column_usage u \
       ON u.constraint_name = t.constraint_name AND u.table_schema = t.table_schema \
     JOIN information_schema.constraint_column_usage r \
       ON r.constraint_name = t.constraint_name AND r.table_schema = t.table_schema \
     JOIN information_schema.referential_constraints rc \
       ON rc.constraint_name = t.constraint_name AND rc.constraint_schema = t.table_schema \
     WHERE t.constraint_type = 'FOREIGN KEY' AND t.table_schema = current_schema()";

/// One table or index of SQLite's schema, with the SQL that created it.
#[doc(hidden)]
#[derive(QueryableByName)]
pub struct SqliteObject {
    #[diesel(sql_type = Text)]
    pub(crate) kind: String,
    #[diesel(sql_type = Text)]
    pub(crate) table_name: String,
    #[diesel(sql_type = Text)]
    pub(crate) sql: String,
}

/// A [`ReadCatalog`] connection of kind `K`: the one bound of
/// [`Schema::check`] and [`Schema::diff`], so that anything else passed as
/// the connection is one error that says so.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection orm-core knows",
    label = "pass a `&mut` diesel or diesel-async connection",
    note = "a pool is not a connection: pass `&mut pool.get()?` (`&mut pool.get().await?` for an async pool)",
    note = "diesel-async's connections need orm-core's `async` feature"
)]
pub trait CatalogOf<K>: ReadCatalog {}

#[diagnostic::do_not_recommend]
impl<C: ReadCatalog<Kind = K>, K> CatalogOf<K> for C {}

const SQLITE_OBJECTS: &str = "SELECT type AS kind, tbl_name AS table_name, sql FROM sqlite_master \
     WHERE sql IS NOT NULL AND type IN ('table', 'index')";

/// A connection orm-core can read its database's catalog through, as
/// [`Schema::check`], [`Schema::diff`] and [`crate::cli`] do: every
/// connection, blocking or async, of a backend orm-core supports.
pub trait ReadCatalog: ConnKind + Sized {
    /// The connection's SQL dialect.
    #[doc(hidden)]
    const DIALECT: Dialect;
    /// The columns and foreign keys of the database.
    #[doc(hidden)]
    fn catalog(&mut self) -> impl Future<Output = QueryResult<Catalog>> + Send + '_;
    /// SQLite's tables and indexes with the SQL that created them (empty
    /// elsewhere).
    #[doc(hidden)]
    fn sqlite_objects(
        &mut self,
    ) -> impl Future<Output = QueryResult<Vec<SqliteObject>>> + Send + '_;
}

/// The columns and foreign keys of a database, as [`ReadCatalog`] reads them.
#[doc(hidden)]
pub type Catalog = (Vec<CatalogColumn>, Vec<CatalogForeignKey>);

impl<C> ReadCatalog for C
where
    C: ConnKind + OnBackend<C::Kind>,
    SqlQuery: Fetch<C, C::Kind, CatalogColumn>
        + Fetch<C, C::Kind, CatalogForeignKey>
        + Fetch<C, C::Kind, SqliteObject>,
{
    const DIALECT: Dialect = <<C as OnBackend<C::Kind>>::Backend as OrmBackend>::DIALECT;

    async fn catalog(&mut self) -> QueryResult<Catalog> {
        let (columns, keys) = match Self::DIALECT {
            Dialect::Sqlite => (SQLITE_COLUMNS, SQLITE_FOREIGN_KEYS),
            Dialect::Postgres => (PG_COLUMNS, PG_FOREIGN_KEYS),
            Dialect::Mysql => (MYSQL_COLUMNS, MYSQL_FOREIGN_KEYS),
        };
        let columns =
            FetchIn::<'_, C, C::Kind, CatalogColumn>::load(sql_query(columns), self).await?;
        let keys =
            FetchIn::<'_, C, C::Kind, CatalogForeignKey>::load(sql_query(keys), self).await?;
        Ok((columns, keys))
    }

    async fn sqlite_objects(&mut self) -> QueryResult<Vec<SqliteObject>> {
        match Self::DIALECT {
            Dialect::Sqlite => {
                FetchIn::<'_, C, C::Kind, SqliteObject>::load(sql_query(SQLITE_OBJECTS), self).await
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// How the catalog names the type of `column` of `table`, and the other
/// names it may give a column of that diesel type.
fn catalog_types(table: &Planned, column: &ColumnDef, dialect: Dialect) -> Vec<String> {
    use ColumnType::*;
    let declared = table.column_type(column, dialect);
    let names: &[&str] = match (dialect, column.ty) {
        // SQLite keeps the declared type as written; it is compared by
        // affinity (see `sqlite_affinity`).
        (Dialect::Sqlite, _) => return vec![declared],
        (_, Custom(custom)) => match dialect {
            Dialect::Postgres => &[custom.postgres_catalog],
            _ => &[custom.mysql_catalog],
        },
        // diesel's `Varchar` is its `Text`: every character type is text.
        (Dialect::Mysql, Text) => &[
            "text",
            "varchar",
            "char",
            "tinytext",
            "mediumtext",
            "longtext",
        ],
        (Dialect::Mysql, Json | Jsonb) => &["json", "longtext"],
        // MySQL's data_type is the base type, lowercase, without its length.
        (Dialect::Mysql, Integer) => &["int"],
        (Dialect::Mysql, Bool) => &["tinyint"],
        (Dialect::Mysql, Numeric) => &["decimal"],
        (Dialect::Mysql, _) => {
            let base = declared.split('(').next().unwrap_or(&declared);
            return vec![base.to_ascii_lowercase()];
        }
        (Dialect::Postgres, SmallInt) => &["smallint"],
        (Dialect::Postgres, Integer) => &["integer"],
        (Dialect::Postgres, BigInt) => &["bigint"],
        (Dialect::Postgres, Float) => &["real"],
        (Dialect::Postgres, Double) => &["double precision"],
        (Dialect::Postgres, Bool) => &["boolean"],
        (Dialect::Postgres, Text) => &["text", "character varying", "character", "citext"],
        (Dialect::Postgres, Binary) => &["bytea"],
        (Dialect::Postgres, Timestamp) => &["timestamp without time zone"],
        (Dialect::Postgres, TimestampTz) => &["timestamp with time zone"],
        (Dialect::Postgres, Date) => &["date"],
        (Dialect::Postgres, Time) => &["time without time zone"],
        (Dialect::Postgres, Numeric) => &["numeric"],
        (Dialect::Postgres, Uuid) => &["uuid"],
        (Dialect::Postgres, Json) => &["json"],
        (Dialect::Postgres, Jsonb) => &["jsonb"],
        (Dialect::Postgres, Array(_)) => &["ARRAY"],
        (Dialect::Postgres, Inet) => &["inet"],
        (Dialect::Postgres, Cidr) => &["cidr"],
        (Dialect::Postgres, MacAddr) => &["macaddr"],
    };
    names.iter().map(|n| n.to_string()).collect()
}

/// Whether the catalog's `found` rule is the declared action. InnoDB has no
/// deferred checks, so MySQL's `RESTRICT` and `NO ACTION` are one.
fn same_action(expected: Action, found: &str, dialect: Dialect) -> bool {
    let found = found.to_ascii_uppercase();
    let strict = |a: &str| a == "RESTRICT" || a == "NO ACTION";
    found == expected.sql()
        || (dialect == Dialect::Mysql && strict(&found) && strict(expected.sql()))
}

/// SQLite's type affinity of a declared column type (section 3.1 of its
/// datatype documentation): what SQLite itself makes of the name.
fn sqlite_affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.is_empty() || t.contains("BLOB") {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// Whether the catalog's `found` type is one a column of the model's type
/// may have.
fn type_matches(expected: &[String], found: &str, dialect: Dialect) -> bool {
    match dialect {
        Dialect::Sqlite => expected
            .iter()
            .any(|e| sqlite_affinity(e) == sqlite_affinity(found)),
        _ => expected.iter().any(|e| e.eq_ignore_ascii_case(found)),
    }
}

impl Schema {
    /// Compares the tables this schema describes with the database `conn`
    /// is connected to (the current schema on PostgreSQL) and returns every
    /// difference: missing tables and columns, columns no model declares,
    /// other types, nullability, defaults, primary keys, foreign keys and
    /// their actions. Tables no model declares are not reported. Empty when
    /// they match.
    ///
    /// ```
    /// # use orm_core::prelude::*;
    /// # #[derive(Model, Debug, Clone, PartialEq)]
    /// # pub struct User { pub id: i32, pub name: String }
    /// let mut conn = orm_core::sqlite::memory().unwrap();
    /// let schema = Schema::new().model::<User>();
    /// schema.create_all(&mut conn).unwrap();
    /// assert!(schema.check(&mut conn).unwrap().is_empty());
    /// ```
    ///
    /// On an async connection it returns a future: `schema.check(&mut
    /// conn).await`.
    pub fn check<'c, C, K>(&'c self, conn: &'c mut C) -> K::Out<'c, Vec<Drift>>
    where
        C: CatalogOf<K>,
        K: exec::Kind,
    {
        K::run(async move {
            let (columns, keys) = conn.catalog().await?;
            Ok(self.compare(C::DIALECT, &columns, &keys))
        })
    }

    pub(crate) fn compare(
        &self,
        dialect: Dialect,
        catalog: &[CatalogColumn],
        keys: &[CatalogForeignKey],
    ) -> Vec<Drift> {
        let mut drifts = Vec::new();
        for table in self.plan() {
            let name = table.name.to_string();
            let found: Vec<&CatalogColumn> = catalog
                .iter()
                .filter(|c| c.table_name == table.name)
                .collect();
            if found.is_empty() {
                drifts.push(Drift::MissingTable { table: name });
                continue;
            }
            for column in &table.columns {
                let Some(db) = found.iter().find(|c| c.column_name == column.name) else {
                    drifts.push(Drift::MissingColumn {
                        table: name.clone(),
                        column: column.name.into(),
                    });
                    continue;
                };
                let expected = catalog_types(&table, column, dialect);
                if !type_matches(&expected, &db.data_type, dialect) {
                    drifts.push(Drift::ColumnType {
                        table: name.clone(),
                        column: column.name.into(),
                        expected: expected[0].clone(),
                        found: db.data_type.clone(),
                    });
                }
                // A key column is NOT NULL whatever the catalog says (SQLite
                // does not mark an INTEGER PRIMARY KEY so).
                let in_key = table.primary_key.contains(&column.name);
                if !in_key && db.not_null == column.nullable {
                    drifts.push(Drift::Nullability {
                        table: name.clone(),
                        column: column.name.into(),
                        expected_nullable: column.nullable,
                    });
                }
                // The database assigns a key by a sequence, an identity or
                // AUTO_INCREMENT, which catalogs show in several ways.
                let expected_default = match column.default {
                    _ if column.auto_increment => None,
                    ColumnDefault::Unchecked => None,
                    ColumnDefault::None => Some(false),
                    ColumnDefault::Now | ColumnDefault::Expr(_) | ColumnDefault::Exists => {
                        Some(true)
                    }
                };
                if expected_default.is_some_and(|d| d != db.has_default) {
                    drifts.push(Drift::ColumnDefault {
                        table: name.clone(),
                        column: column.name.into(),
                        expected_default: !db.has_default,
                    });
                }
            }
            for db in &found {
                if !table.columns.iter().any(|c| c.name == db.column_name) {
                    drifts.push(Drift::ExtraColumn {
                        table: name.clone(),
                        column: db.column_name.clone(),
                    });
                }
            }
            let mut pk: Vec<&&CatalogColumn> = found.iter().filter(|c| c.pk > 0).collect();
            pk.sort_by_key(|c| c.pk);
            let pk: Vec<String> = pk.iter().map(|c| c.column_name.clone()).collect();
            let expected: Vec<String> = table.primary_key.iter().map(|c| c.to_string()).collect();
            let sorted = |mut key: Vec<String>| {
                key.sort();
                key
            };
            let same = if table.key_in_any_order {
                sorted(pk.clone()) == sorted(expected.clone())
            } else {
                pk == expected
            };
            if !same {
                drifts.push(Drift::PrimaryKey {
                    table: name.clone(),
                    expected,
                    found: pk,
                });
            }
            let declared: BTreeSet<(String, String)> = table
                .fks
                .iter()
                .filter(|fk| fk.constraint.enforced)
                .map(|fk| (fk.column.to_string(), fk.references.name.to_string()))
                .collect();
            // A key declared `constraints = false` is the model saying it
            // does not care whether the database enforces it.
            let unenforced: Vec<&str> = table
                .fks
                .iter()
                .filter(|fk| !fk.constraint.enforced)
                .map(|fk| fk.column)
                .collect();
            let present: BTreeSet<(String, String)> = keys
                .iter()
                .filter(|k| k.table_name == table.name)
                .filter(|k| !unenforced.contains(&k.column_name.as_str()))
                .map(|k| (k.column_name.clone(), k.referenced.clone()))
                .collect();
            for (column, references) in declared.difference(&present) {
                drifts.push(Drift::MissingForeignKey {
                    table: name.clone(),
                    column: column.clone(),
                    references: references.clone(),
                });
            }
            for (column, references) in present.difference(&declared) {
                drifts.push(Drift::ExtraForeignKey {
                    table: name.clone(),
                    column: column.clone(),
                    references: references.clone(),
                });
            }
            for fk in table.fks.iter().filter(|fk| fk.constraint.enforced) {
                let Some(found) = keys.iter().find(|k| {
                    k.table_name == table.name
                        && k.column_name == fk.column
                        && k.referenced == fk.references.name
                }) else {
                    continue;
                };
                let events = [
                    ("ON DELETE", fk.on_delete(dialect), &found.on_delete),
                    ("ON UPDATE", fk.on_update(dialect), &found.on_update),
                ];
                for (event, expected, found) in events {
                    if !same_action(expected, found, dialect) {
                        drifts.push(Drift::ForeignKeyAction {
                            table: name.clone(),
                            column: fk.column.to_string(),
                            event: event.to_string(),
                            expected: expected.sql().to_string(),
                            found: found.to_ascii_uppercase(),
                        });
                    }
                }
            }
        }
        drifts
    }
}
