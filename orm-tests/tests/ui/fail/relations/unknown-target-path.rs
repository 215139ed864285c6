use orm_core::prelude::*;

// A typo in the last segment of a path: the one error is rustc's, with its
// suggestion.
#[derive(Model)]
#[has_many(posts::Psot)]
pub struct User { pub id: i32 }

mod posts {
    use orm_core::prelude::*;

    #[derive(Model)]
    pub struct Post { pub id: i32, pub user_id: i32 }
}

fn main() {}
