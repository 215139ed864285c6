use orm_core::prelude::*;

#[derive(Model)]
#[has_many()]
pub struct User { pub id: i32 }

fn main() {}
