use orm_core::prelude::*;

#[derive(Model)]
#[has_many("Post")]
pub struct User { pub id: i32 }

fn main() {}
