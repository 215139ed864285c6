use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[polymorphic(Commentable, type_column = "kind")]
pub struct Comment { pub id: i32, pub kind: String, pub commentable_id: i32 }

fn main() {}
