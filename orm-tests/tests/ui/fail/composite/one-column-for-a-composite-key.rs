use orm_core::prelude::*;

#[derive(Model)]
#[model(primary_key(tenant_id, number))]
#[has_many(Line)]
pub struct Order { pub tenant_id: i32, pub number: i32 }

#[derive(Model)]
pub struct Line { pub id: i32, pub order_id: i32 }

fn main() {}
