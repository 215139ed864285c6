//! A target named by a path into another module, by a `use` of it, from
//! another crate, and a model declared in a function, and models of every
//! visibility: each is a model there, so the associations on it compile.
use orm_core::prelude::*;

mod people {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    pub struct Person { pub id: i32, pub name: String }
}

mod pets {
    use orm_core::prelude::*;
    use super::people::Person;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(Person, as = "Owner", foreign_key = "owner_id")]
    pub struct Pet { pub id: i32, pub owner_id: i32 }
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(people::Person)]
#[belongs_to(orm_tests::User)]
#[has_many(crate::pets::Pet, foreign_key = "owner_id")]
pub struct Badge { pub id: i32, pub person_id: i32, pub user_id: i32, pub owner_id: i32 }

mod vis {
    use orm_core::prelude::*;
    #[derive(Model, Debug, Clone, PartialEq)]
    pub(crate) struct Alpha { pub id: i32 }
    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(Alpha)]
    #[belongs_to_many(Alpha, through = "beta_alphas", as = "Friends")]
    #[has_one(inner::Gamma)]
    pub(crate) struct Beta { pub id: i32, pub alpha_id: i32 }
    pub mod inner {
        use orm_core::prelude::*;
        #[derive(Model, Debug, Clone, PartialEq)]
        #[belongs_to(super::Alpha)]
        pub(crate) struct Gamma { pub id: i32, pub alpha_id: i32, pub beta_id: i32, pub delta_id: i32 }
        #[derive(Model, Debug, Clone, PartialEq)]
        #[has_many(Gamma)]
        pub(in crate::vis) struct Delta { pub id: i32 }
    }
}

// Private models on both sides of a generated join table, declared by the
// side whose name sorts last (its copy of the table is the hidden one).
#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Attendee, through = "seats", as = "Audience", singular = "listener")]
struct Talk { id: i32, title: String, a_id: Option<i32> }

#[derive(Model, Debug, Clone, PartialEq)]
struct Attendee { id: i32, name: String }

// A model named like a type parameter of the generated methods, targeted
// under another name.
mod letters {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    pub struct C { pub id: i32, pub owner_id: i32 }
}
use letters::C as Cell;

#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Cell, foreign_key = "owner_id")]
pub struct Owner { pub id: i32 }

// Two models of one name in two modules, and two stamped out by one
// `macro_rules!`: each model's hidden macro has a name of its own.
mod first {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "first_labels")]
    pub struct Label { pub id: i32 }
}
mod second {
    use orm_core::prelude::*;

    #[derive(Model, Debug, Clone, PartialEq)]
    #[model(table = "second_labels")]
    pub struct Label { pub id: i32 }
}
macro_rules! stamp {
    ($module:ident, $table:literal) => {
        mod $module {
            use orm_core::prelude::*;

            #[derive(Model, Debug, Clone, PartialEq)]
            #[model(table = $table)]
            pub struct Mark { pub id: i32 }
        }
    };
}
stamp!(third, "third_marks");
stamp!(fourth, "fourth_marks");

// A model whose table name is a keyword (`as`, the plural of `A`).
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(Talk, foreign_key = "a_id")]
struct A { id: i32 }

fn main() {
    #[derive(Model, Debug, Clone, PartialEq)]
    #[belongs_to(Badge)]
    struct Sticker { id: i32, badge_id: i32 }

    let mut conn = orm_core::sqlite::open(":memory:").unwrap();
    let _ = Sticker { id: 1, badge_id: 1 }.badge(&mut conn);
    let _ = Badge { id: 1, person_id: 1, user_id: 1, owner_id: 1 }.user(&mut conn);

    Schema::new().model::<A>().model::<Talk>().model::<Attendee>().create_all(&mut conn).unwrap();
    let talk = Talk::create(NewTalk { title: "Engines".into(), a_id: None }, &mut conn).unwrap();
    let bob = Attendee::create(NewAttendee { name: "Bob".into() }, &mut conn).unwrap();
    assert_eq!(talk.add_listener(&bob, &mut conn).unwrap(), 1);
    assert_eq!(talk.audience(&mut conn).unwrap(), vec![bob]);
    let rows: Vec<Seat> = seats::table.load(&mut conn).unwrap();
    assert_eq!(rows, vec![Seat { talk_id: talk.id, attendee_id: 1 }]);
    let a = A::create(NewA {}, &mut conn).unwrap();
    a.add_talk(&talk, &mut conn).unwrap();
    assert_eq!(a.count_talks(&mut conn).unwrap(), 1);
    assert_eq!(r#as::table.count().get_result::<i64>(&mut conn).unwrap(), 1);
}
