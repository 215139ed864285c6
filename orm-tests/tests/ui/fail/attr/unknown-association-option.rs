use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, foreign_kye = "author_id")]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub author_id: i32 }

fn main() {}
