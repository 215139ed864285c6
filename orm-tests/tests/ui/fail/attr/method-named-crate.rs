use orm_core::prelude::*;

// A crates.io-style schema: `#[belongs_to(Crate)]` would read with `crate()`.
#[derive(Model)]
pub struct Crate { pub id: i32, pub name: String }

#[derive(Model)]
#[belongs_to(Crate)]
pub struct Version { pub id: i32, pub crate_id: i32, pub num: String }

fn main() {}
