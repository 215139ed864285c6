//! Compile time of a user crate: the same schema and association methods
//! once with `#[derive(Model)]` and once written by hand with diesel, each
//! crate rebuilt alone from clean (dependencies built once beforehand).
//!
//! `cargo run --release -p examples --bin compile_time` writes the two
//! crates under `target/compile-time/` (a workspace of their own with its
//! own target directory, so the first run also builds diesel, libsqlite3 and
//! orm-core once), then builds each crate `COMPILE_ROUNDS` times (3),
//! alternating which goes first, and prints each side's fastest build in the
//! dev profile. `MODELS=n` sets the number of models (50); `ORM_CORE=path`
//! measures the orm-core of another checkout.
//!
//! The schema is a chain of models `M0 .. Mn-1`: each `Mi` belongs to
//! `Mi-1` (so `Mi-1` has many `Mi`) and belongs to many `Mi+1` through a join
//! table of its own. The hand-written side has, per model, what `diesel
//! print-schema` and diesel's guide give a user (`table!`, `joinable!`, the
//! tables that appear together, `Queryable`/`Selectable`/`Identifiable`/
//! `Associations`/`Insertable` structs) and the methods a user would write
//! for those associations on `SqliteConnection`: find, create, save, delete,
//! the parent, the children, their count and their eager load, and for the
//! many-to-many association get, has, count, add, remove, set (a
//! transaction) and the eager load. The derive generates all of those and
//! more (staged changes, refinable queries, per-parent limits, ..), generic
//! over the connection.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let models: usize = env_or("MODELS", 50).max(2);
    let rounds: usize = env_or("COMPILE_ROUNDS", 3).max(1);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // `ORM_CORE=path` measures another checkout's orm-core (for a before
    // and after), in a directory of its own.
    let (root, orm_core) = match std::env::var_os("ORM_CORE") {
        Some(path) => (
            workspace.join("target").join("compile-time-other"),
            PathBuf::from(path),
        ),
        None => (
            workspace.join("target").join("compile-time"),
            workspace.join("orm-core"),
        ),
    };
    let orm_core = orm_core.canonicalize().expect("orm-core");
    write_workspace(&root, &orm_core, models, &workspace);

    let (derive_lines, hand_lines) = (lines(&root, "derive"), lines(&root, "hand"));
    println!("{models} models; building dependencies once ...");
    cargo(&root, &["build", "--workspace"]);
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for side in [round % 2, 1 - round % 2] {
            let name = ["derive", "hand"][side];
            cargo(&root, &["clean", "-p", name]);
            let start = Instant::now();
            cargo(&root, &["build", "-p", name]);
            let elapsed = start.elapsed();
            println!("round {round}: {name} {:.1} s", elapsed.as_secs_f64());
            times[side].push(elapsed);
        }
    }
    let fastest = |t: &[Duration]| t.iter().min().copied().unwrap_or_default().as_secs_f64();
    let (d, h) = (fastest(&times[0]), fastest(&times[1]));
    println!(
        "\n| crate ({models} models) | lines of user code | build s (fastest of {rounds}) | ratio |"
    );
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| `#[derive(Model)]` | {derive_lines} | {d:.1} | {:.2}× |",
        d / h
    );
    println!("| diesel by hand | {hand_lines} | {h:.1} | 1.00× |");
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs cargo in the generated workspace, with its own target directory.
fn cargo(root: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO"))
        .args(args)
        .arg("--quiet")
        .current_dir(root)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "cargo {args:?} failed in {}",
        root.display()
    );
}

fn lines(root: &Path, name: &str) -> usize {
    std::fs::read_to_string(root.join(name).join("src/lib.rs"))
        .expect("generated lib.rs")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dir");
    // Unchanged files keep their mtime, so cargo keeps what it built.
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        std::fs::write(&path, text).expect("write");
    }
}

fn write_workspace(root: &Path, orm_core: &Path, models: usize, workspace: &Path) {
    write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"derive\", \"hand\"]\n",
    );
    // The versions the workspace builds with.
    if let Ok(lock) = std::fs::read_to_string(workspace.join("Cargo.lock")) {
        if !root.join("Cargo.lock").exists() {
            write(root.join("Cargo.lock"), &lock);
        }
    }
    write(
        root.join("derive/Cargo.toml"),
        &format!(
            "[package]\nname = \"derive\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\norm-core = {{ path = {:?} }}\n",
            orm_core.display().to_string()
        ),
    );
    write(
        root.join("hand/Cargo.toml"),
        "[package]\nname = \"hand\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n\
         diesel = { version = \"=2.3.14\", features = [\"sqlite\", \"returning_clauses_for_sqlite_3_35\"] }\n\
         libsqlite3-sys = { version = \">=0.35, <0.39\", features = [\"bundled\"] }\n",
    );
    write(root.join("derive/src/lib.rs"), &derive_crate(models));
    write(root.join("hand/src/lib.rs"), &hand_crate(models));
}

/// Model `i`'s parent (`None` for the first) and many-to-many target.
fn links(i: usize, models: usize) -> (Option<usize>, Option<usize>, usize) {
    let parent = i.checked_sub(1);
    let child = (i + 1 < models).then_some(i + 1);
    (parent, child, (i + 1) % models)
}

fn derive_crate(models: usize) -> String {
    let mut s = String::from("//! Generated by `compile_time`.\nuse orm_core::prelude::*;\n");
    for i in 0..models {
        let (parent, child, other) = links(i, models);
        s.push_str("\n#[derive(Model, Debug, Clone, PartialEq)]\n");
        if let Some(p) = parent {
            writeln!(s, "#[belongs_to(M{p})]").unwrap();
        }
        if let Some(c) = child {
            writeln!(s, "#[has_many(M{c})]").unwrap();
        }
        writeln!(
            s,
            "#[belongs_to_many(M{other}, through = \"links{i}\", as = \"Links\")]"
        )
        .unwrap();
        writeln!(
            s,
            "pub struct M{i} {{\n    pub id: i32,\n    pub name: String,"
        )
        .unwrap();
        if let Some(p) = parent {
            writeln!(s, "    pub m{p}_id: i32,").unwrap();
        }
        s.push_str("}\n");
    }
    s
}

fn hand_crate(models: usize) -> String {
    let mut s = String::from(
        "//! Generated by `compile_time`.\n\
         use diesel::prelude::*;\n\
         use diesel::sqlite::SqliteConnection as Conn;\n\n\
         pub mod schema {\n",
    );
    for i in 0..models {
        let (parent, _, o) = links(i, models);
        let fk = parent.map_or(String::new(), |p| format!("        m{p}_id -> Integer,\n"));
        write!(
            s,
            "    diesel::table! {{\n        m{i}s (id) {{\n            id -> Integer,\n            name -> Text,\n    {fk}        }}\n    }}\n\
             \x20   diesel::table! {{\n        links{i} (m{i}_id, m{o}_id) {{\n            m{i}_id -> Integer,\n            m{o}_id -> Integer,\n        }}\n    }}\n\
             \x20   diesel::joinable!(links{i} -> m{i}s (m{i}_id));\n\
             \x20   diesel::joinable!(links{i} -> m{o}s (m{o}_id));\n\
             \x20   diesel::allow_tables_to_appear_in_same_query!(links{i}, m{i}s);\n\
             \x20   diesel::allow_tables_to_appear_in_same_query!(links{i}, m{o}s);\n"
        )
        .unwrap();
        if let Some(p) = parent {
            writeln!(s, "    diesel::joinable!(m{i}s -> m{p}s (m{p}_id));").unwrap();
            writeln!(
                s,
                "    diesel::allow_tables_to_appear_in_same_query!(m{i}s, m{p}s);"
            )
            .unwrap();
        }
    }
    s.push_str("}\n\nuse schema::*;\n");
    for i in 0..models {
        hand_model(&mut s, i, models);
    }
    s
}

fn hand_model(s: &mut String, i: usize, models: usize) {
    let (parent, child, o) = links(i, models);
    let (associations, belongs) = parent.map_or((String::new(), String::new()), |p| {
        (", Associations".to_owned(), format!(", belongs_to(M{p})"))
    });
    let (fk_field, fk_set) = parent.map_or((String::new(), String::new()), |p| {
        (
            format!("    pub m{p}_id: i32,\n"),
            format!(", m{i}s::m{p}_id.eq(self.m{p}_id)"),
        )
    });
    write!(
        s,
        r#"
#[derive(Queryable, Selectable, Identifiable{associations}, Debug, Clone, PartialEq)]
#[diesel(table_name = m{i}s{belongs})]
pub struct M{i} {{
    pub id: i32,
    pub name: String,
{fk_field}}}

#[derive(Insertable)]
#[diesel(table_name = m{i}s)]
pub struct NewM{i} {{
    pub name: String,
{fk_field}}}

#[derive(Queryable, Selectable, Identifiable, Associations, Insertable, Debug, Clone, Copy)]
#[diesel(table_name = links{i}, primary_key(m{i}_id, m{o}_id), belongs_to(M{i}), belongs_to(M{o}))]
pub struct Link{i} {{
    pub m{i}_id: i32,
    pub m{o}_id: i32,
}}

impl M{i} {{
    pub fn find(id: i32, conn: &mut Conn) -> QueryResult<Self> {{
        m{i}s::table.find(id).select(Self::as_select()).first(conn)
    }}

    pub fn create(new: &NewM{i}, conn: &mut Conn) -> QueryResult<Self> {{
        diesel::insert_into(m{i}s::table).values(new).returning(Self::as_returning()).get_result(conn)
    }}

    pub fn save(&self, conn: &mut Conn) -> QueryResult<usize> {{
        diesel::update(self).set((m{i}s::name.eq(&self.name){fk_set},)).execute(conn)
    }}

    pub fn delete(&self, conn: &mut Conn) -> QueryResult<usize> {{
        diesel::delete(self).execute(conn)
    }}

    pub fn links(&self, conn: &mut Conn) -> QueryResult<Vec<M{o}>> {{
        Link{i}::belonging_to(self).inner_join(m{o}s::table).select(M{o}::as_select()).load(conn)
    }}

    pub fn has_link(&self, id: i32, conn: &mut Conn) -> QueryResult<bool> {{
        diesel::select(diesel::dsl::exists(Link{i}::belonging_to(self).filter(links{i}::m{o}_id.eq(id))))
            .get_result(conn)
    }}

    pub fn count_links(&self, conn: &mut Conn) -> QueryResult<i64> {{
        Link{i}::belonging_to(self).count().get_result(conn)
    }}

    pub fn add_link(&self, id: i32, conn: &mut Conn) -> QueryResult<usize> {{
        diesel::insert_into(links{i}::table)
            .values(&Link{i} {{ m{i}_id: self.id, m{o}_id: id }})
            .on_conflict_do_nothing()
            .execute(conn)
    }}

    pub fn remove_link(&self, id: i32, conn: &mut Conn) -> QueryResult<usize> {{
        diesel::delete(links{i}::table.find((self.id, id))).execute(conn)
    }}

    pub fn set_links(&self, ids: &[i32], conn: &mut Conn) -> QueryResult<usize> {{
        conn.transaction(|conn| {{
            diesel::delete(Link{i}::belonging_to(self)).execute(conn)?;
            let rows: Vec<Link{i}> = ids.iter().map(|&id| Link{i} {{ m{i}_id: self.id, m{o}_id: id }}).collect();
            diesel::insert_into(links{i}::table).values(&rows).execute(conn)
        }})
    }}

    pub fn load_links(parents: &[Self], conn: &mut Conn) -> QueryResult<Vec<Vec<M{o}>>> {{
        let rows: Vec<(Link{i}, M{o})> = Link{i}::belonging_to(parents)
            .inner_join(m{o}s::table)
            .select((Link{i}::as_select(), M{o}::as_select()))
            .load(conn)?;
        Ok(rows
            .grouped_by(parents)
            .into_iter()
            .map(|rows| rows.into_iter().map(|(_, m)| m).collect())
            .collect())
    }}
"#
    )
    .unwrap();
    if let Some(p) = parent {
        write!(
            s,
            r#"
    pub fn m{p}(&self, conn: &mut Conn) -> QueryResult<M{p}> {{
        m{p}s::table.find(self.m{p}_id).select(M{p}::as_select()).first(conn)
    }}
"#
        )
        .unwrap();
    }
    if let Some(c) = child {
        write!(
            s,
            r#"
    pub fn m{c}s(&self, conn: &mut Conn) -> QueryResult<Vec<M{c}>> {{
        M{c}::belonging_to(self).select(M{c}::as_select()).load(conn)
    }}

    pub fn count_m{c}s(&self, conn: &mut Conn) -> QueryResult<i64> {{
        M{c}::belonging_to(self).count().get_result(conn)
    }}

    pub fn load_m{c}s(parents: &[Self], conn: &mut Conn) -> QueryResult<Vec<Vec<M{c}>>> {{
        let children = M{c}::belonging_to(parents).select(M{c}::as_select()).load(conn)?;
        Ok(children.grouped_by(parents))
    }}
"#
        )
        .unwrap();
    }
    s.push_str("}\n");
}
