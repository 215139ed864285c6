use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to(User, constraints = "off")]
pub struct Post { pub id: i32, pub user_id: i32 }

#[derive(Model)]
pub struct User { pub id: i32 }

fn main() {}
