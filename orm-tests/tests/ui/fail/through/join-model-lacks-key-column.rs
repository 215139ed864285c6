use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp, other_key = "guest_id")]
pub struct Event { pub id: i32 }

// No `guest_id`: the join model cannot hold the association's target key.
#[derive(Model)]
#[model(primary_key(event_id, user_id))]
pub struct Rsvp { pub event_id: i32, pub user_id: i32, pub status: String }

fn main() {}
