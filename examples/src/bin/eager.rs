//! Eager loading: many parents' associations in a fixed number of statements.
//! Run with `cargo run -p examples --bin eager`.

use orm_core::prelude::*;
use orm_core::QueryLog;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
pub struct Event {
    pub id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id")]
#[has_many(Post, foreign_key = "author_id", as = "Posts")]
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

fn main() -> QueryResult<()> {
    let mut conn = orm_core::sqlite::memory().expect("in-memory SQLite");
    Schema::new()
        .model::<User>()
        .model::<Event>()
        .model::<Post>()
        .create_all(&mut conn)?;
    let users: Vec<User> = (0..6)
        .map(|i| {
            User::create(
                NewUser {
                    name: format!("user{i}"),
                },
                &mut conn,
            )
        })
        .collect::<QueryResult<_>>()?;
    for user in &users[..4] {
        user.create_post(
            NewPost {
                author_id: None,
                title: format!("{}'s post", user.name),
            },
            &mut conn,
        )?;
    }
    let mut events = Vec::new();
    for i in 0..100 {
        let event = Event::create(
            NewEvent {
                title: format!("event{i}"),
            },
            &mut conn,
        )?;
        if i % 2 == 0 {
            event.add_guests(&users[i % 3..i % 3 + 3], &mut conn)?;
        }
        events.push(event);
    }

    let log = QueryLog::attach(&mut conn);
    let guests = Event::load_guests(&events, &mut conn)?;
    println!(
        "guests of {} events in {} statements",
        events.len(),
        log.count()
    );
    let flat: Vec<User> = guests.iter().flatten().cloned().collect();
    let posts = User::load_posts(&flat, &mut conn)?;
    println!(
        "and the posts of their {} guests in {} more",
        flat.len(),
        log.count() - 2
    );
    let mut posts = posts.into_iter();
    for (event, guests) in events.iter().zip(&guests).take(3) {
        println!("{}:", event.title);
        for guest in guests {
            let titles: Vec<String> = posts
                .next()
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.title)
                .collect();
            println!("  {} wrote {:?}", guest.name, titles);
        }
    }
    let all_posts = Post::all(&mut conn)?;
    log.clear();
    let authors = Post::load_authors(&all_posts, &mut conn)?;
    println!(
        "the authors of {} posts in {} statement",
        all_posts.len(),
        log.count()
    );
    for (post, author) in all_posts.iter().zip(authors) {
        println!("  {} by {:?}", post.title, author.map(|a| a.name));
    }

    // A per-parent limit: the latest post of each user, one statement.
    log.clear();
    let latest = User::load_posts_top(&users, 1, posts::id.desc(), &mut conn)?;
    println!("the latest post of each user in {} statement:", log.count());
    for (user, posts) in users.iter().zip(latest) {
        let titles: Vec<String> = posts.into_iter().map(|p| p.title).collect();
        println!("  {}: {:?}", user.name, titles);
    }
    Ok(())
}
