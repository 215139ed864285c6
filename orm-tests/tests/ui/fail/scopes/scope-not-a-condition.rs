use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, as = "TitledPosts", scope = posts::title)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: Option<i32>, pub title: String }

fn main() {}
