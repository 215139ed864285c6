use orm_core::prelude::*;

#[derive(Model)]
pub struct Wrapper<T> { pub id: i32, pub value: T }

fn main() {}
