use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

// `_` names no table: no row struct can be named after it.
#[derive(Model)]
#[belongs_to_many(User, through = "_")]
pub struct Event { pub id: i32 }

fn main() {}
