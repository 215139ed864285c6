use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, as = "DatedPosts", scope = posts::published_on.is_not_null())]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Post { pub id: i32, pub user_id: Option<i32>, pub published_on: Option<String> }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let user = User { id: 1 };
    let post = Post { id: 1, user_id: None, published_on: None };
    let _ = user.dated_posts(&mut conn);
    let _ = user.add_dated_post(&post, &mut conn);
}
