//! A project that already uses diesel: its `schema.rs` as `diesel
//! print-schema` writes it, tables created by its own SQL, and structs that
//! list their fields in their own order, or only some of the columns.
//! Fields map to columns by name, whatever the order; a column a struct
//! leaves out keeps its database default.
// clippy reads two `#[belongs_to(..)]` with the same options as duplicates.
#![allow(clippy::duplicated_attributes)]

use orm_core::prelude::*;
use orm_tests::{backend_tests, dialect};

mod schema {
    orm_core::diesel::table! {
        novelists (id) {
            id -> Integer,
            name -> Varchar,
            born -> Integer,
        }
    }

    orm_core::diesel::table! {
        novels (id) {
            id -> Integer,
            novelist_id -> Integer,
            title -> Varchar,
            subtitle -> Varchar,
            pages -> Integer,
            rating -> Integer,
            downloads -> Integer,
        }
    }

    orm_core::diesel::table! {
        genres (id) {
            id -> Integer,
            label -> Varchar,
        }
    }

    orm_core::diesel::table! {
        novel_genres (novel_id, genre_id) {
            novel_id -> Integer,
            genre_id -> Integer,
            weight -> Integer,
        }
    }

    orm_core::diesel::table! {
        editions (isbn) {
            isbn -> Integer,
            label -> Varchar,
            copies -> Integer,
            label_length -> Nullable<Integer>,
        }
    }

    orm_core::diesel::table! {
        awards (id) {
            id -> Integer,
            name -> Varchar,
        }
    }

    // The project's own join table, its key in its own order.
    orm_core::diesel::table! {
        novel_awards (award_id, novel_id) {
            award_id -> Integer,
            novel_id -> Integer,
        }
    }

    orm_core::diesel::joinable!(novels -> novelists (novelist_id));
    orm_core::diesel::joinable!(novel_genres -> novels (novel_id));
    orm_core::diesel::joinable!(novel_genres -> genres (genre_id));
    orm_core::diesel::allow_tables_to_appear_in_same_query!(
        novelists,
        novels,
        genres,
        novel_genres,
        awards,
        novel_awards
    );
}

use schema::{novel_genres, novelists, novels};

// The fields in the reverse of the table's order. The project already has a
// `NewNovelist<'a>` of its own: the derive's insertable struct takes
// another name. diesel's `Identifiable` stays beside `Model`.
#[derive(Model, Debug, Clone, PartialEq, diesel::Identifiable)]
#[diesel(table_name = novelists)]
#[model(table = schema::novelists, new = NovelistRow)]
#[has_many(Novel)]
pub struct Novelist {
    pub born: i32,
    pub name: String,
    pub id: i32,
}

/// The project's own insertable struct, as diesel's guide writes one.
#[derive(diesel::Insertable)]
#[diesel(table_name = schema::novelists)]
pub struct NewNovelist<'a> {
    pub name: &'a str,
    pub born: i32,
}

// Four integer and two text columns in another order than the table's, and
// `downloads` left out (its default is 0): a positional read would put
// `rating` into `pages` and `subtitle` into `title`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::novels)]
#[belongs_to(Novelist, on_delete = "no_action", on_update = "no_action")]
#[belongs_to_many(Genre, through = NovelGenre)]
#[belongs_to_many(Award, through = schema::novel_awards, on_delete = "no_action", on_update = "no_action")]
pub struct Novel {
    pub rating: i32,
    pub pages: i32,
    pub subtitle: String,
    pub title: String,
    pub novelist_id: i32,
    pub id: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::genres)]
#[belongs_to_many(Novel, through = NovelGenre)]
pub struct Genre {
    pub label: String,
    pub id: i32,
}

// The join table's key columns in the other order.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::novel_genres, primary_key(novel_id, genre_id))]
// The project's SQL gives these keys no actions (NO ACTION): the model says
// so, or the drift check reports the difference.
#[belongs_to(Novel, on_delete = "no_action", on_update = "no_action")]
#[belongs_to(Genre, on_delete = "no_action", on_update = "no_action")]
pub struct NovelGenre {
    pub weight: i32,
    pub genre_id: i32,
    pub novel_id: i32,
}

// A key the application assigns, a column with a database default, and one
// the database computes.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::editions)]
pub struct Edition {
    #[model(primary_key, auto = false)]
    pub isbn: i32,
    pub label: String,
    #[model(default)]
    pub copies: i32,
    // A generated column accepts NULL as far as the catalog knows.
    #[model(read_only)]
    pub label_length: Option<i32>,
}

// Through the project's `novel_awards` table!, which the derive reuses.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::awards)]
#[belongs_to_many(Novel, through = schema::novel_awards, on_delete = "no_action", on_update = "no_action")]
pub struct Award {
    pub id: i32,
    pub name: String,
}

/// The project's own struct for the join rows.
#[derive(diesel::Queryable, diesel::Selectable, Debug, PartialEq)]
#[diesel(table_name = schema::novel_awards)]
pub struct NovelAward {
    pub novel_id: i32,
    pub award_id: i32,
}

// A join model whose key has three columns: a crew member may hold several
// roles on one mission. Its `belongs_to`s name the two it links; `role`
// travels in the payload.
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Mission, through = Posting)]
pub struct Crew {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Mission {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(crew_id, mission_id, role))]
#[belongs_to(Crew)]
#[belongs_to(Mission)]
pub struct Posting {
    pub crew_id: i32,
    pub mission_id: i32,
    pub role: String,
    pub hours: i32,
}

impl Default for NovelGenrePayload {
    fn default() -> Self {
        NovelGenrePayload { weight: 1 }
    }
}

/// Runs the project's own migration on `$conn`.
macro_rules! migrate {
    ($conn:expr) => {
        r!($conn.batch_execute(&migration(dialect($conn))))
    };
}

/// The project's own migration.
fn migration(dialect: orm_core::Dialect) -> String {
    let serial = match dialect {
        orm_core::Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        orm_core::Dialect::Postgres => "SERIAL PRIMARY KEY",
        orm_core::Dialect::Mysql => "INTEGER PRIMARY KEY AUTO_INCREMENT",
    };
    let text = match dialect {
        orm_core::Dialect::Mysql => "VARCHAR(200)",
        _ => "VARCHAR",
    };
    format!(
        "CREATE TABLE novelists (id {serial}, name {text} NOT NULL, born INTEGER NOT NULL);
         CREATE TABLE novels (
             id {serial},
             novelist_id INTEGER NOT NULL REFERENCES novelists (id),
             title {text} NOT NULL,
             subtitle {text} NOT NULL,
             pages INTEGER NOT NULL,
             rating INTEGER NOT NULL,
             downloads INTEGER NOT NULL DEFAULT 0
         );
         CREATE TABLE genres (id {serial}, label {text} NOT NULL);
         CREATE TABLE editions (
             isbn INTEGER PRIMARY KEY,
             label {text} NOT NULL,
             copies INTEGER NOT NULL DEFAULT 100,
             label_length INTEGER GENERATED ALWAYS AS (LENGTH(label)) STORED
         );
         CREATE TABLE awards (id {serial}, name {text} NOT NULL);
         CREATE TABLE novel_awards (
             award_id INTEGER NOT NULL REFERENCES awards (id),
             novel_id INTEGER NOT NULL REFERENCES novels (id),
             PRIMARY KEY (award_id, novel_id)
         );
         CREATE TABLE novel_genres (
             novel_id INTEGER NOT NULL REFERENCES novels (id),
             genre_id INTEGER NOT NULL REFERENCES genres (id),
             weight INTEGER NOT NULL,
             PRIMARY KEY (novel_id, genre_id)
         );"
    )
}

/// Creates Dune by `$author`.
macro_rules! dune {
    ($author:expr, $conn:expr) => {
        r!(Novel::create(
            NewNovel {
                rating: 5,
                pages: 412,
                subtitle: "Novel one".into(),
                title: "Dune".into(),
                novelist_id: $author.id,
            },
            $conn,
        ))
    };
}

backend_tests! {
    fn fields_are_read_by_name(conn) {
        migrate!(conn)?;
        let frank = r!(Novelist::create(NovelistRow { born: 1920, name: "Frank".into() }, conn))?;
        assert_eq!((frank.born, frank.name.as_str()), (1920, "Frank"));
        let book = dune!(&frank, conn)?;
        let expected = Novel {
            rating: 5,
            pages: 412,
            subtitle: "Novel one".into(),
            title: "Dune".into(),
            novelist_id: frank.id,
            id: book.id,
        };
        // What the INSERT returned, and what every read gives back.
        assert_eq!(book, expected);
        assert_eq!(r!(Novel::find(book.id, conn))?, expected);
        assert_eq!(r!(Novel::all(conn))?, vec![expected.clone()]);
        assert_eq!(r!(Novel::query().filter(novels::pages.eq(412)).load::<Novel>(conn))?, vec![expected.clone()]);
        assert_eq!(r!(frank.novels(conn))?, vec![expected.clone()]);
        // diesel's own reads, by name, and the `Identifiable` the project kept.
        let theirs: Novel = r!(novels::table.find(book.id).select(Novel::as_select()).first(conn))?;
        assert_eq!(theirs, expected);
        assert_eq!(orm_core::diesel::Identifiable::id(&frank), &frank.id);
        assert_eq!(r!(frank.novels_query().load::<Novel>(conn))?, vec![expected.clone()]);
        assert_eq!(r!(Novelist::load_novels(std::slice::from_ref(&frank), conn))?, vec![vec![expected.clone()]]);
        assert_eq!(
            r!(Novelist::load_novels_where(std::slice::from_ref(&frank), |q| q.order(novels::rating.desc()), conn))?,
            vec![vec![expected.clone()]]
        );
        assert_eq!(r!(book.novelist(conn))?, frank);
        assert_eq!(r!(Novelist::find(frank.id, conn))?, frank);

        // The project's own insertable struct keeps working beside the model.
        r!(orm_core::diesel::insert_into(novelists::table)
            .values(NewNovelist { name: "Ursula", born: 1929 })
            .execute(conn))?;
        let ursula = r!(Novelist::query().filter(novelists::name.eq("Ursula")).first::<Novelist>(conn))?;
        assert_eq!(ursula.born, 1929);

        // The columns hold what the fields say, read back with plain diesel.
        let row: (i32, String, String, i32, i32, i32) = r!(novels::table
            .select((novels::novelist_id, novels::title, novels::subtitle, novels::pages, novels::rating, novels::downloads))
            .first(conn))?;
        assert_eq!(row, (frank.id, "Dune".into(), "Novel one".into(), 412, 5, 0));

        // `save` writes each field to its own column.
        let mut changed = book.clone();
        changed.pages = 500;
        changed.subtitle = "Revised".into();
        r!(changed.save(conn))?;
        assert_eq!(r!(Novel::find(book.id, conn))?, changed);
        let (pages, rating, subtitle): (i32, i32, String) =
            r!(novels::table.select((novels::pages, novels::rating, novels::subtitle)).first(conn))?;
        assert_eq!((pages, rating, subtitle.as_str()), (500, 5, "Revised"));
        Ok(())
    }

    fn a_left_out_column_keeps_its_default(conn) {
        migrate!(conn)?;
        let frank = r!(Novelist::create(NovelistRow { born: 1920, name: "Frank".into() }, conn))?;
        let book = dune!(&frank, conn)?;
        r!(orm_core::diesel::update(novels::table).set(novels::downloads.eq(7)).execute(conn))?;
        // `save` leaves the column alone too.
        r!(book.save(conn))?;
        let downloads: i32 = r!(novels::table.select(novels::downloads).first(conn))?;
        assert_eq!(downloads, 7);
        Ok(())
    }

    fn rows_in_bulk(conn) {
        migrate!(conn)?;
        let frank = r!(Novelist::create(NovelistRow { born: 1920, name: "Frank".into() }, conn))?;
        let new = |i: i32| NewNovel {
            rating: i % 5,
            pages: 100 + i,
            subtitle: format!("s{i}"),
            title: format!("t{i}"),
            novelist_id: frank.id,
        };
        // More rows than one statement can bind on SQLite (5 columns each).
        let news: Vec<NewNovel> = (0..7_000).map(new).collect();
        let created = r!(Novel::create_many(news.clone(), conn))?;
        assert_eq!(created.len(), 7_000);
        for (row, new) in created.iter().zip(&news) {
            assert_eq!((row.pages, &row.title, row.rating), (new.pages, &new.title, new.rating));
        }
        let mut ids: Vec<i32> = created.iter().map(|n| n.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 7_000);
        assert_eq!(r!(Novel::count(conn))?, 7_000);
        assert_eq!(r!(Novel::create_many(Vec::new(), conn))?, vec![]);

        // All or none: a bad row in the last chunk leaves no row behind.
        let mut bad: Vec<NewNovel> = (0..7_000).map(new).collect();
        bad[6_999].novelist_id = frank.id + 1_000;
        assert!(r!(Novel::create_many(bad, conn)).is_err());
        assert_eq!(r!(Novel::count(conn))?, 7_000);

        // `New*` inserts by reference too, as diesel's derive does.
        let one = new(1);
        r!(orm_core::diesel::insert_into(novels::table).values(&one).execute(conn))?;
        // (Row by row: diesel-async's SQLite has no multi-row INSERT; the
        // `Vec` form is `new_structs_insert_as_a_vec` below.)
        for row in &[new(2), new(3)] {
            r!(orm_core::diesel::insert_into(novels::table).values(row).execute(conn))?;
        }
        assert_eq!(r!(Novel::count(conn))?, 7_003);
        assert_eq!(one.title, "t1");
        Ok(())
    }

    fn defaults_read_only_columns_and_assigned_keys(conn) {
        migrate!(conn)?;
        use schema::editions;
        // `None` leaves `copies` to its default; the generated column is
        // never written (writing it is an error on every backend).
        let first = r!(Edition::create(NewEdition { isbn: 9780441, label: "first".into(), copies: None }, conn))?;
        assert_eq!(first, Edition { isbn: 9780441, label: "first".into(), copies: 100, label_length: Some(5) });
        let second = r!(Edition::create(NewEdition { isbn: 42, label: "2nd".into(), copies: Some(7) }, conn))?;
        assert_eq!((second.isbn, second.copies, second.label_length), (42, 7, Some(3)));
        let mut renamed = first.clone();
        renamed.label = "first edition".into();
        renamed.copies = 90;
        r!(renamed.save(conn))?;
        assert_eq!(
            r!(Edition::find(9780441, conn))?,
            Edition { isbn: 9780441, label: "first edition".into(), copies: 90, label_length: Some(13) }
        );
        // By reference, defaults and values.
        let rows = vec![
            NewEdition { isbn: 1, label: "a".into(), copies: None },
            NewEdition { isbn: 2, label: "bb".into(), copies: Some(2) },
        ];
        for row in &rows {
            r!(orm_core::diesel::insert_into(editions::table).values(row).execute(conn))?;
        }
        let copies: Vec<(i32, i32)> =
            r!(editions::table.select((editions::isbn, editions::copies)).order(editions::isbn).load(conn))?;
        assert_eq!(copies, vec![(1, 100), (2, 2), (42, 7), (9780441, 90)]);
        // A key already taken is the database's error, not a new row.
        assert!(r!(Edition::create(NewEdition { isbn: 42, label: "x".into(), copies: None }, conn)).is_err());
        assert_eq!(r!(Edition::count(conn))?, 4);
        Ok(())
    }

    fn through_the_projects_own_join_table(conn) {
        migrate!(conn)?;
        let frank = r!(Novelist::create(NovelistRow { born: 1920, name: "Frank".into() }, conn))?;
        let dune = dune!(&frank, conn)?;
        let hugo = r!(Award::create(NewAward { name: "Hugo".into() }, conn))?;
        let nebula = r!(Award::create(NewAward { name: "Nebula".into() }, conn))?;
        assert_eq!(r!(dune.add_awards(&[hugo.clone(), nebula.clone()], conn))?, 2);
        assert!(r!(dune.has_award(&hugo, conn))?);
        assert_eq!(r!(hugo.novels(conn))?, vec![dune.clone()]);
        assert_eq!(r!(dune.count_awards(conn))?, 2);
        // The rows, read with the project's own struct: each key in its column.
        let mut rows = r!(schema::novel_awards::table.select(NovelAward::as_select()).load(conn))?;
        rows.sort_by_key(|r| r.award_id);
        assert_eq!(
            rows,
            vec![
                NovelAward { novel_id: dune.id, award_id: hugo.id },
                NovelAward { novel_id: dune.id, award_id: nebula.id },
            ]
        );
        r!(dune.set_awards(std::slice::from_ref(&nebula), conn))?;
        assert_eq!(r!(dune.awards(conn))?, vec![nebula]);
        assert_eq!(r!(Novel::load_awards(std::slice::from_ref(&dune), conn))?[0].len(), 1);
        Ok(())
    }

    fn a_join_model_with_a_three_column_key(conn) {
        let schema = Schema::new().model::<Crew>().model::<Mission>().model::<Posting>();
        r!(schema.create_all(conn))?;
        let ada = r!(Crew::create(NewCrew { name: "Ada".into() }, conn))?;
        let apollo = r!(Mission::create(NewMission { name: "Apollo".into() }, conn))?;
        let posting = |role: &str, hours| PostingPayload { role: role.into(), hours };
        r!(ada.add_mission_with(&apollo, posting("pilot", 10), conn))?;
        r!(ada.add_mission_with(&apollo, posting("medic", 4), conn))?;
        // The same three key values again: its payload is written.
        r!(ada.add_mission_with(&apollo, posting("pilot", 12), conn))?;
        let mut rows = r!(ada.missions_with_through(conn))?;
        rows.sort_by(|a, b| a.1.role.cmp(&b.1.role));
        let roles: Vec<(&str, i32)> = rows.iter().map(|(m, p)| {
            assert_eq!(m, &apollo);
            (p.role.as_str(), p.hours)
        }).collect();
        assert_eq!(roles, [("medic", 4), ("pilot", 12)]);
        // One mission, held twice: the join rows are what is counted and
        // read, as a join returns them.
        assert_eq!(r!(ada.count_missions(conn))?, 2);
        assert_eq!(r!(ada.missions(conn))?, vec![apollo.clone(), apollo.clone()]);
        assert!(r!(ada.has_mission(&apollo, conn))?);
        assert_eq!(r!(Posting::find((ada.id, apollo.id, "medic".to_string()), conn))?.hours, 4);
        // Removing the pair removes every role.
        assert_eq!(r!(ada.remove_mission(&apollo, conn))?, 2);
        assert_eq!(r!(Posting::count(conn))?, 0);
        assert_eq!(r!(schema.check(conn))?, vec![]);
        Ok(())
    }

    fn join_model_keys_in_another_order(conn) {
        migrate!(conn)?;
        let frank = r!(Novelist::create(NovelistRow { born: 1920, name: "Frank".into() }, conn))?;
        let dune = dune!(&frank, conn)?;
        let scifi = r!(Genre::create(NewGenre { label: "sf".into() }, conn))?;
        let classic = r!(Genre::create(NewGenre { label: "classic".into() }, conn))?;
        r!(dune.add_genre(&scifi, conn))?;
        r!(dune.add_genre_with(&classic, NovelGenrePayload { weight: 3 }, conn))?;
        // Each key column holds its own key.
        let mut pairs: Vec<(i32, i32, i32)> = r!(novel_genres::table
            .select((novel_genres::novel_id, novel_genres::genre_id, novel_genres::weight))
            .load(conn))?;
        pairs.sort();
        assert_eq!(pairs, vec![(dune.id, scifi.id, 1), (dune.id, classic.id, 3)]);
        let mut genres = r!(dune.genres(conn))?;
        genres.sort_by_key(|t| t.id);
        assert_eq!(genres, vec![scifi.clone(), classic.clone()]);
        assert_eq!(r!(scifi.novels(conn))?, vec![dune.clone()]);
        let mut with = r!(dune.genres_with_through(conn))?;
        with.sort_by_key(|(t, _)| t.id);
        assert_eq!(
            with,
            vec![
                (scifi.clone(), NovelGenre { weight: 1, genre_id: scifi.id, novel_id: dune.id }),
                (classic.clone(), NovelGenre { weight: 3, genre_id: classic.id, novel_id: dune.id }),
            ]
        );
        let loaded = r!(Novel::load_genres_with_through(std::slice::from_ref(&dune), conn))?;
        assert_eq!(loaded[0].len(), 2);
        assert!(loaded[0].iter().all(|(t, j)| j.genre_id == t.id && j.novel_id == dune.id));
        assert_eq!(r!(NovelGenre::find((dune.id, classic.id), conn))?.weight, 3);

        // The drift check agrees with the project's own SQL: VARCHAR is
        // diesel's Text, the join table's keys in another order, and the
        // keys' actions.
        let schema = Schema::new()
            .model::<Novelist>()
            // Every column of `novels`, with `downloads` the struct leaves out.
            .full_table::<Novel>()
            .model::<Genre>()
            .model::<NovelGenre>()
            .model::<Award>()
            .model::<Edition>();
        assert_eq!(r!(schema.check(conn))?, vec![]);
        let _ = novelists::table;
        Ok(())
    }
}

/// Association and column names that are Rust keywords: a raw identifier
/// (`r#type`) where one can spell them.
mod keywords {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[has_many(Match, as = "Matches", singular = "Match")]
    pub struct Type {
        pub id: i32,
        pub r#ref: String,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(Type)]
    pub struct Match {
        pub id: i32,
        pub type_id: i32,
    }

    #[test]
    fn methods_and_columns_named_after_keywords() -> orm_tests::TestResult {
        let conn = &mut orm_core::sqlite::memory()?;
        Schema::new()
            .model::<Type>()
            .model::<Match>()
            .create_all(conn)?;
        let t = Type::create(NewType { r#ref: "a".into() }, conn)?;
        let m = Match::create(NewMatch { type_id: t.id }, conn)?;
        assert_eq!(m.r#type(conn)?, t);
        assert_eq!(t.matches(conn)?, vec![m]);
        let column: String = types::table.select(types::r#ref).first(conn)?;
        assert_eq!(column, "a");
        let ddl = Schema::new()
            .model::<Type>()
            .sql(orm_core::Dialect::Sqlite)?
            .join("\n");
        assert!(ddl.contains("\"ref\" TEXT NOT NULL"), "{ddl}");
        Ok(())
    }
}

/// diesel's multi-row INSERT of `New*` structs by reference, a `Vec` mixing
/// defaults and values (on diesel's SQLite connection, which runs it a row
/// at a time; diesel-async's has no form of it).
#[test]
fn new_structs_insert_as_a_vec() -> orm_tests::TestResult {
    use orm_core::diesel::connection::SimpleConnection;
    use schema::editions;
    let mut conn = orm_core::sqlite::memory()?;
    conn.batch_execute(&migration(orm_core::Dialect::Sqlite))?;
    let rows = vec![
        NewEdition {
            isbn: 1,
            label: "a".into(),
            copies: None,
        },
        NewEdition {
            isbn: 2,
            label: "bb".into(),
            copies: Some(2),
        },
    ];
    orm_core::diesel::insert_into(editions::table)
        .values(&rows)
        .execute(&mut conn)?;
    let copies: Vec<(i32, i32)> = editions::table
        .select((editions::isbn, editions::copies))
        .order(editions::isbn)
        .load(&mut conn)?;
    assert_eq!(copies, vec![(1, 100), (2, 2)]);
    Ok(())
}
