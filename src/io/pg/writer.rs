//! The writer's loop: take records in, reach PostgreSQL (connect, migrate) with backoff, write
//! batches in order, and save what memory holds when the channel closes.
//!
//! One task does it all, so the order of records is never in doubt: it waits on the channel and
//! on one piece of work at a time (a connection attempt, a batch write or a backoff wait), and
//! keeps taking records in while that work is in progress. A shard never waits on the database.

use std::{
    future::Future,
    pin::Pin,
    sync::{atomic::Ordering::Relaxed, Arc},
};

use deadpool_postgres::Pool;
use tokio::sync::mpsc::Receiver;
use tracing::{debug, error, info, warn};

use super::{
    attempt::{self, Failure},
    backlog::{Backlog, Batch},
    backoff::Backoff,
    journal::Journal,
    sql,
    stats::PgStats,
    PgSettings,
};
use crate::io::record::Record;

/// The piece of work in progress.
type Task = Pin<Box<dyn Future<Output = Done> + Send>>;

/// What a [`Task`] ended with.
pub(super) enum Done {
    /// A connection attempt: migrations applied (their versions), or why not.
    Ready(Result<Vec<i32>, Failure>),
    /// A batch write: the batch (with `done` advanced), and whether it all went in.
    Wrote(Batch, Result<(), Failure>),
    /// A backoff wait is over.
    Waited,
}

/// What the loop woke up for.
enum Event {
    Received(Option<Vec<Record>>),
    Done(Done),
}

/// The state of one writer; see the module docs.
pub(super) struct Writer {
    settings: PgSettings,
    stats: Arc<PgStats>,
    backlog: Backlog,
    /// Built on the first connection attempt; it connects lazily.
    pool: Option<Pool>,
    /// Connected and migrated: batches may be written.
    ready: bool,
    /// A batch that failed (or was interrupted) and is retried before anything else.
    pending: Option<Batch>,
    backoff: Backoff,
    /// Failed attempts in a row, to keep the log short during a long outage.
    failures: u32,
}

// === impl Writer ===

impl Writer {
    /// A writer that has not connected yet, with the journal (and what a previous run left in
    /// it) opened.
    pub fn new(settings: PgSettings, stats: Arc<PgStats>) -> Self {
        let journal = match Journal::open(&settings.journal_dir, settings.journal_max_bytes) {
            Ok(journal) => Some(journal),
            Err(e) => {
                error!(
                    error = %e,
                    dir = %settings.journal_dir.display(),
                    "Cannot open the PostgreSQL journal: records that do not fit in memory will be dropped"
                );
                stats.set_error(format!("journal open: {e}"));
                None
            }
        };
        if let Some(j) = journal.as_ref().filter(|j| !j.is_empty()) {
            info!(
                records = j.records(),
                bytes = j.bytes(),
                "Replaying the PostgreSQL journal"
            );
        }
        let backoff = Backoff::new(settings.retry_min, settings.retry_max);
        Self {
            backlog: Backlog::new(settings.queue_max, journal, Arc::clone(&stats)),
            settings,
            stats,
            pool: None,
            ready: false,
            pending: None,
            backoff,
            failures: 0,
        }
    }

    /// Runs until `rx` closes, then writes what memory holds if PostgreSQL is there, saves the
    /// rest to the journal, and returns.
    pub async fn run(mut self, mut rx: Receiver<Vec<Record>>) {
        let mut task: Option<Task> = None;
        let mut writing = false;
        let mut open = true;
        loop {
            if task.is_none() {
                (task, writing) = match self.next_task(open) {
                    Some((t, w)) => (Some(t), w),
                    None if open => (None, false),
                    None => break,
                };
            }
            let event = tokio::select! {
                records = rx.recv(), if open => Event::Received(records),
                done = poll(&mut task) => Event::Done(done),
            };
            match event {
                Event::Received(Some(records)) => self.receive(records, &mut rx),
                Event::Received(None) => {
                    open = false;
                    // A write in progress is finished (it is bounded by io_timeout); a wait or
                    // a connection attempt is abandoned.
                    if !writing {
                        task = None;
                    }
                }
                Event::Done(done) => {
                    task = self.finish(done, open);
                    writing = false;
                }
            }
        }
        self.backlog.save(self.pending.take());
        info!(
            journal_records = self.stats.journal_records.load(Relaxed),
            "PostgreSQL writer stopped"
        );
    }

    /// Queues received records, with whatever else is already in the channel (so a spill to
    /// the journal is one write and one fsync).
    fn receive(&mut self, mut records: Vec<Record>, rx: &mut Receiver<Vec<Record>>) {
        while records.len() < self.settings.batch_max {
            match rx.try_recv() {
                Ok(more) => records.extend(more),
                Err(_) => break,
            }
        }
        self.backlog.push(records);
    }

    /// The next piece of work, and whether it is a write; `None` if there is nothing to do.
    /// Once the channel is closed only memory is written: the journal is already safe on disk.
    fn next_task(&mut self, open: bool) -> Option<(Task, bool)> {
        if !self.ready {
            if !open {
                return None;
            }
            let pool = self.pool()?;
            return Some((Box::pin(attempt::connect(pool)), false));
        }
        let batch = match self.pending.take() {
            Some(batch) if open || batch.is_from_memory() => batch,
            Some(batch) => {
                self.pending = Some(batch);
                return None;
            }
            None if !open && self.backlog.memory_is_empty() => return None,
            None => self.take_batch()?,
        };
        let pool = self.pool.clone()?;
        let write = attempt::write(
            pool,
            batch,
            Arc::clone(&self.stats),
            self.settings.io_timeout,
        );
        Some((Box::pin(write), true))
    }

    /// The next batch from the backlog, without the records [`sql::check`] rejects.
    fn take_batch(&mut self) -> Option<Batch> {
        loop {
            let mut batch = self.backlog.take(self.settings.batch_max)?;
            batch.records.retain(|record| match sql::check(record) {
                Ok(()) => true,
                Err(e) => {
                    attempt::reject(&self.stats, record, &e);
                    false
                }
            });
            if !batch.records.is_empty() {
                return Some(batch);
            }
            self.backlog.confirm(batch);
        }
    }

    /// Acts on finished work; returns a backoff wait after a failure.
    fn finish(&mut self, done: Done, open: bool) -> Option<Task> {
        let failure = match done {
            Done::Waited => return None,
            Done::Ready(Ok(applied)) => {
                self.ready = true;
                self.stats.connected.store(true, Relaxed);
                self.backoff.reset();
                info!(
                    host = %self.settings.host,
                    port = self.settings.port,
                    dbname = %self.settings.dbname,
                    migrations_applied = ?applied,
                    queued = self.stats.queued.load(Relaxed),
                    journal_records = self.stats.journal_records.load(Relaxed),
                    after_failures = self.failures,
                    "PostgreSQL connected"
                );
                self.failures = 0;
                return None;
            }
            Done::Wrote(batch, Ok(())) => {
                self.backlog.confirm(batch);
                self.backoff.reset();
                return None;
            }
            Done::Ready(Err(failure)) => failure,
            Done::Wrote(batch, Err(failure)) => {
                self.pending = Some(batch);
                failure
            }
        };
        // Any failure: reconnect (and re-check migrations) before the next write.
        self.ready = false;
        self.stats.connected.store(false, Relaxed);
        PgStats::add(&self.stats.write_errors, 1);
        self.stats.set_error(failure.to_string());
        self.failures += 1;
        if self.failures == 1 || self.failures.is_multiple_of(20) {
            warn!(
                error = %failure,
                failures = self.failures,
                queued = self.stats.queued.load(Relaxed),
                journal_records = self.stats.journal_records.load(Relaxed),
                "PostgreSQL unavailable; history is queued and retried"
            );
        } else {
            debug!(error = %failure, failures = self.failures, "PostgreSQL still unavailable");
        }
        if !open {
            return None;
        }
        let delay = self.backoff.next_delay();
        Some(Box::pin(async move {
            tokio::time::sleep(delay).await;
            Done::Waited
        }))
    }

    /// The pool, built on first use. `None` (logged) if the settings cannot make one.
    fn pool(&mut self) -> Option<Pool> {
        if self.pool.is_none() {
            match attempt::build_pool(&self.settings) {
                Ok(pool) => self.pool = Some(pool),
                Err(e) => {
                    error!(error = %e, "Invalid PostgreSQL settings; history is only journaled");
                    self.stats.set_error(e.to_string());
                    return None;
                }
            }
        }
        self.pool.clone()
    }
}

/// Awaits the task in progress, or never if there is none.
async fn poll(task: &mut Option<Task>) -> Done {
    match task {
        Some(task) => task.as_mut().await,
        None => std::future::pending().await,
    }
}
