use orm_core::prelude::*;

// `C` is the connection's type parameter in every generated method.
#[derive(Model)]
pub struct C { pub id: i32, pub owner_id: i32 }

#[derive(Model)]
#[has_many(C, foreign_key = "owner_id")]
pub struct Owner { pub id: i32 }

fn main() {}
