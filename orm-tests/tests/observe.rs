//! Statements as `tracing` events, and a `QueryLog` that composes with the
//! application's own instrumentation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use orm_core::diesel::connection::InstrumentationEvent;
use orm_core::prelude::*;
use orm_core::{QueryLog, SqlTrace};
use orm_tests::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TraceEvent, Level, Metadata, Subscriber};

type Fields = BTreeMap<String, String>;

/// Collects the events at `max` and above, each as its fields with the
/// span it happened in (`span`: `model.association.method`).
struct Collect {
    max: Level,
    events: Arc<Mutex<Vec<Fields>>>,
    /// Each span's name, by id (one more than its index).
    spans: Mutex<Vec<String>>,
    /// The spans entered, innermost last.
    current: Mutex<Vec<u64>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

impl Subscriber for Collect {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let ours = ["orm_core::sql", "orm_core::call"].contains(&metadata.target());
        ours && *metadata.level() <= self.max
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields::new();
        span.record(&mut Visitor(&mut fields));
        let name =
            ["model", "association", "method"].map(|f| fields.get(f).cloned().unwrap_or_default());
        let mut spans = self.spans.lock().unwrap();
        spans.push(name.join("."));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &TraceEvent<'_>) {
        let mut fields = Fields::new();
        fields.insert("level".into(), event.metadata().level().to_string());
        event.record(&mut Visitor(&mut fields));
        let span = match self.current.lock().unwrap().last() {
            Some(&id) => self.spans.lock().unwrap()[id as usize - 1].clone(),
            None => String::new(),
        };
        fields.insert("span".into(), span);
        self.events.lock().unwrap().push(fields);
    }
    fn enter(&self, span: &Id) {
        self.current.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.current.lock().unwrap().pop();
    }
}

fn traced<T>(max: Level, f: impl FnOnce() -> T) -> (T, Vec<Fields>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let collect = Collect {
        max,
        events: events.clone(),
        spans: Mutex::new(Vec::new()),
        current: Mutex::new(Vec::new()),
    };
    let out = tracing::subscriber::with_default(collect, f);
    let events = events.lock().unwrap().clone();
    (out, events)
}

fn workload(conn: &mut SqliteConnection) -> QueryResult<()> {
    let party = Event::create(
        NewEvent {
            title: "Party".into(),
        },
        conn,
    )?;
    let ada = User::create(NewUser { name: "Ada".into() }, conn)?;
    party.add_guest(&ada, conn)?;
    assert_eq!(party.guests(conn)?, vec![ada]);
    Ok(())
}

#[test]
fn statements_at_debug_without_their_values() -> TestResult {
    let mut conn = sqlite();
    SqlTrace::attach(&mut conn);
    let (result, events) = traced(Level::DEBUG, || workload(&mut conn));
    result?;
    let sql: Vec<&str> = events.iter().map(|e| e["sql"].as_str()).collect();
    assert_eq!(sql.len(), 4, "{events:?}");
    assert!(sql[0].starts_with("INSERT INTO `events`"), "{sql:?}");
    assert!(sql[3].starts_with("SELECT `users`.`id`"), "{sql:?}");
    for event in &events {
        assert_eq!(event["level"], "DEBUG");
        assert!(event["micros"].parse::<u64>().is_ok(), "{event:?}");
        assert!(
            !event.contains_key("binds"),
            "values stay out at DEBUG: {event:?}"
        );
        assert!(!event["sql"].contains("Party"), "{event:?}");
    }
    Ok(())
}

#[test]
fn each_statement_in_the_span_of_its_generated_call() -> TestResult {
    let mut conn = sqlite();
    SqlTrace::attach(&mut conn);
    let (result, events) = traced(Level::DEBUG, || workload(&mut conn));
    result?;
    let spans: Vec<&str> = events.iter().map(|e| e["span"].as_str()).collect();
    // `add_guest` is `add_all` of one, which adds with the default payload.
    assert_eq!(
        spans,
        [
            "Event..create",
            "User..create",
            "Event.guests.add_with",
            "Event.guests.load"
        ],
        "{events:?}"
    );
    Ok(())
}

#[test]
fn values_at_trace_and_failures_at_warn() -> TestResult {
    let mut conn = sqlite();
    SqlTrace::attach(&mut conn);
    let (result, events) = traced(Level::TRACE, || {
        Event::create(
            NewEvent {
                title: "Party".into(),
            },
            &mut conn,
        )?;
        // A guest that does not exist: the foreign key refuses the row.
        Event::find(1, &mut conn)?.add_guest(User::key(404), &mut conn)
    });
    assert!(result.is_err());
    assert_eq!(events[0]["level"], "TRACE");
    assert!(events[0]["binds"].contains("Party"), "{events:?}");
    let failed = events.last().unwrap();
    assert_eq!(failed["level"], "WARN", "{events:?}");
    assert!(failed["error"].contains("FOREIGN KEY"), "{failed:?}");
    Ok(())
}

#[test]
fn nothing_below_the_subscribers_level() -> TestResult {
    let mut conn = sqlite();
    SqlTrace::attach(&mut conn);
    let (result, events) = traced(Level::INFO, || workload(&mut conn));
    result?;
    assert!(events.is_empty(), "{events:?}");
    Ok(())
}

#[test]
fn a_query_log_passes_events_on_and_keeps_tracing() -> TestResult {
    let mut conn = sqlite();
    let seen = Arc::new(Mutex::new(0usize));
    let counter = seen.clone();
    // The application's own instrumentation: counts statements.
    let own = move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            *counter.lock().unwrap() += 1;
        }
    };
    let log = QueryLog::attach_with(&mut conn, own);
    let (result, events) = traced(Level::DEBUG, || workload(&mut conn));
    result?;
    assert_eq!(log.count(), 4);
    assert_eq!(
        *seen.lock().unwrap(),
        4,
        "the application's instrumentation still runs"
    );
    assert_eq!(events.len(), 4, "and so does tracing");
    Ok(())
}
