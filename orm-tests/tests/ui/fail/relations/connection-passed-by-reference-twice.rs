use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(User, through = "rsvps", as = "Guests")]
pub struct Event { pub id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

// `conn` is already a `&mut SqliteConnection`: `&mut conn` is one `&mut` too many.
fn guests(event: &Event, conn: &mut SqliteConnection) -> QueryResult<Vec<User>> {
    event.guests(&mut conn)
}

fn main() {}
