use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(User, through = "rsvps", symmetric)]
pub struct Event { pub id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

fn main() {}
