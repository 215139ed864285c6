use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct User { pub id: i32 }

pub struct Database;

fn main() {
    let _ = User::find(1, &mut Database);
}
