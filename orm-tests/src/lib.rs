//! Models for the seeds' scenarios and a harness that runs one test body
//! against SQLite (in memory) and PostgreSQL (when `DATABASE_URL` is set),
//! on diesel's connections and on diesel-async's.
#![allow(missing_docs)]
// clippy reads repeated association attributes with the same first argument
// (`#[belongs_to_many(User, ..)]` twice) as duplicates; they are not.
#![allow(clippy::duplicated_attributes)]

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};

use orm_core::diesel::connection::SimpleConnection;
use orm_core::diesel::{PgConnection, SqliteConnection};
use orm_core::diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use orm_core::diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use orm_core::exec::OnBackend;
use orm_core::prelude::*;
use orm_core::ConnKind;

pub mod pets;

// Events and their guests through `rsvps` (seed 002), users' posts and
// profiles: the snippet.
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(
    User,
    through = "rsvps",
    as = "Guests",
    other_key = "guest_id",
    timestamps
)]
pub struct Event {
    pub id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id", timestamps)]
#[has_many(Post, foreign_key = "author_id", as = "Posts")]
#[has_one(Profile)]
#[belongs_to_many(Group, through = "group_users")]
#[belongs_to_many(User, through = "friendships", as = "Friends")]
#[belongs_to_many(User, through = "buddyships", as = "Buddies", symmetric)]
#[belongs_to_many(User, through = "follows", as = "Followers", foreign_key = "follow_id")]
#[belongs_to_many(User, through = "follows", as = "Follows", foreign_key = "follower_id")]
#[belongs_to_many(pets::Pet, through = "pet_owners")]
#[belongs_to_many(Club, through = Membership)]
pub struct User {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(User, foreign_key = "author_id", as = "Author")]
#[has_many(
    Remark,
    foreign_key = "remarkable_id",
    scope = remarks::remarkable_type.eq("post"),
    constraints = false
)]
#[belongs_to_many(
    Tag,
    through = Tagging,
    foreign_key = "taggable_id",
    through_scope = taggings::taggable_type.eq("post"),
    constraints = false
)]
pub struct Post {
    pub id: i32,
    pub author_id: Option<i32>,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(User)]
pub struct Profile {
    pub id: i32,
    pub user_id: i32,
    pub bio: String,
}

// Users and Groups (seed 000): declared on both sides.
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "group_users")]
pub struct Group {
    pub id: i32,
    pub name: String,
}

// Projects and Tasks (seed 001): has_many with a nullable key, belongs_to back.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Task)]
pub struct Project {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Project)]
pub struct Task {
    pub id: i32,
    pub project_id: Option<i32>,
    pub title: String,
}

// Person has_one Person as Father (seed 001): the key `father_id` is on
// `people`, named after the alias; `belongs_to` reads the same key upwards.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_one(Person, as = "Father")]
#[belongs_to(Person, as = "Parent", foreign_key = "father_id")]
pub struct Person {
    pub id: i32,
    pub name: String,
    pub father_id: Option<i32>,
}

// A has_many whose key is NOT NULL: removing is a compile error, and
// `set_*`/`clear_*` do not exist (see tests/ui).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(timestamps)]
#[has_many(Comment)]
pub struct Article {
    pub id: i32,
    pub title: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Article)]
pub struct Comment {
    pub id: i32,
    pub article_id: i32,
    pub body: String,
}

// A join model with payload (seed 000's UserProjects with `status`): a
// composite primary key of the two keys, its own columns, belongs_to both
// ways, and `belongs_to_many .. through = Membership` on both sides.
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = Membership, as = "Members")]
pub struct Club {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(club_id, user_id), timestamps)]
#[belongs_to(Club)]
#[belongs_to(User)]
pub struct Membership {
    pub club_id: i32,
    pub user_id: i32,
    pub role: String,
    pub invited_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What plain `add_member`/`set_members` write: the payload's default, as a
/// Sequelize model's `defaultValue`.
impl Default for MembershipPayload {
    fn default() -> Self {
        MembershipPayload {
            role: "member".into(),
            invited_by: None,
        }
    }
}

// Referential actions (issue 4): seed 001's references without constraints
// (Trainer, Series, Video), a RESTRICT, an explicit CASCADE on a nullable key,
// and a join table whose key for one side is RESTRICT.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Series, as = "Shows", constraints = false)]
pub struct Trainer {
    pub id: i32,
    pub first_name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "series")]
#[has_one(Video, constraints = false)]
pub struct Series {
    pub id: i32,
    pub title: String,
    pub trainer_id: Option<i32>,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Video {
    pub id: i32,
    pub title: String,
    pub series_id: Option<i32>,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Book, on_delete = "restrict", on_update = "restrict")]
pub struct Writer {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Writer)]
pub struct Book {
    pub id: i32,
    pub writer_id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Note, on_delete = "cascade")]
pub struct Folder {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i32,
    pub folder_id: Option<i32>,
    pub body: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Photo, through = "photo_tags", on_delete = "restrict")]
#[belongs_to_many(
    Post,
    through = Tagging,
    as = "TaggedPosts",
    other_key = "taggable_id",
    through_scope = taggings::taggable_type.eq("post"),
    constraints = false
)]
#[belongs_to_many(
    Photo,
    through = Tagging,
    as = "TaggedPhotos",
    other_key = "taggable_id",
    through_scope = taggings::taggable_type.eq("photo"),
    constraints = false
)]
pub struct Tag {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(
    Remark,
    foreign_key = "remarkable_id",
    scope = remarks::remarkable_type.eq("photo"),
    constraints = false
)]
#[belongs_to_many(
    Tag,
    through = Tagging,
    foreign_key = "taggable_id",
    through_scope = taggings::taggable_type.eq("photo"),
    constraints = false
)]
pub struct Photo {
    pub id: i32,
    pub url: String,
}

// Association scopes: a blog's entries, its published ones, its draft
// notes (two columns), its pinned one, and its dated ones (a scope that is
// not an equality: read-only).
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Entry)]
#[has_many(Entry, as = "PublishedEntries", scope = entries::published.eq(true))]
#[has_many(
    Entry,
    as = "DraftNotes",
    scope = entries::kind.eq("note").and(entries::published.eq(false))
)]
#[has_one(Entry, as = "Pinned", scope = entries::pinned.eq(true))]
#[has_many(Entry, as = "DatedEntries", scope = entries::published_on.is_not_null())]
pub struct Blog {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "entries")]
#[belongs_to(Blog)]
pub struct Entry {
    pub id: i32,
    pub blog_id: Option<i32>,
    pub title: String,
    pub kind: String,
    pub published: bool,
    pub pinned: bool,
    pub published_on: Option<String>,
}

// A polymorphic belongs_to (Rails' `commentable`): a remark is on a post
// or on a photo, which the type column says; each parent reads its own
// through a scoped has_many.
#[derive(Model, Debug, Clone, PartialEq)]
#[polymorphic(
    Remarkable,
    Post = "post",
    Photo = "photo",
    derive(Debug, Clone, PartialEq)
)]
pub struct Remark {
    pub id: i32,
    pub remarkable_type: String,
    pub remarkable_id: Option<i32>,
    pub body: String,
}

// An exclusive arc: an attachment is on a post or on a photo, one nullable
// key column each, exactly one of them set (a CHECK), each a real foreign
// key whose ON DELETE works.
#[derive(Model, Debug, Clone, PartialEq)]
#[polymorphic(
    Attachable,
    arc(Post = "post_id", Photo = "photo_id"),
    derive(Debug, Clone, PartialEq)
)]
pub struct Attachment {
    pub id: i32,
    pub post_id: Option<i32>,
    pub photo_id: Option<i32>,
    pub name: String,
}

// Polymorphic many-to-many (Rails' `taggable`): tags on posts and on
// photos through one join model, whose type column each association's
// `through_scope` reads and sets; the type is part of the key, so a post
// and a photo with the same id keep their own tags.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(tag_id, taggable_type, taggable_id))]
#[belongs_to(Tag)]
#[polymorphic(Taggable, Post = "post", Photo = "photo", derive(Debug, PartialEq))]
pub struct Tagging {
    pub tag_id: i32,
    pub taggable_type: String,
    pub taggable_id: i32,
}

// Composite keys through relations: a tenant's orders are numbered per
// tenant (`primary_key(tenant_id, number)`, the tenant's key leading it);
// their lines and their invoice point at an order by both columns, a
// multi-column foreign key.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Order)]
pub struct Tenant {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(tenant_id, number))]
#[belongs_to(Tenant)]
#[has_many(OrderLine, foreign_key(tenant_id, order_number))]
#[has_one(Invoice, foreign_key(tenant_id, order_number))]
pub struct Order {
    pub tenant_id: i32,
    pub number: i32,
    pub customer: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Order, foreign_key(tenant_id, order_number))]
pub struct OrderLine {
    pub id: i32,
    pub tenant_id: i32,
    pub order_number: i32,
    pub sku: String,
    pub qty: i32,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Order, foreign_key(tenant_id, order_number), on_delete = "restrict")]
pub struct Invoice {
    pub id: i32,
    pub tenant_id: i32,
    pub order_number: i32,
    pub total: i32,
}

/// Whether the suite's tables have their foreign keys: not when
/// `ORM_TEST_WITHOUT_FOREIGN_KEYS` is set, which declares every one
/// `constraints = false`, as sharded engines (Vitess, PlanetScale) require.
/// The tests of what only a foreign key enforces check it.
pub fn foreign_keys() -> bool {
    std::env::var_os("ORM_TEST_WITHOUT_FOREIGN_KEYS").is_none()
}

/// Every table of the test models.
pub fn schema() -> Schema {
    let schema = all_models();
    if foreign_keys() {
        schema
    } else {
        schema.without_foreign_keys()
    }
}

fn all_models() -> Schema {
    Schema::new()
        .model::<User>()
        .model::<Event>()
        .model::<Post>()
        .model::<Profile>()
        .model::<Group>()
        .model::<Project>()
        .model::<Task>()
        .model::<Person>()
        .model::<pets::Pet>()
        .model::<Article>()
        .model::<Comment>()
        .model::<Club>()
        .model::<Membership>()
        .model::<Trainer>()
        .model::<Series>()
        .model::<Video>()
        .model::<Writer>()
        .model::<Book>()
        .model::<Folder>()
        .model::<Note>()
        .model::<Tag>()
        .model::<Photo>()
        .model::<Blog>()
        .model::<Entry>()
        .model::<Remark>()
        .model::<Attachment>()
        .model::<Tagging>()
        .model::<Tenant>()
        .model::<Order>()
        .model::<OrderLine>()
        .model::<Invoice>()
}

/// A fresh in-memory SQLite database with every test table.
pub fn sqlite() -> SqliteConnection {
    let mut conn = orm_core::sqlite::memory().expect("open in-memory SQLite");
    schema()
        .create_all(&mut conn)
        .expect("create the test tables");
    conn
}

/// A PostgreSQL connection whose `search_path` is a fresh schema holding
/// every test table; the schema is dropped when the connection is.
pub struct PgTest {
    conn: PgConnection,
    schema: String,
}

impl PgTest {
    /// The name of the test's schema, for other connections to the same
    /// tables (`SET search_path TO ..`).
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Deref for PgTest {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for PgTest {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl Drop for PgTest {
    fn drop(&mut self) {
        let _ = self
            .conn
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

/// The URL of the test PostgreSQL server, or `None` (with a printed line)
/// when `DATABASE_URL` is not set.
pub fn postgres_url(test: &str) -> Option<String> {
    server_url("DATABASE_URL", "PostgreSQL", test)
}

/// The URL in `variable`, or `None` when it is not set, with a printed
/// line that `test` skips `server`.
fn server_url(variable: &str, server: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skipping(server, variable, test);
            None
        }
    }
}

/// The URL of a hot standby of the test PostgreSQL server, or `None` (with a
/// printed line) when `PG_REPLICA_URL` is not set (`.ci/postgres.sh standby`
/// starts one).
pub fn postgres_replica_url(test: &str) -> Option<String> {
    server_url("PG_REPLICA_URL", "PostgreSQL replica", test)
}

/// Says that a test skips its server, visibly: once per test binary and
/// server on the terminal (cargo's capture takes only `print!`), and for each
/// test in its captured output.
fn skipping(server: &str, variable: &str, test: &str) {
    use std::io::Write;
    use std::sync::Mutex;
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    println!("skipping {server} test `{test}`: {variable} is not set");
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|s| s == server) {
        said.push(server.to_string());
        let _ = writeln!(
            std::io::stderr(),
            "note: {variable} is not set: the {server} tests of this binary pass without running"
        );
    }
}

/// A connection to a fresh schema on the test PostgreSQL server, or `None`
/// when `DATABASE_URL` is not set.
pub fn postgres(test: &str) -> Option<PgTest> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let url = postgres_url(test)?;
    let mut conn = orm_core::pg::connect(&url).expect("connect to DATABASE_URL");
    let schema = format!(
        "orm_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    conn.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
    ))
    .expect("create a test schema");
    let mut test = PgTest { conn, schema };
    crate::schema()
        .create_all(&mut *test)
        .expect("create the test tables");
    Some(test)
}

/// A MySQL/MariaDB connection to a fresh database holding every test table;
/// the database is dropped when the connection is.
#[cfg(feature = "mysql")]
pub struct MysqlTest {
    conn: orm_core::diesel::MysqlConnection,
    database: String,
}

#[cfg(feature = "mysql")]
impl MysqlTest {
    /// The name of the test's database, for other connections to it.
    pub fn database(&self) -> &str {
        &self.database
    }
}

#[cfg(feature = "mysql")]
impl Deref for MysqlTest {
    type Target = orm_core::diesel::MysqlConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

#[cfg(feature = "mysql")]
impl DerefMut for MysqlTest {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

#[cfg(feature = "mysql")]
impl Drop for MysqlTest {
    fn drop(&mut self) {
        let _ = self
            .conn
            .batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.database));
    }
}

/// The URL of the test MySQL/MariaDB server, or `None` (with a printed
/// line) when `MYSQL_DATABASE_URL` is not set.
#[cfg(feature = "mysql")]
pub fn mysql_url(test: &str) -> Option<String> {
    server_url("MYSQL_DATABASE_URL", "MySQL", test)
}

/// A connection to a fresh database on the test MySQL/MariaDB server, or
/// `None` when `MYSQL_DATABASE_URL` is not set.
#[cfg(feature = "mysql")]
pub fn mysql(test: &str) -> Option<MysqlTest> {
    mysql_url(test).map(|url| mysql_at(&url))
}

/// A connection to a fresh database holding every test table on the
/// MySQL/MariaDB server of `url` (a node of a cluster: the tables reach
/// the others).
#[cfg(feature = "mysql")]
pub fn mysql_at(url: &str) -> MysqlTest {
    use orm_core::diesel::{Connection, MysqlConnection};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let database = format!(
        "orm_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = MysqlConnection::establish(url).expect("connect to the MySQL server");
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}"
        ))
        .expect("create a test database");
    let conn = MysqlConnection::establish(&in_database(url, &database))
        .expect("connect to the test database");
    let mut test = MysqlTest { conn, database };
    // With the lock table, so that a test process may turn on certified
    // parent locks (the Galera tests do) whatever database it writes.
    crate::schema()
        .lock_table()
        .create_all(&mut *test)
        .expect("create the test tables");
    test
}

/// `url` with its database replaced by `database`.
pub fn in_database(url: &str, database: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{database}")
}

/// The URLs of the three nodes of the test Galera cluster (`GALERA_URLS`,
/// separated by spaces, as `.ci/galera.sh` prints them), or `None` (with
/// a printed line) when it is not set.
#[cfg(feature = "mysql")]
pub fn galera_urls(test: &str) -> Option<Vec<String>> {
    let urls = server_url("GALERA_URLS", "Galera", test)?;
    Some(urls.split_whitespace().map(String::from).collect())
}

/// Defines each test on SQLite, on PostgreSQL, and (feature `mysql`) on
/// MySQL/MariaDB, each twice: on diesel's connection (modules `sqlite`,
/// `postgres`, `mysql`) and on diesel-async's (`async_sqlite` through
/// `SyncConnectionWrapper`, `async_postgres`, `async_mysql`). One body for
/// both: it marks every call that runs statements with `r!(..)`, which is
/// the call itself on a diesel connection and the call awaited on an async
/// one, and runs transactions of its own with `tx!(conn, body)`; diesel's
/// query builder is used as is (`r!(users::table.load(conn))`), its
/// `RunQueryDsl` being diesel-async's in the async modules.
#[macro_export]
macro_rules! backend_tests {
    ($(fn $name:ident($conn:ident) $body:block)*) => {
        $crate::backend_tests!(@blocking sqlite, |_| Some(Box::new($crate::sqlite()));
            $(fn $name($conn) $body)*);
        $crate::backend_tests!(@blocking postgres, $crate::postgres; $(fn $name($conn) $body)*);
        #[cfg(feature = "mysql")]
        $crate::backend_tests!(@blocking mysql, $crate::mysql; $(fn $name($conn) $body)*);
        $crate::backend_tests!(@async async_sqlite, |_| async { Some(((), $crate::async_sqlite())) };
            $(fn $name($conn) $body)*);
        $crate::backend_tests!(@async async_postgres, $crate::async_postgres;
            $(fn $name($conn) $body)*);
        // Named so that CI's `mysql::` filter runs it.
        #[cfg(feature = "mysql")]
        $crate::backend_tests!(@async async_mysql, $crate::async_mysql;
            $(fn $name($conn) $body)*);
    };
    // On a diesel connection from `$open(test name)`, `None` to skip.
    (@blocking $module:ident, $open:expr; $(fn $name:ident($conn:ident) $body:block)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::{r_blocking as r, tx_blocking as tx};
            #[allow(unused_imports)]
            use ::orm_core::diesel::connection::SimpleConnection;
            $(
                #[test]
                fn $name() -> $crate::TestResult {
                    let Some(mut conn) = ($open)(stringify!($name)) else {
                        return Ok(());
                    };
                    let $conn = &mut *conn;
                    $body
                }
            )*
        }
    };
    // On a diesel-async connection from `$open(test name).await`, with the
    // guard that keeps its database, `None` to skip.
    (@async $module:ident, $open:expr; $(fn $name:ident($conn:ident) $body:block)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::{r_async as r, tx_async as tx};
            #[allow(unused_imports)]
            use ::orm_core::diesel_async::{RunQueryDsl, SimpleAsyncConnection};
            $(
                #[test]
                fn $name() -> $crate::TestResult {
                    $crate::runtime().block_on(async {
                        let Some((_guard, mut conn)) = ($open)(stringify!($name)).await else {
                            return Ok(());
                        };
                        let $conn = &mut conn;
                        $body
                    })
                }
            )*
        }
    };
}

/// The `(user_id, buddy_id)` rows of `buddyships`, sorted, in a
/// [`backend_tests!`] body: both stored rows of each symmetric pair.
#[macro_export]
macro_rules! buddyship_rows {
    ($conn:expr) => {
        r!($crate::buddyships::table
            .select(($crate::buddyships::user_id, $crate::buddyships::buddy_id))
            .order(($crate::buddyships::user_id, $crate::buddyships::buddy_id))
            .load::<(i32, i32)>($conn))
    };
}

/// `r!(call)` in a [`backend_tests!`] body on a diesel connection: the call.
#[doc(hidden)]
#[macro_export]
macro_rules! r_blocking {
    ($call:expr) => {
        $call
    };
}

/// `r!(call)` in a [`backend_tests!`] body on a diesel-async connection:
/// the call, awaited.
#[doc(hidden)]
#[macro_export]
macro_rules! r_async {
    ($call:expr) => {
        $call.await
    };
}

/// `tx!(conn, body)` on a diesel connection: `body` in a transaction.
#[doc(hidden)]
#[macro_export]
macro_rules! tx_blocking {
    ($conn:ident, $body:expr) => {
        ::orm_core::diesel::Connection::transaction($conn, |$conn| $body)
    };
}

/// `tx!(conn, body)` on a diesel-async connection: `body` in a transaction.
#[doc(hidden)]
#[macro_export]
macro_rules! tx_async {
    ($conn:ident, $body:expr) => {
        ::orm_core::diesel_async::AsyncConnection::transaction($conn, async |$conn| $body).await
    };
}

/// The runtime the async half of the suite runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// [`sqlite`] through diesel-async's `SyncConnectionWrapper`.
pub fn async_sqlite() -> SyncConnectionWrapper<SqliteConnection> {
    SyncConnectionWrapper::new(sqlite())
}

/// An async PostgreSQL connection to the fresh schema of `test`, which
/// lives as long as the returned guard.
pub async fn async_postgres(test: &str) -> Option<(PgTest, AsyncPgConnection)> {
    let url = postgres_url(test)?;
    let sync = postgres(test)?;
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
    conn.batch_execute(&format!("SET search_path TO {}", sync.schema()))
        .await
        .expect("the test schema");
    Some((sync, conn))
}

/// An async MySQL/MariaDB connection to the fresh database of `test`, which
/// lives as long as the returned guard.
#[cfg(feature = "mysql")]
pub async fn async_mysql(
    test: &str,
) -> Option<(MysqlTest, orm_core::diesel_async::AsyncMysqlConnection)> {
    let url = mysql_url(test)?;
    let database = mysql(test)?;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let url = format!("{base}/{}", database.database());
    let conn = orm_core::diesel_async::AsyncMysqlConnection::establish(&url)
        .await
        .expect("connect to the test database");
    Some((database, conn))
}

/// The dialect of a connection's backend, for expectations that differ.
pub fn dialect<C: ConnKind + OnBackend<C::Kind>>(_: &C) -> orm_core::Dialect {
    <C::Backend as orm_core::OrmBackend>::DIALECT
}

/// What test bodies return, so they can use `?`.
pub type TestResult = Result<(), Failure>;

/// A test's error with the `?` that returned it, so that a failure says
/// which statement failed, not only how.
pub struct Failure {
    error: Box<dyn std::error::Error>,
    at: &'static std::panic::Location<'static>,
}

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Failure {
    #[track_caller]
    fn from(error: E) -> Self {
        Failure {
            error: error.into(),
            at: std::panic::Location::caller(),
        }
    }
}

/// What the test harness prints for a test that returned `Err`.
impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}, returned by the `?` at {}", self.error, self.at)
    }
}
