//! A join model with payload: seed 000's Users and Projects through
//! UserProjects, whose rows carry a `status`.
//! Run with `cargo run -p examples --bin through_payload`.

use orm_core::prelude::*;
use orm_core::QueryLog;

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(Project, through = UserProject)]
pub struct User {
    pub id: i32,
    pub name: String,
}

#[derive(Model, Debug, Clone, PartialEq)]
#[belongs_to_many(User, through = UserProject, as = "Workers")]
pub struct Project {
    pub id: i32,
    pub name: String,
}

/// The join model: the two keys are its primary key, `status` is payload,
/// and the timestamps are set when a row is written.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(user_id, project_id), timestamps)]
#[belongs_to(User)]
#[belongs_to(Project)]
pub struct UserProject {
    pub user_id: i32,
    pub project_id: i32,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What plain `add_project` writes, as a Sequelize `defaultValue`.
impl Default for UserProjectPayload {
    fn default() -> Self {
        UserProjectPayload {
            status: "invited".into(),
        }
    }
}

fn status(status: &str) -> UserProjectPayload {
    UserProjectPayload {
        status: status.into(),
    }
}

fn main() -> QueryResult<()> {
    let mut conn = orm_core::sqlite::memory().expect("in-memory SQLite");
    Schema::new()
        .model::<User>()
        .model::<Project>()
        .model::<UserProject>()
        .create_all(&mut conn)?;
    let ada = User::create(NewUser { name: "Ada".into() }, &mut conn)?;
    let bob = User::create(NewUser { name: "Bob".into() }, &mut conn)?;
    let [orm, docs, site] = ["orm", "docs", "site"].map(|name| {
        Project::create(NewProject { name: name.into() }, &mut conn).expect("insert a project")
    });

    // user.addProject(project, { through: { status: 'started' } })
    ada.add_project_with(&orm, status("started"), &mut conn)?;
    // Adding the pair again with a new status updates its row.
    ada.add_project_with(&orm, status("finished"), &mut conn)?;
    // Without a payload: the default, and an existing row is left alone.
    ada.add_projects(&[orm.clone(), docs.clone()], &mut conn)?;

    // setProjects(projects, { through: defaults }) with a per-project override.
    bob.set_projects_with(
        std::slice::from_ref(&docs),
        status("reviewing"),
        &[(site.key(), status("started"))],
        &mut conn,
    )?;

    let log = QueryLog::attach(&mut conn);
    for (project, row) in ada.projects_with_through(&mut conn)? {
        println!(
            "Ada / {}: {} (since {})",
            project.name, row.status, row.created_at
        );
    }
    println!("(one statement: {})", log.statements()[0]);

    // Filter and order on the join table's columns, with typed expressions.
    let started: Vec<(User, UserProject)> = site
        .workers_through()
        .filter(user_projects::status.eq("started"))
        .order(users::name.asc())
        .load(&mut conn)?;
    println!(
        "started on site: {:?}",
        started.iter().map(|(u, _)| &u.name).collect::<Vec<_>>()
    );
    let reviewing: i64 = docs
        .workers_through()
        .filter(user_projects::status.eq("reviewing"))
        .count()
        .get_result(&mut conn)?;
    println!("reviewing docs: {reviewing}");

    // Only the chosen join columns (joinTableAttributes).
    let statuses: Vec<(User, (String,))> = docs
        .workers_through()
        .select_through((user_projects::status,))
        .order(users::name.asc())
        .load(&mut conn)?;
    println!("docs: {statuses:?}");

    // The join row is a model: save it directly.
    let mut row = UserProject::find((ada.id, docs.id), &mut conn)?;
    row.status = "started".into();
    row.save(&mut conn)?;

    // Eager: every project's workers with their rows, in one statement.
    log.clear();
    let projects = [orm, docs, site];
    let workers = Project::load_workers_with_through(&projects, &mut conn)?;
    for (project, workers) in projects.iter().zip(&workers) {
        let names: Vec<String> = workers
            .iter()
            .map(|(u, row)| format!("{} ({})", u.name, row.status))
            .collect();
        println!("{}: {}", project.name, names.join(", "));
    }
    println!("eager loading took {} statement(s)", log.count());
    Ok(())
}
