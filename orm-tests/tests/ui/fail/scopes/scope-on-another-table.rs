use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, as = "MyPosts", scope = users::name.eq("ann"))]
pub struct User { pub id: i32, pub name: String }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: Option<i32> }

fn main() {}
