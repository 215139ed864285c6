use orm_core::prelude::*;

#[derive(Model)]
#[model(timestamps)]
pub struct Article { pub id: i32, pub title: String, pub created_at: NaiveDateTime }

fn main() {}
