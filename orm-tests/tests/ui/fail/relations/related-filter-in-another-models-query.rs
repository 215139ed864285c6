use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Book)]
pub struct Author { pub id: i32, pub name: String }

#[derive(Model)]
pub struct Book { pub id: i32, pub author_id: i32, pub title: String }

// `has_books_where` filters authors: it cannot filter a query over books.
fn books(conn: &mut SqliteConnection) -> QueryResult<Vec<Book>> {
    Book::query().filter(Author::has_books_where(|q| q)).load(conn)
}

fn main() {}
