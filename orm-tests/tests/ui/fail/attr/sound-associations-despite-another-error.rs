use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Speaker { pub id: i32 }

#[derive(Model, Debug, Clone, PartialEq)]
pub struct Attendee { pub id: i32 }

// One association has a typo; the other still generates its methods, so the
// only error is the typo.
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(Speaker, foriegn_key = "speaker_id")]
#[belongs_to_many(Attendee, through = "seats")]
pub struct Talk { pub id: i32, pub speaker_id: i32 }

fn audience(talk: &Talk, conn: &mut SqliteConnection) -> QueryResult<Vec<Attendee>> {
    talk.attendees(conn)
}

fn main() {
    let _ = audience;
}
