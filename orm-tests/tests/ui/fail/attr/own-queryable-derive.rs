use orm_core::prelude::*;

// A print-schema project's struct, with its diesel derives still on it.
#[derive(Model, Debug, Clone, PartialEq)]
#[derive(orm_core::diesel::Queryable, orm_core::diesel::Identifiable)]
pub struct Book {
    pub id: i32,
    pub title: String,
}

fn main() {}
