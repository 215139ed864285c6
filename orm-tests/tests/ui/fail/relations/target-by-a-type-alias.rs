use orm_core::prelude::*;

// A type alias has no model's macro, so the association could not be
// emitted: one error says so, not a silent model without its methods.
#[derive(Model)]
#[has_many(Article)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: i32 }

pub type Article = Post;

fn main() {}
