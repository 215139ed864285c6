use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(
    User,
    through = Friendship,
    as = "Friends",
    foreign_key = "user_id",
    other_key = "friend_id",
    symmetric,
    through_scope = friendships::kind.eq("close")
)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[model(primary_key(user_id, friend_id))]
pub struct Friendship { pub user_id: i32, pub friend_id: i32, pub kind: String }

fn main() {}
