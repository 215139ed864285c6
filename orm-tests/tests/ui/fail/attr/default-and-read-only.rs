use orm_core::prelude::*;

#[derive(Model)]
pub struct Post {
    pub id: i32,
    #[model(default, read_only)]
    pub views: i32,
}

fn main() {}
