use orm_core::prelude::*;

#[derive(Model)]
pub struct Attendee { pub id: i32 }

// "audience" is its own plural: `add_audience` would be both the one and the many.
#[derive(Model)]
#[belongs_to_many(Attendee, through = "seats", as = "Audience")]
pub struct Talk { pub id: i32 }

fn main() {}
