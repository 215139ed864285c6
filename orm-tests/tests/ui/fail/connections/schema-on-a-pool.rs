use orm_core::diesel::r2d2::{ConnectionManager, Pool};
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

// The pool, where a connection from it was meant.
fn setup(pool: &mut Pool<ConnectionManager<SqliteConnection>>) -> QueryResult<()> {
    Schema::new().model::<User>().create_all(pool)
}

fn main() {}
