use orm_core::prelude::*;

#[derive(Model)]
pub struct Country {
    #[model(primary_key)]
    pub code: String,
    #[model(primary_key)]
    pub iso: String,
}

fn main() {}
