use orm_core::prelude::*;

mod schema {
    orm_core::table! {
        user_tags (user_id, tag_id) {
            user_id -> Integer,
            tag_id -> Integer,
        }
    }
}

#[derive(Model)]
#[belongs_to_many(Tag, through = schema::user_tags, timestamps)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

fn main() {}
