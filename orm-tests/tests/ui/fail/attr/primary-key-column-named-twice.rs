use orm_core::prelude::*;

#[derive(Model)]
#[model(primary_key(a, a))]
pub struct Pair { pub a: i32, pub b: i32 }

fn main() {}
