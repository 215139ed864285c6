//! A migration command for your own binary: `makemigrations NAME` writes the
//! next migration, `check` reports the drift, `sql` prints the next
//! migration without writing it.
//!
//! ```no_run
//! // src/bin/migrate.rs
//! use orm_core::prelude::*;
//! # #[derive(Model, Debug, Clone, PartialEq)]
//! # pub struct User { pub id: i32, pub name: String }
//!
//! fn main() -> std::process::ExitCode {
//!     let schema = Schema::new().model::<User>();
//!     let mut conn = orm_core::sqlite::open("app.db").expect("open the database");
//!     orm_core::cli::main(&schema, &mut conn, "migrations")
//! }
//! ```
//!
//! Then `cargo run --bin migrate -- makemigrations add_bio` writes
//! `migrations/<version>_add_bio/`, which `diesel migration run` (or
//! `diesel_migrations` in your application) applies, and `cargo run --bin
//! migrate -- check` fails while the database and the models differ: a step
//! for CI.

use std::path::Path;
use std::process::ExitCode;

use crate::drift::ReadCatalog;
use crate::exec::{Blocking, ConnKind};
use crate::schema::Schema;

/// A connection the migration command runs on: a diesel connection
/// (`SqliteConnection`, `PgConnection`, `MysqlConnection`, a pooled one) of
/// a backend orm-core supports.
#[diagnostic::on_unimplemented(
    message = "`orm_core::cli` runs on a diesel connection, not on `{Self}`",
    label = "a blocking connection, such as `SqliteConnection` or `PgConnection`",
    note = "a migration command needs no async: open a diesel connection for it (`orm_core::sqlite::open(path)`, `orm_core::pg::connect(url)`); on an async connection, `schema.diff(&mut conn).await?.write(dir, name)` writes the next migration"
)]
pub trait CliConnection: ReadCatalog + ConnKind<Kind = Blocking> {}

#[diagnostic::do_not_recommend]
impl<C: ReadCatalog + ConnKind<Kind = Blocking>> CliConnection for C {}

const USAGE: &str = "usage: migrate <command>\n\
    commands:\n  \
    makemigrations NAME  write the migration that brings the database to the models\n  \
    check                list every difference between the database and the models\n  \
    sql                  print that migration without writing it";

/// Runs the command in `args` (without the program name) for `schema`
/// against `conn`, writing migrations under `dir`, and returns what to
/// print: `Ok` on success, `Err` with the reason (the drift for `check`,
/// the usage for an unknown command).
pub fn run<C, I>(
    schema: &Schema,
    conn: &mut C,
    dir: impl AsRef<Path>,
    args: I,
) -> Result<String, String>
where
    C: CliConnection,
    I: IntoIterator,
    I::Item: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["makemigrations", name] => {
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`{name}` is not a migration name: use letters, digits and `_`"
                ));
            }
            match schema.write_next_migration(conn, dir, name) {
                Ok(Some(path)) => Ok(format!("wrote {}", path.display())),
                Ok(None) => Ok("no changes: the database matches the models".into()),
                Err(e) => Err(e.to_string()),
            }
        }
        ["check"] => {
            let drifts = schema.check(conn).map_err(|e| e.to_string())?;
            if drifts.is_empty() {
                return Ok("the database matches the models".into());
            }
            let lines: Vec<String> = drifts.iter().map(ToString::to_string).collect();
            Err(lines.join("\n"))
        }
        ["sql"] => {
            let migration = schema.diff(conn).map_err(|e| e.to_string())?;
            if migration.is_empty() {
                return Ok("no changes: the database matches the models".into());
            }
            Ok(format!(
                "-- up.sql\n{}\n-- down.sql\n{}",
                migration.up_sql(),
                migration.down_sql()
            ))
        }
        _ => Err(USAGE.into()),
    }
}

/// [`run`] with the process's arguments, printing its result (to stderr
/// when it fails) and returning the exit code: what a `main` returns.
pub fn main<C: CliConnection>(schema: &Schema, conn: &mut C, dir: impl AsRef<Path>) -> ExitCode {
    match run(schema, conn, dir, std::env::args().skip(1)) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
