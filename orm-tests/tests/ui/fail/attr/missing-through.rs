use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Group)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Group { pub id: i32 }

fn main() {}
