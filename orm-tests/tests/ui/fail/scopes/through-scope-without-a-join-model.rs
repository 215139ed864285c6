use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Tag, through = "taggings", through_scope = taggings::kind.eq("post"))]
pub struct Post { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

fn main() {}
