use orm_core::prelude::*;

#[derive(Model)]
#[model(table = 5)]
pub struct User { pub id: i32 }

fn main() {}
