use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Post { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Video { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
#[polymorphic(Attachable, arc(Post = "post_id", Video = "video_id"))]
pub struct Attachment { pub id: i32, pub post_id: Option<i32> }

fn main() {}
