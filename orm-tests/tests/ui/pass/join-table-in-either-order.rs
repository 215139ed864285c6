//! Both sides declare `rsvps`, the later-sorting one first in the file.
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id")]
pub struct User { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests")]
pub struct Event { pub id: i32 }

fn main() {
    let _ = rsvps::table;
    let _ = Rsvp { event_id: 1, guest_id: 2 };
}
