//! Counting the statements a piece of code runs, for tests and for users
//! who want to assert their own query counts.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};

use crate::exec::{Blocking, ConnKind};

/// A connection whose statements an [`Instrumentation`] can watch, the way
/// kind `K` sets one: diesel's connections, and with the `async` feature
/// diesel-async's. What [`QueryLog::attach`] takes.
pub trait Instrumented<K>: Sized {
    /// Replaces the connection's instrumentation.
    fn instrument(&mut self, instrumentation: impl Instrumentation);
}

impl<C: Connection> Instrumented<Blocking> for C {
    fn instrument(&mut self, instrumentation: impl Instrumentation) {
        self.set_instrumentation(instrumentation);
    }
}

#[cfg(feature = "async")]
impl<C: diesel_async::AsyncConnection> Instrumented<crate::exec::Async> for C {
    fn instrument(&mut self, instrumentation: impl Instrumentation) {
        self.set_instrumentation(instrumentation);
    }
}

/// The SQL of every statement a connection ran while the log was attached
/// (including `BEGIN`/`COMMIT` issued by transactions).
///
/// A connection has one instrumentation, which attaching a log replaces;
/// [`attach_with`](Self::attach_with) passes every event on to another, so
/// that the application's own keeps running. With feature `tracing`, the log
/// also emits `SqlTrace`'s events.
#[derive(Clone, Default)]
pub struct QueryLog {
    statements: Arc<Mutex<Logged>>,
    next: Option<Arc<Mutex<dyn Instrumentation>>>,
    #[cfg(feature = "tracing")]
    trace: SqlTrace,
}

/// The statements kept, and how many were ever logged (which
/// [`QueryLog::clear`] does not reset, so [`QueryLog::measure`] can count
/// across a clear).
#[derive(Default)]
struct Logged {
    kept: Vec<String>,
    total: usize,
}

impl QueryLog {
    /// Attaches a fresh log to `conn`, replacing its instrumentation.
    pub fn attach<C: ConnKind + Instrumented<C::Kind>>(conn: &mut C) -> Self {
        let log = Self::default();
        conn.instrument(log.clone());
        log
    }

    /// Attaches a fresh log to `conn` that passes every event on to `next`
    /// (the application's own instrumentation).
    pub fn attach_with<C: ConnKind + Instrumented<C::Kind>>(
        conn: &mut C,
        next: impl Instrumentation,
    ) -> Self {
        let log = QueryLog {
            next: Some(Arc::new(Mutex::new(next))),
            ..Self::default()
        };
        conn.instrument(log.clone());
        log
    }

    /// The statements logged so far.
    pub fn statements(&self) -> Vec<String> {
        self.lock().kept.clone()
    }

    /// How many statements were logged since the last [`clear`](Self::clear).
    pub fn count(&self) -> usize {
        self.lock().kept.len()
    }

    /// Forgets the statements logged so far.
    pub fn clear(&self) {
        self.lock().kept.clear();
    }

    /// Runs `f` and returns its result with the number of statements it
    /// ran (also when `f` clears the log).
    pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (T, usize) {
        let before = self.lock().total;
        let out = f();
        (out, self.lock().total - before)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Logged> {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Instrumentation for QueryLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = &event {
            let mut logged = self.lock();
            logged.kept.push(query.to_string());
            logged.total += 1;
        }
        // The events are not `Clone`; the trace needs these two.
        #[cfg(feature = "tracing")]
        match &event {
            InstrumentationEvent::StartQuery { query, .. } => self
                .trace
                .on_connection_event(InstrumentationEvent::start_query(*query)),
            InstrumentationEvent::FinishQuery { query, error, .. } => self
                .trace
                .on_connection_event(InstrumentationEvent::finish_query(*query, *error)),
            _ => {}
        }
        if let Some(next) = &self.next {
            next.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .on_connection_event(event);
        }
    }
}

/// Every statement as a `tracing` event (feature `tracing`), target
/// `orm_core::sql`: at DEBUG its SQL and how long it took, at TRACE also its
/// bound values (which may be personal data, hence the lower level); a
/// failed statement at WARN with its error. Nothing is emitted, and little
/// is done, where no subscriber listens at those levels.
///
/// ```
/// # #[cfg(feature = "tracing")] {
/// let mut conn = orm_core::sqlite::memory().unwrap();
/// orm_core::SqlTrace::attach(&mut conn);
/// # }
/// ```
#[cfg(feature = "tracing")]
#[derive(Clone, Default)]
pub struct SqlTrace {
    started: Option<std::time::Instant>,
}

#[cfg(feature = "tracing")]
impl SqlTrace {
    /// Makes `conn` emit its statements, replacing its instrumentation.
    pub fn attach<C: ConnKind + Instrumented<C::Kind>>(conn: &mut C) {
        conn.instrument(SqlTrace::default());
    }
}

#[cfg(feature = "tracing")]
impl Instrumentation for SqlTrace {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if tracing::enabled!(target: "orm_core::sql", tracing::Level::DEBUG) {
                    self.started = Some(std::time::Instant::now());
                }
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(started) = self.started.take() else {
                    return;
                };
                let micros = started.elapsed().as_micros() as u64;
                let text = query.to_string();
                let (sql, binds) = text.split_once(" -- binds: ").unwrap_or((&text, ""));
                match error {
                    Some(error) => {
                        tracing::warn!(target: "orm_core::sql", sql, micros, %error, "statement failed")
                    }
                    None if tracing::enabled!(target: "orm_core::sql", tracing::Level::TRACE) => {
                        tracing::trace!(target: "orm_core::sql", sql, binds, micros, "statement")
                    }
                    None => tracing::debug!(target: "orm_core::sql", sql, micros, "statement"),
                }
            }
            _ => {}
        }
    }
}

/// `body` in the span of one call of a generated method, entered whenever
/// it is polled (feature `tracing`): target `orm_core::call`, level DEBUG,
/// named `call`, with fields `model` (`Event`), `association` (`guests`,
/// empty for the model's own methods) and `method` (`add_all`, `find`), so
/// that the statements [`SqlTrace`] emits during the call are its children.
/// Without the feature, or where no subscriber listens, it costs nothing.
#[inline]
pub(crate) fn traced<F: std::future::Future>(
    model: &'static str,
    association: &'static str,
    method: &'static str,
    body: F,
) -> impl std::future::Future<Output = F::Output> {
    #[cfg(feature = "tracing")]
    {
        let span =
            tracing::debug_span!(target: "orm_core::call", "call", model, association, method);
        tracing::Instrument::instrument(body, span)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (model, association, method);
        body
    }
}
