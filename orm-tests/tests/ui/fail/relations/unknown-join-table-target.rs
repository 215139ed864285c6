use orm_core::prelude::*;

// A typo in a `belongs_to_many` through a generated table: the table and
// its row struct are still declared, without another error.
#[derive(Model)]
#[belongs_to_many(Tga, through = "user_tags")]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

fn main() {}
