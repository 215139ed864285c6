use orm_core::prelude::*;

#[derive(Model)]
#[model(table = "event log")]
pub struct Event { pub id: i32 }

fn main() {}
