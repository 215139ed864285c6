use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: Option<i32> }

// Bare ids are not keys: `Post::key(1)` is.
fn keep(user: &User, conn: &mut SqliteConnection) -> QueryResult<SetDiff> {
    user.set_posts(vec![1, 2], conn)
}

fn main() {}
