use orm_core::prelude::*;

#[derive(Model)]
pub struct User {
    pub id: i32,
    #[model(sql_type = "TEXT")]
    pub name: String,
}

fn main() {}
