use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = Rsvp)]
pub struct Event { pub id: i32 }

// The pair must be the primary key, so that adding twice updates one row.
#[derive(Model)]
pub struct Rsvp { pub id: i32, pub event_id: i32, pub user_id: i32, pub status: String }

fn main() {}
