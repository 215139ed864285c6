use orm_core::diesel::SqliteConnection;
use orm_core::diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

// The migration command takes a diesel connection.
fn migrate(conn: &mut SyncConnectionWrapper<SqliteConnection>) {
    orm_core::cli::main(&Schema::new().model::<User>(), conn, "migrations");
}

fn main() {}
