//! A composite key marked on its fields, used through the generated CRUD.
use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Country {
    #[model(primary_key)]
    pub code: String,
    #[model(primary_key)]
    pub iso: String,
}

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    Schema::new().model::<Country>().create_all(&mut conn).unwrap();
    let fr = Country::create(NewCountry { code: "FR".into(), iso: "FRA".into() }, &mut conn).unwrap();
    assert_eq!(Country::find(("FR".into(), "FRA".into()), &mut conn).unwrap(), fr);
    fr.save(&mut conn).unwrap();
    fr.delete(&mut conn).unwrap();
}
