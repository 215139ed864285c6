//! Both sides declare `rsvps`, the later-sorting one first in the file; the
//! short form's other key is named after the target (`user_id`).
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps")]
pub struct User { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests")]
pub struct Event { pub id: i32 }

fn main() {
    let _ = rsvps::table;
    let _ = Rsvp { event_id: 1, user_id: 2 };
}
