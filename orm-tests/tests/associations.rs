//! Every generated method, on SQLite, PostgreSQL and MySQL/MariaDB, on
//! diesel's connections and on diesel-async's (one body each, see
//! `backend_tests!`), checked against the rows in the tables.

use orm_core::exec::OnBackend;
use orm_core::prelude::*;
use orm_core::{ConnKind, QueryLog};
use orm_tests::pets::{NewPet, Pet};
use orm_tests::*;

/// A model the harness's schema lacks, for `Schema`'s operations.
#[derive(Model, Debug, Clone, PartialEq)]
pub struct Memo {
    pub id: i32,
    pub body: String,
}

/// Creates a user named `$name`.
macro_rules! user {
    ($name:expr, $conn:expr) => {
        r!(User::create(NewUser { name: $name.into() }, $conn))
    };
}

/// The (event_id, guest_id) pairs in `rsvps`, sorted.
macro_rules! rsvps {
    ($conn:expr) => {{
        let mut rows: Vec<Rsvp> = r!(rsvps::table.load($conn))?;
        rows.sort_by_key(|r| (r.event_id, r.guest_id));
        rows.into_iter()
            .map(|r| (r.event_id, r.guest_id))
            .collect::<Vec<_>>()
    }};
}

/// The most keys one `IN (..)` statement takes on this connection's backend.
/// A guest as `nested_includes` loads it: with their posts (each with its
/// author) and their profile.
type GuestTree = (User, (Vec<(Post, Option<User>)>, Option<Profile>));

fn keys_per_statement<C: ConnKind + OnBackend<C::Kind>>(_: &C) -> usize {
    <C::Backend as orm_core::OrmBackend>::MAX_BIND_PARAMS
}

fn dialect<C: ConnKind + OnBackend<C::Kind>>(_: &C) -> orm_core::Dialect {
    <C::Backend as orm_core::OrmBackend>::DIALECT
}

fn ids<M: Model<Id = i32>>(rows: &[M]) -> Vec<i32> {
    let mut ids: Vec<i32> = rows.iter().map(|r| r.id()).collect();
    ids.sort();
    ids
}

backend_tests! {
    // `Schema`'s operations: the check and the diff of the harness's
    // schema are empty; a model the database lacks is reported, created,
    // then matches.
    fn schema_operations(conn) {
        assert_eq!(r!(schema().check(conn))?, vec![]);
        assert!(r!(schema().diff(conn))?.is_empty());
        let memos = Schema::new().model::<Memo>();
        let missing = orm_core::Drift::MissingTable { table: "memos".into() };
        assert_eq!(r!(memos.check(conn))?, vec![missing]);
        let migration = r!(memos.diff(conn))?;
        assert!(migration.up[0].starts_with("CREATE TABLE"), "{:?}", migration.up);
        r!(memos.create_all(conn))?;
        assert_eq!(r!(memos.check(conn))?, vec![]);
        let memo = r!(Memo::create(NewMemo { body: "hi".into() }, conn))?;
        assert_eq!(r!(Memo::all(conn))?, vec![memo]);
        Ok(())
    }

    fn crud_round_trip(conn) {
        let mut ada = user!("Ada", conn)?;
        assert_eq!(r!(User::find(ada.id, conn))?, ada);
        ada.name = "Ada Lovelace".into();
        r!(ada.save(conn))?;
        assert_eq!(r!(User::find(ada.id, conn))?.name, "Ada Lovelace");
        user!("Grace", conn)?;
        assert_eq!(r!(User::count(conn))?, 2);
        assert_eq!(r!(User::all(conn))?.len(), 2);
        let found: Vec<User> = r!(User::query().filter(users::name.like("Gr%")).load(conn))?;
        assert_eq!(found.len(), 1);
        r!(ada.delete(conn))?;
        assert_eq!(r!(User::find(ada.id, conn)), Err(orm_core::diesel::result::Error::NotFound));
        assert_eq!(r!(ada.delete(conn)), Err(orm_core::diesel::result::Error::NotFound));
        assert_eq!(r!(ada.save(conn)), Err(orm_core::diesel::result::Error::NotFound));
        Ok(())
    }

    fn events_and_guests_through_rsvps(conn) {
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        let (ada, grace, linus) = (user!("Ada", conn)?, user!("Grace", conn)?, user!("Linus", conn)?);

        assert_eq!(r!(party.add_guest(&ada, conn))?, 1);
        assert_eq!(r!(party.add_guest(&ada, conn))?, 0, "adding again adds no row");
        assert_eq!(rsvps!(conn), vec![(party.id, ada.id)]);
        assert_eq!(r!(party.add_guests(&[ada.clone(), grace.clone(), grace.clone()], conn))?, 1);
        assert_eq!(rsvps!(conn), vec![(party.id, ada.id), (party.id, grace.id)]);

        assert_eq!(ids(&r!(party.guests(conn))?), vec![ada.id, grace.id]);
        assert_eq!(r!(party.count_guests(conn))?, 2);
        assert!(r!(party.has_guest(&ada, conn))?);
        assert!(!r!(party.has_guest(&linus, conn))?);
        assert!(r!(party.has_guests(&[ada.clone(), grace.clone()], conn))?);
        assert!(!r!(party.has_guests(&[ada.clone(), linus.clone()], conn))?);
        assert!(r!(party.has_guests(&[], conn))?);
        assert_eq!(ids(&r!(grace.events(conn))?), vec![party.id], "the other side sees the same rows");

        let named: Vec<String> = r!(party
            .guests_query()
            .filter(users::name.ne("Ada"))
            .order(users::name.desc())
            .select(users::name)
            .load(conn))?;
        assert_eq!(named, vec!["Grace".to_string()]);

        assert_eq!(r!(party.remove_guest(&ada, conn))?, 1);
        assert_eq!(r!(party.remove_guest(&ada, conn))?, 0);
        assert_eq!(rsvps!(conn), vec![(party.id, grace.id)]);
        assert_eq!(r!(User::count(conn))?, 3, "removing keeps the users");

        let diff = r!(party.set_guests(&[linus.clone(), ada.clone(), linus.clone()], conn))?;
        assert_eq!(diff, SetDiff { added: 2, removed: 1 });
        assert_eq!(rsvps!(conn), vec![(party.id, ada.id), (party.id, linus.id)]);
        assert_eq!(r!(party.set_guests(&[ada.clone(), linus.clone()], conn))?, SetDiff::default());

        assert_eq!(r!(party.remove_guests(&[ada.clone(), linus.clone(), grace.clone()], conn))?, 2);
        assert_eq!(rsvps!(conn), vec![]);

        let newcomer = r!(party.create_guest(NewUser { name: "Barbara".into() }, conn))?;
        assert_eq!(r!(User::find(newcomer.id, conn))?, newcomer);
        assert_eq!(rsvps!(conn), vec![(party.id, newcomer.id)]);
        r!(party.add_guest(&ada, conn))?;
        assert_eq!(r!(party.clear_guests(conn))?, 2);
        assert_eq!(rsvps!(conn), vec![]);
        Ok(())
    }

    fn missing_rows_are_errors_without_partial_writes(conn) {
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        let ada = user!("Ada", conn)?;
        let ghost = User { id: 9999, name: "Ghost".into() };
        // What only a foreign key refuses (see `orm_tests::foreign_keys`).
        if foreign_keys() {
            assert!(r!(party.add_guest(&ghost, conn)).is_err(), "foreign keys are enforced");
            assert!(r!(party.add_guests(&[ada.clone(), ghost.clone()], conn)).is_err());
            assert!(r!(party.set_guests(&[ada.clone(), ghost.clone()], conn)).is_err());
            assert_eq!(rsvps!(conn), vec![], "a failed add or set leaves no row");
        }

        r!(party.clear_guests(conn))?;
        r!(party.add_guest(&ada, conn))?;
        r!(party.delete(conn))?;
        if !foreign_keys() {
            // Nothing cascades: the event's join row is left behind.
            assert_eq!(rsvps!(conn), vec![(party.id, ada.id)]);
            return Ok(());
        }
        assert_eq!(rsvps!(conn), vec![], "join rows cascade with their event");
        assert!(r!(party.add_guest(&ada, conn)).is_err(), "the parent is gone");
        assert!(r!(party.remove_guest(&ada, conn)).is_err());
        assert!(r!(party.clear_guests(conn)).is_err());
        assert!(r!(party.set_guests(&[], conn)).is_err());
        assert!(r!(party.create_guest(NewUser { name: "X".into() }, conn)).is_err());
        assert_eq!(r!(User::count(conn))?, 1, "create_guest rolled back its user");
        Ok(())
    }

    fn users_and_groups_both_sides(conn) {
        let admins = r!(Group::create(NewGroup { name: "admins".into() }, conn))?;
        let (u1, u2) = (user!("u1", conn)?, user!("u2", conn)?);
        assert_eq!(r!(admins.set_users(&[u1.clone(), u2.clone()], conn))?, SetDiff { added: 2, removed: 0 });
        assert!(!r!(admins.has_users(&[u1.clone(), user!("u3", conn)?], conn))?);
        assert!(r!(admins.has_users(&[u1.clone(), u2.clone()], conn))?);
        assert_eq!(r!(admins.set_users(std::slice::from_ref(&u2), conn))?, SetDiff { added: 0, removed: 1 });
        assert_eq!(ids(&r!(u2.groups(conn))?), vec![admins.id]);
        assert!(r!(u1.groups(conn))?.is_empty());
        r!(u1.add_group(&admins, conn))?;
        let mut rows: Vec<GroupUser> = r!(group_users::table.load(conn))?;
        rows.sort_by_key(|r| r.user_id);
        assert_eq!(rows, vec![GroupUser { group_id: admins.id, user_id: u1.id }, GroupUser { group_id: admins.id, user_id: u2.id }]);
        assert_eq!(r!(admins.set_users(&[], conn))?, SetDiff { added: 0, removed: 2 });
        assert_eq!(r!(group_users::table.count().get_result::<i64>(conn))?, 0);
        Ok(())
    }

    fn projects_have_many_tasks(conn) {
        let p = r!(Project::create(NewProject { name: "orm".into() }, conn))?;
        let other = r!(Project::create(NewProject { name: "other".into() }, conn))?;
        let t1 = r!(p.create_task(NewTask { project_id: None, title: "derive".into() }, conn))?;
        assert_eq!(t1.project_id, Some(p.id), "create_task points the key at the project");
        let t2 = r!(Task::create(NewTask { project_id: None, title: "docs".into() }, conn))?;
        let t3 = r!(Task::create(NewTask { project_id: Some(other.id), title: "bench".into() }, conn))?;

        assert_eq!(r!(p.add_task(&t2, conn))?, 1);
        assert_eq!(ids(&r!(p.tasks(conn))?), vec![t1.id, t2.id]);
        assert_eq!(r!(p.count_tasks(conn))?, 2);
        assert!(r!(p.has_task(&t1, conn))?);
        assert!(!r!(p.has_task(&t3, conn))?);
        assert!(r!(p.has_tasks(&[t1.clone(), t2.clone()], conn))?);
        assert!(!r!(p.has_tasks(&[t1.clone(), t3.clone()], conn))?);
        let titles: Vec<String> = r!(p.tasks_query().order(tasks::title).select(tasks::title).load(conn))?;
        assert_eq!(titles, vec!["derive".to_string(), "docs".to_string()]);

        assert_eq!(r!(p.add_tasks(std::slice::from_ref(&t3), conn))?, 1, "a task moves from its old project");
        assert!(r!(other.tasks(conn))?.is_empty());
        assert_eq!(r!(p.remove_task(&t1, conn))?, 1);
        assert_eq!(r!(Task::find(t1.id, conn))?.project_id, None, "removing nulls the key and keeps the row");
        assert_eq!(r!(p.remove_tasks(&[t2.clone(), t1.clone()], conn))?, 1);

        let diff = r!(p.set_tasks(&[t1.clone(), t3.clone(), t1.clone()], conn))?;
        assert_eq!(diff, SetDiff { added: 1, removed: 0 });
        let keys: Vec<(i32, Option<i32>)> = r!(tasks::table.select((tasks::id, tasks::project_id)).order(tasks::id).load(conn))?;
        assert_eq!(keys, vec![(t1.id, Some(p.id)), (t2.id, None), (t3.id, Some(p.id))]);

        let ghost = Task { id: 999, project_id: None, title: "ghost".into() };
        assert!(r!(p.add_tasks(&[t2.clone(), ghost.clone()], conn)).is_err());
        assert_eq!(r!(Task::find(t2.id, conn))?.project_id, None, "a failed add changes nothing");
        assert!(r!(p.set_tasks(&[ghost], conn)).is_err());
        assert_eq!(r!(p.count_tasks(conn))?, 2, "a failed set changes nothing");
        assert_eq!(r!(p.set_tasks(std::slice::from_ref(&t2), conn))?, SetDiff { added: 1, removed: 2 });
        assert_eq!(r!(p.tasks(conn))?, vec![r!(Task::find(t2.id, conn))?]);
        assert_eq!(r!(p.set_tasks(&[], conn))?, SetDiff { added: 0, removed: 1 });
        assert_eq!(r!(Task::find(t2.id, conn))?.project_id, None, "set to none detaches and keeps the row");
        assert_eq!(r!(p.set_tasks(&[t1.clone(), t3.clone()], conn))?, SetDiff { added: 2, removed: 0 });

        assert_eq!(r!(p.clear_tasks(conn))?, 2);
        assert_eq!(r!(Task::count(conn))?, 3);
        assert_eq!(r!(p.count_tasks(conn))?, 0);

        // belongs_to from the task's side
        let mut t2 = r!(Task::find(t2.id, conn))?;
        assert_eq!(r!(t2.project(conn))?, None);
        r!(t2.set_project(&other, conn))?;
        assert_eq!(t2.project_id, Some(other.id), "the struct is updated");
        assert_eq!(r!(Task::find(t2.id, conn))?.project_id, Some(other.id), "and the row");
        assert_eq!(r!(t2.project(conn))?, Some(other.clone()));
        let created = r!(t2.create_project(NewProject { name: "new".into() }, conn))?;
        assert_eq!(r!(Task::find(t2.id, conn))?.project_id, Some(created.id));
        r!(t2.unset_project(conn))?;
        assert_eq!(t2.project_id, None, "unset clears the struct");
        assert_eq!(r!(Task::find(t2.id, conn))?.project_id, None, "and the row");
        assert_eq!(r!(Project::count(conn))?, 3, "and keeps the project");
        Ok(())
    }

    fn posts_profiles_and_authors(conn) {
        let ada = user!("Ada", conn)?;
        let grace = user!("Grace", conn)?;
        let mut post = r!(Post::create(NewPost { author_id: None, title: "Hello".into() }, conn))?;
        assert_eq!(r!(post.author(conn))?, None);
        r!(post.set_author(&ada, conn))?;
        assert_eq!(r!(post.author(conn))?, Some(ada.clone()));
        assert_eq!(ids(&r!(ada.posts(conn))?), vec![post.id]);
        let author = r!(post.create_author(NewUser { name: "Linus".into() }, conn))?;
        assert_eq!(r!(Post::find(post.id, conn))?.author_id, Some(author.id));
        let ghost = User { id: 999, name: "ghost".into() };
        if foreign_keys() {
            assert!(r!(post.set_author(&ghost, conn)).is_err());
            assert_eq!(post.author_id, Some(author.id), "a failed set leaves the struct alone");
        }

        // `create_*` takes a closure that builds the row from its key, so no
        // placeholder key is made up; or a `New*`, whose key it overwrites.
        let built = r!(grace.create_post(|author_id| NewPost { author_id, title: "Built".into() }, conn))?;
        assert_eq!(built.author_id, Some(grace.id));
        let overwritten = r!(grace.create_post(NewPost { author_id: Some(ada.id), title: "Mine".into() }, conn))?;
        assert_eq!(overwritten.author_id, Some(grace.id));
        let ignored = r!(grace.create_post(|_| NewPost { author_id: None, title: "Stray".into() }, conn))?;
        assert_eq!(ignored.author_id, Some(grace.id), "a closure that drops the key cannot detach the row");
        assert_eq!(r!(grace.count_posts(conn))?, 3);

        // has_one with a NOT NULL key: the profile cannot be detached.
        assert_eq!(r!(ada.profile(conn))?, None);
        let profile = r!(ada.create_profile(|user_id| NewProfile { user_id, bio: "first".into() }, conn))?;
        assert_eq!(profile.user_id, ada.id);
        assert_eq!(r!(ada.profile(conn))?, Some(profile.clone()));
        assert_eq!(r!(profile.user(conn))?, ada, "belongs_to with a NOT NULL key returns the row");
        let second = r!(Profile::create(NewProfile { user_id: grace.id, bio: "second".into() }, conn))?;
        let err = r!(ada.set_profile(&second, conn)).unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        assert_eq!(r!(Profile::find(second.id, conn))?.user_id, grace.id, "nothing changed");
        assert!(r!(ada.create_profile(NewProfile { user_id: 0, bio: "third".into() }, conn)).is_err());
        assert_eq!(r!(Profile::count(conn))?, 2, "the failed create rolled back");
        r!(grace.set_profile(&second, conn))?;
        assert_eq!(r!(grace.profile(conn))?, Some(second));
        Ok(())
    }

    fn person_has_one_person_as_father(conn) {
        let luke = r!(Person::create(NewPerson { name: "Luke".into(), father_id: None }, conn))?;
        let anakin = r!(Person::create(NewPerson { name: "Anakin".into(), father_id: None }, conn))?;
        let other = r!(Person::create(NewPerson { name: "Other".into(), father_id: None }, conn))?;
        // Sequelize's hasOne puts `father_id` on the target: setting Anakin as
        // Luke's "Father" writes Luke's id into Anakin's row.
        r!(luke.set_father(&anakin, conn))?;
        assert_eq!(r!(Person::find(anakin.id, conn))?.father_id, Some(luke.id));
        assert_eq!(r!(luke.father(conn))?.map(|p| p.name), Some("Anakin".to_string()));
        r!(luke.set_father(&other, conn))?;
        assert_eq!(r!(Person::find(anakin.id, conn))?.father_id, None, "the previous one is detached");
        assert_eq!(r!(luke.father(conn))?.map(|p| p.id), Some(other.id));
        let other = r!(Person::find(other.id, conn))?;
        assert_eq!(r!(other.parent(conn))?.map(|p| p.id), Some(luke.id), "belongs_to reads the same key");
        let created = r!(luke.create_father(NewPerson { name: "New".into(), father_id: None }, conn))?;
        assert_eq!(created.father_id, Some(luke.id));
        assert_eq!(r!(Person::find(other.id, conn))?.father_id, None);

        // `unset_*` lets go of the row (Sequelize's `setFather(null)`).
        assert!(r!(luke.unset_father(conn))?);
        assert_eq!(r!(Person::find(created.id, conn))?.father_id, None, "the row stays, detached");
        assert_eq!(r!(luke.father(conn))?, None);
        assert!(!r!(luke.unset_father(conn))?, "nothing left to detach");
        let gone = Person { id: -1, name: "gone".into(), father_id: None };
        assert!(matches!(r!(gone.unset_father(conn)), Err(orm_core::diesel::result::Error::NotFound)));

        // The key column is UNIQUE: a second row pointing at Luke, written
        // behind the methods' back, is refused by the database.
        r!(luke.set_father(&anakin, conn))?;
        let second = r!(orm_core::diesel::update(people::table.find(other.id))
            .set(people::father_id.eq(luke.id))
            .execute(conn));
        assert!(second.is_err(), "{second:?}");
        assert_eq!(r!(luke.father(conn))?.map(|p| p.id), Some(anakin.id));
        Ok(())
    }

    fn friends_are_a_self_reference(conn) {
        let (a, b, c) = (user!("a", conn)?, user!("b", conn)?, user!("c", conn)?);
        r!(a.add_friends(&[b.clone(), c.clone()], conn))?;
        let rows: Vec<(i32, i32)> = r!(friendships::table
            .select((friendships::friend_id, friendships::user_id))
            .order(friendships::friend_id)
            .load(conn))?;
        assert_eq!(rows, vec![(b.id, a.id), (c.id, a.id)], "user_id is the owner, friend_id the friend");
        assert_eq!(ids(&r!(a.friends(conn))?), vec![b.id, c.id]);
        assert!(r!(b.friends(conn))?.is_empty(), "one-directional unless both are added");
        assert_eq!(r!(a.count_friends(conn))?, 2);
        Ok(())
    }

    fn symmetric_self_reference_stores_both_directions(conn) {
        let (a, b, c) = (user!("a", conn)?, user!("b", conn)?, user!("c", conn)?);
        assert_eq!(r!(a.add_buddy(&b, conn))?, 1);
        assert_eq!(buddyship_rows!(conn)?, vec![(a.id, b.id), (b.id, a.id)]);
        assert_eq!(ids(&r!(b.buddies(conn))?), vec![a.id], "b sees a without a second add");
        assert_eq!(r!(b.add_buddy(&a, conn))?, 0, "already buddies from either side");
        assert_eq!(r!(a.add_buddies(&[b.clone(), c.clone()], conn))?, 1);
        assert_eq!(r!(c.count_buddies(conn))?, 1);
        assert!(r!(c.has_buddy(&a, conn))?);

        assert_eq!(r!(b.remove_buddy(&a, conn))?, 1, "removing from the other side");
        assert_eq!(buddyship_rows!(conn)?, vec![(a.id, c.id), (c.id, a.id)]);
        assert_eq!(r!(a.set_buddies(std::slice::from_ref(&b), conn))?, SetDiff { added: 1, removed: 1 });
        assert_eq!(buddyship_rows!(conn)?, vec![(a.id, b.id), (b.id, a.id)]);
        assert!(r!(c.buddies(conn))?.is_empty());

        r!(c.add_buddy(&b, conn))?;
        assert_eq!(r!(b.clear_buddies(conn))?, 2);
        assert_eq!(buddyship_rows!(conn)?, vec![], "clearing removes the mirrored rows too");
        Ok(())
    }

    fn followers_and_follows_share_one_table(conn) {
        let (star, fan1, fan2) = (user!("star", conn)?, user!("fan1", conn)?, user!("fan2", conn)?);
        r!(star.add_followers(&[fan1.clone(), fan2.clone()], conn))?;
        assert_eq!(ids(&r!(star.followers(conn))?), vec![fan1.id, fan2.id]);
        assert_eq!(ids(&r!(fan1.follows(conn))?), vec![star.id], "the reverse side reads the same rows");
        r!(fan2.remove_follow(&star, conn))?;
        assert_eq!(ids(&r!(star.followers(conn))?), vec![fan1.id]);
        let rows: Vec<Follow> = r!(follows::table.load(conn))?;
        assert_eq!(rows, vec![Follow { follow_id: star.id, follower_id: fan1.id }]);
        Ok(())
    }

    fn users_and_pets_from_two_modules(conn) {
        let owner = user!("owner", conn)?;
        let fido = r!(Pet::create(NewPet { name: "fido".into(), breed: "labrador".into() }, conn))?;
        r!(owner.add_pet(&fido, conn))?;
        let rex = r!(owner.create_pet(NewPet { name: "rex".into(), breed: "mutt".into() }, conn))?;
        assert_eq!(ids(&r!(owner.pets(conn))?), vec![fido.id, rex.id]);
        assert_eq!(ids(&r!(fido.owners(conn))?), vec![owner.id]);
        assert_eq!(r!(orm_tests::pets::pet_owners::table.count().get_result::<i64>(conn))?, 2);
        Ok(())
    }

    fn typed_keys_stand_for_rows(conn) {
        // Waterline's `user.pets.add(20)`: add by key, several at once, remove by key.
        let owner = user!("owner", conn)?;
        let (p1, p2, p3) = (
            r!(Pet::create(NewPet { name: "p1".into(), breed: "x".into() }, conn))?,
            r!(Pet::create(NewPet { name: "p2".into(), breed: "x".into() }, conn))?,
            r!(Pet::create(NewPet { name: "p3".into(), breed: "x".into() }, conn))?,
        );
        assert_eq!(r!(owner.add_pet(Pet::key(p1.id), conn))?, 1);
        assert_eq!(r!(owner.add_pets(vec![p2.key(), p3.key()], conn))?, 2);
        let k2 = Pet::key(p2.id);
        #[allow(clippy::needless_borrows_for_generic_args)] // `&Key` is the point
        let by_reference = r!(owner.has_pet(&k2, conn))?;
        assert!(by_reference, "a key by reference");
        assert!(r!(owner.has_pet(k2, conn))?, "and by value");
        assert!(r!(owner.has_pets(&[p1.key(), p3.key()][..], conn))?);
        assert_eq!(r!(owner.remove_pet(p1.key(), conn))?, 1);
        let keep = vec![p1.key()];
        assert_eq!(r!(owner.set_pets(&keep, conn))?, SetDiff { added: 1, removed: 2 });
        assert!(r!(owner.has_pets(keep, conn))?);
        assert_eq!(ids(&r!(owner.pets(conn))?), vec![p1.id]);
        if foreign_keys() {
            assert!(r!(owner.add_pet(Pet::key(999), conn)).is_err(), "a key of no row is an error");
        }
        assert_eq!(format!("{:?}", Pet::key(7)), "Key<Pet>(7)");

        let mut post = r!(Post::create(NewPost { author_id: None, title: "t".into() }, conn))?;
        r!(post.set_author(owner.key(), conn))?;
        assert_eq!(post.author_id, Some(owner.id));
        let project = r!(Project::create(NewProject { name: "p".into() }, conn))?;
        let task = r!(Task::create(NewTask { project_id: None, title: "t".into() }, conn))?;
        r!(project.add_task(Task::key(task.id), conn))?;
        assert!(r!(project.has_task(task.key(), conn))?);
        Ok(())
    }

    fn staged_changes_apply_at_once(conn) {
        // Waterline's user.pets.add(..)/remove(..) then save, but typed and atomic.
        let owner = user!("owner", conn)?;
        let (p1, p2, p3) = (
            r!(Pet::create(NewPet { name: "p1".into(), breed: "x".into() }, conn))?,
            r!(Pet::create(NewPet { name: "p2".into(), breed: "x".into() }, conn))?,
            r!(Pet::create(NewPet { name: "p3".into(), breed: "x".into() }, conn))?,
        );
        r!(owner.add_pets(&[p1.clone(), p2.clone()], conn))?;

        let mut changes = owner.pets_changes();
        changes
            .add(&p3)
            .add(Pet::key(p3.id))
            .remove(&p1)
            .add(&p2)
            .remove(&p2)
            .add_new(NewPet { name: "fido".into(), breed: "labrador".into() });
        let pending = changes.pending();
        assert_eq!(pending.add, vec![p3.key()], "duplicates once; add then remove cancels");
        assert_eq!(pending.remove, vec![p1.key()]);
        assert_eq!(pending.create, 1);
        assert_eq!(r!(Pet::count(conn))?, 3, "nothing is written before save");

        let log = QueryLog::attach(conn);
        let diff = r!(changes.save(conn))?;
        assert_eq!(diff, SetDiff { added: 2, removed: 1 });
        let small = log.count();
        let names: Vec<String> = r!(owner.pets_query().order(pets::pets::name).select(pets::pets::name).load(conn))?;
        assert_eq!(names, vec!["fido", "p2", "p3"], "p2 stays: its add and remove cancelled");

        // The statement count does not grow with the number of changes.
        let mut many = owner.pets_changes();
        for i in 0..50 {
            many.add_new(NewPet { name: format!("n{i}"), breed: "x".into() });
        }
        many.remove(&p3).add(&p1);
        log.clear();
        assert_eq!(r!(many.save(conn))?, SetDiff { added: 51, removed: 1 });
        if dialect(conn) != orm_core::Dialect::Mysql {
            assert_eq!(log.count(), small, "{:?}", log.statements());
        } else {
            // No RETURNING on MySQL: each new pet is an INSERT and a read.
            assert_eq!(log.count(), small + (50 - 1) * 3, "{:?}", log.statements());
        }

        // A failure rolls back everything, the new rows included.
        let before = (r!(Pet::count(conn))?, r!(owner.count_pets(conn))?);
        let mut bad = owner.pets_changes();
        bad.add_new(NewPet { name: "ghost owner".into(), breed: "x".into() })
            .remove(&p1)
            .add(Pet::key(9999));
        if foreign_keys() {
            assert!(r!(bad.save(conn)).is_err());
            assert_eq!((r!(Pet::count(conn))?, r!(owner.count_pets(conn))?), before);
        }
        Ok(())
    }

    fn composite_primary_key_model(conn) {
        let chess = r!(Club::create(NewClub { name: "chess".into() }, conn))?;
        let ada = user!("Ada", conn)?;
        let mut m = r!(Membership::create(
            NewMembership { club_id: chess.id, user_id: ada.id, role: "member".into(), invited_by: None },
            conn,
        ))?;
        assert_eq!(r!(Membership::find((chess.id, ada.id), conn))?, m);
        assert_eq!(m.key(), Membership::key((chess.id, ada.id)));
        m.role = "admin".into();
        r!(m.save(conn))?;
        let roles: Vec<String> = r!(memberships::table.select(memberships::role).load(conn))?;
        assert_eq!(roles, vec!["admin"], "save updates the payload by the composite key");
        assert_eq!((r!(m.club(conn))?, r!(m.user(conn))?), (chess.clone(), ada.clone()));
        let twice = NewMembership { club_id: chess.id, user_id: ada.id, role: "again".into(), invited_by: None };
        assert!(r!(Membership::create(twice, conn)).is_err(), "the pair is the primary key");
        assert_eq!(r!(Membership::load_users(std::slice::from_ref(&m), conn))?, vec![ada.clone()]);
        r!(ada.delete(conn))?;
        if foreign_keys() {
            assert_eq!(r!(Membership::count(conn))?, 0, "NOT NULL keys cascade");
            assert_eq!(r!(m.delete(conn)), Err(orm_core::diesel::result::Error::NotFound));
        }
        Ok(())
    }

    fn through_model_payload_writes(conn) {
        let chess = r!(Club::create(NewClub { name: "chess".into() }, conn))?;
        let (ada, bob) = (user!("Ada", conn)?, user!("Bob", conn)?);
        let (cy, dan) = (user!("Cy", conn)?, user!("Dan", conn)?);
        // The role `$u` has in the chess club.
        macro_rules! role {
            ($u:expr, $conn:expr) => {
                r!(Membership::find((chess.id, $u.id), $conn)).map(|m| m.role)
            };
        }
        let admin = MembershipPayload { role: "admin".into(), invited_by: None };

        // Adding with a payload writes it; adding the pair again with a new
        // payload updates that row (Sequelize: add twice, new status).
        assert_eq!(r!(chess.add_member_with(&ada, admin.clone(), conn))?, 1);
        assert_eq!(role!(&ada, conn)?, "admin");
        let owner = MembershipPayload { role: "owner".into(), invited_by: Some(bob.id) };
        r!(chess.add_member_with(ada.key(), owner.clone(), conn))?;
        assert_eq!(r!(Membership::find((chess.id, ada.id), conn))?.invited_by, Some(bob.id));
        assert_eq!((role!(&ada, conn)?, r!(chess.count_members(conn))?), ("owner".into(), 1));

        // Plain add inserts the default payload and leaves existing rows alone.
        assert_eq!(r!(chess.add_members(&[ada.clone(), dan.clone()], conn))?, 1);
        assert_eq!((role!(&ada, conn)?, role!(&dan, conn)?), ("owner".into(), "member".into()));

        // Many at once, one statement.
        let log = QueryLog::attach(conn);
        assert_eq!(r!(chess.add_members_with(&[bob.clone(), cy.clone()], admin.clone(), conn))?, 2);
        assert_eq!(log.count(), 1, "{:?}", log.statements());
        assert_eq!((role!(&bob, conn)?, role!(&cy, conn)?), ("admin".into(), "admin".into()));

        // set with a default payload and per-target overrides: dan goes, ada
        // and bob get the default, cy its override; 6 statements.
        log.clear();
        let guest = MembershipPayload { role: "guest".into(), invited_by: None };
        let diff = r!(chess.set_members_with(
            &[ada.clone(), bob.clone()],
            guest,
            &[(cy.key(), MembershipPayload { role: "treasurer".into(), invited_by: Some(ada.id) })],
            conn,
        ))?;
        assert_eq!(diff, SetDiff { added: 0, removed: 1 });
        // An upsert writes every row: read the keys, delete, upsert; a lock
        // statement on PostgreSQL and MySQL.
        let set_with = if dialect(conn) == orm_core::Dialect::Sqlite { 5 } else { 6 };
        assert_eq!(log.count(), set_with, "{:?}", log.statements());
        let mut rows: Vec<Membership> = r!(memberships::table.order(memberships::user_id).load(conn))?;
        rows.iter_mut().for_each(|m| assert_eq!(m.club_id, chess.id));
        let roles: Vec<(i32, &str)> = rows.iter().map(|m| (m.user_id, m.role.as_str())).collect();
        assert_eq!(roles, vec![(ada.id, "guest"), (bob.id, "guest"), (cy.id, "treasurer")]);

        // Plain set keeps the payload of kept rows and defaults new ones.
        assert_eq!(r!(chess.set_members(&[cy.clone(), dan.clone()], conn))?, SetDiff { added: 1, removed: 2 });
        assert_eq!((role!(&cy, conn)?, role!(&dan, conn)?), ("treasurer".into(), "member".into()));

        // create with a payload.
        let eve = r!(chess.create_member_with(NewUser { name: "Eve".into() }, admin.clone(), conn))?;
        assert_eq!(role!(&eve, conn)?, "admin");
        assert!(r!(eve.clubs(conn))? == vec![chess.clone()], "the other side reads the same rows");

        // Reads, removals and staged changes work as on any join table;
        // staged additions insert the default payload.
        assert!(r!(chess.has_member(&eve, conn))? && r!(chess.has_members(&[cy.clone(), dan.clone()], conn))?);
        assert_eq!(r!(chess.remove_member(&eve, conn))?, 1);
        let mut changes = chess.members_changes();
        changes.add(&eve).remove(&dan);
        assert_eq!(r!(changes.save(conn))?, SetDiff { added: 1, removed: 1 });
        assert_eq!(role!(&eve, conn)?, "member");
        assert_eq!(ids(&r!(chess.members(conn))?), vec![cy.id, eve.id]);

        // Bad input is an Err and writes nothing.
        let before = r!(Membership::count(conn))?;
        if foreign_keys() {
            assert!(r!(chess.add_member_with(User::key(9999), admin.clone(), conn)).is_err());
            assert!(r!(chess.add_members_with(vec![ada.key(), User::key(9999)], admin.clone(), conn)).is_err());
        }
        let gone = r!(Club::create(NewClub { name: "gone".into() }, conn))?;
        r!(gone.delete(conn))?;
        if foreign_keys() {
            assert!(r!(gone.add_member_with(&ada, admin.clone(), conn)).is_err());
            assert!(r!(gone.set_members_with(vec![ada.key()], admin, &[], conn)).is_err());
        }
        assert_eq!(r!(Membership::count(conn))?, before);
        Ok(())
    }

    fn through_model_reads(conn) {
        let chess = r!(Club::create(NewClub { name: "chess".into() }, conn))?;
        let go = r!(Club::create(NewClub { name: "go".into() }, conn))?;
        let (ada, bob, cy) = (user!("Ada", conn)?, user!("Bob", conn)?, user!("Cy", conn)?);
        let payload = |role: &str| MembershipPayload { role: role.into(), invited_by: None };
        r!(chess.add_member_with(&ada, payload("admin"), conn))?;
        r!(chess.add_member_with(&bob, payload("member"), conn))?;
        r!(chess.add_member_with(&cy, payload("member"), conn))?;
        r!(go.add_member_with(&ada, payload("member"), conn))?;

        // The targets with their join rows, in one statement.
        let log = QueryLog::attach(conn);
        let mut both = r!(chess.members_with_through(conn))?;
        assert_eq!(log.count(), 1);
        both.sort_by_key(|(u, _)| u.id);
        let summary: Vec<(&str, &str)> =
            both.iter().map(|(u, m)| (u.name.as_str(), m.role.as_str())).collect();
        assert_eq!(summary, vec![("Ada", "admin"), ("Bob", "member"), ("Cy", "member")]);
        assert!(both.iter().all(|(u, m)| m.user_id == u.id && m.club_id == chess.id));

        // Filtered and ordered on join columns and on target columns.
        let members: Vec<(User, Membership)> = r!(chess
            .members_through()
            .filter(memberships::role.eq("member"))
            .order(users::name.desc())
            .load(conn))?;
        let names: Vec<&str> = members.iter().map(|(u, _)| u.name.as_str()).collect();
        assert_eq!(names, vec!["Cy", "Bob"]);
        let first: Vec<(User, Membership)> = r!(chess
            .members_through()
            .filter(users::name.ne("Cy"))
            .order(memberships::role.asc())
            .limit(1)
            .load(conn))?;
        assert_eq!(first[0].0, ada);

        // Narrowed to chosen join columns (joinTableAttributes).
        let roles: Vec<(User, (String,))> = r!(chess
            .members_through()
            .select_through((memberships::role,))
            .order(users::name.asc())
            .load(conn))?;
        assert_eq!(roles[0], (ada.clone(), ("admin".to_string(),)));

        // Counting with a join-column filter.
        let count: i64 = r!(chess
            .members_through()
            .filter(memberships::role.eq("member"))
            .count()
            .get_result(conn))?;
        assert_eq!(count, 2);

        // The join row is a model: save it and the association sees it.
        let (_, mut row) = both.remove(1);
        row.role = "captain".into();
        r!(row.save(conn))?;
        let captains: i64 = r!(chess
            .members_through()
            .filter(memberships::role.eq("captain"))
            .count()
            .get_result(conn))?;
        assert_eq!(captains, 1);

        // Eager: every club's members with payload, one statement.
        let empty = r!(Club::create(NewClub { name: "empty".into() }, conn))?;
        let clubs = vec![chess.clone(), empty, go.clone()];
        log.clear();
        let loaded = r!(Club::load_members_with_through(&clubs, conn))?;
        assert_eq!(log.count(), 1, "{:?}", log.statements());
        let counts: Vec<usize> = loaded.iter().map(Vec::len).collect();
        assert_eq!(counts, vec![3, 0, 1]);
        assert_eq!(loaded[2], vec![(ada.clone(), r!(Membership::find((go.id, ada.id), conn))?)]);
        let members = r!(Club::load_members_with_through_where(
            &clubs,
            |q| q.filter(memberships::role.eq("member")).order(users::name.asc()),
            conn,
        ))?;
        let names: Vec<Vec<&str>> =
            members.iter().map(|ms| ms.iter().map(|(u, _)| u.name.as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["Cy"], vec![], vec!["Ada"]]);
        Ok(())
    }

    fn timestamps_are_set_by_create_and_save(conn) {
        let before = orm_core::__private::now();
        let mut article = r!(Article::create(NewArticle { title: "draft".into() }, conn))?;
        let created = article.created_at;
        assert!(created >= before && created <= orm_core::__private::now());
        assert_eq!(article.updated_at, created, "create sets both to the same time");
        assert_eq!(r!(Article::find(article.id, conn))?, article, "the stored times read back equal");

        std::thread::sleep(std::time::Duration::from_millis(5));
        article.title = "final".into();
        r!(article.save(conn))?;
        assert!(article.updated_at > created, "save moves updated_at");
        assert_eq!(article.created_at, created, "and leaves created_at");
        assert_eq!(r!(Article::find(article.id, conn))?, article);

        // A failed save leaves the struct as it was.
        let stale = article.updated_at;
        r!(article.clone().delete(conn))?;
        assert!(r!(article.save(conn)).is_err());
        assert_eq!(article.updated_at, stale);
        Ok(())
    }

    fn join_rows_carry_timestamps(conn) {
        // A join model with timestamps: inserting sets both, writing the
        // payload again moves updated_at only.
        let chess = r!(Club::create(NewClub { name: "chess".into() }, conn))?;
        let ada = user!("Ada", conn)?;
        let payload = |role: &str| MembershipPayload { role: role.into(), invited_by: None };
        let before = orm_core::__private::now();
        r!(chess.add_member_with(&ada, payload("member"), conn))?;
        let first = r!(Membership::find((chess.id, ada.id), conn))?;
        assert!(first.created_at >= before && first.created_at == first.updated_at);
        std::thread::sleep(std::time::Duration::from_millis(5));
        r!(chess.add_member_with(&ada, payload("admin"), conn))?;
        let second = r!(Membership::find((chess.id, ada.id), conn))?;
        assert_eq!((second.role.as_str(), second.created_at), ("admin", first.created_at));
        assert!(second.updated_at > first.updated_at);

        // A generated join table with `timestamps` (seed 002's rsvps): the
        // database stamps the row when it is inserted.
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        r!(party.add_guest(&ada, conn))?;
        let rows: Vec<Rsvp> = r!(rsvps::table.load(conn))?;
        assert_eq!(rows.len(), 1);
        let age = orm_core::__private::now() - rows[0].created_at;
        assert!(age.num_seconds().abs() < 60, "stamped now: {:?}", rows[0]);
        assert_eq!(rows[0].created_at, rows[0].updated_at);
        Ok(())
    }

    fn eager_loading_with_a_per_parent_limit(conn) {
        // "The 3 latest posts of each user", in one statement.
        let users = vec![user!("a", conn)?, user!("b", conn)?, user!("c", conn)?];
        for (i, u) in users.iter().enumerate().take(2) {
            for p in 0..(2 + 2 * i) {
                r!(u.create_post(NewPost { author_id: None, title: format!("{}{p}", u.name) }, conn))?;
            }
        }
        let log = QueryLog::attach(conn);
        let parents = [users[1].clone(), users[0].clone(), users[2].clone(), users[1].clone()];
        let latest = r!(User::load_posts_top(&parents, 3, posts::id.desc(), conn))?;
        assert_eq!(log.count(), 1, "{:?}", log.statements());
        let titles: Vec<Vec<&str>> =
            latest.iter().map(|ps| ps.iter().map(|p| p.title.as_str()).collect()).collect();
        assert_eq!(
            titles,
            vec![vec!["b3", "b2", "b1"], vec!["a1", "a0"], vec![], vec!["b3", "b2", "b1"]],
            "at most 3 each, newest first; none for a user without posts"
        );
        // The same through a join table: the first 2 guests of each event by name.
        let (e0, e1, e2) = (
            r!(Event::create(NewEvent { title: "e0".into() }, conn))?,
            r!(Event::create(NewEvent { title: "e1".into() }, conn))?,
            r!(Event::create(NewEvent { title: "e2".into() }, conn))?,
        );
        r!(e0.add_guests(&users, conn))?;
        r!(e2.add_guests(&users[2..], conn))?;
        log.clear();
        let guests = r!(Event::load_guests_top(&[e0, e1, e2], 2, users::name.desc(), conn))?;
        assert_eq!(log.count(), 1, "{:?}", log.statements());
        let names: Vec<Vec<&str>> =
            guests.iter().map(|us| us.iter().map(|u| u.name.as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["c", "b"], vec![], vec!["c"]]);

        let first = r!(User::load_posts_top(&users, 1, posts::title.asc(), conn))?;
        let titles: Vec<Vec<&str>> =
            first.iter().map(|ps| ps.iter().map(|p| p.title.as_str()).collect()).collect();
        assert_eq!(titles, vec![vec!["a0"], vec!["b0"], vec![]]);
        Ok(())
    }

    fn referential_actions_as_declared(conn) {
        if !foreign_keys() {
            return Ok(());
        }
        use orm_core::diesel::result::Error;

        // constraints = false (seed 001): the key survives its parent.
        let trainer = r!(Trainer::create(NewTrainer { first_name: "Jo".into() }, conn))?;
        let series = r!(trainer.create_show(NewSeries { title: "Yoga".into(), trainer_id: None }, conn))?;
        let video = r!(series.create_video(NewVideo { title: "Day 1".into(), series_id: None }, conn))?;
        r!(trainer.delete(conn))?;
        r!(series.delete(conn))?;
        assert_eq!(r!(Series::count(conn))?, 0);
        assert_eq!(r!(Video::find(video.id, conn))?.series_id, Some(series.id), "a dangling id survives");
        assert_eq!(r!(Series::find(series.id, conn)), Err(Error::NotFound));

        // RESTRICT: deleting a writer with books is refused and changes nothing.
        let writer = r!(Writer::create(NewWriter { name: "Le Guin".into() }, conn))?;
        r!(writer.create_book(NewBook { writer_id: 0, title: "Earthsea".into() }, conn))?;
        // (SQLite reports a RESTRICT refusal with an unclassified error kind.)
        let refused = r!(writer.delete(conn));
        assert!(
            matches!(&refused, Err(Error::DatabaseError(_, info)) if info.message().to_lowercase().contains("foreign key")),
            "{refused:?}"
        );
        assert_eq!((r!(Writer::count(conn))?, r!(Book::count(conn))?), (1, 1));
        // ON UPDATE RESTRICT too: the writer's key cannot move under its books.
        let moved = r!(orm_core::diesel::update(writers::table.find(writer.id))
            .set(writers::id.eq(writer.id + 100))
            .execute(conn));
        assert!(moved.is_err());
        assert_eq!(r!(Writer::find(writer.id, conn))?, writer);

        // Explicit CASCADE on a nullable key: the notes go with the folder.
        let folder = r!(Folder::create(NewFolder { name: "f".into() }, conn))?;
        r!(folder.create_note(NewNote { folder_id: None, body: "n".into() }, conn))?;
        let loose = r!(Note::create(NewNote { folder_id: None, body: "loose".into() }, conn))?;
        r!(folder.delete(conn))?;
        assert_eq!(r!(Note::all(conn))?, vec![loose]);

        // Defaults: a nullable key is set to NULL; ON UPDATE CASCADE follows a
        // moved key.
        let ada = r!(User::create(NewUser { name: "Ada".into() }, conn))?;
        let post = r!(ada.create_post(NewPost { author_id: None, title: "p".into() }, conn))?;
        r!(orm_core::diesel::update(users::table.find(ada.id))
            .set(users::id.eq(ada.id + 100))
            .execute(conn))?;
        assert_eq!(r!(Post::find(post.id, conn))?.author_id, Some(ada.id + 100));
        r!(orm_core::diesel::delete(users::table.find(ada.id + 100)).execute(conn))?;
        assert_eq!(r!(Post::find(post.id, conn))?.author_id, None);

        // A join table key declared RESTRICT by its side; the other key keeps
        // the default CASCADE.
        let tag = r!(Tag::create(NewTag { name: "sea".into() }, conn))?;
        let photo = r!(Photo::create(NewPhoto { url: "a.jpg".into() }, conn))?;
        r!(tag.add_photo(&photo, conn))?;
        assert!(r!(tag.delete(conn)).is_err());
        assert_eq!(r!(tag.count_photos(conn))?, 1, "the refusal leaves the join row");
        r!(photo.delete(conn))?;
        assert_eq!(r!(tag.count_photos(conn))?, 0, "deleting the photo cascades");
        r!(tag.delete(conn))?;
        Ok(())
    }

    fn has_many_with_not_null_key(conn) {
        let article = r!(Article::create(NewArticle { title: "a".into() }, conn))?;
        let other = r!(Article::create(NewArticle { title: "b".into() }, conn))?;
        let comment = r!(article.create_comment(NewComment { article_id: 0, body: "hi".into() }, conn))?;
        assert_eq!(comment.article_id, article.id);
        r!(other.add_comment(&comment, conn))?;
        assert_eq!(r!(Comment::find(comment.id, conn))?.article_id, other.id);
        assert_eq!(r!(comment.article(conn))?, article, "the struct still holds the old key");
        r!(article.delete(conn))?;
        r!(other.delete(conn))?;
        if foreign_keys() {
            assert_eq!(r!(Comment::count(conn))?, 0, "NOT NULL keys cascade on delete");
        }
        Ok(())
    }

    fn eager_loading_is_aligned_and_nests(conn) {
        let (e0, e1, e2) = (
            r!(Event::create(NewEvent { title: "e0".into() }, conn))?,
            r!(Event::create(NewEvent { title: "e1".into() }, conn))?,
            r!(Event::create(NewEvent { title: "e2".into() }, conn))?,
        );
        let (a, b) = (user!("a", conn)?, user!("b", conn)?);
        r!(e0.add_guests(&[a.clone(), b.clone()], conn))?;
        r!(e2.add_guest(&b, conn))?;
        let pa = r!(a.create_post(NewPost { author_id: None, title: "pa".into() }, conn))?;
        let pb = r!(b.create_post(NewPost { author_id: None, title: "pb".into() }, conn))?;
        let orphan = r!(Post::create(NewPost { author_id: None, title: "orphan".into() }, conn))?;
        let profile = r!(b.create_profile(NewProfile { user_id: 0, bio: "b".into() }, conn))?;

        let log = QueryLog::attach(conn);
        let parents = [e0.clone(), e1.clone(), e2.clone(), e0.clone()];
        let guests = r!(Event::load_guests(&parents, conn))?;
        assert_eq!(log.count(), 1, "users joined with their rsvps: {:?}", log.statements());
        let guest_ids: Vec<Vec<i32>> = guests.iter().map(|g| ids(g)).collect();
        assert_eq!(guest_ids, vec![vec![a.id, b.id], vec![], vec![b.id], vec![a.id, b.id]]);

        // events -> guests -> posts: one more statement for the next level.
        log.clear();
        let flat: Vec<User> = guests.iter().flatten().cloned().collect();
        let posts = r!(User::load_posts(&flat, conn))?;
        assert_eq!(log.count(), 1);
        let titles: Vec<Vec<String>> = posts.iter().map(|p| p.iter().map(|p| p.title.clone()).collect()).collect();
        assert_eq!(titles, vec![vec!["pa"], vec!["pb"], vec!["pb"], vec!["pa"], vec!["pb"]]);

        log.clear();
        assert_eq!(r!(User::load_profiles(&[a.clone(), b.clone()], conn))?, vec![None, Some(profile)]);
        let authors = r!(Post::load_authors(&[pa, orphan, pb], conn))?;
        assert_eq!(authors, vec![Some(a.clone()), None, Some(b.clone())]);
        assert_eq!(log.count(), 2, "one statement each");
        assert_eq!(r!(Event::load_guests(&[], conn))?, Vec::<Vec<User>>::new());

        // The included queries can be refined: filtered and ordered.
        let named_b = r!(Event::load_guests_where(
            &parents,
            |q| q.filter(users::name.eq("b")),
            conn,
        ))?;
        assert_eq!(named_b.iter().map(|g| ids(g)).collect::<Vec<_>>(), vec![vec![b.id], vec![], vec![b.id], vec![b.id]]);
        let desc = r!(Event::load_guests_where(&parents[..1], |q| q.order(users::name.desc()), conn))?;
        assert_eq!(desc[0].iter().map(|u| u.id).collect::<Vec<_>>(), vec![b.id, a.id], "in the query's order");
        r!(b.create_post(NewPost { author_id: None, title: "pb2".into() }, conn))?;
        let latest = r!(User::load_posts_where(&[a.clone(), b.clone()], |q| q.order(posts::title.desc()), conn))?;
        let titles: Vec<Vec<&str>> = latest.iter().map(|p| p.iter().map(|p| p.title.as_str()).collect()).collect();
        assert_eq!(titles, vec![vec!["pa"], vec!["pb2", "pb"]]);
        Ok(())
    }

    fn eager_loading_statement_counts(conn) {
        let guest = user!("guest", conn)?;
        let limit = keys_per_statement(conn);
        let mut created = 0;
        for n in [1usize, 100, 10_000, 40_000] {
            while created < n {
                let batch: Vec<NewEvent> = (created..n.min(created + 10_000))
                    .map(|i| NewEvent { title: format!("e{i}") })
                    .collect();
                created += batch.len();
                r!(Event::create_many(batch, conn))?;
            }
            let events: Vec<Event> = r!(Event::query().order(events::id).limit(n as i64).load(conn))?;
            r!(guest.clear_events(conn))?;
            r!(events[0].add_guest(&guest, conn))?;
            r!(events[n - 1].add_guest(&guest, conn))?;
            let log = QueryLog::attach(conn);
            let guests = r!(Event::load_guests(&events, conn))?;
            // One statement (targets joined with join rows) per chunk of
            // parent keys.
            assert_eq!(log.count(), n.div_ceil(limit), "{n} parents");
            assert_eq!(guests.len(), n);
            assert_eq!(guests.iter().filter(|g| !g.is_empty()).count(), if n == 1 { 1 } else { 2 });
            println!("load_guests of {n} events: {} statements", log.count());
        }

        // Through a join model, targets and join rows come in one statement.
        let clubs: Vec<NewClub> = (0..10_000).map(|i| NewClub { name: format!("c{i}") }).collect();
        r!(Club::create_many(clubs, conn))?;
        let clubs: Vec<Club> = r!(Club::query().order(clubs::id).load(conn))?;
        r!(clubs[0].add_member(&guest, conn))?;
        r!(clubs[9_999].add_member(&guest, conn))?;
        for n in [1usize, 100, 10_000] {
            let log = QueryLog::attach(conn);
            let members = r!(Club::load_members_with_through(&clubs[..n], conn))?;
            assert_eq!(log.count(), 1, "{n} parents");
            assert_eq!(members.iter().map(Vec::len).sum::<usize>(), if n == 10_000 { 2 } else { 1 });
            println!("load_members_with_through of {n} clubs: {} statements", log.count());
        }
        Ok(())
    }

    fn parents_by_their_related_rows(conn) {
        let [ann, bob, cid] = [user!("ann", conn)?, user!("bob", conn)?, user!("cid", conn)?];
        let post = |author: Option<i32>, title: &str| NewPost { author_id: author, title: title.into() };
        for new in [post(Some(ann.id), "Alpha"), post(Some(ann.id), "Beta"), post(Some(bob.id), "Gamma")] {
            r!(Post::create(new, conn))?;
        }
        // A post without an author whose title matches: `NULL` among the
        // keys of `NOT IN` would make it match no row at all.
        let orphan = r!(Post::create(post(None, "Apex"), conn))?;
        let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();

        // has_many: users with a post, with one titled A.., and without one.
        let log = QueryLog::attach(conn);
        let any = r!(User::query().filter(User::has_posts_where(|q| q)).order(users::id).load(conn))?;
        assert_eq!(log.count(), 1, "one statement, the filter a subquery");
        assert_eq!(names(any), ["ann", "bob"]);
        let a_posts = |q: posts::table| q.filter(posts::title.like("A%"));
        let with = r!(User::query().filter(User::has_posts_where(a_posts)).order(users::id).load(conn))?;
        assert_eq!(names(with), ["ann"]);
        let without = r!(User::query().filter(!User::has_posts_where(a_posts)).order(users::id).load(conn))?;
        assert_eq!(names(without), ["bob", "cid"], "NOT EXISTS, whatever NULL keys the posts hold");
        // Composed with other filters, in an association's query too.
        let q = User::query().filter(!User::has_posts_where(|q| q)).filter(users::name.ne("bob"));
        assert_eq!(names(r!(q.load(conn))?), ["cid"]);

        // has_many counts: as an expression to order, filter and select by.
        let by_count = r!(User::query().order((User::posts_count().desc(), users::id)).load(conn))?;
        assert_eq!(names(by_count), ["ann", "bob", "cid"]);
        let busy = r!(User::query().filter(User::posts_count().ge(2_i64)).load(conn))?;
        assert_eq!(names(busy), ["ann"]);
        let pairs: Vec<(String, i64)> =
            r!(users::table.select((users::name, User::posts_count())).order(users::id).load(conn))?;
        assert_eq!(pairs, [("ann".to_string(), 2), ("bob".to_string(), 1), ("cid".to_string(), 0)]);
        // .. and for many parents at once, aligned with them, one statement.
        let parents = [ann.clone(), bob.clone(), cid.clone(), ann.clone()];
        let log = QueryLog::attach(conn);
        assert_eq!(r!(User::count_posts_for(&parents, conn))?, [2, 1, 0, 2]);
        assert_eq!(log.count(), 1);
        assert_eq!(r!(User::count_posts_for_where(&parents, a_posts, conn))?, [1, 0, 0, 1]);
        assert_eq!(r!(User::count_posts_for(&[], conn))?, Vec::<i64>::new(), "no statement for no parents");

        // belongs_to: posts by their author; `!` keeps the one without.
        let by_ann = |q: users::table| q.filter(users::name.eq("ann"));
        let titles = |posts: Vec<Post>| posts.into_iter().map(|p| p.title).collect::<Vec<_>>();
        let q = Post::query().filter(Post::has_author_where(by_ann)).order(posts::id);
        assert_eq!(titles(r!(q.load(conn))?), ["Alpha", "Beta"]);
        let q = Post::query().filter(!Post::has_author_where(by_ann)).order(posts::id);
        assert_eq!(titles(r!(q.load(conn))?), ["Gamma", "Apex"], "a NULL author is not ann");
        let q = Post::query().filter(Post::has_author_where(|q| q)).filter(posts::id.eq(orphan.id));
        assert!(r!(q.load::<Post>(conn))?.is_empty());

        // has_one.
        r!(Profile::create(NewProfile { user_id: bob.id, bio: "drums".into() }, conn))?;
        let q = User::query().filter(User::has_profile_where(|q| q.filter(profiles::bio.eq("drums"))));
        assert_eq!(names(r!(q.load(conn))?), ["bob"]);

        // belongs_to_many through a join table.
        let [party, meetup, empty] = [
            r!(Event::create(NewEvent { title: "party".into() }, conn))?,
            r!(Event::create(NewEvent { title: "meetup".into() }, conn))?,
            r!(Event::create(NewEvent { title: "empty".into() }, conn))?,
        ];
        r!(party.add_guests([&ann, &bob], conn))?;
        r!(meetup.add_guest(&cid, conn))?;
        let events = |events: Vec<Event>| events.into_iter().map(|e| e.title).collect::<Vec<_>>();
        let q = Event::query().filter(Event::has_guests_where(by_ann)).order(events::id);
        assert_eq!(events(r!(q.load(conn))?), ["party"]);
        let q = Event::query().filter(!Event::has_guests_where(by_ann)).order(events::id);
        assert_eq!(events(r!(q.load(conn))?), ["meetup", "empty"]);
        let q = Event::query().order((Event::guests_count().desc(), events::id));
        assert_eq!(events(r!(q.load(conn))?), ["party", "meetup", "empty"]);
        let all = [party.clone(), meetup.clone(), empty.clone()];
        assert_eq!(r!(Event::count_guests_for(&all, conn))?, [2, 1, 0]);
        assert_eq!(r!(Event::count_guests_for_where(&all, by_ann, conn))?, [1, 0, 0]);
        // The filter inside an association's query: party's guests with a post titled A...
        let q = party.guests_query().filter(User::has_posts_where(a_posts));
        assert_eq!(names(r!(q.load(conn))?), ["ann"]);

        // Self-references: the subquery never names the outer query, and the
        // count's inner table has an alias of its own.
        let abe = r!(Person::create(NewPerson { name: "Abe".into(), father_id: None }, conn))?;
        r!(Person::create(NewPerson { name: "Homer".into(), father_id: Some(abe.id) }, conn))?;
        let q = Person::query().filter(Person::has_parent_where(|q| q.filter(people::name.eq("Abe"))));
        let people: Vec<Person> = r!(q.load(conn))?;
        assert_eq!(people.into_iter().map(|p| p.name).collect::<Vec<_>>(), ["Homer"]);
        r!(ann.add_friends([&bob, &cid], conn))?;
        let q = User::query().filter(User::friends_count().gt(0_i64));
        assert_eq!(names(r!(q.load(conn))?), ["ann"]);

        // Keys past one statement's parameter limit: one statement per chunk.
        let limit = keys_per_statement(conn);
        let many: Vec<Event> = (1..=limit as i32 + 1)
            .map(|id| Event { id, title: String::new() })
            .collect();
        let log = QueryLog::attach(conn);
        let counts = r!(Event::count_guests_for(&many, conn))?;
        assert_eq!(log.count(), 2);
        assert_eq!(counts.iter().sum::<i64>(), 3);
        Ok(())
    }

    // Association scopes (Rails' `has_many :x, -> { where(..) }`,
    // Sequelize's `scope`): every read applies the scope; the writers of
    // one that is a simple equality set it (Sequelize's `add`/`create`) and
    // detach only the rows it keeps.
    fn association_scopes(conn) {
        use orm_tests::blog_associations::PublishedEntries;
        let [blog, other] = [
            r!(Blog::create(NewBlog { name: "blog".into() }, conn))?,
            r!(Blog::create(NewBlog { name: "other".into() }, conn))?,
        ];
        let entry = |blog: &Blog, title: &str, kind: &str, published: bool| NewEntry {
            blog_id: Some(blog.id),
            title: title.into(),
            kind: kind.into(),
            published,
            pinned: false,
            published_on: published.then(|| "2026-12-03".to_string()),
        };
        let [post, draft, note, published_note, elsewhere] = [
            r!(Entry::create(entry(&blog, "post", "post", true), conn))?,
            r!(Entry::create(entry(&blog, "draft", "post", false), conn))?,
            r!(Entry::create(entry(&blog, "note", "note", false), conn))?,
            r!(Entry::create(entry(&blog, "published note", "note", true), conn))?,
            r!(Entry::create(entry(&other, "elsewhere", "post", true), conn))?,
        ];
        let titles = |mut rows: Vec<Entry>| {
            rows.sort_by_key(|e| e.id);
            rows.into_iter().map(|e| e.title).collect::<Vec<_>>()
        };

        // Reads: one statement each, the scope's values bound.
        let log = QueryLog::attach(conn);
        assert_eq!(titles(r!(blog.published_entries(conn))?), ["post", "published note"]);
        assert_eq!(log.count(), 1);
        let sql = log.statements()[0].split(" -- binds").next().unwrap_or_default().to_string();
        assert!(sql.contains("published") && !sql.contains("true"), "bound, not inlined: {sql}");
        assert_eq!(titles(r!(blog.draft_notes(conn))?), ["note"], "two columns");
        assert_eq!(titles(r!(blog.dated_entries(conn))?), ["post", "published note"], "not an equality");
        assert_eq!(titles(r!(blog.entries(conn))?).len(), 4, "the unscoped association sees all");
        assert_eq!(r!(blog.count_published_entries(conn))?, 2);
        assert!(r!(blog.has_published_entry(&post, conn))?);
        assert!(!r!(blog.has_published_entry(&draft, conn))?, "out of the scope");
        assert!(!r!(blog.has_published_entries([&post, &draft], conn))?);
        let q = blog.published_entries_query().filter(entries::kind.eq("note"));
        assert_eq!(titles(r!(q.load(conn))?), ["published note"]);
        assert_eq!(r!(blog.pinned(conn))?, None);

        // Eager loading, limited, counted, as a filter, included.
        let blogs = [blog.clone(), other.clone()];
        let loaded = r!(Blog::load_published_entries(&blogs, conn))?;
        assert_eq!(loaded.into_iter().map(titles).collect::<Vec<_>>(), [vec!["post", "published note"], vec!["elsewhere"]]);
        let notes = r!(Blog::load_published_entries_where(&blogs, |q| q.filter(entries::kind.eq("note")), conn))?;
        assert_eq!(notes.into_iter().map(titles).collect::<Vec<_>>(), [vec!["published note"], vec![]]);
        let top = r!(Blog::load_draft_notes_top(&blogs, 5, entries::id.desc(), conn))?;
        assert_eq!(top.into_iter().map(titles).collect::<Vec<_>>(), [vec!["note"], vec![]]);
        assert_eq!(r!(Blog::count_published_entries_for(&blogs, conn))?, [2, 1]);
        assert_eq!(r!(Blog::count_draft_notes_for(&blogs, conn))?, [1, 0]);
        let with_notes: Vec<Blog> = r!(Blog::query().filter(Blog::has_draft_notes_where(|q| q)).load(conn))?;
        assert_eq!(ids(&with_notes), [blog.id]);
        let counted: Vec<(String, i64)> =
            r!(blogs::table.select((blogs::name, Blog::draft_notes_count())).order(blogs::id).load(conn))?;
        assert_eq!(counted, [("blog".to_string(), 1), ("other".to_string(), 0)]);
        let included = r!(orm_core::include(&blogs, PublishedEntries, conn))?;
        assert_eq!(included.into_iter().map(titles).collect::<Vec<_>>(), [vec!["post", "published note"], vec!["elsewhere"]]);

        // create_*: the scope's columns are set, whatever the new row said.
        let fresh = r!(blog.create_published_entry(entry(&other, "fresh", "post", false), conn))?;
        assert_eq!((fresh.blog_id, fresh.published), (Some(blog.id), true));
        let jot = r!(blog.create_draft_note(entry(&blog, "jot", "post", true), conn))?;
        assert_eq!((jot.kind.as_str(), jot.published), ("note", false));

        // add_*: the row joins the scope, in one statement.
        let log = QueryLog::attach(conn);
        assert_eq!(r!(blog.add_published_entry(&draft, conn))?, 1);
        assert_eq!(log.count(), 1, "{:?}", log.statements());
        let draft = r!(Entry::find(draft.id, conn))?;
        assert_eq!((draft.blog_id, draft.published), (Some(blog.id), true));
        r!(other.add_published_entries([&note], conn))?;
        let note = r!(Entry::find(note.id, conn))?;
        assert_eq!((note.blog_id, note.published), (Some(other.id), true));

        // remove_*, set_*, clear_*: only rows the scope keeps let go.
        assert_eq!(r!(blog.remove_draft_note(&post, conn))?, 0, "post is not a draft note");
        assert_eq!(r!(Entry::find(post.id, conn))?.blog_id, Some(blog.id));
        let diff = r!(blog.set_published_entries([&post, &fresh, &elsewhere], conn))?;
        assert_eq!((diff.added, diff.removed), (1, 2), "elsewhere added; draft and published note let go");
        assert_eq!(titles(r!(blog.published_entries(conn))?), ["post", "elsewhere", "fresh"]);
        assert_eq!(r!(Entry::find(published_note.id, conn))?.blog_id, None);
        assert_eq!(titles(r!(blog.entries(conn))?), ["post", "elsewhere", "fresh", "jot"], "jot is not published: kept");
        assert_eq!(r!(blog.clear_draft_notes(conn))?, 1);
        assert_eq!(titles(r!(blog.entries(conn))?), ["post", "elsewhere", "fresh"]);

        // has_one: the pinned entry is one of the blog's entries.
        r!(blog.set_pinned(&post, conn))?;
        assert_eq!(r!(blog.pinned(conn))?.map(|e| e.title), Some("post".into()));
        r!(blog.set_pinned(&fresh, conn))?;
        let [post, fresh] = [r!(Entry::find(post.id, conn))?, r!(Entry::find(fresh.id, conn))?];
        assert_eq!((fresh.pinned, fresh.blog_id), (true, Some(blog.id)));
        assert_eq!((post.pinned, post.blog_id), (true, None), "the pinned one let go, as a has_one's other row");
        let pinned = r!(Blog::load_pinneds(&blogs, conn))?;
        assert_eq!(pinned.into_iter().map(|e| e.map(|e| e.title)).collect::<Vec<_>>(), [Some("fresh".to_string()), None]);
        assert!(r!(blog.unset_pinned(conn))?);
        assert_eq!(titles(r!(blog.entries(conn))?), ["elsewhere"]);
        Ok(())
    }

    // A polymorphic belongs_to: the type column picks the model, by the
    // declared discriminators; each parent's remarks are its own even where
    // a post and a photo share a key.
    fn polymorphic_belongs_to(conn) {
        let post = r!(Post::create(NewPost { author_id: None, title: "p".into() }, conn))?;
        let photo = r!(Photo::create(NewPhoto { url: "u".into() }, conn))?;
        let remark = |body: &'static str| move |remarkable_id| NewRemark {
            remarkable_type: String::new(),
            remarkable_id,
            body: body.into(),
        };
        let on_post = r!(post.create_remark(remark("on the post"), conn))?;
        let on_photo = r!(photo.create_remark(remark("on the photo"), conn))?;
        assert_eq!((on_post.remarkable_type.as_str(), on_photo.remarkable_type.as_str()), ("post", "photo"));
        let loose = r!(Remark::create(NewRemark { remarkable_type: "post".into(), remarkable_id: None, body: "loose".into() }, conn))?;

        // Each parent reads the remarks of its own type, whatever the keys.
        let bodies = |rows: Vec<Remark>| rows.into_iter().map(|r| r.body).collect::<Vec<_>>();
        assert_eq!(bodies(r!(post.remarks(conn))?), ["on the post"]);
        assert_eq!(bodies(r!(photo.remarks(conn))?), ["on the photo"]);

        // The child reads its parent as the generated enum: one statement.
        let log = QueryLog::attach(conn);
        assert_eq!(r!(on_post.remarkable(conn))?, Some(Remarkable::Post(post.clone())));
        assert_eq!(log.count(), 1);
        match r!(on_photo.remarkable(conn))? {
            Some(Remarkable::Photo(p)) => assert_eq!(p, photo),
            Some(Remarkable::Post(_)) | None => panic!("the photo's remark points at the photo"),
        }
        assert_eq!(r!(loose.remarkable(conn))?, None, "a NULL key");

        // Eager: one statement per variant present, aligned.
        let all = [on_post.clone(), on_photo.clone(), loose.clone(), on_post.clone()];
        let log = QueryLog::attach(conn);
        let parents = r!(Remark::load_remarkables(&all, conn))?;
        assert_eq!(log.count(), 2, "{:?}", log.statements());
        assert_eq!(parents, [
            Some(Remarkable::Post(post.clone())),
            Some(Remarkable::Photo(photo.clone())),
            None,
            Some(Remarkable::Post(post.clone())),
        ]);
        let log = QueryLog::attach(conn);
        assert_eq!(r!(Remark::load_remarkables(&all[..1], conn))?.len(), 1);
        assert_eq!(log.count(), 1, "only the variant present");
        assert_eq!(r!(Remark::load_remarkables(&[], conn))?, vec![]);

        // A discriminator no variant declares is an Err, before any statement.
        let odd = r!(Remark::create(NewRemark { remarkable_type: "video".into(), remarkable_id: Some(post.id), body: "odd".into() }, conn))?;
        let log = QueryLog::attach(conn);
        let err = r!(odd.remarkable(conn)).unwrap_err().to_string();
        assert!(err.contains("\"video\"") && err.contains("remarkable_type"), "{err}");
        assert!(r!(Remark::load_remarkables(&[on_post.clone(), odd.clone()], conn)).is_err());
        assert_eq!(log.count(), 0);
        // A key pointing at no row is NotFound.
        let gone = r!(Remark::create(NewRemark { remarkable_type: "photo".into(), remarkable_id: Some(photo.id + 100), body: "gone".into() }, conn))?;
        assert!(matches!(r!(gone.remarkable(conn)), Err(orm_core::diesel::result::Error::NotFound)));
        Ok(())
    }

    // Polymorphic many-to-many: tags on posts and photos through one
    // `taggings` table, each association's `through_scope` on its type
    // column. A post and a photo with the same id keep their own tags.
    fn polymorphic_many_to_many(conn) {
        let post = r!(Post::create(NewPost { author_id: None, title: "p".into() }, conn))?;
        let twin = photos::id.eq(post.id);
        r!(orm_core::diesel::insert_into(photos::table).values((twin, photos::url.eq("u"))).execute(conn))?;
        let photo = r!(Photo::find(post.id, conn))?;
        let tag = |name: &str| NewTag { name: name.into() };
        let (a, b, c) = (r!(Tag::create(tag("a"), conn))?, r!(Tag::create(tag("b"), conn))?, r!(Tag::create(tag("c"), conn))?);
        macro_rules! taggings {
            () => {{
                let mut rows: Vec<Tagging> = r!(taggings::table.load(conn))?;
                rows.sort_by(|x, y| (x.tag_id, &x.taggable_type).cmp(&(y.tag_id, &y.taggable_type)));
                rows.into_iter().map(|t| (t.tag_id, t.taggable_type, t.taggable_id)).collect::<Vec<_>>()
            }};
        }
        let row = |t: &Tag, kind: &str| (t.id, kind.to_owned(), post.id);

        // The writers set the type: plain, and over a payload that says otherwise.
        assert_eq!(r!(post.add_tags([&a, &b], conn))?, 2);
        assert_eq!(r!(photo.add_tag(&b, conn))?, 1);
        let other = TaggingPayload { taggable_type: "post".into() };
        assert_eq!(r!(photo.add_tag_with(&c, other, conn))?, 1);
        assert_eq!(r!(post.add_tag(&a, conn))?, 0, "already tagged");
        assert_eq!(taggings!(), [row(&a, "post"), row(&b, "photo"), row(&b, "post"), row(&c, "photo")]);

        // Reads see their own type only, from either side; one statement each.
        let log = QueryLog::attach(conn);
        assert_eq!(ids(&r!(post.tags(conn))?), [a.id, b.id]);
        assert_eq!(log.count(), 1);
        assert_eq!(ids(&r!(photo.tags(conn))?), [b.id, c.id]);
        assert_eq!((r!(post.count_tags(conn))?, r!(photo.count_tags(conn))?), (2, 2));
        assert!(r!(post.has_tags([&a, &b], conn))? && !r!(post.has_tag(&c, conn))?);
        assert_eq!(ids(&r!(b.tagged_posts(conn))?), [post.id]);
        assert_eq!(ids(&r!(c.tagged_photos(conn))?), [photo.id]);
        assert_eq!(r!(c.tagged_posts(conn))?, vec![]);
        assert_eq!(ids(&r!(post.tags_query().load::<Tag>(conn))?), [a.id, b.id]);
        let through = r!(post.tags_with_through(conn))?;
        assert!(through.iter().all(|(_, t)| t.taggable_type == "post"), "{through:?}");

        // Eager loading, filters and counts by related rows.
        let tags = [a.clone(), b.clone(), c.clone()];
        let posts_of = r!(Tag::load_tagged_posts(&tags, conn))?;
        assert_eq!(posts_of.iter().map(|p| ids(p)).collect::<Vec<_>>(), [vec![post.id], vec![post.id], vec![]]);
        let photos_of = r!(Tag::load_tagged_photos_top(&tags, 5, photos::id.asc(), conn))?;
        assert_eq!(photos_of.iter().map(|p| p.len()).collect::<Vec<_>>(), [0, 1, 1]);
        assert_eq!(r!(Post::load_tags(std::slice::from_ref(&post), conn))?.iter().map(|t| ids(t)).collect::<Vec<_>>(), [vec![a.id, b.id]]);
        let with_c = |q: tags::table| q.filter(tags::name.eq("c"));
        let posts: Vec<Post> = r!(Post::query().filter(Post::has_tags_where(with_c)).load(conn))?;
        assert_eq!(posts, vec![]);
        let photos: Vec<Photo> = r!(Photo::query().filter(Photo::has_tags_where(with_c)).load(conn))?;
        assert_eq!(ids(&photos), [photo.id]);
        assert_eq!(r!(Tag::count_tagged_posts_for(&tags, conn))?, [1, 1, 0]);
        assert_eq!(r!(Tag::count_tagged_photos_for_where(&tags, |q| q.filter(photos::url.eq("u")), conn))?, [0, 1, 1]);
        let counts: Vec<(i32, i64)> = r!(Tag::query().select((tags::id, Tag::tagged_photos_count())).order(tags::id).load(conn))?;
        assert_eq!(counts, [(a.id, 0), (b.id, 1), (c.id, 1)]);

        // set/remove/clear touch their own type's rows only.
        let diff = r!(post.set_tags([&c], conn))?;
        assert_eq!((diff.added, diff.removed), (1, 2));
        assert_eq!(taggings!(), [row(&b, "photo"), row(&c, "photo"), row(&c, "post")]);
        assert_eq!(r!(photo.remove_tag(&c, conn))?, 1);
        assert_eq!(r!(photo.clear_tags(conn))?, 1);
        assert_eq!(taggings!(), [row(&c, "post")]);
        let d = r!(post.create_tag(tag("d"), conn))?;
        assert_eq!(r!(d.tagged_posts(conn))?, vec![post.clone()]);
        assert_eq!(r!(d.tagged_photos(conn))?, vec![]);

        // The join row reads its parent back as the polymorphic enum.
        let tagging = r!(Tagging::find((c.id, "post".to_owned(), post.id), conn))?;
        assert_eq!(r!(tagging.taggable(conn))?, Some(Taggable::Post(post.clone())));
        Ok(())
    }

    // The exclusive-arc form: one key column per variant, a CHECK that
    // exactly one is set, real foreign keys (deleting the post deletes its
    // attachments).
    fn polymorphic_exclusive_arc(conn) {
        let post = r!(Post::create(NewPost { author_id: None, title: "p".into() }, conn))?;
        let photo = r!(Photo::create(NewPhoto { url: "u".into() }, conn))?;
        let new = |post_id, photo_id, name: &str| NewAttachment { post_id, photo_id, name: name.into() };
        let on_post = r!(Attachment::create(new(Some(post.id), None, "a"), conn))?;
        let on_photo = r!(Attachment::create(new(None, Some(photo.id), "b"), conn))?;
        // The CHECK: neither, or both, is refused by the database.
        assert!(r!(Attachment::create(new(None, None, "none"), conn)).is_err());
        assert!(r!(Attachment::create(new(Some(post.id), Some(photo.id), "both"), conn)).is_err());
        // A real foreign key: a key pointing at no row is refused.
        if foreign_keys() {
            assert!(r!(Attachment::create(new(Some(post.id + 100), None, "dangling"), conn)).is_err());
        }

        let log = QueryLog::attach(conn);
        assert_eq!(r!(on_post.attachable(conn))?, Some(Attachable::Post(post.clone())));
        assert_eq!(log.count(), 1);
        assert_eq!(r!(on_photo.attachable(conn))?, Some(Attachable::Photo(photo.clone())));
        let all = [on_photo.clone(), on_post.clone()];
        let log = QueryLog::attach(conn);
        let parents = r!(Attachment::load_attachables(&all, conn))?;
        assert_eq!(log.count(), 2);
        assert_eq!(parents, [Some(Attachable::Photo(photo.clone())), Some(Attachable::Post(post.clone()))]);

        // ON DELETE CASCADE: the post's attachment goes with it. MySQL and
        // MariaDB refuse a referential action on a column a CHECK names:
        // there the keys are RESTRICT, and the delete is refused while the
        // attachment points at the post.
        if !foreign_keys() {
            return Ok(());
        }
        if dialect(conn) == orm_core::Dialect::Mysql {
            assert!(r!(post.delete(conn)).is_err());
            assert_eq!(r!(Attachment::all(conn))?.len(), 2);
            r!(on_post.delete(conn))?;
        }
        r!(post.delete(conn))?;
        let left: Vec<Attachment> = r!(Attachment::all(conn))?;
        assert_eq!(ids(&left), [on_photo.id]);
        Ok(())
    }

    // Composite keys through relations: orders are numbered per tenant
    // (`primary_key(tenant_id, number)`), and their lines and invoice point
    // at one by both columns. Order 1 of acme and order 1 of globex share a
    // number: every read, write and eager load keeps them apart.
    fn composite_keys_through_relations(conn) {
        let acme = r!(Tenant::create(NewTenant { name: "acme".into() }, conn))?;
        let globex = r!(Tenant::create(NewTenant { name: "globex".into() }, conn))?;
        let order = |number: i32, customer: &str| NewOrder { tenant_id: 0, number, customer: customer.into() };
        // A composite-key model as the target of a has_many.
        let a1 = r!(acme.create_order(order(1, "ann"), conn))?;
        let a2 = r!(acme.create_order(order(2, "bob"), conn))?;
        let g1 = r!(globex.create_order(order(1, "cy"), conn))?;
        assert_eq!((a1.tenant_id, a1.number, g1.tenant_id, g1.number), (acme.id, 1, globex.id, 1));
        assert_eq!(r!(Order::find((globex.id, 1), conn))?, g1);
        let mut orders = r!(acme.orders(conn))?;
        orders.sort_by_key(|o| o.number);
        assert_eq!(orders, [a1.clone(), a2.clone()]);
        assert_eq!(r!(a2.tenant(conn))?, acme);

        // The children's writers set both key columns.
        let line = |sku: &str, qty: i32| NewOrderLine { tenant_id: 0, order_number: 0, sku: sku.into(), qty };
        let l1 = r!(a1.create_order_line(line("x", 1), conn))?;
        let l2 = r!(a1.create_order_line(line("y", 5), conn))?;
        let mut l3 = r!(g1.create_order_line(line("z", 2), conn))?;
        assert_eq!((l3.tenant_id, l3.order_number), (globex.id, 1));
        macro_rules! keys {
            () => {{
                let rows: Vec<OrderLine> = r!(OrderLine::all(conn))?;
                let mut rows: Vec<(String, i32, i32)> = rows.into_iter().map(|l| (l.sku, l.tenant_id, l.order_number)).collect();
                rows.sort();
                rows
            }};
        }
        assert_eq!(keys!(), [("x".into(), acme.id, 1), ("y".into(), acme.id, 1), ("z".into(), globex.id, 1)]);

        // Reads keep orders of one number apart; one statement each.
        let log = QueryLog::attach(conn);
        assert_eq!(ids(&r!(a1.order_lines(conn))?), [l1.id, l2.id]);
        assert_eq!(log.count(), 1);
        assert_eq!(ids(&r!(g1.order_lines(conn))?), [l3.id]);
        assert_eq!((r!(a1.count_order_lines(conn))?, r!(a2.count_order_lines(conn))?), (2, 0));
        assert!(r!(a1.has_order_line(&l1, conn))? && !r!(g1.has_order_line(&l1, conn))?);
        assert_eq!(r!(l3.order(conn))?, g1);

        // belongs_to's setter and has_many's add move a row by both columns.
        r!(l3.set_order(&a2, conn))?;
        assert_eq!((l3.tenant_id, l3.order_number), (acme.id, 2));
        assert_eq!(r!(g1.add_order_line(&l3, conn))?, 1);
        assert_eq!(r!(a2.add_order_lines([&l1, &l2], conn))?, 2);
        assert_eq!(keys!(), [("x".into(), acme.id, 2), ("y".into(), acme.id, 2), ("z".into(), globex.id, 1)]);
        assert!(r!(a1.add_order_line(OrderLine::key(l1.id + 100), conn)).is_err(), "no such line");

        // Eager loading, both ways, aligned with the parents: one statement.
        let all = [a1.clone(), a2.clone(), g1.clone(), a2.clone()];
        let log = QueryLog::attach(conn);
        let lines = r!(Order::load_order_lines(&all, conn))?;
        assert_eq!(log.count(), 1);
        assert_eq!(lines.iter().map(|l| ids(l)).collect::<Vec<_>>(), [vec![], vec![l1.id, l2.id], vec![l3.id], vec![l1.id, l2.id]]);
        let children = r!(OrderLine::all(conn))?;
        let log = QueryLog::attach(conn);
        let parents = r!(OrderLine::load_orders(&children, conn))?;
        assert_eq!(log.count(), 1);
        let expected: Vec<Order> = children.iter().map(|l| if l.tenant_id == acme.id { a2.clone() } else { g1.clone() }).collect();
        assert_eq!(parents, expected);
        let per_tenant = r!(Tenant::load_orders(&[globex.clone(), acme.clone()], conn))?;
        assert_eq!(per_tenant.iter().map(|o| o.len()).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(r!(Order::count_order_lines_for(&all, conn))?, [0, 2, 1, 2]);
        let top = r!(Order::load_order_lines_top(&all[..3], 1, order_lines::qty.desc(), conn))?;
        assert_eq!(top.iter().map(|l| ids(l)).collect::<Vec<_>>(), [vec![], vec![l2.id], vec![l3.id]]);

        let big = r!(Order::load_order_lines_where(&all[..3], |q| q.filter(order_lines::qty.ge(5)), conn))?;
        assert_eq!(big.iter().map(|l| ids(l)).collect::<Vec<_>>(), [vec![], vec![l2.id], vec![]]);
        // A tree through both kinds of key: tenants, their orders, each
        // order's lines; one statement per level.
        use orm_tests::{order_associations::OrderLines, tenant_associations::Orders};
        let log = QueryLog::attach(conn);
        let tree = r!(orm_core::include(&[acme.clone(), globex.clone()], Orders.with(OrderLines), conn))?;
        assert_eq!(log.count(), 2);
        let shape: Vec<Vec<(i32, usize)>> = tree
            .iter()
            .map(|orders| orders.iter().map(|(o, lines)| (o.number, lines.len())).collect())
            .collect();
        assert!(shape[0].contains(&(1, 0)) && shape[0].contains(&(2, 2)) && shape[1] == [(1, 1)], "{shape:?}");

        // Parents by their related rows: EXISTS and COUNT correlated by
        // both columns, from either side.
        let big = |q: order_lines::table| q.filter(order_lines::qty.ge(5));
        let with_big: Vec<Order> = r!(Order::query().filter(Order::has_order_lines_where(big)).load(conn))?;
        assert_eq!(with_big, vec![a2.clone()]);
        let without: Vec<Order> = r!(Order::query().filter(!Order::has_order_lines_where(big)).order(orders::customer).load(conn))?;
        assert_eq!(without, [a1.clone(), g1.clone()]);
        let by_count: Vec<Order> = r!(Order::query().order((Order::order_lines_count().desc(), orders::customer)).load(conn))?;
        assert_eq!(by_count, [a2.clone(), g1.clone(), a1.clone()]);
        let of_cy = |q: orders::table| q.filter(orders::customer.eq("cy"));
        let lines_of_cy: Vec<OrderLine> = r!(OrderLine::query().filter(OrderLine::has_order_where(of_cy)).load(conn))?;
        assert_eq!(ids(&lines_of_cy), [l3.id]);

        // has_one through a multi-column key.
        let invoice = r!(a2.create_invoice(NewInvoice { tenant_id: 0, order_number: 0, total: 7 }, conn))?;
        assert_eq!((invoice.tenant_id, invoice.order_number), (acme.id, 2));
        assert_eq!(r!(a2.invoice(conn))?, Some(invoice.clone()));
        assert_eq!(r!(g1.invoice(conn))?, None);
        assert_eq!(r!(Order::load_invoices(&[g1.clone(), a2.clone()], conn))?, [None, Some(invoice.clone())]);

        // The DDL's multi-column foreign keys hold: no line of a missing
        // order (acme has no order 1 of globex's customer, nor order 9),
        // a line goes with its order, and the invoice's RESTRICT keeps its.
        if !foreign_keys() {
            return Ok(());
        }
        let stray = NewOrderLine { tenant_id: globex.id, order_number: 2, sku: "s".into(), qty: 1 };
        assert!(r!(OrderLine::create(stray, conn)).is_err(), "(globex, 2) is no order");
        assert!(r!(a2.delete(conn)).is_err(), "its invoice restricts the delete");
        r!(invoice.delete(conn))?;
        r!(a2.delete(conn))?;
        assert_eq!(keys!(), [("z".into(), globex.id, 1)]);
        Ok(())
    }

    fn nested_includes(conn) {
        use orm_tests::{event_associations::Guests, post_associations::Author};
        use orm_tests::user_associations::{Posts, Profile as ProfileOf};
        let [ann, bob, cid] = [user!("ann", conn)?, user!("bob", conn)?, user!("cid", conn)?];
        let news: Vec<NewEvent> = ["party", "meetup", "empty"].iter().map(|t| NewEvent { title: t.to_string() }).collect();
        let events = r!(Event::create_many(news, conn))?;
        // bob is a guest of two events: loaded once, and his posts once.
        r!(events[0].add_guests([&ann, &bob], conn))?;
        r!(events[1].add_guests([&bob, &cid], conn))?;
        let post = |author: &User, title: &str| NewPost { author_id: Some(author.id), title: title.into() };
        let [a1, a2, b1] = [
            r!(Post::create(post(&ann, "a1"), conn))?,
            r!(Post::create(post(&ann, "a2"), conn))?,
            r!(Post::create(post(&bob, "b1"), conn))?,
        ];
        let drums = r!(Profile::create(NewProfile { user_id: bob.id, bio: "drums".into() }, conn))?;

        // Events, their guests, each guest's posts with their author and the
        // guest's profile: one statement per association and level.
        let log = QueryLog::attach(conn);
        let tree = r!(orm_core::include(&events, Guests.with((Posts.with(Author), ProfileOf)), conn))?;
        assert_eq!(log.count(), 4, "{:?}", log.statements());
        let ann_posts = vec![(a1.clone(), Some(ann.clone())), (a2.clone(), Some(ann.clone()))];
        let bob_posts = vec![(b1.clone(), Some(bob.clone()))];
        let sorted = |mut guests: Vec<GuestTree>| {
            guests.sort_by_key(|(u, _)| u.id);
            guests
        };
        let expected: Vec<Vec<GuestTree>> = vec![
            vec![(ann.clone(), (ann_posts.clone(), None)), (bob.clone(), (bob_posts.clone(), Some(drums.clone())))],
            vec![(bob.clone(), (bob_posts.clone(), Some(drums.clone()))), (cid.clone(), (vec![], None))],
            vec![],
        ];
        assert_eq!(tree.into_iter().map(sorted).collect::<Vec<_>>(), expected);

        // Refined and limited levels: the guests but cid, ordered, each with
        // their latest post.
        let log = QueryLog::attach(conn);
        let guests = Guests.refine(|q| q.filter(users::name.ne("cid")).order(users::name.desc()));
        let tree = r!(orm_core::include(&events[..2], guests.with(Posts.top(1, posts::id.desc())), conn))?;
        assert_eq!(log.count(), 3, "a refined belongs_to_many is two statements, the top one");
        assert_eq!(tree, vec![
            vec![(bob.clone(), vec![b1.clone()]), (ann.clone(), vec![a2.clone()])],
            vec![(bob.clone(), vec![b1.clone()])],
        ]);

        // The same number of statements for 1, 100 and 10,000 roots.
        let more: Vec<NewEvent> = (0..10_000).map(|i| NewEvent { title: format!("e{i}") }).collect();
        let mut roots = r!(Event::create_many(more, conn))?;
        roots.insert(0, events[0].clone());
        for n in [1usize, 100, 10_000] {
            let log = QueryLog::attach(conn);
            let tree = r!(orm_core::include(&roots[..n], Guests.with((Posts.with(Author), ProfileOf)), conn))?;
            assert_eq!(log.count(), 4, "{n} roots");
            assert_eq!(tree.len(), n);
            assert_eq!(tree[0].len(), 2);
            println!("include of {n} events, 3 levels: {} statements", log.count());
        }
        Ok(())
    }

    fn pages_of_rows_and_of_an_association(conn) {
        use orm_core::Paginate;
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        let mut guests = Vec::new();
        for i in 0..23 {
            guests.push(user!(&format!("u{i:02}"), conn)?);
        }
        r!(party.add_guests(&guests[..13], conn))?;
        let log = QueryLog::attach(conn);
        let page = r!(User::query().order(users::name).paginate(2, 10).load_page::<User, _>(conn))?;
        assert_eq!(page.items, guests[10..20].to_vec());
        assert_eq!((page.total, page.page, page.per_page, page.pages()), (23, 2, 10, 3));
        // The count and the page, in one transaction.
        let statements = log.statements();
        assert_eq!(statements.len(), 4, "{statements:?}");
        assert!(statements[1].starts_with("SELECT COUNT(*) FROM (SELECT"), "{statements:?}");
        let last = r!(User::query().order(users::name).paginate(3, 10).load_page::<User, _>(conn))?;
        assert_eq!(last.items, guests[20..].to_vec());
        let past = r!(User::query().paginate(9, 10).load_page::<User, _>(conn))?;
        assert_eq!((past.items.len(), past.total), (0, 23));

        // An association's query, refined.
        let query = party.guests_query().order(users::name.desc());
        let page = r!(query.paginate(1, 5).load_page::<User, _>(conn))?;
        let mut expected: Vec<User> = guests[..13].to_vec();
        expected.reverse();
        assert_eq!(page.items, expected[..5].to_vec());
        assert_eq!(page.total, 13);

        // A page below 1 is an error before any statement runs.
        log.clear();
        assert!(r!(User::query().paginate(0, 10).load_page::<User, _>(conn)).is_err());
        assert!(r!(User::query().paginate(1, 0).load_page::<User, _>(conn)).is_err());
        assert_eq!(log.count(), 0);
        Ok(())
    }

    fn statement_counts(conn) {
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        let mut guests = Vec::new();
        for i in 0..300 {
            guests.push(user!(&format!("u{i}"), conn)?);
        }
        let log = QueryLog::attach(conn);
        assert_eq!(r!(party.add_guests(&guests[..200], conn))?, 200);
        // MySQL, under the parent's lock, first reads which pairs exist, to
        // count only rows inserted.
        let add = if dialect(conn) == orm_core::Dialect::Mysql { 5 } else { 1 };
        assert_eq!(log.count(), add, "add_guests is one INSERT: {:?}", log.statements());
        log.clear();
        r!(party.set_guests(&guests[100..300], conn))?;
        let big = log.count();
        log.clear();
        r!(party.set_guests(&guests[..2], conn))?;
        assert_eq!(log.count(), big, "set takes the same number of statements whatever the size");
        // BEGIN, [lock,] INSERT, DELETE, COMMIT; MySQL reads the keys too.
        let set = match dialect(conn) {
            orm_core::Dialect::Sqlite => 4,
            orm_core::Dialect::Postgres => 5,
            orm_core::Dialect::Mysql => 6,
        };
        assert_eq!(big, set, "{:?}", log.statements());
        log.clear();
        r!(party.guests(conn))?;
        r!(party.count_guests(conn))?;
        r!(party.has_guest(&guests[0], conn))?;
        assert_eq!(log.count(), 3, "reads are one statement each");
        Ok(())
    }

    fn one_row_writes_inside_a_transaction_are_one_statement(conn) {
        let party = r!(Event::create(NewEvent { title: "Party".into() }, conn))?;
        let ada = r!(User::create(NewUser { name: "Ada".into() }, conn))?;
        let log = QueryLog::attach(conn);
        tx!(conn, {
            log.clear();
            assert_eq!(r!(party.add_guest(&ada, conn))?, 1);
            assert_eq!(r!(party.remove_guest(&ada, conn))?, 1);
            assert_eq!(r!(party.add_guest(&ada, conn))?, 1);
            // No savepoint around them: on PostgreSQL the INSERT checks the
            // two rows itself, so it cannot fail on a missing one. (MySQL
            // counts a duplicate ON DUPLICATE KEY leaves alone as written, so
            // its add reads the pair under the parent's lock first.)
            let expected = match dialect(conn) {
                orm_core::Dialect::Mysql => 11,
                _ => 3,
            };
            assert_eq!(log.count(), expected, "{:?}", log.statements());
            if dialect(conn) == orm_core::Dialect::Postgres {
                let insert = &log.statements()[0];
                assert_eq!(insert.matches("FOR KEY SHARE").count(), 2, "{insert}");
            }
            // A missing guest is an Err, and the transaction goes on. (On
            // PostgreSQL the INSERT's own check refuses it, foreign key or not.)
            if foreign_keys() || dialect(conn) == orm_core::Dialect::Postgres {
                assert!(r!(party.add_guest(User::key(ada.id + 1_000), conn)).is_err());
            }
            // Already a guest: nothing written, no error.
            assert_eq!(r!(party.add_guest(&ada, conn))?, 0);
            assert_eq!(r!(party.count_guests(conn))?, 1);
            Ok::<_, orm_core::diesel::result::Error>(())
        })?;
        assert_eq!(r!(party.guests(conn))?, vec![ada]);
        Ok(())
    }
}

/// `add_guest` in a loop finds its prepared statement by type: an INSERT
/// whose query id is static is never rendered to be looked up (the cost
/// that made one-row adds 1.14x diesel's on SQLite).
#[test]
fn a_one_row_add_has_a_static_query_id() {
    use orm_core::assoc::{Guarded, InsertPair, InsertPairs, Plain};
    use orm_core::diesel::query_builder::QueryId;
    use orm_tests::event_associations::Guests;
    assert!(InsertPair::<Guests, Plain>::query_id().is_some());
    assert!(InsertPair::<Guests, Guarded>::query_id().is_some());
    assert_ne!(
        InsertPair::<Guests, Plain>::query_id(),
        InsertPair::<Guests, Guarded>::query_id()
    );
    // Several rows: the SQL depends on their number.
    assert!(InsertPairs::<Guests>::query_id().is_none());
}

/// A `has_*_where` filter in a join over the parent's table, which
/// orm-core's `ParentOf` impl for joins of a model serves (the derive's is
/// for the bare table): novels whose writer has an award.
#[test]
fn a_related_filter_in_a_join_over_the_parents_table() {
    mod schema {
        use orm_core::prelude::*;
        #[derive(Model, Debug, Clone, PartialEq)]
        #[has_many(Novel)]
        #[has_many(Award)]
        pub struct Writer {
            pub id: i32,
            pub name: String,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        pub struct Novel {
            pub id: i32,
            pub writer_id: i32,
            pub title: String,
        }
        #[derive(Model, Debug, Clone, PartialEq)]
        pub struct Award {
            pub id: i32,
            pub writer_id: i32,
        }
        orm_core::diesel::allow_tables_to_appear_in_same_query!(writers, novels);
    }
    use schema::*;
    let conn = &mut orm_core::sqlite::memory().unwrap();
    Schema::new()
        .model::<Writer>()
        .model::<Novel>()
        .model::<Award>()
        .create_all(conn)
        .unwrap();
    let ann = Writer::create(NewWriter { name: "ann".into() }, conn).unwrap();
    let bob = Writer::create(NewWriter { name: "bob".into() }, conn).unwrap();
    for (writer, title) in [(&ann, "Alpha"), (&bob, "Beta")] {
        Novel::create(
            NewNovel {
                writer_id: writer.id,
                title: title.into(),
            },
            conn,
        )
        .unwrap();
    }
    Award::create(NewAward { writer_id: bob.id }, conn).unwrap();
    let titles: Vec<String> = novels::table
        .inner_join(writers::table.on(writers::id.eq(novels::writer_id)))
        .filter(Writer::has_awards_where(|q| q))
        .select(novels::title)
        .load(conn)
        .unwrap();
    assert_eq!(titles, ["Beta"]);
}
