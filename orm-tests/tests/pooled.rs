//! The generated methods are generic over the connection type: a pooled
//! connection is passed as it is, not dereferenced to the inner one.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::SqliteConnection;
use orm_core::prelude::*;
use orm_tests::*;

#[derive(Debug)]
struct ForeignKeysOn;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ForeignKeysOn {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[test]
fn pooled_sqlite_connection() -> TestResult {
    let manager = ConnectionManager::<SqliteConnection>::new(":memory:");
    let pool = Pool::builder()
        .max_size(1)
        .connection_customizer(Box::new(ForeignKeysOn))
        .build(manager)?;
    let mut conn = pool.get()?;
    schema().create_all(&mut conn)?;
    let party = Event::create(
        NewEvent {
            title: "pooled".into(),
        },
        &mut conn,
    )?;
    let ada = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    assert_eq!(party.add_guests(std::slice::from_ref(&ada), &mut conn)?, 1);
    assert_eq!(party.guests(&mut conn)?, vec![ada.clone()]);
    assert_eq!(
        party.set_guests(&[], &mut conn)?,
        SetDiff {
            added: 0,
            removed: 1
        }
    );
    let ghost = User {
        id: 99,
        name: "ghost".into(),
    };
    assert!(
        party.add_guest(&ghost, &mut conn).is_err(),
        "foreign keys on through the pool"
    );
    Ok(())
}
