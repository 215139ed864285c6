//! Migrations after the first: the statements that bring a live database to
//! what a [`Schema`] describes, and back, written from the same comparison
//! as [`Schema::check`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diesel::result::QueryResult;

use crate::backend::Dialect;
use crate::drift::{CatalogColumn, CatalogForeignKey, Drift, ReadCatalog, SqliteObject};
use crate::exec::{self, Blocking, ConnKind};
use crate::schema::{
    column, create_table, default_value, foreign_key, indexes, quote, spelled, validate_actions,
    ColumnDefault, Planned, Schema,
};

/// The next migration: the statements that bring the database to the
/// schema (`up`) and those that undo them (`down`), as
/// [`Schema::diff`] writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// The statements that bring the database to the schema, in order.
    pub up: Vec<String>,
    /// The statements that undo them, in order.
    pub down: Vec<String>,
    /// Differences left for you to write by hand (a changed primary key, a
    /// default the model does not spell), one line each.
    pub notes: Vec<String>,
    /// Whether the statements must run outside a transaction: SQLite turns
    /// foreign keys off while it rebuilds a table, which it cannot do
    /// inside one, so the migration opens its own.
    pub own_transaction: bool,
}

impl Migration {
    /// Whether the database already matches the schema.
    pub fn is_empty(&self) -> bool {
        self.up.is_empty() && self.notes.is_empty()
    }

    fn script(&self, statements: &[String]) -> String {
        let notes: String = self.notes.iter().map(|n| format!("-- {n}\n")).collect();
        let body: String = statements.iter().map(|s| format!("{s};\n")).collect();
        if self.own_transaction {
            format!("{notes}PRAGMA foreign_keys = OFF;\nBEGIN;\n{body}COMMIT;\nPRAGMA foreign_keys = ON;\n")
        } else {
            format!("{notes}{body}")
        }
    }

    /// `up.sql`.
    pub fn up_sql(&self) -> String {
        self.script(&self.up)
    }

    /// `down.sql`.
    pub fn down_sql(&self) -> String {
        self.script(&self.down)
    }
}

/// The statements of a migration, collected in the order they run: the
/// foreign keys that go are dropped first, the new ones added last, so
/// that every table they name exists.
#[derive(Default)]
struct Steps {
    drop_keys: Vec<String>,
    tables: Vec<String>,
    columns: Vec<String>,
    add_keys: Vec<String>,
}

impl Steps {
    fn into_statements(self) -> Vec<String> {
        [self.drop_keys, self.tables, self.columns, self.add_keys].concat()
    }
}

impl Schema {
    /// The migration that brings the database `conn` is connected to (the
    /// current schema on PostgreSQL) to this schema, and back: new tables,
    /// added and dropped columns, changed types, nullability and defaults,
    /// added, dropped and changed foreign keys. On SQLite, which alters
    /// little in place, each changed table is rebuilt as SQLite's
    /// documentation prescribes (a new table, the rows copied, the old one
    /// dropped, the new one renamed), with foreign keys off. Tables no model
    /// declares are left alone. Empty when [`check`](Self::check) is.
    ///
    /// A change the database cannot make on its own is reported in
    /// [`Migration::notes`], not guessed: a changed primary key, a default
    /// the model does not spell (`#[model(default)]` without an
    /// expression). A column added NOT NULL without a default fails on a
    /// table that has rows, as it would by hand: give it a default.
    ///
    /// On an async connection it returns a future: `schema.diff(&mut
    /// conn).await`.
    pub fn diff<'c, C, K>(&'c self, conn: &'c mut C) -> K::Out<'c, Migration>
    where
        C: crate::drift::CatalogOf<K>,
        K: exec::Kind,
    {
        K::run(async move {
            validate_actions(&self.plan(), C::DIALECT)?;
            let (columns, keys) = conn.catalog().await?;
            let objects = conn.sqlite_objects().await?;
            self.migration(C::DIALECT, &columns, &keys, &objects)
        })
    }

    /// The migration from the catalog read by [`diff`](Self::diff).
    fn migration(
        &self,
        dialect: Dialect,
        columns: &[CatalogColumn],
        keys: &[CatalogForeignKey],
        objects: &[SqliteObject],
    ) -> QueryResult<Migration> {
        let plan = self.plan();
        let drifts = self.compare(dialect, columns, keys);
        let mut by_table: BTreeMap<&str, Vec<&Drift>> = BTreeMap::new();
        for drift in &drifts {
            by_table.entry(drift_table(drift)).or_default().push(drift);
        }
        let catalog = Catalog {
            dialect,
            columns,
            keys,
            objects,
        };
        let (mut up, mut down) = (Steps::default(), Steps::default());
        let mut migration = Migration::default();
        // Tables are created parents first and dropped children first.
        let mut drops = Vec::new();
        for table in &plan {
            let Some(changes) = by_table.get(table.name) else {
                continue;
            };
            if changes
                .iter()
                .any(|d| matches!(d, Drift::MissingTable { .. }))
            {
                spelled(table, &table.columns)?;
                up.tables.push(create_table(table, table.name, dialect));
                up.tables.extend(indexes(table, dialect));
                drops.push(format!("DROP TABLE {}", quote(table.name, dialect)));
                continue;
            }
            if dialect == Dialect::Sqlite {
                // The table is made anew, with every column.
                spelled(table, &table.columns)?;
                catalog.rebuild(table, &mut up, &mut down);
                continue;
            }
            for drift in changes {
                match drift {
                    Drift::MissingColumn { column, .. } => {
                        let added: Vec<_> = table.column(column).into_iter().copied().collect();
                        spelled(table, &added)?;
                    }
                    Drift::PrimaryKey {
                        table,
                        expected,
                        found,
                    } => {
                        migration.notes.push(format!(
                            "the primary key of `{table}` is ({}), the model says ({}): not \
                             changed, write it by hand",
                            found.join(", "),
                            expected.join(", ")
                        ));
                    }
                    Drift::ColumnDefault {
                        column,
                        expected_default: true,
                        ..
                    } if table
                        .column(column)
                        .is_some_and(|c| c.default == ColumnDefault::Exists) =>
                    {
                        migration.notes.push(format!(
                            "column `{}.{column}` has no default and the model declares one \
                             without its expression: write it by hand, or give it with \
                             `#[model(default = \"..\")]`",
                            table.name
                        ));
                    }
                    _ => {}
                }
            }
            catalog.alter(table, changes, &mut up, &mut down);
        }
        drops.reverse();
        down.tables.extend(drops);
        migration.own_transaction = dialect == Dialect::Sqlite && !up.columns.is_empty();
        migration.up = up.into_statements();
        migration.down = down.into_statements();
        Ok(migration)
    }

    /// Writes [`diff`](Self::diff) as the next diesel migration under `dir`
    /// (see [`Migration::write`]) and returns its directory, or `None` when
    /// the database already matches. An error reading the catalog or writing
    /// the files is an `Err`, as in [`write_migration`](Self::write_migration).
    /// On an async connection, `schema.diff(&mut conn).await?.write(dir,
    /// name)` does the same.
    pub fn write_next_migration<C: ReadCatalog + ConnKind<Kind = Blocking>>(
        &self,
        conn: &mut C,
        dir: impl AsRef<Path>,
        name: &str,
    ) -> std::io::Result<Option<PathBuf>> {
        let migration = self.diff(conn).map_err(std::io::Error::other)?;
        migration.write(dir, name)
    }
}

impl Migration {
    /// Writes this migration under `dir` as the next diesel migration
    /// (`<version>_<name>/up.sql` and `down.sql`, with a `metadata.toml`
    /// where SQLite's rebuild runs outside diesel's transaction) and returns
    /// its directory, or `None` when it is empty.
    pub fn write(&self, dir: impl AsRef<Path>, name: &str) -> std::io::Result<Option<PathBuf>> {
        if self.is_empty() {
            return Ok(None);
        }
        let path = crate::schema::migration_dir(dir.as_ref(), name);
        std::fs::create_dir_all(&path)?;
        std::fs::write(path.join("up.sql"), self.up_sql())?;
        std::fs::write(path.join("down.sql"), self.down_sql())?;
        if self.own_transaction {
            std::fs::write(path.join("metadata.toml"), "run_in_transaction = false\n")?;
        }
        Ok(Some(path))
    }
}

fn drift_table(drift: &Drift) -> &str {
    match drift {
        Drift::MissingTable { table }
        | Drift::MissingColumn { table, .. }
        | Drift::ExtraColumn { table, .. }
        | Drift::ColumnType { table, .. }
        | Drift::Nullability { table, .. }
        | Drift::ColumnDefault { table, .. }
        | Drift::PrimaryKey { table, .. }
        | Drift::MissingForeignKey { table, .. }
        | Drift::ExtraForeignKey { table, .. }
        | Drift::ForeignKeyAction { table, .. } => table,
    }
}

/// What the database has, for writing the statements that change it.
struct Catalog<'a> {
    dialect: Dialect,
    columns: &'a [CatalogColumn],
    keys: &'a [CatalogForeignKey],
    objects: &'a [SqliteObject],
}

impl Catalog<'_> {
    fn column(&self, table: &str, column: &str) -> Option<&CatalogColumn> {
        self.columns
            .iter()
            .find(|c| c.table_name == table && c.column_name == column)
    }

    fn key(&self, table: &str, column: &str) -> Option<&CatalogForeignKey> {
        self.keys
            .iter()
            .find(|k| k.table_name == table && k.column_name == column)
    }

    /// A column as the database has it, for `down` to put back.
    fn existing_column(&self, c: &CatalogColumn) -> String {
        let mut sql = format!("{} {}", quote(&c.column_name, self.dialect), c.column_type);
        if c.not_null {
            sql.push_str(" NOT NULL");
        }
        if let Some(default) = &c.default_value {
            sql.push_str(&format!(" DEFAULT {default}"));
        }
        sql
    }

    /// PostgreSQL and MySQL: one `ALTER TABLE` per change.
    fn alter(&self, table: &Planned, changes: &[&Drift], up: &mut Steps, down: &mut Steps) {
        let d = self.dialect;
        let t = quote(table.name, d);
        let alter = |what: String| format!("ALTER TABLE {t} {what}");
        let mut modified: Vec<&str> = Vec::new();
        let mut rekeyed: Vec<&str> = Vec::new();
        for drift in changes {
            match drift {
                Drift::MissingColumn { column: name, .. } => {
                    let Some(c) = table.column(name) else {
                        continue;
                    };
                    up.columns
                        .push(alter(format!("ADD COLUMN {}", column(table, c, d))));
                    down.columns
                        .insert(0, alter(format!("DROP COLUMN {}", quote(name, d))));
                }
                Drift::ExtraColumn { column: name, .. } => {
                    let Some(found) = self.column(table.name, name) else {
                        continue;
                    };
                    up.columns
                        .push(alter(format!("DROP COLUMN {}", quote(name, d))));
                    let back = self.existing_column(found);
                    down.columns.insert(0, alter(format!("ADD COLUMN {back}")));
                }
                Drift::ColumnType { column: name, .. }
                | Drift::Nullability { column: name, .. }
                | Drift::ColumnDefault { column: name, .. }
                    if d == Dialect::Mysql =>
                {
                    // MODIFY restates the whole column, once for all its changes.
                    if modified.contains(&name.as_str()) {
                        continue;
                    }
                    modified.push(name);
                    let (Some(c), Some(found)) =
                        (table.column(name), self.column(table.name, name))
                    else {
                        continue;
                    };
                    up.columns
                        .push(alter(format!("MODIFY {}", column(table, c, d))));
                    let back = self.existing_column(found);
                    down.columns.insert(0, alter(format!("MODIFY {back}")));
                }
                Drift::ColumnType { column: name, .. } => {
                    let (Some(c), Some(found)) =
                        (table.column(name), self.column(table.name, name))
                    else {
                        continue;
                    };
                    let q = quote(name, d);
                    let ty = table.column_type(c, d);
                    up.columns
                        .push(alter(format!("ALTER COLUMN {q} TYPE {ty} USING {q}::{ty}")));
                    let old = &found.column_type;
                    down.columns.insert(
                        0,
                        alter(format!("ALTER COLUMN {q} TYPE {old} USING {q}::{old}")),
                    );
                }
                Drift::Nullability {
                    column: name,
                    expected_nullable,
                    ..
                } => {
                    let q = quote(name, d);
                    let (to, back) = if *expected_nullable {
                        ("DROP", "SET")
                    } else {
                        ("SET", "DROP")
                    };
                    up.columns
                        .push(alter(format!("ALTER COLUMN {q} {to} NOT NULL")));
                    down.columns
                        .insert(0, alter(format!("ALTER COLUMN {q} {back} NOT NULL")));
                }
                Drift::ColumnDefault {
                    column: name,
                    expected_default,
                    ..
                } => {
                    let q = quote(name, d);
                    if *expected_default {
                        let Some(value) = table.column(name).and_then(|c| default_value(c, d))
                        else {
                            continue;
                        };
                        up.columns
                            .push(alter(format!("ALTER COLUMN {q} SET DEFAULT {value}")));
                        down.columns
                            .insert(0, alter(format!("ALTER COLUMN {q} DROP DEFAULT")));
                    } else {
                        up.columns
                            .push(alter(format!("ALTER COLUMN {q} DROP DEFAULT")));
                        if let Some(old) = self
                            .column(table.name, name)
                            .and_then(|c| c.default_value.as_ref())
                        {
                            down.columns
                                .insert(0, alter(format!("ALTER COLUMN {q} SET DEFAULT {old}")));
                        }
                    }
                }
                Drift::MissingForeignKey { column: name, .. }
                | Drift::ExtraForeignKey { column: name, .. }
                | Drift::ForeignKeyAction { column: name, .. } => {
                    if rekeyed.contains(&name.as_str()) {
                        continue;
                    }
                    rekeyed.push(name);
                    self.rekey(table, name, up, down);
                }
                _ => {}
            }
        }
    }

    /// A foreign key dropped, added or changed: the database's key (if
    /// any) dropped, the model's (if any) added, and the reverse for down.
    fn rekey(&self, table: &Planned, name: &str, up: &mut Steps, down: &mut Steps) {
        let d = self.dialect;
        let t = quote(table.name, d);
        let drop = |constraint: &str| match d {
            Dialect::Mysql => format!("ALTER TABLE {t} DROP FOREIGN KEY {}", quote(constraint, d)),
            _ => format!("ALTER TABLE {t} DROP CONSTRAINT {}", quote(constraint, d)),
        };
        let fk = table
            .fks
            .iter()
            .find(|fk| fk.column == name && fk.constraint.enforced);
        let ours = format!("{}_{name}_fkey", table.name);
        // A multi-column key's constraint is dropped and added once, with
        // its first column.
        let fk = fk.filter(|fk| fk.leads());
        if let Some(found) = self.key(table.name, name) {
            let dropped = drop(&found.constraint_name);
            if up.drop_keys.contains(&dropped) {
                return;
            }
            up.drop_keys.push(dropped);
            down.add_keys.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) \
                 ON DELETE {} ON UPDATE {}",
                quote(&found.constraint_name, d),
                quote(name, d),
                quote(&found.referenced, d),
                quote(&found.referenced_column, d),
                found.on_delete.to_ascii_uppercase(),
                found.on_update.to_ascii_uppercase(),
            ));
        }
        if let Some(fk) = fk {
            up.add_keys.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {} {}",
                quote(&ours, d),
                foreign_key(fk, d)
            ));
            down.drop_keys.push(drop(&ours));
            // A new key column gets its index, as in a new table (MySQL
            // makes one for every foreign key itself).
            let columns = fk.columns();
            let leads = table.primary_key.starts_with(columns);
            if d == Dialect::Postgres && !leads && self.key(table.name, name).is_none() {
                let (kind, suffix) = if fk.unique {
                    ("UNIQUE INDEX", "key")
                } else {
                    ("INDEX", "idx")
                };
                let index = quote(&format!("{}_{}_{suffix}", table.name, columns.join("_")), d);
                let quoted: Vec<String> = columns.iter().map(|c| quote(c, d)).collect();
                up.add_keys.push(format!(
                    "CREATE {kind} IF NOT EXISTS {index} ON {t} ({})",
                    quoted.join(", ")
                ));
                down.drop_keys.push(format!("DROP INDEX IF EXISTS {index}"));
            }
        }
    }

    /// SQLite: the table made anew with the model's definition, its rows
    /// copied over, and the reverse for down from the SQL that created it.
    fn rebuild(&self, table: &Planned, up: &mut Steps, down: &mut Steps) {
        let d = self.dialect;
        let name = table.name;
        let kept: Vec<String> = table
            .columns
            .iter()
            .filter(|c| self.column(name, c.name).is_some())
            .map(|c| quote(c.name, d))
            .collect();
        let kept = kept.join(", ");
        let copy = |from: &str, to: &str| {
            [
                format!(
                    "INSERT INTO {} ({kept}) SELECT {kept} FROM {}",
                    quote(to, d),
                    quote(from, d)
                ),
                format!("DROP TABLE {}", quote(from, d)),
                format!("ALTER TABLE {} RENAME TO {}", quote(to, d), quote(from, d)),
            ]
        };
        let new = format!("_orm_new_{name}");
        up.columns.push(create_table(table, &new, d));
        up.columns.extend(copy(name, &new));
        up.columns.extend(indexes(table, d));

        let old = format!("_orm_old_{name}");
        let created = self
            .objects
            .iter()
            .find(|o| o.kind == "table" && o.table_name == name);
        let Some(definition) = created.and_then(|o| o.sql.find('(').map(|i| &o.sql[i..])) else {
            return;
        };
        let mut back = vec![format!("CREATE TABLE {} {definition}", quote(&old, d))];
        back.extend(copy(name, &old));
        back.extend(
            self.objects
                .iter()
                .filter(|o| o.kind == "index" && o.table_name == name)
                .map(|o| o.sql.clone()),
        );
        for (i, statement) in back.into_iter().enumerate() {
            down.columns.insert(i, statement);
        }
    }
}
