//! What a soak or a benchmark prints: human lines on standard output, or one JSON object
//! (`--json`), and a progress line on standard error once a second.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::task::JoinHandle;

/// The figures and summary lines of one soak or benchmark.
#[derive(Debug)]
pub(crate) struct Report {
    fields: Map<String, Value>,
    lines: Vec<String>,
}

impl Report {
    /// A report for `mode`.
    pub(crate) fn new(mode: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("mode".to_owned(), Value::from(mode));
        Self {
            fields,
            lines: Vec::new(),
        }
    }

    /// Records a count.
    pub(crate) fn count(&mut self, name: &str, value: u64) {
        self.fields.insert(name.to_owned(), Value::from(value));
    }

    /// Records a figure with decimals (rounded to four).
    pub(crate) fn float(&mut self, name: &str, value: f64) {
        let rounded = (value * 10_000.0).round() / 10_000.0;
        self.fields.insert(name.to_owned(), Value::from(rounded));
    }

    /// Records a yes/no figure.
    pub(crate) fn flag(&mut self, name: &str, value: bool) {
        self.fields.insert(name.to_owned(), Value::from(value));
    }

    /// Records a duration in seconds.
    pub(crate) fn seconds(&mut self, name: &str, value: Duration) {
        self.float(name, value.as_secs_f64());
    }

    /// Records the first errors (also in the human summary).
    pub(crate) fn errors(&mut self, errors: &[String]) {
        for error in errors {
            self.lines.push(format!("  error: {error}"));
        }
        self.fields
            .insert("first_errors".to_owned(), Value::from(errors.to_vec()));
    }

    /// Adds a line to the human summary.
    pub(crate) fn line(&mut self, line: String) {
        self.lines.push(line);
    }

    /// Prints the summary (or the JSON object, on one line).
    pub(crate) fn print(&self, json: bool) {
        if json {
            println!("{}", Value::Object(self.fields.clone()));
        } else {
            for line in &self.lines {
                println!("{line}");
            }
        }
    }
}

/// Prints `status()` on standard error once a second, until aborted.
pub(crate) fn progress(
    mode: &'static str,
    status: impl Fn() -> String + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            eprintln!("{mode}: {}", status());
        }
    })
}

/// Errors counted by many tasks at once, the first ten kept word for word.
#[derive(Debug, Default)]
pub(crate) struct ErrorLog {
    count: AtomicUsize,
    first: Mutex<Vec<String>>,
}

impl ErrorLog {
    /// How many messages are kept.
    const KEPT: usize = 10;

    /// Counts an error, keeping its message if it is among the first.
    pub(crate) fn add(&self, message: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        if first.len() < Self::KEPT {
            first.push(message);
        }
    }

    /// How many errors there were.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// The first messages.
    pub(crate) fn first(&self) -> Vec<String> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
