//! A wrong association option is the only error: the model itself is still
//! generated, so code using its table, `New*` and CRUD reports nothing more.
use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Post, foreign_kye = "author_id")]
pub struct User { pub id: i32, pub name: String }

#[derive(Model)]
pub struct Post { pub id: i32, pub author_id: i32 }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let user = User::create(NewUser { name: "Ada".into() }, &mut conn).unwrap();
    let _: Vec<User> = users::table.filter(users::name.eq("Ada")).load(&mut conn).unwrap();
    let _ = user.save(&mut conn);
}
