use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(User, through = "friendships")]
pub struct User { pub id: i32 }

fn main() {}
