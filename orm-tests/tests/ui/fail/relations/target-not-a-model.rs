use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Tag, through = "user_tags")]
pub struct User { pub id: i32 }

pub struct Tag { pub id: i32 }

fn main() {}
