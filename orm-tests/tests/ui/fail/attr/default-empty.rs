use orm_core::prelude::*;

#[derive(Model)]
pub struct Counter {
    pub id: i32,
    #[model(default = "")]
    pub hits: i32,
}

fn main() {}
