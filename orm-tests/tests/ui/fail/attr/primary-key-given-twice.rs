use orm_core::prelude::*;

#[derive(Model)]
#[model(primary_key(a, b))]
pub struct Pair {
    #[model(primary_key)]
    pub a: i32,
    pub b: i32,
}

fn main() {}
