use orm_core::prelude::*;

#[derive(Model)]
pub struct Country {
    #[model(primary_key, auto = false)]
    pub code: String,
    pub name: String,
}

fn main() {}
