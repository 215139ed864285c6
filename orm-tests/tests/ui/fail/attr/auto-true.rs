use orm_core::prelude::*;

#[derive(Model)]
pub struct Event {
    #[model(primary_key, auto = true)]
    pub id: i32,
}

fn main() {}
