use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to(User, on_delete = "nullify")]
pub struct Post { pub id: i32, pub user_id: Option<i32> }

fn main() {}
