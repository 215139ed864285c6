use orm_core::diesel::r2d2::{ConnectionManager, Pool};
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

fn page(pool: &mut Pool<ConnectionManager<SqliteConnection>>) -> QueryResult<orm_core::Page<User>> {
    User::query().paginate(1, 10).load_page(pool)
}

fn main() {}
