use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to(User, constraints = false, constraints = false)]
pub struct Post { pub id: i32, pub user_id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

fn main() {}
