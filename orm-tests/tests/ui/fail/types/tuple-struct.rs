use orm_core::prelude::*;

#[derive(Model)]
pub struct Point(i32, i32);

fn main() {}
