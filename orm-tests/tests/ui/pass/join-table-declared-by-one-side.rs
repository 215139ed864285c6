//! Only `User` (whose name sorts last) declares `memberships`: the join table
//! is still public under its own name.
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Club { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Club, through = "memberships")]
pub struct User { pub id: i32 }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    Schema::new().model::<Club>().model::<User>().create_all(&mut conn).unwrap();
    let club = Club::create(NewClub {}, &mut conn).unwrap();
    let user = User::create(NewUser {}, &mut conn).unwrap();
    user.add_club(&club, &mut conn).unwrap();
    let rows: Vec<Membership> = memberships::table.load(&mut conn).unwrap();
    assert_eq!(rows, vec![Membership { club_id: club.id, user_id: user.id }]);
}
