//! Counting the statements a piece of code runs, for tests and for users
//! who want to assert their own query counts.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};

/// The SQL of every statement a connection ran while the log was attached
/// (including `BEGIN`/`COMMIT` issued by transactions).
#[derive(Clone, Default)]
pub struct QueryLog {
    statements: Arc<Mutex<Logged>>,
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
    pub fn attach<C: Connection>(conn: &mut C) -> Self {
        let log = Self::default();
        conn.set_instrumentation(log.clone());
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
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let mut logged = self.lock();
            logged.kept.push(query.to_string());
            logged.total += 1;
        }
    }
}
