//! The schema as migrations, and the schema check against a live database,
//! on SQLite and PostgreSQL.

use diesel::connection::SimpleConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use orm_core::Drift;
use orm_tests::*;

/// A fresh empty directory for migrations.
fn migrations_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orm-migrations-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

macro_rules! schema_tests {
    ($($name:ident($conn:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    let mut conn = orm_core::sqlite::memory()?;
                    let $conn = &mut conn;
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    // A fresh, empty schema: drop the test tables `postgres()` made.
                    let Some(mut conn) = postgres(stringify!($name)) else { return Ok(()) };
                    let schema = conn.schema().to_string();
                    conn.batch_execute(&format!(
                        "DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
                    ))?;
                    let $conn = &mut *conn;
                    $body
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            use super::*;
            $(
                #[test]
                fn $name() -> TestResult {
                    // A fresh, empty database: drop the test tables `mysql()` made.
                    let Some(mut conn) = orm_tests::mysql(stringify!($name)) else { return Ok(()) };
                    let database = conn.database().to_string();
                    conn.batch_execute(&format!(
                        "DROP DATABASE {database}; CREATE DATABASE {database}; USE {database}"
                    ))?;
                    let $conn = &mut *conn;
                    $body
                }
            )*
        }
    };
}

schema_tests! {
    migrations_apply_and_revert(conn) {
        let dir = migrations_dir(&format!("{:?}", dialect(conn)));
        let path = schema().write_migration(&dir, "create_tables", dialect(conn))?;
        assert!(path.join("up.sql").exists() && path.join("down.sql").exists());
        let migrations = FileBasedMigrations::from_path(&dir)?;
        conn.run_pending_migrations(migrations.clone()).map_err(|e| e.to_string())?;
        assert!(schema().check(conn)?.is_empty(), "{:?}", schema().check(conn)?);
        let ada = User::create(NewUser { name: "Ada".into() }, conn)?;
        let party = Event::create(NewEvent { title: "Party".into() }, conn)?;
        party.add_guest(&ada, conn)?;
        assert_eq!(party.guests(conn)?, vec![ada]);
        conn.revert_last_migration(migrations).map_err(|e| e.to_string())?;
        let drifts = schema().check(conn)?;
        for table in ["users", "rsvps", "events"] {
            assert!(drifts.contains(&Drift::MissingTable { table: table.into() }), "{table} dropped");
        }
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    schema_check_reports_every_difference(conn) {
        schema().create_all(conn)?;
        assert_eq!(schema().check(conn)?, vec![]);
        conn.batch_execute(
            "ALTER TABLE posts RENAME COLUMN title TO heading; \
             ALTER TABLE users ADD COLUMN age INTEGER; \
             DROP TABLE profiles",
        )?;
        let mut expected = vec![
            Drift::MissingColumn { table: "posts".into(), column: "title".into() },
            Drift::ExtraColumn { table: "posts".into(), column: "heading".into() },
            Drift::ExtraColumn { table: "users".into(), column: "age".into() },
            Drift::MissingTable { table: "profiles".into() },
        ];
        if dialect(conn) == orm_core::Dialect::Mysql {
            conn.batch_execute(
                "ALTER TABLE tasks MODIFY title TEXT NULL; \
                 ALTER TABLE comments MODIFY body VARCHAR(20) NOT NULL; \
                 ALTER TABLE articles MODIFY title BIGINT NOT NULL; \
                 ALTER TABLE series ADD FOREIGN KEY (trainer_id) REFERENCES trainers (id); \
                 ALTER TABLE comments DROP FOREIGN KEY comments_ibfk_1",
            )?;
            // VARCHAR is diesel's Text (`Varchar` is an alias of it), and a key
            // declared `constraints = false` may be enforced or not: no drift.
            expected.extend([
                Drift::Nullability { table: "tasks".into(), column: "title".into(), expected_nullable: false },
                Drift::ColumnType {
                    table: "articles".into(),
                    column: "title".into(),
                    expected: "text".into(),
                    found: "bigint".into(),
                },
                Drift::MissingForeignKey {
                    table: "comments".into(),
                    column: "article_id".into(),
                    references: "articles".into(),
                },
            ]);
        }
        if dialect(conn) == orm_core::Dialect::Postgres {
            conn.batch_execute(
                "ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL; \
                 ALTER TABLE comments ALTER COLUMN body TYPE varchar(20); \
                 ALTER TABLE articles ALTER COLUMN title TYPE bigint USING length(title); \
                 ALTER TABLE series ADD FOREIGN KEY (trainer_id) REFERENCES trainers (id); \
                 ALTER TABLE posts DROP CONSTRAINT posts_author_id_fkey; \
                 ALTER TABLE posts ADD FOREIGN KEY (author_id) REFERENCES users (id) \
                   ON DELETE CASCADE ON UPDATE CASCADE; \
                 ALTER TABLE comments DROP CONSTRAINT comments_article_id_fkey",
            )?;
            // VARCHAR is diesel's Text (`Varchar` is an alias of it), and a key
            // declared `constraints = false` may be enforced or not: no drift.
            expected.extend([
                // A nullable key's default is SET NULL.
                Drift::ForeignKeyAction {
                    table: "posts".into(),
                    column: "author_id".into(),
                    event: "ON DELETE".into(),
                    expected: "SET NULL".into(),
                    found: "CASCADE".into(),
                },
                Drift::Nullability { table: "tasks".into(), column: "title".into(), expected_nullable: false },
                Drift::ColumnType {
                    table: "articles".into(),
                    column: "title".into(),
                    expected: "text".into(),
                    found: "bigint".into(),
                },
                Drift::MissingForeignKey {
                    table: "comments".into(),
                    column: "article_id".into(),
                    references: "articles".into(),
                },
            ]);
        }
        let mut found = schema().check(conn)?;
        let key = |d: &Drift| d.to_string();
        found.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(found, expected);
        let report: Vec<String> = found.iter().map(Drift::to_string).collect();
        println!("{}", report.join("\n"));
        assert!(report.contains(&"column `posts.title` is missing".to_string()));
        Ok(())
    }

    migrations_after_the_first(conn) {
        let dir = migrations_dir(&format!("next-{:?}", dialect(conn)));
        let migrations = || FileBasedMigrations::from_path(&dir);
        v1::schema().write_migration(&dir, "first", dialect(conn))?;
        conn.run_pending_migrations(migrations()?).map_err(|e| e.to_string())?;
        let oak = v1::Shelf::create(v1::NewShelf { name: "Oak".into(), note: Some("by the door".into()) }, conn)?;
        let dune = oak.create_tome(|shelf_id| v1::NewTome { shelf_id, title: "Dune".into(), pages: 412 }, conn)?;

        // A column added with a default and one dropped, a new table, a
        // type, a nullability, a foreign key added and one's actions changed.
        assert_ne!(v2::schema().check(conn)?, vec![]);
        let path = v2::schema().write_next_migration(conn, &dir, "second")?.expect("a migration");
        let up = std::fs::read_to_string(path.join("up.sql"))?;
        conn.run_pending_migrations(migrations()?).map_err(|e| format!("{e}\n{up}"))?;
        assert_eq!(v2::schema().check(conn)?, vec![], "{up}");
        assert!(v2::schema().diff(conn)?.is_empty());
        assert!(v2::schema().write_next_migration(conn, &dir, "nothing")?.is_none());
        // The rows are kept, the new column holds its default.
        let tome = v2::Tome::find(dune.id, conn)?;
        assert_eq!((tome.title.as_str(), tome.pages, tome.shelf_id), ("Dune", 412, Some(oak.id)));
        assert_eq!(v2::Shelf::find(oak.id, conn)?.room, "main");
        let label = v2::Label::create(v2::NewLabel { text: "classic".into() }, conn)?;
        let tome = v2::Tome { label_id: Some(label.id), ..tome };
        tome.save(conn)?;
        assert_eq!(tome.label(conn)?, Some(label));

        // And back: `down.sql` restores the first schema and the rows.
        let down = std::fs::read_to_string(path.join("down.sql"))?;
        conn.revert_last_migration(migrations()?).map_err(|e| format!("{e}\n{down}"))?;
        assert_eq!(v1::schema().check(conn)?, vec![], "{down}");
        assert_eq!(v1::Tome::find(dune.id, conn)?, dune);
        // A dropped column comes back, empty: its values went with it.
        assert_eq!(v1::Shelf::find(oak.id, conn)?, v1::Shelf { note: None, ..oak });
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    the_migrate_command(conn) {
        let dir = migrations_dir(&format!("cli-{:?}", dialect(conn)));
        v1::schema().create_all(conn)?;
        let run = |schema: &orm_core::Schema, conn: &mut _, args: &[&str]| {
            orm_core::cli::run(schema, conn, &dir, args.iter().copied())
        };
        assert_eq!(run(&v1::schema(), conn, &["check"]), Ok("the database matches the models".into()));
        let drift = run(&v2::schema(), conn, &["check"]).unwrap_err();
        assert!(drift.lines().any(|l| l == "table `labels` is missing"), "{drift}");
        let sql = run(&v2::schema(), conn, &["sql"])?;
        assert!(sql.starts_with("-- up.sql\n") && sql.contains("-- down.sql\n"), "{sql}");
        assert!(!dir.exists(), "`sql` writes nothing");
        let bad = run(&v2::schema(), conn, &["makemigrations", "add labels"]).unwrap_err();
        assert_eq!(bad, "`add labels` is not a migration name: use letters, digits and `_`");
        let wrote = run(&v2::schema(), conn, &["makemigrations", "add_labels"])?;
        let written: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
        assert_eq!(written.len(), 1);
        assert_eq!(wrote, format!("wrote {}", written[0].path().display()));
        assert!(run(&v2::schema(), conn, &[]).unwrap_err().starts_with("usage: migrate <command>"));
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    column_defaults_are_created_and_checked(conn) {
        let counters = orm_core::Schema::new().model::<Counter>();
        counters.create_all(conn)?;
        assert_eq!(counters.check(conn)?, vec![]);
        // `None` leaves the column to the default the DDL wrote.
        let left = Counter::create(NewCounter { label: "left".into(), hits: None }, conn)?;
        let given = Counter::create(NewCounter { label: "given".into(), hits: Some(2) }, conn)?;
        assert_eq!((left.hits, given.hits), (7, 2));

        // A default the model cannot spell: checked, never written.
        let gauges = orm_core::Schema::new().model::<Gauge>();
        let err = gauges.sql(dialect(conn)).unwrap_err().to_string();
        assert!(err.contains("`gauges.level` is `default` without an expression"), "{err}");
        let serial = match dialect(conn) {
            orm_core::Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            orm_core::Dialect::Postgres => "SERIAL PRIMARY KEY",
            orm_core::Dialect::Mysql => "INTEGER PRIMARY KEY AUTO_INCREMENT",
        };
        conn.batch_execute(&format!(
            "CREATE TABLE gauges (id {serial}, label VARCHAR(20) NOT NULL DEFAULT 'g', level INTEGER NOT NULL)"
        ))?;
        let mut found = gauges.check(conn)?;
        found.sort_by_key(Drift::to_string);
        assert_eq!(
            found,
            vec![
                Drift::ColumnDefault { table: "gauges".into(), column: "label".into(), expected_default: false },
                Drift::ColumnDefault { table: "gauges".into(), column: "level".into(), expected_default: true },
            ]
        );
        assert_eq!(found[0].to_string(), "column `gauges.label` has a default, the model has none");
        Ok(())
    }
}

/// A column whose default the model spells, so `Schema` creates it.
#[derive(orm_core::Model, Debug, Clone, PartialEq)]
pub struct Counter {
    pub id: i32,
    pub label: String,
    #[model(default = "7")]
    pub hits: i32,
}

/// A column whose default only the migrations know.
#[derive(orm_core::Model, Debug, Clone, PartialEq)]
pub struct Gauge {
    pub id: i32,
    pub label: String,
    #[model(default)]
    pub level: i32,
}

// Named so that CI's `mysql::` filter runs it.
#[cfg(feature = "mysql")]
mod on_mysql {
    use super::*;

    /// The check reads the catalog of its own database only: DDL in another
    /// database at the same time neither waits for it nor, on a Galera node
    /// (where DDL aborts the statements holding the tables it changes), makes
    /// it fail. MariaDB answered a join of two `information_schema` tables by
    /// opening every table of every database.
    #[test]
    fn the_check_reads_its_own_database_only() -> TestResult {
        const CHANGES: usize = 100;
        let Some(mut conn) = orm_tests::mysql("the_check_reads_its_own_database_only") else {
            return Ok(());
        };
        let Some(mut other) = orm_tests::mysql("the_check_reads_its_own_database_only_other")
        else {
            return Ok(());
        };
        // Tables come and go in the other test's database, and a database
        // of tables comes and goes beside it.
        let scratch = format!("{}_scratch", other.database());
        let changes = format!(
            "CREATE TABLE scratch (id INTEGER PRIMARY KEY, user_id INTEGER, \
             FOREIGN KEY (user_id) REFERENCES users (id)); DROP TABLE scratch; \
             CREATE DATABASE {scratch}; CREATE TABLE {scratch}.a (id INTEGER PRIMARY KEY); \
             CREATE TABLE {scratch}.b (id INTEGER PRIMARY KEY, a_id INTEGER, \
             FOREIGN KEY (a_id) REFERENCES {scratch}.a (id)); DROP DATABASE {scratch}"
        );
        let ddl = std::thread::spawn(move || -> Result<(), String> {
            for _ in 0..CHANGES {
                other.batch_execute(&changes).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        let mut checks = 0;
        while !ddl.is_finished() || checks == 0 {
            assert_eq!(schema().check(&mut *conn)?, vec![]);
            checks += 1;
        }
        ddl.join().expect("the DDL thread")?;
        Ok(())
    }
}

/// A schema's first version.
mod v1 {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "shelves")]
    #[has_many(Tome)]
    pub struct Shelf {
        pub id: i32,
        pub name: String,
        pub note: Option<String>,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "tomes")]
    #[belongs_to(Shelf)]
    pub struct Tome {
        pub id: i32,
        pub shelf_id: i32,
        pub title: String,
        pub pages: i32,
    }

    pub fn schema() -> Schema {
        Schema::new().model::<Shelf>().model::<Tome>()
    }
}

/// Its second: `shelves.note` dropped and `room` added, `tomes.shelf_id`
/// nullable (so its ON DELETE is SET NULL), `pages` a BIGINT, and a new
/// table `labels` that `tomes.label_id` references.
mod v2 {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "shelves")]
    pub struct Shelf {
        pub id: i32,
        pub name: String,
        #[model(default = "'main'")]
        pub room: String,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "tomes")]
    #[belongs_to(Shelf)]
    #[belongs_to(Label)]
    pub struct Tome {
        pub id: i32,
        pub shelf_id: Option<i32>,
        pub title: String,
        pub pages: i64,
        pub label_id: Option<i32>,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "labels")]
    pub struct Label {
        pub id: i32,
        pub text: String,
    }

    pub fn schema() -> Schema {
        Schema::new()
            .model::<Shelf>()
            .model::<Tome>()
            .model::<Label>()
    }
}

/// A polymorphic key declared a foreign key by both parents, without
/// `constraints = false`.
mod polymorphic_key {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[has_many(Blurb, foreign_key = "blurbable_id", scope = blurbs::blurbable_type.eq("clip"))]
    pub struct Clip {
        pub id: i32,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[has_many(Blurb, foreign_key = "blurbable_id", scope = blurbs::blurbable_type.eq("slide"))]
    pub struct Slide {
        pub id: i32,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[polymorphic(Blurbable, Clip = "clip", Slide = "slide")]
    pub struct Blurb {
        pub id: i32,
        pub blurbable_type: String,
        pub blurbable_id: Option<i32>,
    }
}

// One column cannot reference two tables: the DDL is refused with what to
// do, before any statement, on every dialect.
#[test]
fn a_polymorphic_key_with_two_foreign_keys_is_refused() {
    use polymorphic_key::{Blurb, Clip, Slide};
    let schema = orm_core::Schema::new()
        .model::<Clip>()
        .model::<Slide>()
        .model::<Blurb>();
    for dialect in [
        orm_core::Dialect::Sqlite,
        orm_core::Dialect::Postgres,
        orm_core::Dialect::Mysql,
    ] {
        let err = schema.sql(dialect).unwrap_err().to_string();
        assert!(
            err.contains(
                "`blurbs.blurbable_id` is declared a foreign key to `clips` and to `slides`"
            ) && err.contains("constraints = false"),
            "{err}"
        );
    }
}

// A multi-column foreign key is one constraint naming both columns and the
// referenced key's, with one index over both; a key leading the primary
// key (the order's tenant) needs none.
#[test]
fn a_multi_column_foreign_key_is_one_constraint() {
    use orm_tests::{Invoice, Order, OrderLine, Tenant};
    let schema = orm_core::Schema::new()
        .model::<Tenant>()
        .model::<Order>()
        .model::<OrderLine>()
        .model::<Invoice>();
    let sql = schema.sql(orm_core::Dialect::Postgres).unwrap();
    let table = |name: &str| {
        let prefix = format!("CREATE TABLE \"{name}\" (");
        sql.iter()
            .find(|s| s.starts_with(&prefix))
            .cloned()
            .unwrap_or_default()
    };
    let lines = table("order_lines");
    assert!(
        lines.contains(
            "FOREIGN KEY (\"tenant_id\", \"order_number\") REFERENCES \"orders\" (\"tenant_id\", \"number\") ON DELETE CASCADE ON UPDATE CASCADE"
        ),
        "{lines}"
    );
    assert_eq!(lines.matches("FOREIGN KEY").count(), 1, "{lines}");
    let invoices = table("invoices");
    assert!(
        invoices.contains("REFERENCES \"orders\" (\"tenant_id\", \"number\") ON DELETE RESTRICT"),
        "{invoices}"
    );
    assert!(sql.contains(
        &"CREATE INDEX \"order_lines_tenant_id_order_number_idx\" ON \"order_lines\" (\"tenant_id\", \"order_number\")".to_string()
    ), "{sql:#?}");
    assert!(sql.contains(
        &"CREATE UNIQUE INDEX \"invoices_tenant_id_order_number_key\" ON \"invoices\" (\"tenant_id\", \"order_number\")".to_string()
    ), "{sql:#?}");
    assert!(
        !sql.iter().any(|s| s.contains("INDEX \"orders_tenant_id")),
        "{sql:#?}"
    );
    assert!(table("orders").contains("PRIMARY KEY (\"tenant_id\", \"number\")"));
}
