use orm_core::prelude::*;

#[derive(Model)]
#[model(primary_key(tenant_id, number))]
pub struct Order { pub tenant_id: i32, pub number: i32 }

#[derive(Model)]
#[belongs_to(Order, foreign_key = "tenant_id, order_number")]
pub struct Line { pub id: i32, pub tenant_id: i32, pub order_number: i32 }

fn main() {}
