use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = "rsvps", on_delete = "set_null")]
pub struct Event { pub id: i32 }

fn main() {}
