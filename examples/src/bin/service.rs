//! A small HTTP API over events and their guests: axum handlers awaiting the
//! generated methods on a deadpool pool of diesel-async connections (SQLite
//! through `SyncConnectionWrapper`, in a file, so it runs without a server).
//!
//! Run with `cargo run -p examples --bin service`; `PORT` (default 3000;
//! `0` picks a free one) and `DATABASE` (default a new file in the temporary
//! directory) configure it. It prints the address it listens on, then:
//!
//! ```text
//! curl -X POST localhost:3000/users  -H 'content-type: application/json' -d '{"name":"Ada"}'
//! curl -X POST localhost:3000/events -H 'content-type: application/json' -d '{"title":"Launch"}'
//! curl -X POST localhost:3000/events/1/guests/1
//! curl -X PUT  localhost:3000/events/1/guests -H 'content-type: application/json' -d '[1]'
//! curl localhost:3000/events/1
//! curl localhost:3000/events
//! ```

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use orm_core::diesel::connection::SimpleConnection;
use orm_core::diesel::result::{DatabaseErrorKind, Error};
use orm_core::diesel::{ConnectionResult, SqliteConnection};
use orm_core::diesel_async::pooled_connection::deadpool::Pool;
use orm_core::diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use orm_core::diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use orm_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Model, Debug, Clone, PartialEq, Serialize)]
#[belongs_to_many(User, through = "rsvps", as = "Guests", other_key = "guest_id")]
pub struct Event {
    pub id: i32,
    pub title: String,
}

#[derive(Model, Debug, Clone, PartialEq, Serialize)]
#[belongs_to_many(Event, through = "rsvps", foreign_key = "guest_id")]
pub struct User {
    pub id: i32,
    pub name: String,
}

type Db = Pool<SyncConnectionWrapper<SqliteConnection>>;

/// An event with its guests, as the API returns it.
#[derive(Serialize)]
struct EventWithGuests {
    #[serde(flatten)]
    event: Event,
    guests: Vec<User>,
}

#[derive(Deserialize)]
struct NewUserBody {
    name: String,
}

#[derive(Deserialize)]
struct NewEventBody {
    title: String,
}

/// A failed request: the status and a JSON `{"error": ..}`.
struct ApiError(StatusCode, String);

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = match &err {
            Error::NotFound => StatusCode::NOT_FOUND,
            // A guest or event that does not exist.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, err.to_string())
    }
}

impl From<orm_core::diesel_async::pooled_connection::deadpool::PoolError> for ApiError {
    fn from(err: orm_core::diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        ApiError(StatusCode::SERVICE_UNAVAILABLE, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.1 }));
        (self.0, body).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn create_user(
    State(db): State<Db>,
    Json(body): Json<NewUserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let mut conn = db.get().await?;
    let user = User::create(NewUser { name: body.name }, &mut conn).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list_users(State(db): State<Db>) -> ApiResult<Json<Vec<User>>> {
    let mut conn = db.get().await?;
    Ok(Json(User::all(&mut conn).await?))
}

async fn create_event(
    State(db): State<Db>,
    Json(body): Json<NewEventBody>,
) -> ApiResult<(StatusCode, Json<Event>)> {
    let mut conn = db.get().await?;
    let event = Event::create(NewEvent { title: body.title }, &mut conn).await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// Every event with its guests: two statements however many events.
async fn list_events(State(db): State<Db>) -> ApiResult<Json<Vec<EventWithGuests>>> {
    let mut conn = db.get().await?;
    let events = Event::all(&mut conn).await?;
    let guests = Event::load_guests(&events, &mut conn).await?;
    let listed = events
        .into_iter()
        .zip(guests)
        .map(|(event, guests)| EventWithGuests { event, guests })
        .collect();
    Ok(Json(listed))
}

async fn show_event(State(db): State<Db>, Path(id): Path<i32>) -> ApiResult<Json<EventWithGuests>> {
    let mut conn = db.get().await?;
    let event = Event::find(id, &mut conn).await?;
    let guests = event.guests(&mut conn).await?;
    Ok(Json(EventWithGuests { event, guests }))
}

/// Adds one guest: `{"added": 1}`, or `0` if they already were one.
async fn add_guest(
    State(db): State<Db>,
    Path((id, user_id)): Path<(i32, i32)>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut conn = db.get().await?;
    let event = Event::find(id, &mut conn).await?;
    let added = event.add_guest(User::key(user_id), &mut conn).await?;
    Ok(Json(serde_json::json!({ "added": added })))
}

async fn remove_guest(
    State(db): State<Db>,
    Path((id, user_id)): Path<(i32, i32)>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut conn = db.get().await?;
    let event = Event::find(id, &mut conn).await?;
    let removed = event.remove_guest(User::key(user_id), &mut conn).await?;
    Ok(Json(serde_json::json!({ "removed": removed })))
}

/// Replaces the guest list with the users of the given ids, in one
/// transaction: `{"added": .., "removed": ..}`.
async fn set_guests(
    State(db): State<Db>,
    Path(id): Path<i32>,
    Json(user_ids): Json<Vec<i32>>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut conn = db.get().await?;
    let event = Event::find(id, &mut conn).await?;
    let keys: Vec<_> = user_ids.into_iter().map(User::key).collect();
    let diff = event.set_guests(keys, &mut conn).await?;
    Ok(Json(
        serde_json::json!({ "added": diff.added, "removed": diff.removed }),
    ))
}

fn app(db: Db) -> Router {
    Router::new()
        .route("/users", post(create_user).get(list_users))
        .route("/events", post(create_event).get(list_events))
        .route("/events/{id}", get(show_event))
        .route("/events/{id}/guests", axum::routing::put(set_guests))
        .route(
            "/events/{id}/guests/{user_id}",
            post(add_guest).delete(remove_guest),
        )
        .with_state(db)
}

/// Opens one pooled connection: foreign keys on (`orm_core::sqlite::open`),
/// WAL so readers do not wait for the writer, and a busy timeout so writers
/// wait for each other instead of failing.
fn connect(
    url: &str,
) -> orm_core::exec::BoxFuture<'_, ConnectionResult<SyncConnectionWrapper<SqliteConnection>>> {
    let url = url.to_owned();
    Box::pin(async move {
        let mut conn = orm_core::sqlite::open(&url)?;
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000")
            .map_err(orm_core::diesel::ConnectionError::CouldntSetupConfiguration)?;
        ConnectionResult::Ok(SyncConnectionWrapper::new(conn))
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::var("DATABASE").unwrap_or_else(|_| {
        let file = format!("orm-service-{}.db", std::process::id());
        std::env::temp_dir()
            .join(file)
            .to_string_lossy()
            .into_owned()
    });
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(connect);
    let manager = AsyncDieselConnectionManager::new_with_config(&database, config);
    let db: Db = Pool::builder(manager).max_size(8).build()?;
    let schema = Schema::new().model::<User>().model::<Event>();
    let mut conn = db.get().await?;
    if schema.check(&mut conn).await?.is_empty() {
        println!("using {database}");
    } else {
        schema.create_all(&mut conn).await?;
        println!("created the tables in {database}");
    }
    drop(conn);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    // The test reads this line to learn the port.
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(db)).await?;
    Ok(())
}
