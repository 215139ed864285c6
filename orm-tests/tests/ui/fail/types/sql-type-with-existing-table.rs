use orm_core::prelude::*;

mod schema {
    orm_core::table! {
        books (id) {
            id -> Integer,
            title -> Text,
        }
    }
}

#[derive(Model)]
#[model(table = schema::books)]
pub struct Book {
    pub id: i32,
    #[model(sql_type = orm_core::diesel::sql_types::Binary)]
    pub title: String,
}

fn main() {}
