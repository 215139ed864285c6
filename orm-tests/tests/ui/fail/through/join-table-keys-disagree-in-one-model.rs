use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Tag, through = "user_tags")]
#[belongs_to_many(Tag, through = "user_tags", as = "Labels", other_key = "label_id")]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

fn main() {}
