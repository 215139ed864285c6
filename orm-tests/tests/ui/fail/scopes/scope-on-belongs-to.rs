use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32, pub active: bool }

#[derive(Model)]
#[belongs_to(User, scope = users::active.eq(true))]
pub struct Post { pub id: i32, pub user_id: i32 }

fn main() {}
