use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp, foreign_key = "event_ref")]
pub struct Event { pub id: i32 }

// `event_ref` holds an `Event` key, an `i32`, but is a `String`.
#[derive(Model)]
#[model(primary_key(event_ref, user_id))]
pub struct Rsvp { pub event_ref: String, pub user_id: i32, pub status: String }

fn main() {}
