use orm_core::prelude::*;
use orm_core::Router;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Tag, through = "post_tags")]
pub struct Post { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Tag { pub id: i32 }

// The router, where a connection from it (`&mut router.get()`) was meant.
fn tag(post: &Post, tag: &Tag, router: &mut Router<SqliteConnection>) -> QueryResult<usize> {
    post.add_tag(tag, router)
}

fn main() {}
