use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to(User, as = "Author", foreign_key = "author_id")]
pub struct Post { pub id: i32, pub author_id: i32 }

// `author_id` is NOT NULL: a post cannot be without an author.
fn orphan(post: &mut Post, conn: &mut SqliteConnection) -> QueryResult<()> {
    post.unset_author(conn)
}

fn main() {}
