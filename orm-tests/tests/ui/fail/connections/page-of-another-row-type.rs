use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32, pub name: String }

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Tag { pub id: i32 }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let _ = User::query().paginate(1, 10).load_page::<Tag, _>(&mut conn);
}
