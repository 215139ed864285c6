use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
pub struct Event { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "attendee_id")]
pub struct User { pub id: i32 }

fn main() {}
