//! The workload through SeaORM 2 on PostgreSQL, as its documentation teaches
//! it: entities with `Related` (users and events through `rsvps`), the
//! loader for eager loading (`load_many`, `load_one`), `find_related`,
//! `ActiveModel` inserts and updates, `insert_many` with
//! `on_conflict_do_nothing`, `update_many`/`delete_many` with filters, and
//! `begin`/`commit` for transactions. One connection (a pool of one), as on
//! the other sides.

use std::rc::Rc;

use diesel::result::{Error, QueryResult};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, LoaderTrait, QueryOrder,
    TransactionTrait, TryInsertResult,
};

use crate::{end_checksum, Counter, Phases, RT};

pub mod users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::posts::Entity")]
        Posts,
    }

    impl Related<super::posts::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Posts.def()
        }
    }

    impl Related<super::events::Entity> for Entity {
        fn to() -> RelationDef {
            super::rsvps::Relation::Event.def()
        }

        fn via() -> Option<RelationDef> {
            Some(super::rsvps::Relation::User.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl Related<super::users::Entity> for Entity {
        fn to() -> RelationDef {
            super::rsvps::Relation::User.def()
        }

        fn via() -> Option<RelationDef> {
            Some(super::rsvps::Relation::Event.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rsvps {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rsvps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::events::Entity",
            from = "Column::EventId",
            to = "super::events::Column::Id"
        )]
        Event,
        #[sea_orm(
            belongs_to = "super::users::Entity",
            from = "Column::UserId",
            to = "super::users::Column::Id"
        )]
        User,
    }

    impl Related<super::events::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Event.def()
        }
    }

    impl Related<super::users::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod posts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub author_id: Option<i32>,
        pub title: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::users::Entity",
            from = "Column::AuthorId",
            to = "super::users::Column::Id"
        )]
        Author,
    }

    impl Related<super::users::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Author.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// SeaORM's error as a diesel one, for the shared harness.
fn sea(err: DbErr) -> Error {
    Error::QueryBuilderError(Box::new(err))
}

/// `$e`, awaited, with SeaORM's error made diesel's.
macro_rules! s {
    ($e:expr) => {
        $e.await.map_err(sea)
    };
}

/// Rows a `TryInsert` wrote.
fn written(result: TryInsertResult<u64>) -> u64 {
    match result {
        TryInsertResult::Inserted(n) => n,
        _ => 0,
    }
}

/// A SeaORM connection (a pool of one) to the schema `search_path`, whose
/// tables the caller has created and seeded.
pub fn connect(url: &str, search_path: &str) -> QueryResult<DatabaseConnection> {
    RT.block_on(async {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false)
            .set_schema_search_path(search_path.to_owned());
        s!(Database::connect(options))
    })
}

/// Counts the statements SeaORM runs (its metric callback; transactions'
/// `BEGIN`/`COMMIT` are not statements to it).
pub fn attach(db: &mut DatabaseConnection) -> Counter {
    let counter = Counter::default();
    let seen = counter.clone();
    db.set_metric_callback(move |_| seen.0.lock().unwrap().0 += 1);
    counter
}

/// The rows were seeded by the caller (plain diesel, as for every side).
pub fn seed(_: &mut DatabaseConnection) -> QueryResult<()> {
    Ok(())
}

/// The same checksum of `rsvps` and `posts` as the other sides'.
pub fn end_state(db: &mut DatabaseConnection) -> QueryResult<u64> {
    RT.block_on(async {
        let pairs = s!(rsvps::Entity::find().all(&*db))?;
        let posts = s!(posts::Entity::find().all(&*db))?;
        Ok(end_checksum(
            pairs.iter().map(|r| (r.event_id, r.user_id)),
            posts.iter().map(|p| (p.id, p.author_id)),
        ))
    })
}

fn keys(n: usize, first: i32) -> Vec<i32> {
    (0..n as i32).map(|i| first + i).collect()
}

fn guests_of(e: i32) -> Vec<i32> {
    keys(50, (e - 1) * 50 % 1950 + 1)
}

fn rsvp(event_id: i32, user_id: i32) -> rsvps::ActiveModel {
    rsvps::ActiveModel {
        event_id: Set(event_id),
        user_id: Set(user_id),
    }
}

/// The workload through SeaORM.
pub fn phases(db: &mut DatabaseConnection) -> QueryResult<Phases<DatabaseConnection>> {
    let (events, users, posts) = RT.block_on(async {
        QueryResult::Ok((
            s!(events::Entity::find()
                .order_by_asc(events::Column::Id)
                .all(&*db))?,
            s!(users::Entity::find()
                .order_by_asc(users::Column::Id)
                .all(&*db))?,
            s!(posts::Entity::find()
                .order_by_asc(posts::Column::Id)
                .all(&*db))?,
        ))
    })?;
    let (events, users, posts) = (Rc::new(events), Rc::new(users), Rc::new(posts));
    Ok(
        phases!(async, db: DatabaseConnection, (events, users, posts),
            "add one guest", 10_000 => {
                let mut n = 0;
                for e in events.iter() {
                    for u in guests_of(e.id) {
                        n += s!(rsvps::Entity::insert(rsvp(e.id, u)).exec_without_returning(&*db))?;
                    }
                }
                n
            };
            "get guests", 200 => {
                let mut sum = 0;
                for e in events.iter() {
                    let guests = s!(e.find_related(users::Entity).all(&*db))?;
                    sum += guests.iter().map(|u| u.id as u64).sum::<u64>();
                }
                sum
            };
            "has guest", 2_000 => {
                let mut n = 0;
                for e in events.iter() {
                    for u in guests_of(e.id).into_iter().step_by(5) {
                        n += s!(rsvps::Entity::find_by_id((e.id, u)).one(&*db))?.is_some() as u64;
                    }
                }
                n
            };
            "count guests", 2_000 => ten_calls!({
                let mut n = 0;
                for e in events.iter() {
                    n += s!(e.find_related(users::Entity).count(&*db))?;
                }
                n
            });
            "eager: events with guests", 10 => ten_calls!({
                let events = s!(events::Entity::find().all(&*db))?;
                let guests = s!(events.load_many(users::Entity, &*db))?;
                guests.iter().flatten().map(|u| u.id as u64).sum::<u64>() + events.len() as u64
            });
            "set guests", 200 => {
                let mut n = 0;
                for e in events.iter() {
                    let rows: Vec<_> = keys(50, (e.id - 1) * 50 % 1950 + 26)
                        .into_iter()
                        .map(|u| rsvp(e.id, u))
                        .collect();
                    let txn = s!(db.begin())?;
                    s!(rsvps::Entity::delete_many().filter(rsvps::Column::EventId.eq(e.id)).exec(&txn))?;
                    s!(rsvps::Entity::insert_many(rows).exec_without_returning(&txn))?;
                    s!(txn.commit())?;
                    n += 1;
                }
                n
            };
            "remove one guest", 5_000 => {
                let mut n = 0;
                for e in events.iter() {
                    for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                        n += s!(rsvps::Entity::delete_by_id((e.id, u)).exec(&*db))?.rows_affected;
                    }
                }
                n
            };
            "add one guest in a transaction", 2_000 => {
                let mut n = 0;
                for e in events.iter().take(80) {
                    let txn = s!(db.begin())?;
                    for u in keys(25, (e.id - 1) * 50 % 1950 + 26) {
                        n += s!(rsvps::Entity::insert(rsvp(e.id, u)).exec_without_returning(&txn))?;
                    }
                    s!(txn.commit())?;
                }
                n
            };
            "bulk add guests", 200 => {
                let mut n = 0;
                for e in events.iter() {
                    let rows: Vec<_> = guests_of(e.id).into_iter().map(|u| rsvp(e.id, u)).collect();
                    let insert = rsvps::Entity::insert_many(rows).on_conflict_do_nothing();
                    n += written(s!(insert.exec_without_returning(&*db))?);
                }
                n
            };
            "posts of a user", 200 => {
                let mut sum = 0;
                for u in &users[..200] {
                    let posts = s!(u.find_related(posts::Entity).all(&*db))?;
                    sum += posts.iter().map(|p| p.id as u64).sum::<u64>();
                }
                sum
            };
            "author of a post", 2_000 => {
                let mut sum = 0;
                for p in posts.iter() {
                    sum += s!(p.find_related(users::Entity).one(&*db))?.map_or(0, |u| u.id as u64);
                }
                sum
            };
            "eager: users with posts", 10 => ten_calls!({
                let users = s!(users::Entity::find().all(&*db))?;
                let posts = s!(users.load_many(posts::Entity, &*db))?;
                posts.iter().flatten().map(|p| p.id as u64).sum::<u64>() + users.len() as u64
            });
            "eager: users with posts and events", 10 => ten_calls!({
                let users = s!(users::Entity::find().all(&*db))?;
                let posts = s!(users.load_many(posts::Entity, &*db))?;
                let events = s!(users.load_many(events::Entity, &*db))?;
                posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                    + events.iter().flatten().map(|e| e.id as u64).sum::<u64>()
            });
            "eager: users with posts and events, one after the other", 10 => ten_calls!({
                let users = s!(users::Entity::find().all(&*db))?;
                let posts = s!(users.load_many(posts::Entity, &*db))?;
                let events = s!(users.load_many(events::Entity, &*db))?;
                posts.iter().flatten().map(|p| p.id as u64).sum::<u64>()
                    + events.iter().flatten().map(|e| e.id as u64).sum::<u64>()
            });
            "eager: posts with authors", 10 => ten_calls!({
                let posts = s!(posts::Entity::find().all(&*db))?;
                let authors = s!(posts.load_one(users::Entity, &*db))?;
                authors.iter().flatten().map(|u| u.id as u64).sum::<u64>()
            });
            "add one post (reassign)", 2_000 => {
                let mut n = 0;
                for p in posts.iter() {
                    let mut post: posts::ActiveModel = p.clone().into();
                    post.author_id = Set(Some(users[200 + p.id as usize % 200].id));
                    s!(post.update(&*db))?;
                    n += 1;
                }
                n
            };
            "remove one post", 1_000 => {
                let mut n = 0;
                for p in posts.iter().step_by(2) {
                    let from = users[200 + p.id as usize % 200].id;
                    let detach = posts::Entity::update_many()
                        .col_expr(posts::Column::AuthorId, Expr::value(Option::<i32>::None))
                        .filter(posts::Column::Id.eq(p.id))
                        .filter(posts::Column::AuthorId.eq(from));
                    n += s!(detach.exec(&*db))?.rows_affected;
                }
                n
            };
            "set posts", 200 => {
                let mut n = 0;
                for u in &users[200..400] {
                    let wanted = keys(10, (u.id - 201) * 10 + 1);
                    let txn = s!(db.begin())?;
                    let detach = posts::Entity::update_many()
                        .col_expr(posts::Column::AuthorId, Expr::value(Option::<i32>::None))
                        .filter(posts::Column::AuthorId.eq(u.id))
                        .filter(posts::Column::Id.is_not_in(wanted.clone()));
                    s!(detach.exec(&txn))?;
                    let attach = posts::Entity::update_many()
                        .col_expr(posts::Column::AuthorId, Expr::value(Some(u.id)))
                        .filter(posts::Column::Id.is_in(wanted));
                    s!(attach.exec(&txn))?;
                    s!(txn.commit())?;
                    n += 1;
                }
                n
            };
        ),
    )
}
