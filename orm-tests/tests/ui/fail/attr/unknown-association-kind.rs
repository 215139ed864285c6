use orm_core::prelude::*;

#[derive(Model)]
#[has_mny(Post)]
pub struct User { pub id: i32 }

fn main() {}
