use orm_core::prelude::*;

// Three mistakes, two of them in one attribute: all three are reported in
// one build, each on its token.
#[derive(Model)]
#[has_many(Post, on_delete = "explode", as = 5)]
pub struct User {
    pub id: i32,
    #[model(sql_type = "TEXT")]
    pub name: String,
}

#[derive(Model)]
#[belongs_to(User)]
pub struct Post { pub id: i32, pub user_id: Option<i32> }

fn main() {}
