use orm_core::prelude::*;

#[derive(Model)]
pub struct Reading {
    pub id: i32,
    #[model(sql_type = (orm_core::diesel::sql_types::Integer, orm_core::diesel::sql_types::Text))]
    pub value: i32,
}

fn main() {}
