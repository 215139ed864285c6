//! Counting the statements a piece of code runs, for tests and for users
//! who want to assert their own query counts.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};

/// The SQL of every statement a connection ran while the log was attached
/// (including `BEGIN`/`COMMIT` issued by transactions).
#[derive(Clone, Default)]
pub struct QueryLog {
    statements: Arc<Mutex<Vec<String>>>,
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
        self.lock().clone()
    }

    /// How many statements were logged.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Forgets the statements logged so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Runs `f` and returns its result with the number of statements it ran.
    pub fn measure<T>(&self, f: impl FnOnce() -> T) -> (T, usize) {
        let before = self.count();
        let out = f();
        (out, self.count() - before)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Instrumentation for QueryLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            self.lock().push(query.to_string());
        }
    }
}
