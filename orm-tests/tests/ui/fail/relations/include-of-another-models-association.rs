use orm_core::prelude::*;

#[derive(Model, Clone)]
#[has_many(Post)]
pub struct User { pub id: i32 }

#[derive(Model, Clone)]
#[has_many(Comment)]
pub struct Post { pub id: i32, pub user_id: Option<i32> }

#[derive(Model, Clone)]
pub struct Comment { pub id: i32, pub post_id: Option<i32> }

// A post's comments are not a user's: `Posts.with(Comments)` is.
fn tree(users: &[User], conn: &mut SqliteConnection) -> QueryResult<Vec<Vec<Comment>>> {
    orm_core::include(users, post_associations::Comments, conn)
}

fn main() {}
