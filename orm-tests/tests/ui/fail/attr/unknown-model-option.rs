use orm_core::prelude::*;

#[derive(Model)]
#[model(tabel = "people")]
pub struct Person { pub id: i32 }

fn main() {}
