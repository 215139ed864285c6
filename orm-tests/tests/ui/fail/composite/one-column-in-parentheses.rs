use orm_core::prelude::*;

#[derive(Model)]
pub struct Order { pub id: i32 }

#[derive(Model)]
#[belongs_to(Order, foreign_key(order_number))]
pub struct Line { pub id: i32, pub order_number: i32 }

fn main() {}
