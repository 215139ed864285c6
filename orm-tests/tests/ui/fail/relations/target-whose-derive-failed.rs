use orm_core::prelude::*;

// `Tag`'s own derive fails: that is the one error. The models that name it
// (both sides of a generated join table, a `belongs_to`, a `has_many`)
// add none; they would say "`Tag` is not a model".
#[derive(Model)]
#[belongs_to_many(Tag, through = "book_tags")]
pub struct Book { pub id: i32, pub title: String }

#[derive(Model)]
#[belongs_to_many(Book, through = "book_tags")]
pub struct Tag { pub label: String }

#[derive(Model)]
#[belongs_to(Tag)]
pub struct Alias { pub id: i32, pub tag_id: i32, pub name: String }

#[derive(Model)]
#[has_many(Tag, foreign_key = "owner_id")]
pub struct Owner { pub id: i32 }

fn main() {}
