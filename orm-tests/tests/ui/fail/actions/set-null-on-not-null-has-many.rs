use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, on_delete = "set_null")]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: i32 }

fn main() {}
