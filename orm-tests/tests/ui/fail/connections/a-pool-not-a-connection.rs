use orm_core::diesel::r2d2::{ConnectionManager, Pool};
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

// The pool, where a connection from it (`&mut pool.get()?`) was meant.
fn find(pool: &mut Pool<ConnectionManager<SqliteConnection>>) -> QueryResult<User> {
    User::find(1, pool)
}

fn main() {}
