use orm_core::diesel::SqliteConnection;
use orm_core::diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

// Only `&AsyncPgConnection` is taken by shared reference.
async fn count(conn: &SyncConnectionWrapper<SqliteConnection>) -> QueryResult<i64> {
    let mut shared = conn;
    User::count(&mut shared).await
}

fn main() {}
