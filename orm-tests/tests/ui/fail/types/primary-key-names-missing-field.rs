use orm_core::prelude::*;

#[derive(Model)]
#[model(primary_key(club_id, member_id))]
pub struct Membership { pub club_id: i32, pub user_id: i32 }

fn main() {}
