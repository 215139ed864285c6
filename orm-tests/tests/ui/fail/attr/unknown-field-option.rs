use orm_core::prelude::*;

#[derive(Model)]
pub struct Person {
    #[model(primary)]
    pub id: i32,
}

fn main() {}
