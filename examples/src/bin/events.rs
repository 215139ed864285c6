//! Events, their guests through `rsvps`, users' posts and profiles, on an
//! in-memory SQLite database. Run with `cargo run -p examples --bin events`.

use orm_core::prelude::*;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
pub struct Event {
    pub id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id")]
#[has_many(Post, foreign_key = "author_id", as = "Posts")]
#[has_one(Profile)]
pub struct User {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(User, foreign_key = "author_id", as = "Author")]
pub struct Post {
    pub id: i32,
    pub author_id: Option<i32>,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to(User)]
pub struct Profile {
    pub id: i32,
    pub user_id: i32,
    pub bio: String,
}

fn main() -> QueryResult<()> {
    let mut conn = orm_core::sqlite::memory().expect("open an in-memory SQLite database");
    let schema = Schema::new()
        .model::<User>()
        .model::<Event>()
        .model::<Post>()
        .model::<Profile>();
    println!("-- the schema, created from the models:");
    for statement in schema.sql(orm_core::Dialect::Sqlite)? {
        println!("{statement};");
    }
    schema.create_all(&mut conn)?;

    let party = Event::create(
        NewEvent {
            title: "Launch party".into(),
        },
        &mut conn,
    )?;
    let ada = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    let grace = User::create(
        NewUser {
            name: "Grace".into(),
        },
        &mut conn,
    )?;
    println!("\ncreated {party:?}, {ada:?}, {grace:?}");

    party.add_guest(&ada, &mut conn)?;
    let again = party.add_guest(&ada, &mut conn)?;
    println!("added Ada as a guest; adding her again inserted {again} row(s)");
    let linus = party.create_guest(
        NewUser {
            name: "Linus".into(),
        },
        &mut conn,
    )?;
    println!("created {linus:?} as a guest in one transaction");
    println!("guests: {:?}", names(&party.guests(&mut conn)?));
    println!("count_guests = {}", party.count_guests(&mut conn)?);
    println!("has_guest(Grace) = {}", party.has_guest(&grace, &mut conn)?);

    let diff = party.set_guests(&[grace.clone(), linus.clone(), grace.clone()], &mut conn)?;
    println!("set_guests([Grace, Linus, Grace]) -> {diff:?}");
    let g: Vec<User> = party
        .guests_query()
        .filter(users::name.like("G%"))
        .order(users::name)
        .load(&mut conn)?;
    println!("guests whose name starts with G: {:?}", names(&g));
    println!(
        "Grace's events: {:?}",
        grace
            .events(&mut conn)?
            .iter()
            .map(|e| &e.title)
            .collect::<Vec<_>>()
    );

    let mut post = Post::create(
        NewPost {
            author_id: None,
            title: "Hello".into(),
        },
        &mut conn,
    )?;
    post.set_author(&ada, &mut conn)?;
    println!(
        "\n{post:?} has author {:?}",
        post.author(&mut conn)?.map(|u| u.name)
    );
    ada.create_post(
        NewPost {
            author_id: None,
            title: "Second".into(),
        },
        &mut conn,
    )?;
    println!(
        "Ada's posts: {:?}",
        ada.posts(&mut conn)?
            .iter()
            .map(|p| &p.title)
            .collect::<Vec<_>>()
    );
    let profile = ada.create_profile(
        NewProfile {
            user_id: 0,
            bio: "Countess".into(),
        },
        &mut conn,
    )?;
    println!(
        "Ada's profile: {:?}; it belongs to {}",
        ada.profile(&mut conn)?,
        profile.user(&mut conn)?.name
    );

    let missing = User {
        id: 999,
        name: "Nobody".into(),
    };
    match party.add_guest(&missing, &mut conn) {
        Err(e) => println!("\nadding a user that does not exist fails: {e}"),
        Ok(n) => println!("\nunexpected: added {n} row(s) for a missing user"),
    }
    Ok(())
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}
