use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
#[polymorphic(Commentable, Post = "post")]
pub struct Comment { pub id: i32, pub commentable_type: String, pub commentable_id: String }

fn main() {}
