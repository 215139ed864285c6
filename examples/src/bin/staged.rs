//! Staged changes: Waterline's queued add/remove, applied at once.
//! Run with `cargo run -p examples --bin staged`.

use orm_core::prelude::*;
use orm_core::QueryLog;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Pet, through = "pet_owners")]
pub struct User {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "pet_owners", as = "Owners")]
pub struct Pet {
    pub id: i32,
    pub name: String,
    pub breed: String,
}

fn main() -> QueryResult<()> {
    let mut conn = orm_core::sqlite::memory().expect("in-memory SQLite");
    Schema::new()
        .model::<User>()
        .model::<Pet>()
        .create_all(&mut conn)?;
    let user = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    let pets: Vec<Pet> = ["rex", "tom", "kit"]
        .iter()
        .map(|name| {
            Pet::create(
                NewPet {
                    name: name.to_string(),
                    breed: "mutt".into(),
                },
                &mut conn,
            )
        })
        .collect::<QueryResult<_>>()?;
    user.add_pets(&pets[..2], &mut conn)?;

    let mut changes = user.pets_changes();
    changes
        .add(Pet::key(pets[2].id))
        .remove(&pets[0])
        .add(&pets[1])
        .remove(&pets[1])
        .add_new(NewPet {
            name: "fido".into(),
            breed: "labrador".into(),
        });
    println!("queued: {:?}", changes.pending());

    let log = QueryLog::attach(&mut conn);
    let diff = changes.save(&mut conn)?;
    println!("saved {diff:?} in {} statements:", log.count());
    for statement in log.statements() {
        println!("  {statement}");
    }
    let names: Vec<String> = user.pets(&mut conn)?.into_iter().map(|p| p.name).collect();
    println!("Ada's pets: {names:?}");

    let mut bad = user.pets_changes();
    bad.add_new(NewPet {
        name: "ghost".into(),
        breed: "?".into(),
    })
    .add(Pet::key(999));
    match bad.save(&mut conn) {
        Err(e) => println!("a change naming a missing pet fails and writes nothing: {e}"),
        Ok(diff) => println!("unexpected: {diff:?}"),
    }
    println!("pets in the table: {}", Pet::count(&mut conn)?);
    Ok(())
}
