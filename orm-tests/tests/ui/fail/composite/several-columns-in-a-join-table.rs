use orm_core::prelude::*;

#[derive(Model)]
pub struct User { pub id: i32 }

#[derive(Model)]
#[belongs_to_many(User, through = "event_users", foreign_key(tenant_id, event_id))]
pub struct Event { pub id: i32 }

fn main() {}
