use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(Mission, through = Posting)]
pub struct Crew { pub id: i32 }

#[derive(Model)]
pub struct Mission { pub id: i32 }

#[derive(Model)]
#[model(primary_key(crew_id, mission_id))]
#[belongs_to(Crew)]
#[belongs_to(Mission)]
pub struct Posting {
    pub crew_id: i32,
    pub mission_id: i32,
    #[model(default)]
    pub hours: i32,
}

fn main() {}
