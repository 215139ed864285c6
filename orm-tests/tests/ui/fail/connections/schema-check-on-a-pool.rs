use orm_core::diesel::r2d2::{ConnectionManager, Pool};
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

fn check(pool: &mut Pool<ConnectionManager<SqliteConnection>>) -> QueryResult<Vec<orm_core::Drift>> {
    Schema::new().model::<User>().check(pool)
}

fn main() {}
