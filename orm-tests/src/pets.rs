//! Waterline's Users and Pets (seed 004), with `Pet` in another module than
//! `User`: both declare `pet_owners`.

use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(crate::User, through = "pet_owners", as = "Owners")]
pub struct Pet {
    pub id: i32,
    pub name: String,
    pub breed: String,
}
