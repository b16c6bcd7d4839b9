//! Support for the writer tests: a writer on its own thread, temp journals, records.

#[path = "../../../../tests/common/pg.rs"]
pub(super) mod harness;

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use crate::io::pg::{run, PgSettings, PgStats, PgStatsSnapshot};
pub(super) use crate::io::record::{Record, SelectionPrice};
pub(super) use harness::Pg;

/// A writer running on its own thread, like on the I/O thread.
pub(super) struct Writer {
    tx: Option<mpsc::Sender<Vec<Record>>>,
    stats: Arc<PgStats>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(settings: PgSettings) -> Self {
        // The writer's log, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("inplay=debug")
            .try_init();
        let stats = Arc::new(PgStats::default());
        let (tx, rx) = mpsc::channel(64);
        let thread_stats = Arc::clone(&stats);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(run(settings, rx, thread_stats));
        });
        Self {
            tx: Some(tx),
            stats,
            thread: Some(thread),
        }
    }

    pub(super) fn send(&self, records: Vec<Record>) {
        let tx = self.tx.as_ref().expect("writer running");
        tx.blocking_send(records).expect("writer alive");
    }

    pub(super) fn stats(&self) -> PgStatsSnapshot {
        self.stats.snapshot()
    }

    /// Waits until `done` holds on the stats (panics after 30 s).
    pub(super) fn wait(
        &self,
        what: &str,
        done: impl Fn(&PgStatsSnapshot) -> bool,
    ) -> PgStatsSnapshot {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stats = self.stats();
            if done(&stats) {
                return stats;
            }
            assert!(Instant::now() < deadline, "{what}: not reached: {stats:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes the channel and waits for the writer to return.
    pub(super) fn stop(mut self) -> PgStatsSnapshot {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            thread.join().expect("writer thread");
        }
        self.stats()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A fresh directory for a journal, removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("inplay-pg-journal-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    pub(super) fn is_empty(&self) -> bool {
        std::fs::read_dir(&self.0).map_or(true, |mut d| d.next().is_none())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Settings for `pg`, with short retries so outages end quickly in tests.
pub(super) fn settings(pg: &Pg, journal: &TempDir) -> PgSettings {
    PgSettings {
        host: "127.0.0.1".into(),
        port: pg.port(),
        dbname: harness::DB.into(),
        user: "postgres".into(),
        password: "unused: trust authentication".into(),
        pool_size: 2,
        batch_max: 50,
        queue_max: 10_000,
        journal_dir: journal.path().to_owned(),
        journal_max_bytes: 1 << 30,
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(300),
        io_timeout: Duration::from_secs(5),
    }
}

pub(super) const AT: i64 = 1_700_000_000_000; // 2023-11-14 22:13:20 UTC

pub(super) fn score(match_id: &str, seq: u64) -> Record {
    Record::Score {
        match_id: match_id.into(),
        home: (seq / 10) as u32,
        away: 0,
        period: "2nd Half".into(),
        status: "live".into(),
        seq,
        at_ms: AT + seq as i64,
    }
}

pub(super) fn scores(match_id: &str, seqs: std::ops::Range<u64>) -> Vec<Record> {
    seqs.map(|seq| score(match_id, seq)).collect()
}

pub(super) fn market(seq: u64, status: &str, home: Option<f64>) -> Record {
    let price = |selection: &str, best: Option<f64>| SelectionPrice {
        selection: selection.into(),
        best,
        best_provider: best.map(|_| "demo-alpha".into()),
        prices: Vec::new(),
    };
    Record::Market {
        match_id: "m1".into(),
        market_id: "m1:total:2.5".into(),
        sport: "soccer".into(),
        event: "Arsenal vs Chelsea".into(),
        market_type: "total".into(),
        line: Some(2.5),
        status: status.into(),
        selections: vec![price("over", home), price("under", Some(2.0))],
        seq,
        at_ms: AT,
    }
}

/// The seqs of `table`'s rows for `match_id`, in insertion (physical) order.
pub(super) fn seqs_in_order(pg: &Pg, table: &str, match_id: &str) -> String {
    pg.query(&format!(
        "SELECT coalesce(string_agg(seq::text, ',' ORDER BY ctid), '') FROM {table} \
         WHERE match_id = '{match_id}'"
    ))
}

pub(super) fn list(seqs: impl Iterator<Item = u64>) -> String {
    seqs.map(|s| s.to_string()).collect::<Vec<_>>().join(",")
}
