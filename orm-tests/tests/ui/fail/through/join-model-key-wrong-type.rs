use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp)]
pub struct Event { pub id: i32 }

// `user_id` must hold a `User` key, an `i32`.
#[derive(Model)]
#[model(primary_key(event_id, user_id))]
pub struct Rsvp { pub event_id: i32, pub user_id: i64, pub status: String }

fn main() {}
