use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to(User, foreign_key = "id")]
pub struct Post { pub id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

fn main() {}
