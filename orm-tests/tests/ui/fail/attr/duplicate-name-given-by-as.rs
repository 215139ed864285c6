use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32, pub mentor_id: Option<i32> }

// The second association's `as` repeats the first's name: the error is on it.
#[derive(Model)]
#[belongs_to(User, as = "Mentor", foreign_key = "mentor_id")]
#[belongs_to(User, as = "Mentor", foreign_key = "user_id")]
pub struct Lesson { pub id: i32, pub mentor_id: i32, pub user_id: i32 }

fn main() {}
