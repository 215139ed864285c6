use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post)]
#[has_many(Post, foreign_key = "editor_id")]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: i32, pub editor_id: i32 }

fn main() {}
