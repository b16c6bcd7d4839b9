//! What is waiting to be written: a bounded memory queue, then the on-disk journal.
//!
//! Order is the point. A record goes to memory only while the journal is empty and memory has
//! room; otherwise it is appended to the journal. Batches are taken from memory first, then from
//! the journal. So everything in memory is older than everything in the journal, and records
//! leave in the order they came in, whatever PostgreSQL did in between.

use std::{
    collections::VecDeque,
    sync::{atomic::Ordering::Relaxed, Arc},
    time::{Duration, Instant},
};

use tracing::{error, warn};

use super::{
    journal::{Appended, Chunk, Journal},
    stats::PgStats,
};
use crate::io::record::Record;

/// Records taken out of the backlog to be written together.
#[derive(Debug)]
pub(super) struct Batch {
    /// The records, in order.
    pub records: Vec<Record>,
    /// How many of `records` are written (or skipped as rejected); a retry starts here.
    pub done: usize,
    /// Where they came from, to confirm them there once written.
    source: Source,
}

// === impl Batch ===

impl Batch {
    /// Whether the records came from memory (rather than from the journal, where they stay
    /// until confirmed).
    pub fn is_from_memory(&self) -> bool {
        matches!(self.source, Source::Memory)
    }
}

#[derive(Debug)]
enum Source {
    Memory,
    Journal(Chunk),
}

/// The memory queue and the journal of one writer.
#[derive(Debug)]
pub(super) struct Backlog {
    memory: VecDeque<Record>,
    /// Most records in memory, counting a batch taken from memory and not yet written.
    queue_max: usize,
    /// Records of the memory batch being written.
    in_flight: usize,
    /// `None` if the journal directory could not be opened: overflow is then dropped.
    journal: Option<Journal>,
    stats: Arc<PgStats>,
    /// Drop reports are rate limited: records dropped since the last report, and when that was.
    unreported_drops: u64,
    reported_at: Option<Instant>,
}

/// Shortest interval between two error lines about dropped records.
const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(10);

// === impl Backlog ===

impl Backlog {
    /// An empty memory queue in front of `journal` (which may hold records of a previous run).
    pub fn new(queue_max: usize, journal: Option<Journal>, stats: Arc<PgStats>) -> Self {
        let backlog = Self {
            memory: VecDeque::new(),
            queue_max,
            in_flight: 0,
            journal,
            stats,
            unreported_drops: 0,
            reported_at: None,
        };
        backlog.publish();
        backlog
    }

    /// Queues `records` behind everything already waiting.
    pub fn push(&mut self, records: Vec<Record>) {
        let mut records = records.into_iter();
        if self.journal_is_empty() {
            let room = self
                .queue_max
                .saturating_sub(self.memory.len() + self.in_flight);
            self.memory.extend(records.by_ref().take(room));
        }
        let overflow: Vec<Record> = records.collect();
        if !overflow.is_empty() {
            if self.journal_is_empty() {
                warn!(
                    queue_max = self.queue_max,
                    "PostgreSQL writer's memory queue is full; spilling to the journal"
                );
            }
            let appended = match self.journal.as_mut() {
                Some(journal) => journal.append(&overflow),
                None => Appended {
                    dropped: overflow.len() as u64,
                    ..Appended::default()
                },
            };
            self.account(appended);
        }
        self.publish();
    }

    /// The next batch of up to `max` records: from memory if it has any, else from the journal.
    /// `None` if nothing is waiting.
    pub fn take(&mut self, max: usize) -> Option<Batch> {
        if !self.memory.is_empty() {
            let n = max.min(self.memory.len());
            let records: Vec<Record> = self.memory.drain(..n).collect();
            self.in_flight = records.len();
            self.publish();
            return Some(Batch {
                records,
                done: 0,
                source: Source::Memory,
            });
        }
        let journal = self.journal.as_mut()?;
        while !journal.is_empty() {
            let chunk = match journal.read(max) {
                Ok(chunk) => chunk,
                Err(e) => {
                    // Left in place: the next attempt reads it again.
                    error!(error = %e, "Cannot read the PostgreSQL journal");
                    self.stats.set_error(format!("journal read: {e}"));
                    return None;
                }
            };
            if chunk.unreadable > 0 {
                PgStats::add(&self.stats.dropped, chunk.unreadable);
                error!(lines = chunk.unreadable, "Unreadable journal lines dropped");
            }
            if chunk.records.is_empty() {
                // Nothing but unreadable lines: confirm them and read on.
                journal.commit(&chunk);
                continue;
            }
            let mut chunk = chunk;
            let records = std::mem::take(&mut chunk.records);
            return Some(Batch {
                records,
                done: 0,
                source: Source::Journal(chunk),
            });
        }
        self.publish();
        None
    }

    /// Confirms a batch written completely: it leaves the backlog for good.
    pub fn confirm(&mut self, batch: Batch) {
        match batch.source {
            Source::Memory => self.in_flight = 0,
            Source::Journal(chunk) => {
                if let Some(journal) = self.journal.as_mut() {
                    journal.commit(&chunk);
                }
            }
        }
        self.publish();
    }

    /// Saves what only memory holds (the unwritten rest of `pending`, if it came from memory,
    /// then the memory queue) to the journal, ahead of what the journal already has, so that the
    /// next start writes it first. Called when the writer stops.
    pub fn save(&mut self, pending: Option<Batch>) {
        let mut records: Vec<Record> = Vec::new();
        if let Some(batch) = pending {
            if matches!(batch.source, Source::Memory) {
                records.extend(batch.records.into_iter().skip(batch.done));
            }
        }
        self.in_flight = 0;
        records.extend(self.memory.drain(..));
        if records.is_empty() {
            return;
        }
        let appended = match self.journal.as_mut() {
            Some(journal) => journal.prepend(&records),
            None => Appended {
                dropped: records.len() as u64,
                ..Appended::default()
            },
        };
        self.reported_at = None; // always report a loss at shutdown
        self.account(appended);
        self.publish();
    }

    /// Whether memory holds anything (including a batch being written).
    pub fn memory_is_empty(&self) -> bool {
        self.memory.is_empty() && self.in_flight == 0
    }

    fn journal_is_empty(&self) -> bool {
        self.journal.as_ref().is_none_or(Journal::is_empty)
    }

    /// Counts and reports what an append dropped.
    fn account(&mut self, appended: Appended) {
        if appended.dropped == 0 {
            return;
        }
        PgStats::add(&self.stats.dropped, appended.dropped);
        self.unreported_drops += appended.dropped;
        if let Some(e) = &appended.error {
            self.stats.set_error(format!("journal write: {e}"));
        }
        let due = self
            .reported_at
            .is_none_or(|at| at.elapsed() >= DROP_REPORT_INTERVAL);
        if due || appended.error.is_some() {
            let (max_bytes, bytes) = match &self.journal {
                Some(j) => (j.max_bytes(), j.bytes()),
                None => (0, 0),
            };
            error!(
                dropped = self.unreported_drops,
                dropped_total = self.stats.dropped.load(Relaxed),
                journal_bytes = bytes,
                journal_max_bytes = max_bytes,
                error = appended.error.as_ref().map(ToString::to_string),
                "PostgreSQL history records dropped: memory queue full and journal full or unwritable"
            );
            self.unreported_drops = 0;
            self.reported_at = Some(Instant::now());
        }
    }

    /// Updates the queue gauges.
    fn publish(&self) {
        let queued = (self.memory.len() + self.in_flight) as u64;
        self.stats.queued.store(queued, Relaxed);
        let (records, bytes) = self
            .journal
            .as_ref()
            .map_or((0, 0), |j| (j.records(), j.bytes()));
        self.stats.journal_records.store(records, Relaxed);
        self.stats.journal_bytes.store(bytes, Relaxed);
    }
}
