use orm_core::prelude::*;

#[derive(Model)]
#[has_many(tags::Tag)]
pub struct User { pub id: i32 }

mod tags {
    pub struct Tag { pub id: i32, pub user_id: i32 }
}

fn main() {}
