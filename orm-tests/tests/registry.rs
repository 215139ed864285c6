//! A real application's schema, before and after adopting the derive.
//!
//! The tables are a slice of a package registry's (users, teams, crates,
//! versions, keywords, categories, their join tables, owners, dependencies),
//! created on PostgreSQL by the application's own migration
//! (`registry/migrations`): `VARCHAR` columns, defaults, a search vector and
//! counters kept by triggers, a JSONB and an array column, a three-column
//! key, foreign keys with the actions the application chose. `schema` is
//! what `diesel print-schema` writes for them, and stays as it is.
//!
//! `before` is the application as diesel's guide writes it; `after` is the
//! same application with `#[derive(Model)]` on the same structs (their own
//! field order, some with a subset of the columns). Both run one scenario
//! and must agree; after adopting, the drift check reports nothing.
// clippy reads two `#[belongs_to(..)]` with the same options as duplicates.
#![allow(clippy::duplicated_attributes)]

use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use orm_core::diesel::connection::SimpleConnection;
use orm_core::diesel::PgConnection;
use orm_tests::TestResult;

pub mod schema {
    pub mod sql_types {
        /// PostgreSQL's `tsvector`, as `print-schema` declares a type diesel
        /// does not know.
        #[derive(
            orm_core::diesel::query_builder::QueryId, orm_core::diesel::sql_types::SqlType,
        )]
        #[diesel(postgres_type(name = "tsvector"))]
        pub struct Tsvector;

        /// PostgreSQL's `tsquery`, for the search.
        #[derive(
            orm_core::diesel::query_builder::QueryId, orm_core::diesel::sql_types::SqlType,
        )]
        #[diesel(postgres_type(name = "tsquery"))]
        pub struct Tsquery;
    }

    orm_core::diesel::table! {
        users (id) {
            id -> Int4,
            gh_access_token -> Varchar,
            gh_login -> Varchar,
            name -> Nullable<Varchar>,
            gh_avatar -> Nullable<Varchar>,
            gh_id -> Int4,
        }
    }

    orm_core::diesel::table! {
        teams (id) {
            id -> Int4,
            login -> Varchar,
            github_id -> Int4,
            name -> Nullable<Varchar>,
            avatar -> Nullable<Varchar>,
        }
    }

    orm_core::diesel::table! {
        use orm_core::diesel::sql_types::*;
        use super::sql_types::Tsvector;

        crates (id) {
            id -> Int4,
            name -> Varchar,
            updated_at -> Timestamp,
            created_at -> Timestamp,
            downloads -> Int4,
            description -> Nullable<Varchar>,
            homepage -> Nullable<Varchar>,
            documentation -> Nullable<Varchar>,
            repository -> Nullable<Varchar>,
            textsearchable_index_col -> Tsvector,
            max_upload_size -> Nullable<Int4>,
        }
    }

    orm_core::diesel::table! {
        versions (id) {
            id -> Int4,
            crate_id -> Int4,
            num -> Varchar,
            updated_at -> Timestamp,
            created_at -> Timestamp,
            downloads -> Int4,
            features -> Jsonb,
            yanked -> Bool,
            license -> Nullable<Varchar>,
            crate_size -> Nullable<Int4>,
            published_by -> Nullable<Int4>,
        }
    }

    orm_core::diesel::table! {
        keywords (id) {
            id -> Int4,
            keyword -> Varchar,
            crates_cnt -> Int4,
            created_at -> Timestamp,
        }
    }

    orm_core::diesel::table! {
        categories (id) {
            id -> Int4,
            category -> Varchar,
            slug -> Varchar,
            description -> Varchar,
            crates_cnt -> Int4,
            created_at -> Timestamp,
        }
    }

    orm_core::diesel::table! {
        crates_keywords (crate_id, keyword_id) {
            crate_id -> Int4,
            keyword_id -> Int4,
        }
    }

    orm_core::diesel::table! {
        crates_categories (crate_id, category_id) {
            crate_id -> Int4,
            category_id -> Int4,
        }
    }

    orm_core::diesel::table! {
        crate_owners (crate_id, owner_id, owner_kind) {
            crate_id -> Int4,
            owner_id -> Int4,
            created_at -> Timestamp,
            created_by -> Nullable<Int4>,
            deleted -> Bool,
            updated_at -> Timestamp,
            owner_kind -> Int4,
        }
    }

    orm_core::diesel::table! {
        dependencies (id) {
            id -> Int4,
            version_id -> Int4,
            crate_id -> Int4,
            req -> Varchar,
            optional -> Bool,
            default_features -> Bool,
            features -> Array<Text>,
            target -> Nullable<Varchar>,
            kind -> Int4,
        }
    }

    orm_core::diesel::joinable!(crate_owners -> crates (crate_id));
    orm_core::diesel::joinable!(crates_categories -> categories (category_id));
    orm_core::diesel::joinable!(crates_categories -> crates (crate_id));
    orm_core::diesel::joinable!(crates_keywords -> crates (crate_id));
    orm_core::diesel::joinable!(crates_keywords -> keywords (keyword_id));
    orm_core::diesel::joinable!(dependencies -> crates (crate_id));
    orm_core::diesel::joinable!(dependencies -> versions (version_id));
    orm_core::diesel::joinable!(versions -> crates (crate_id));
    orm_core::diesel::joinable!(versions -> users (published_by));

    orm_core::diesel::allow_tables_to_appear_in_same_query!(
        users,
        teams,
        crates,
        versions,
        keywords,
        categories,
        crates_keywords,
        crates_categories,
        crate_owners,
        dependencies,
    );
}

/// The application's full-text search, as it writes it with diesel.
mod search {
    use super::schema::sql_types::Tsquery;
    use orm_core::diesel::sql_types::Text;

    orm_core::diesel::infix_operator!(Matches, " @@ ", backend: orm_core::diesel::pg::Pg);
    orm_core::diesel::define_sql_function!(fn plainto_tsquery(query: Text) -> Tsquery);

    /// `column @@ plainto_tsquery(query)`.
    pub fn matches<T>(column: T, query: &str) -> Matches<T, plainto_tsquery<String>> {
        Matches::new(column, plainto_tsquery(query.to_string()))
    }
}

/// What the scenario saw; both versions of the application must see the
/// same.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// serde's keywords, by name.
    keywords: Vec<String>,
    /// Each keyword with the count of crates the triggers keep.
    keyword_counts: Vec<(String, i32)>,
    /// serde's versions in order, with whether each is yanked and who
    /// published it.
    versions: Vec<(String, bool, Option<String>)>,
    /// The crates a search for "serialization" finds.
    search: Vec<String>,
    /// tokio 1.0.0's dependencies: crate, requirement and features.
    dependencies: Vec<(String, String, Vec<String>)>,
    /// serde's downloads, from the column's default.
    downloads: i32,
    /// serde's category, and the category's count of crates.
    categories: Vec<(String, i32)>,
    /// serde's owners that are users and not deleted, by login.
    owners: Vec<String>,
}

fn expected() -> Outcome {
    Outcome {
        keywords: vec!["serialization".into()],
        keyword_counts: vec![
            ("async".into(), 1),
            ("json".into(), 0),
            ("serialization".into(), 1),
        ],
        versions: vec![
            ("1.0.0".into(), true, Some("ada".into())),
            ("1.0.1".into(), false, Some("ada".into())),
        ],
        search: vec!["serde".into()],
        dependencies: vec![("serde".into(), "^1.0".into(), vec!["derive".into()])],
        downloads: 0,
        categories: vec![("Encoding".into(), 1)],
        owners: vec!["ada".into()],
    }
}

/// The application before: diesel as its guide teaches it.
mod before {
    use super::schema::*;
    use super::Outcome;
    use orm_core::chrono::NaiveDateTime;
    use orm_core::diesel::prelude::*;
    use orm_core::diesel::{self, PgConnection};

    #[derive(Queryable, Selectable, Identifiable, Debug)]
    #[diesel(table_name = users)]
    pub struct User {
        pub id: i32,
        pub gh_access_token: String,
        pub gh_login: String,
        pub name: Option<String>,
        pub gh_avatar: Option<String>,
        pub gh_id: i32,
    }

    #[derive(Insertable)]
    #[diesel(table_name = users)]
    pub struct NewUser<'a> {
        pub gh_login: &'a str,
        pub gh_id: i32,
        pub gh_access_token: &'a str,
    }

    // A subset of the columns: no downloads, no search vector.
    #[derive(Queryable, Selectable, Identifiable, Debug)]
    #[diesel(table_name = crates)]
    pub struct Crate {
        pub id: i32,
        pub name: String,
        pub updated_at: NaiveDateTime,
        pub created_at: NaiveDateTime,
        pub description: Option<String>,
        pub homepage: Option<String>,
        pub documentation: Option<String>,
        pub repository: Option<String>,
        pub max_upload_size: Option<i32>,
    }

    #[derive(Insertable)]
    #[diesel(table_name = crates)]
    pub struct NewCrate<'a> {
        pub name: &'a str,
        pub description: Option<&'a str>,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
    #[diesel(table_name = versions, belongs_to(Crate))]
    pub struct Version {
        pub id: i32,
        pub crate_id: i32,
        pub num: String,
        pub updated_at: NaiveDateTime,
        pub created_at: NaiveDateTime,
        pub downloads: i32,
        pub features: serde_json::Value,
        pub yanked: bool,
        pub license: Option<String>,
        pub crate_size: Option<i32>,
        pub published_by: Option<i32>,
    }

    #[derive(Insertable)]
    #[diesel(table_name = versions)]
    pub struct NewVersion<'a> {
        pub crate_id: i32,
        pub num: &'a str,
        pub features: serde_json::Value,
        pub published_by: Option<i32>,
    }

    #[derive(Queryable, Selectable, Identifiable, Debug)]
    #[diesel(table_name = keywords)]
    pub struct Keyword {
        pub id: i32,
        pub keyword: String,
        pub crates_cnt: i32,
        pub created_at: NaiveDateTime,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Insertable, Debug)]
    #[diesel(table_name = crates_keywords, primary_key(crate_id, keyword_id))]
    #[diesel(belongs_to(Crate), belongs_to(Keyword))]
    pub struct CrateKeyword {
        pub crate_id: i32,
        pub keyword_id: i32,
    }

    #[derive(Queryable, Selectable, Identifiable, Debug)]
    #[diesel(table_name = categories)]
    pub struct Category {
        pub id: i32,
        pub category: String,
        pub slug: String,
        pub description: String,
        pub crates_cnt: i32,
        pub created_at: NaiveDateTime,
    }

    #[derive(Insertable)]
    #[diesel(table_name = crates_categories)]
    pub struct CrateCategory {
        pub crate_id: i32,
        pub category_id: i32,
    }

    #[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
    #[diesel(table_name = dependencies, belongs_to(Version))]
    pub struct Dependency {
        pub id: i32,
        pub version_id: i32,
        pub crate_id: i32,
        pub req: String,
        pub optional: bool,
        pub default_features: bool,
        pub features: Vec<String>,
        pub target: Option<String>,
        pub kind: i32,
    }

    #[derive(Insertable)]
    #[diesel(table_name = dependencies)]
    pub struct NewDependency<'a> {
        pub version_id: i32,
        pub crate_id: i32,
        pub req: &'a str,
        pub optional: bool,
        pub default_features: bool,
        pub features: Vec<&'a str>,
    }

    #[derive(Insertable)]
    #[diesel(table_name = crate_owners)]
    pub struct NewOwner {
        pub crate_id: i32,
        pub owner_id: i32,
        pub owner_kind: i32,
        pub created_by: Option<i32>,
    }

    pub fn scenario(conn: &mut PgConnection) -> QueryResult<Outcome> {
        let ada: User = diesel::insert_into(users::table)
            .values(NewUser {
                gh_login: "ada",
                gh_id: 1,
                gh_access_token: "t",
            })
            .returning(User::as_returning())
            .get_result(conn)?;
        let new = |name, description| NewCrate {
            name,
            description: Some(description),
        };
        let serde: Crate = diesel::insert_into(crates::table)
            .values(new("serde", "A serialization framework"))
            .returning(Crate::as_returning())
            .get_result(conn)?;
        let tokio: Crate = diesel::insert_into(crates::table)
            .values(new("tokio", "An event-driven runtime"))
            .returning(Crate::as_returning())
            .get_result(conn)?;
        let features = serde_json::json!({ "derive": [] });
        let version = |krate: &Crate, num| NewVersion {
            crate_id: krate.id,
            num,
            features: features.clone(),
            published_by: Some(ada.id),
        };
        let first: Version = diesel::insert_into(versions::table)
            .values(version(&serde, "1.0.0"))
            .returning(Version::as_returning())
            .get_result(conn)?;
        diesel::insert_into(versions::table)
            .values(version(&serde, "1.0.1"))
            .execute(conn)?;
        let runtime: Version = diesel::insert_into(versions::table)
            .values(NewVersion {
                published_by: None,
                ..version(&tokio, "1.0.0")
            })
            .returning(Version::as_returning())
            .get_result(conn)?;
        diesel::update(&first)
            .set(versions::yanked.eq(true))
            .execute(conn)?;

        let words: Vec<Keyword> = diesel::insert_into(keywords::table)
            .values(["serialization", "async", "json"].map(|k| keywords::keyword.eq(k)))
            .returning(Keyword::as_returning())
            .get_results(conn)?;
        let [serialization, asynchronous, json] = [&words[0], &words[1], &words[2]];
        diesel::insert_into(crates_keywords::table)
            .values(&[
                CrateKeyword {
                    crate_id: serde.id,
                    keyword_id: serialization.id,
                },
                CrateKeyword {
                    crate_id: serde.id,
                    keyword_id: json.id,
                },
                CrateKeyword {
                    crate_id: tokio.id,
                    keyword_id: asynchronous.id,
                },
            ])
            .execute(conn)?;
        diesel::delete(crates_keywords::table.find((serde.id, json.id))).execute(conn)?;

        let encoding: Category = diesel::insert_into(categories::table)
            .values((
                categories::category.eq("Encoding"),
                categories::slug.eq("encoding"),
            ))
            .returning(Category::as_returning())
            .get_result(conn)?;
        diesel::insert_into(crates_categories::table)
            .values(CrateCategory {
                crate_id: serde.id,
                category_id: encoding.id,
            })
            .execute(conn)?;
        diesel::insert_into(dependencies::table)
            .values(NewDependency {
                version_id: runtime.id,
                crate_id: serde.id,
                req: "^1.0",
                optional: false,
                default_features: true,
                features: vec!["derive"],
            })
            .execute(conn)?;
        diesel::insert_into(crate_owners::table)
            .values(NewOwner {
                crate_id: serde.id,
                owner_id: ada.id,
                owner_kind: 0,
                created_by: Some(ada.id),
            })
            .execute(conn)?;

        let keywords = CrateKeyword::belonging_to(&serde)
            .inner_join(keywords::table)
            .select(keywords::keyword)
            .order(keywords::keyword)
            .load(conn)?;
        let keyword_counts = keywords::table
            .select((keywords::keyword, keywords::crates_cnt))
            .order(keywords::keyword)
            .load(conn)?;
        let versions = Version::belonging_to(&serde)
            .left_join(users::table)
            .select((versions::num, versions::yanked, users::gh_login.nullable()))
            .order(versions::id)
            .load(conn)?;
        let search = crates::table
            .filter(super::search::matches(
                crates::textsearchable_index_col,
                "serialization",
            ))
            .select(crates::name)
            .load(conn)?;
        let dependencies = Dependency::belonging_to(&runtime)
            .inner_join(crates::table)
            .select((crates::name, dependencies::req, dependencies::features))
            .load(conn)?;
        let downloads = crates::table
            .find(serde.id)
            .select(crates::downloads)
            .first(conn)?;
        let categories = crates_categories::table
            .filter(crates_categories::crate_id.eq(serde.id))
            .inner_join(categories::table)
            .select((categories::category, categories::crates_cnt))
            .load(conn)?;
        let owners = crate_owners::table
            .filter(crate_owners::crate_id.eq(serde.id))
            .filter(crate_owners::owner_kind.eq(0))
            .filter(crate_owners::deleted.eq(false))
            .inner_join(users::table.on(users::id.eq(crate_owners::owner_id)))
            .select(users::gh_login)
            .load(conn)?;
        Ok(Outcome {
            keywords,
            keyword_counts,
            versions,
            search,
            dependencies,
            downloads,
            categories,
            owners,
        })
    }
}

/// The application after: the same structs with `#[derive(Model)]` over
/// the same `schema.rs`; its own `New*` structs kept where it had them.
mod after {
    use super::schema::*;
    use super::Outcome;
    use orm_core::diesel::PgConnection;
    use orm_core::prelude::*;
    use orm_core::schema::{ColumnType, CustomType, DdlType};

    /// orm-core's DDL and drift check for the application's own SQL type.
    impl DdlType for sql_types::Tsvector {
        const TYPE: ColumnType = ColumnType::Custom(&CustomType {
            sqlite: "TEXT",
            postgres: "TSVECTOR",
            mysql: "TEXT",
            postgres_catalog: "tsvector",
            mysql_catalog: "text",
        });
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = users)]
    pub struct User {
        pub id: i32,
        pub gh_access_token: String,
        pub gh_login: String,
        pub name: Option<String>,
        pub gh_avatar: Option<String>,
        pub gh_id: i32,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = teams)]
    pub struct Team {
        pub id: i32,
        pub login: String,
        pub github_id: i32,
        pub name: Option<String>,
        pub avatar: Option<String>,
    }

    // The application's subset of the columns; the database keeps the
    // timestamps (defaults and a trigger).
    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = crates)]
    #[has_many(Version, on_delete = "cascade", on_update = "no_action")]
    #[has_many(
        Dependency,
        as = "Dependents",
        foreign_key = "crate_id",
        on_delete = "cascade",
        on_update = "no_action"
    )]
    #[belongs_to_many(Keyword, through = CrateKeyword)]
    // Through the schema's own `crates_categories`, with no struct for it.
    #[belongs_to_many(Category, through = crates_categories, on_delete = "cascade", on_update = "no_action")]
    pub struct Crate {
        pub id: i32,
        pub name: String,
        #[model(default = "now()")]
        pub updated_at: NaiveDateTime,
        #[model(default = "now()")]
        pub created_at: NaiveDateTime,
        pub description: Option<String>,
        pub homepage: Option<String>,
        pub documentation: Option<String>,
        pub repository: Option<String>,
        pub max_upload_size: Option<i32>,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = versions)]
    #[belongs_to(
        Crate,
        as = "Krate",
        foreign_key = "crate_id",
        on_delete = "cascade",
        on_update = "no_action"
    )]
    #[belongs_to(
        User,
        as = "Publisher",
        foreign_key = "published_by",
        on_delete = "no_action",
        on_update = "no_action"
    )]
    #[has_many(Dependency, on_delete = "cascade", on_update = "no_action")]
    pub struct Version {
        pub id: i32,
        pub crate_id: i32,
        pub num: String,
        #[model(default = "now()")]
        pub updated_at: NaiveDateTime,
        #[model(default = "now()")]
        pub created_at: NaiveDateTime,
        #[model(default = "0")]
        pub downloads: i32,
        #[model(default = "'{}'")]
        pub features: serde_json::Value,
        #[model(default = "FALSE")]
        pub yanked: bool,
        pub license: Option<String>,
        pub crate_size: Option<i32>,
        pub published_by: Option<i32>,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = keywords)]
    pub struct Keyword {
        pub id: i32,
        pub keyword: String,
        // Kept by a trigger on crates_keywords.
        #[model(read_only)]
        pub crates_cnt: i32,
        #[model(default = "now()")]
        pub created_at: NaiveDateTime,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = categories)]
    #[belongs_to_many(Crate, through = crates_categories, on_delete = "cascade", on_update = "no_action")]
    pub struct Category {
        pub id: i32,
        pub category: String,
        pub slug: String,
        #[model(default = "''")]
        pub description: String,
        #[model(read_only)]
        pub crates_cnt: i32,
        #[model(default = "now()")]
        pub created_at: NaiveDateTime,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = crates_keywords, primary_key(crate_id, keyword_id))]
    #[belongs_to(
        Crate,
        as = "Krate",
        foreign_key = "crate_id",
        on_delete = "cascade",
        on_update = "no_action"
    )]
    #[belongs_to(Keyword, on_delete = "no_action", on_update = "no_action")]
    pub struct CrateKeyword {
        pub crate_id: i32,
        pub keyword_id: i32,
    }

    // A three-column key; the owner is a user or a team by `owner_kind`,
    // so `owner_id` has no foreign key.
    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = crate_owners, primary_key(crate_id, owner_id, owner_kind))]
    #[belongs_to(
        Crate,
        as = "Krate",
        foreign_key = "crate_id",
        on_delete = "cascade",
        on_update = "no_action"
    )]
    #[belongs_to(
        User,
        as = "Creator",
        foreign_key = "created_by",
        on_delete = "no_action",
        on_update = "no_action"
    )]
    pub struct CrateOwner {
        pub crate_id: i32,
        pub owner_id: i32,
        pub owner_kind: i32,
        pub created_by: Option<i32>,
        #[model(default = "FALSE")]
        pub deleted: bool,
        #[model(default = "now()")]
        pub created_at: NaiveDateTime,
        #[model(default = "now()")]
        pub updated_at: NaiveDateTime,
    }

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = dependencies)]
    #[belongs_to(Version, on_delete = "cascade", on_update = "no_action")]
    #[belongs_to(
        Crate,
        as = "Krate",
        foreign_key = "crate_id",
        on_delete = "cascade",
        on_update = "no_action"
    )]
    pub struct Dependency {
        pub id: i32,
        pub version_id: i32,
        pub crate_id: i32,
        pub req: String,
        pub optional: bool,
        pub default_features: bool,
        pub features: Vec<String>,
        pub target: Option<String>,
        #[model(default = "0")]
        pub kind: i32,
    }

    /// The whole slice, each table with every column its `table!` has.
    pub fn schema() -> Schema {
        Schema::new()
            .model::<User>()
            .model::<Team>()
            .full_table::<Crate>()
            .model::<Version>()
            .model::<Keyword>()
            .model::<Category>()
            .model::<CrateKeyword>()
            .model::<CrateOwner>()
            .model::<Dependency>()
    }

    pub fn scenario(conn: &mut PgConnection) -> QueryResult<Outcome> {
        let ada = User::create(
            NewUser {
                gh_access_token: "t".into(),
                gh_login: "ada".into(),
                name: None,
                gh_avatar: None,
                gh_id: 1,
            },
            conn,
        )?;
        let new = |name: &str, description: &str| NewCrate {
            name: name.into(),
            updated_at: None,
            created_at: None,
            description: Some(description.into()),
            homepage: None,
            documentation: None,
            repository: None,
            max_upload_size: None,
        };
        let serde = Crate::create(new("serde", "A serialization framework"), conn)?;
        let tokio = Crate::create(new("tokio", "An event-driven runtime"), conn)?;
        let features = serde_json::json!({ "derive": [] });
        let version = |num: &str, published_by| {
            let features = features.clone();
            let num = num.to_string();
            move |crate_id| NewVersion {
                crate_id,
                num,
                updated_at: None,
                created_at: None,
                downloads: None,
                features: Some(features),
                yanked: None,
                license: None,
                crate_size: None,
                published_by,
            }
        };
        let mut first = serde.create_version(version("1.0.0", Some(ada.id)), conn)?;
        serde.create_version(version("1.0.1", Some(ada.id)), conn)?;
        let runtime = tokio.create_version(version("1.0.0", None), conn)?;
        first.yanked = true;
        first.save(conn)?;

        let words = Keyword::create_many(
            ["serialization", "async", "json"]
                .map(|k| NewKeyword {
                    keyword: k.into(),
                    created_at: None,
                })
                .into(),
            conn,
        )?;
        let [serialization, asynchronous, json] = [&words[0], &words[1], &words[2]];
        serde.add_keywords(vec![serialization.key(), json.key()], conn)?;
        tokio.add_keyword(asynchronous, conn)?;
        serde.remove_keyword(json, conn)?;

        let encoding = Category::create(
            NewCategory {
                category: "Encoding".into(),
                slug: "encoding".into(),
                description: None,
                created_at: None,
            },
            conn,
        )?;
        serde.add_category(&encoding, conn)?;
        runtime.create_dependency(
            |version_id| NewDependency {
                version_id,
                crate_id: serde.id,
                req: "^1.0".into(),
                optional: false,
                default_features: true,
                features: vec!["derive".into()],
                target: None,
                kind: None,
            },
            conn,
        )?;
        // A user owner; `owner_id` is a user's or a team's key by kind.
        CrateOwner::create(
            NewCrateOwner {
                crate_id: serde.id,
                owner_id: ada.id,
                owner_kind: 0,
                created_by: Some(ada.id),
                deleted: None,
                created_at: None,
                updated_at: None,
            },
            conn,
        )?;

        let keywords = serde
            .keywords_query()
            .order(keywords::keyword)
            .select(keywords::keyword)
            .load(conn)?;
        let keyword_counts = Keyword::query()
            .order(keywords::keyword)
            .load(conn)?
            .into_iter()
            .map(|k: Keyword| (k.keyword, k.crates_cnt))
            .collect();
        let mut versions = Vec::new();
        for v in serde
            .versions_query()
            .order(versions::id)
            .load::<Version>(conn)?
        {
            let publisher = v.publisher(conn)?.map(|u| u.gh_login);
            versions.push((v.num, v.yanked, publisher));
        }
        let search = Crate::query()
            .filter(super::search::matches(
                crates::textsearchable_index_col,
                "serialization",
            ))
            .load(conn)?
            .into_iter()
            .map(|c: Crate| c.name)
            .collect();
        let mut dependencies = Vec::new();
        for d in runtime.dependencies(conn)? {
            dependencies.push((d.krate(conn)?.name, d.req, d.features));
        }
        let downloads = crates::table
            .find(serde.id)
            .select(crates::downloads)
            .first(conn)?;
        let categories = serde
            .categories(conn)?
            .into_iter()
            .map(|c| (c.category, c.crates_cnt))
            .collect();
        let mut owners = Vec::new();
        for owner in CrateOwner::query()
            .filter(crate_owners::crate_id.eq(serde.id))
            .filter(crate_owners::owner_kind.eq(0))
            .filter(crate_owners::deleted.eq(false))
            .load::<CrateOwner>(conn)?
        {
            owners.push(User::find(owner.owner_id, conn)?.gh_login);
        }
        Ok(Outcome {
            keywords,
            keyword_counts,
            versions,
            search,
            dependencies,
            downloads,
            categories,
            owners,
        })
    }
}

/// A connection to a fresh, empty schema migrated by the application's own
/// migration, or `None` without a server.
fn migrated(test: &str) -> Result<Option<orm_tests::PgTest>, Box<dyn std::error::Error>> {
    let Some(mut conn) = orm_tests::postgres(test) else {
        return Ok(None);
    };
    let schema = conn.schema().to_string();
    conn.batch_execute(&format!(
        "DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
    ))?;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/registry/migrations");
    let migrations = FileBasedMigrations::from_path(dir)?;
    let pg: &mut PgConnection = &mut conn;
    pg.run_pending_migrations(migrations)
        .map_err(|e| e.to_string())?;
    Ok(Some(conn))
}

#[test]
fn before_and_after_see_the_same() -> TestResult {
    let Some(mut conn) = migrated("registry_before")? else {
        return Ok(());
    };
    assert_eq!(before::scenario(&mut conn)?, expected());
    let Some(mut conn) = migrated("registry_after")? else {
        return Ok(());
    };
    assert_eq!(after::scenario(&mut conn)?, expected());
    Ok(())
}

#[test]
fn the_drift_check_trusts_the_migrated_schema() -> TestResult {
    let Some(mut conn) = migrated("registry_drift")? else {
        return Ok(());
    };
    assert_eq!(after::schema().check(&mut *conn)?, vec![]);
    assert!(after::schema().diff(&mut *conn)?.is_empty());
    // And the other way: the schema's own DDL makes the same tables.
    let schema = conn.schema().to_string();
    conn.batch_execute(&format!(
        "DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
    ))?;
    after::schema().create_all(&mut *conn)?;
    assert_eq!(after::schema().check(&mut *conn)?, vec![]);
    Ok(())
}
