use orm_core::prelude::*;

mod schema {
    orm_core::diesel::table! {
        book_tags (book, tag_id) {
            book -> Integer,
            tag_id -> Integer,
        }
    }
}

#[derive(Model)]
pub struct Tag { pub id: i32 }

// The project's join table names its column `book`, not `book_id`.
#[derive(Model)]
#[belongs_to_many(Tag, through = schema::book_tags)]
pub struct Book { pub id: i32 }

fn main() {}
