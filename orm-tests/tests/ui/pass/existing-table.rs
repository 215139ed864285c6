//! `#[model(table = path)]` uses a table from `diesel print-schema`.
use orm_core::prelude::*;

mod schema {
    // `diesel print-schema` output, with `diesel::table!` spelled
    // `orm_core::table!` so the crate needs no direct diesel dependency.
    orm_core::table! {
        books (id) {
            id -> Integer,
            title -> Text,
        }
    }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = schema::books)]
pub struct Book {
    pub id: i32,
    pub title: String,
}

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    Schema::new().model::<Book>().create_all(&mut conn).unwrap();
    let book = Book::create(NewBook { title: "Dune".into() }, &mut conn).unwrap();
    assert_eq!(Book::find(book.id, &mut conn).unwrap(), book);
}
