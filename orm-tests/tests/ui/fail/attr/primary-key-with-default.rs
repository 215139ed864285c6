use orm_core::prelude::*;

#[derive(Model)]
pub struct Event {
    #[model(default)]
    pub id: i32,
}

fn main() {}
