use orm_core::diesel::pg::data_types::PgInterval;
use orm_core::prelude::*;

// A SQL type diesel reads and writes, which orm-core has no DDL for.
#[derive(Model)]
pub struct Timer {
    pub id: i32,
    #[model(sql_type = orm_core::diesel::sql_types::Interval)]
    pub duration: PgInterval,
}

fn main() {}
