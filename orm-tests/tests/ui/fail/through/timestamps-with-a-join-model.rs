use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Club, through = Membership, timestamps)]
pub struct User { pub id: i32 }

#[derive(Model)]
pub struct Club { pub id: i32 }

#[derive(Model)]
#[belongs_to(User)]
#[belongs_to(Club)]
pub struct Membership {
    #[model(primary_key)]
    pub user_id: i32,
    #[model(primary_key)]
    pub club_id: i32,
}

fn main() {}
