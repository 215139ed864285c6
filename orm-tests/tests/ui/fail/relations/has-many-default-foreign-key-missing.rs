use orm_core::prelude::*;

// The default foreign key is `device_id` (Rails' and Django's rule), whatever
// the source's primary key is called; the message names it.
#[derive(Model)]
#[has_many(Reading)]
pub struct Device { #[model(primary_key)] pub serial: String }

#[derive(Model)]
pub struct Reading { pub id: i32, pub device_serial: String }

fn main() {}
