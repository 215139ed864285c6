use orm_core::prelude::*;

#[derive(Model)]
pub struct Person { pub id: i32, pub tags: std::collections::HashMap<String, String> }

fn main() {}
