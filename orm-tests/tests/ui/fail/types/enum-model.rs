use orm_core::prelude::*;

#[derive(Model)]
pub enum Status { Active, Gone }

fn main() {}
