use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post)]
pub struct User { pub id: i32, pub name: String }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: Option<i32>, pub title: String }

// The refinement is a query over the posts: a column of `users` is not one
// of its columns.
fn named(conn: &mut SqliteConnection) -> QueryResult<Vec<User>> {
    User::query()
        .filter(User::has_posts_where(|q| q.filter(users::name.eq("ann"))))
        .load(conn)
}

fn main() {}
