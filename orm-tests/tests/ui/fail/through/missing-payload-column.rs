use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp)]
pub struct Event { pub id: i32 }

#[derive(Model)]
#[model(primary_key(event_id, user_id))]
pub struct Rsvp { pub event_id: i32, pub user_id: i32, pub status: String, pub note: Option<String> }

fn add(event: &Event, user: &User, conn: &mut SqliteConnection) -> QueryResult<usize> {
    event.add_user_with(user, RsvpPayload { note: None }, conn)
}

fn main() {}
