use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32, pub name: String }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp, as = "Guests")]
pub struct Event { pub id: i32 }

#[derive(Model)]
#[model(primary_key(event_id, user_id))]
#[belongs_to(Event)]
#[belongs_to(User)]
pub struct Rsvp { pub event_id: i32, pub user_id: i32 }

#[derive(Model)]
pub struct Venue { pub id: i32, pub name: String }

// `venues` is neither the join table nor the target table.
fn at(event: &Event, conn: &mut SqliteConnection) -> QueryResult<Vec<(User, Rsvp)>> {
    event.guests_through().filter(venues::name.eq("hall")).load(conn)
}

fn main() {}
