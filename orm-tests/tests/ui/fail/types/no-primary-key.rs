use orm_core::prelude::*;

#[derive(Model)]
pub struct Setting { pub key: String, pub value: String }

fn main() {}
