//! PostgreSQL history: migrations, batched writes, and no data lost while the database is away.
//!
//! [`run`] is the PostgreSQL writer of the I/O thread. Shards send it [`Record`] batches over a
//! bounded `tokio::sync::mpsc` channel and never wait for the database. It:
//!
//! 1. opens the spill journal in `journal_dir` (records a previous run could not write are
//!    replayed first);
//! 2. connects (deadpool over tokio-postgres, no TLS) and applies the migrations of
//!    `migrations/` (see [`migrate`]); while PostgreSQL is unreachable it keeps retrying with
//!    jittered exponential backoff (`retry_min` doubling up to `retry_max`, 100 ms → 5 s by
//!    default), and the server runs normally meanwhile;
//! 3. writes batches of up to `batch_max` records, each in one transaction with one
//!    parameterised statement per table (see [`sql`] for which record goes to which table).
//!
//! # Order and durability
//!
//! Records are written in the order they were received (so per match too): one batch at a time,
//! rows inserted in batch order. What is not written yet waits in a memory queue of at most
//! `queue_max` records; past that, records are appended to the journal (JSON lines of
//! [`Record`], fsynced after each append) and, once the journal holds anything, every new record
//! goes there too until it is drained. Batches come from memory first, then from the journal,
//! so the original order survives any outage. When the channel closes, whatever is in memory is
//! written if PostgreSQL is up, and otherwise saved at the head of the journal for the next
//! start.
//!
//! A batch that fails is retried until it goes in (a transient error is never a reason to drop
//! data). A record PostgreSQL refuses for good (SQLSTATE class 21, 22 or 23, or a value
//! [`sql`] knows it would refuse) is logged at error level with the error, counted in
//! [`PgStats::rejected`] and skipped, so one bad record never blocks the queue.
//!
//! # Bounds, and what happens past them
//!
//! Memory holds at most `queue_max` records (plus the batch being written). The journal holds at
//! most `journal_max_bytes` bytes on disk. If both are full, new records are **dropped**: counted
//! in [`PgStats::dropped`] and reported at error level (at most every 10 s, with the count).
//! A record is a few hundred bytes of JSON, so the default 1 GiB holds millions of records:
//! hours of a busy feed. `journal_max_bytes = 0` disables the journal (overflow is dropped).
//!
//! Delivery is at least once: a batch whose commit was interrupted, or journal records that
//! were written just before a crash, can be written twice. The memory queue does not survive a
//! crash (`kill -9`, power loss); the journal does.

mod attempt;
mod backlog;
mod backoff;
mod journal;
mod migrate;
mod sql;
mod stats;
mod writer;

#[cfg(test)]
mod tests;

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use tokio::sync::mpsc::Receiver;

pub(crate) use stats::PgStats;
#[cfg(test)]
pub(crate) use stats::PgStatsSnapshot;

use crate::{
    config::{PostgresConfig, StorageConfig},
    io::record::Record,
};

/// The journal's directory under `storage.data_dir`.
pub(crate) const JOURNAL_DIR: &str = "pg-journal";

/// Everything the PostgreSQL writer needs to know.
#[derive(Clone)]
pub(crate) struct PgSettings {
    /// Server host name, address, or a directory holding its unix socket.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Database name.
    pub dbname: String,
    /// User name.
    pub user: String,
    /// Password (redacted in `Debug`).
    pub password: String,
    /// Most pooled connections. Batches are written one at a time (that keeps their order), so
    /// one connection is busy at a time; the others are spares.
    pub pool_size: usize,
    /// Most records written in one transaction.
    pub batch_max: usize,
    /// Most records waiting in memory before they spill to the journal.
    pub queue_max: usize,
    /// Directory of the spill journal.
    pub journal_dir: PathBuf,
    /// Most bytes the journal holds on disk; past it records are dropped (0 = no journal).
    pub journal_max_bytes: u64,
    /// First wait after a failed attempt; the wait doubles after each failure in a row.
    pub retry_min: Duration,
    /// Longest wait between attempts.
    pub retry_max: Duration,
    /// Connecting, and each batch's transaction, are abandoned (and retried) after this long.
    pub io_timeout: Duration,
}

// === impl PgSettings ===

impl PgSettings {
    /// The writer's settings from the `[postgres]` and `[storage]` sections: the journal lives
    /// in `<data_dir>/pg-journal`, attempts are retried after 100 ms doubling up to 5 s, and an
    /// attempt times out after 30 s.
    pub fn from_config(postgres: &PostgresConfig, storage: &StorageConfig) -> Self {
        Self {
            host: postgres.host.clone(),
            port: postgres.port,
            dbname: postgres.dbname.clone(),
            user: postgres.user.clone(),
            password: postgres.password.clone(),
            pool_size: postgres.pool_size,
            batch_max: postgres.batch_max,
            queue_max: postgres.queue_max,
            journal_dir: storage.data_dir.join(JOURNAL_DIR),
            journal_max_bytes: storage.journal_max_bytes,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            io_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("pool_size", &self.pool_size)
            .field("batch_max", &self.batch_max)
            .field("queue_max", &self.queue_max)
            .field("journal_dir", &self.journal_dir)
            .field("journal_max_bytes", &self.journal_max_bytes)
            .field("retry_min", &self.retry_min)
            .field("retry_max", &self.retry_max)
            .field("io_timeout", &self.io_timeout)
            .finish()
    }
}

/// Writes every record received on `rx` to PostgreSQL, in order, surviving database outages
/// (see the module docs). Runs on the I/O thread's tokio runtime (it needs the `time` driver;
/// the future is `Send` and needs no `LocalSet`) until every sender of `rx` is dropped; it then
/// writes or journals what memory still holds and returns, so await it at shutdown.
///
/// `stats` is updated as it goes; read it with [`PgStats::snapshot`].
pub(crate) async fn run(settings: PgSettings, rx: Receiver<Vec<Record>>, stats: Arc<PgStats>) {
    let settings = PgSettings {
        batch_max: settings.batch_max.max(1),
        ..settings
    };
    writer::Writer::new(settings, stats).run(rx).await;
}
