//! Counters of the PostgreSQL writer, shared with `/health` and `/metrics`.
//!
//! The writer updates them as it goes; readers take a [`PgStatsSnapshot`] at any time from any
//! thread. Plain atomics (relaxed: each counter is read on its own, never as a consistent set),
//! plus a mutex around the last error's text, which changes only on failures.

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    Mutex, PoisonError,
};

use serde::Serialize;

/// Live counters of the PostgreSQL writer.
#[derive(Debug, Default)]
pub(crate) struct PgStats {
    /// Whether the last attempt to reach PostgreSQL succeeded (connected and migrated).
    pub connected: AtomicBool,
    /// Records waiting in memory (including the batch being written, if it came from memory).
    pub queued: AtomicU64,
    /// Records waiting in the on-disk journal.
    pub journal_records: AtomicU64,
    /// Size of the journal's files on disk, in bytes (bounded by `journal_max_bytes`).
    pub journal_bytes: AtomicU64,
    /// Records committed to PostgreSQL.
    pub written: AtomicU64,
    /// Failed attempts to connect, migrate or commit a batch; each one is retried.
    pub write_errors: AtomicU64,
    /// Records PostgreSQL rejected for good (bad data), logged and skipped.
    pub rejected: AtomicU64,
    /// Records lost: the journal was full or unwritable, or a journal line was unreadable.
    pub dropped: AtomicU64,
    /// The most recent error, for humans.
    last_error: Mutex<Option<String>>,
}

/// A copy of [`PgStats`] at one moment, ready to serialise (`camelCase` field names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PgStatsSnapshot {
    /// See [`PgStats::connected`].
    pub connected: bool,
    /// See [`PgStats::queued`].
    pub queued: u64,
    /// See [`PgStats::journal_records`].
    pub journal_records: u64,
    /// See [`PgStats::journal_bytes`].
    pub journal_bytes: u64,
    /// See [`PgStats::written`].
    pub written: u64,
    /// See [`PgStats::write_errors`].
    pub write_errors: u64,
    /// See [`PgStats::rejected`].
    pub rejected: u64,
    /// See [`PgStats::dropped`].
    pub dropped: u64,
    /// The most recent error's text, if any error happened.
    pub last_error: Option<String>,
}

// === impl PgStats ===

impl PgStats {
    /// Reads every counter.
    pub fn snapshot(&self) -> PgStatsSnapshot {
        PgStatsSnapshot {
            connected: self.connected.load(Relaxed),
            queued: self.queued.load(Relaxed),
            journal_records: self.journal_records.load(Relaxed),
            journal_bytes: self.journal_bytes.load(Relaxed),
            written: self.written.load(Relaxed),
            write_errors: self.write_errors.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            last_error: self.last_error(),
        }
    }

    /// The most recent error's text.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records `error` as the most recent error.
    pub(super) fn set_error(&self, error: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    /// Adds `n` to a counter.
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}
