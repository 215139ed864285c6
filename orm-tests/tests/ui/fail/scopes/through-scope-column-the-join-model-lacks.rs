use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(
    Tag,
    through = Tagging,
    foreign_key = "taggable_id",
    through_scope = taggings::tagable_type.eq("post")
)]
pub struct Post { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

#[derive(Model)]
#[model(primary_key(tag_id, taggable_type, taggable_id))]
#[belongs_to(Tag)]
#[polymorphic(Taggable, Post = "post")]
pub struct Tagging { pub tag_id: i32, pub taggable_type: String, pub taggable_id: i32 }

fn main() {}
