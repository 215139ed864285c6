use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(User, through = "rsvps")]
pub struct Event { pub id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let event = Event { id: 1 };
    let _ = event.add_user(Event::key(2), &mut conn);
}
