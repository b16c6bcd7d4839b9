//! The I/O thread: the one place that talks to Redis and PostgreSQL.
//!
//! It is a plain thread (not a shard) running a tokio `current_thread` runtime. Shards never
//! wait on it for an answer: each shard collects what a batch of changes means for the outside
//! world (cache entries, publishes, history records) and a shard task ships it over bounded
//! channels, created here before the shards start:
//!
//! - Redis batches go over a small channel; when it is full (Redis slow or away) the batch is
//!   dropped and counted. The cache and the publishes are best-effort by nature, the server keeps
//!   serving from memory.
//! - History records go over a channel the shard awaits (never drops); the PostgreSQL writer
//!   drains it into its own bounded queue and on-disk journal, so nothing is lost while the
//!   database is away.
//!
//! Messages arriving from Redis (external `PUBLISH match:<id>`, other nodes' changes) go the
//! other way, to every shard with WebSocket sessions, through the shards' inboxes.

pub(crate) mod fetch;
mod lease;
pub(crate) mod pg;
mod record;
mod redis;
mod report;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use tokio::sync::mpsc;
use tracing::{info, warn};

pub(crate) use lease::Leases;
pub(crate) use record::{ProviderQuote, Record, SelectionPrice};
pub(crate) use redis::{relay as redis_relay, CacheSet, RedisBatch, RedisSettings};

use crate::{error::StartError, shard::ShardMsg};

/// Redis batches waiting for the I/O thread, per process. Each is one shard flush.
const REDIS_QUEUE: usize = 256;
/// Record batches waiting for the I/O thread (the PostgreSQL writer queues far more itself).
const RECORD_QUEUE: usize = 256;

/// What the I/O thread connects to.
#[derive(Debug, Clone)]
pub(crate) struct IoSettings {
    pub redis: Option<redis::RedisSettings>,
    pub postgres: Option<pg::PgSettings>,
}

/// Cache TTLs by kind of data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheTtls {
    pub score: Duration,
    pub markets: Duration,
    pub market: Duration,
    pub settlement: Duration,
}

/// What a shard holds to reach the I/O thread (`Send`, cloned into every shard).
#[derive(Debug, Clone)]
pub(crate) struct IoHandle {
    /// Redis batches; `None` when Redis is off.
    pub redis: Option<mpsc::Sender<RedisBatch>>,
    /// History records; `None` when PostgreSQL is off.
    pub records: Option<mpsc::Sender<Vec<Record>>>,
    /// Cache TTLs.
    pub ttls: CacheTtls,
    /// How often changed market lists are re-cached.
    pub markets_refresh: Duration,
    /// This node's name (`origin` of its published messages).
    pub node_id: Arc<str>,
    /// Which polling tasks this node may run.
    pub leases: Arc<Leases>,
    /// Counters shown by `/health` and `/metrics`.
    pub stats: Arc<IoStats>,
    /// The PostgreSQL writer's counters (all zero when PostgreSQL is off).
    pub pg_stats: Arc<pg::PgStats>,
    /// Provider fetches; `None` when no provider is configured.
    pub fetch: Option<mpsc::Sender<fetch::FetchJob>>,
}

/// The I/O thread's counters. Written by the I/O thread, read at scrape; never touched per
/// request.
#[derive(Debug, Default)]
pub(crate) struct IoStats {
    /// Whether the command connection to Redis works (last command succeeded).
    pub redis_connected: AtomicBool,
    /// Whether the subscription connection is up and subscribed.
    pub redis_subscribed: AtomicBool,
    /// Redis commands sent (SET, PUBLISH, lease commands).
    pub redis_commands: AtomicU64,
    /// Failed Redis round trips.
    pub redis_errors: AtomicU64,
    /// Redis batches dropped because the queue was full or Redis failed.
    pub redis_dropped: AtomicU64,
    /// Messages from Redis relayed to WebSocket sessions.
    pub redis_relayed: AtomicU64,
    /// Messages from Redis that could not be understood (not JSON, wrong shape).
    pub redis_bad_messages: AtomicU64,
    /// Redis batches queued for the I/O thread right now.
    pub redis_queue: AtomicUsize,
    /// Record batches the shards could not hand over (shard-side bound reached).
    pub records_dropped: AtomicU64,
    /// History records handed to the I/O thread, by kind: score changes (`live_scores` rows),
    /// market changes (`market_history` rows), settlements (`settlements` rows).
    pub sent_scores: AtomicU64,
    pub sent_markets: AtomicU64,
    pub sent_settlements: AtomicU64,
    /// Provider HTTP requests made (retries included), and fetches that got no response.
    pub fetches: AtomicU64,
    pub fetch_errors: AtomicU64,
}

/// The receiving ends, moved into the thread by [`spawn`].
pub(crate) struct IoParts {
    settings: IoSettings,
    pg_stats: Arc<pg::PgStats>,
    redis_rx: Option<mpsc::Receiver<RedisBatch>>,
    records_rx: Option<mpsc::Receiver<Vec<Record>>>,
    fetch_rx: Option<mpsc::Receiver<fetch::FetchJob>>,
    stats: Arc<IoStats>,
    leases: Arc<Leases>,
    node_id: Arc<str>,
}

/// The running I/O thread.
pub(crate) struct IoThread {
    handle: Option<JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// This node's id: the configured one, or `<hostname>-<pid>`.
pub(crate) fn node_id(configured: &str) -> Arc<str> {
    if !configured.is_empty() {
        return configured.into();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "inplay".into());
    format!("{host}-{}", std::process::id()).into()
}

/// Creates the channels between the shards and the I/O thread. `task_ids` are every polling
/// task this node could run (each gets a lease when Redis is on); `fetches` says whether any
/// provider is configured (then the I/O thread runs the HTTP client).
pub(crate) fn channels(
    settings: IoSettings,
    ttls: CacheTtls,
    markets_refresh: Duration,
    node_id: Arc<str>,
    task_ids: Vec<String>,
    fetches: bool,
) -> (IoHandle, IoParts) {
    let stats = Arc::new(IoStats::default());
    let leases = Arc::new(Leases::new(task_ids, settings.redis.is_some()));
    let (redis_tx, redis_rx) = match settings.redis {
        Some(_) => {
            let (tx, rx) = mpsc::channel(REDIS_QUEUE);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let (records_tx, records_rx) = match settings.postgres {
        Some(_) => {
            let (tx, rx) = mpsc::channel(RECORD_QUEUE);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let (fetch_tx, fetch_rx) = if fetches {
        let (tx, rx) = mpsc::channel(fetch::FETCH_QUEUE);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let pg_stats = Arc::new(pg::PgStats::default());
    let handle = IoHandle {
        redis: redis_tx,
        records: records_tx,
        ttls,
        markets_refresh,
        node_id: node_id.clone(),
        leases: leases.clone(),
        stats: stats.clone(),
        pg_stats: pg_stats.clone(),
        fetch: fetch_tx,
    };
    let parts = IoParts {
        settings,
        pg_stats,
        redis_rx,
        records_rx,
        fetch_rx,
        stats,
        leases,
        node_id,
    };
    (handle, parts)
}

/// Starts the I/O thread. `inboxes` are the shards' inboxes (for relayed messages) and
/// `ws_sessions` their WebSocket session counts.
///
/// # Errors
/// [`StartError::Executor`] if the thread or its runtime cannot start.
pub(crate) fn spawn(
    parts: IoParts,
    inboxes: Vec<async_channel::Sender<ShardMsg>>,
    ws_sessions: Arc<[AtomicUsize]>,
) -> Result<IoThread, StartError> {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StartError::Executor(format!("cannot start the I/O runtime: {e}")))?;
    let handle = std::thread::Builder::new()
        .name("inplay-io".into())
        .spawn(move || {
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, run(parts, inboxes, ws_sessions, stop_rx));
        })
        .map_err(|e| StartError::Executor(format!("cannot start the I/O thread: {e}")))?;
    Ok(IoThread {
        handle: Some(handle),
        stop,
    })
}

/// How long the writers get after the shards stopped to hand over what is queued.
const FLUSH_GRACE: Duration = Duration::from_secs(5);

async fn run(
    parts: IoParts,
    inboxes: Vec<async_channel::Sender<ShardMsg>>,
    ws_sessions: Arc<[AtomicUsize]>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let IoParts {
        settings,
        pg_stats: pg_stats_owned,
        redis_rx,
        records_rx,
        fetch_rx,
        stats,
        leases,
        node_id,
    } = parts;
    // Writers end when every shard's sender is gone; background tasks are stopped.
    let mut writers = Vec::new();
    let mut background = Vec::new();
    if let (Some(redis), Some(rx)) = (settings.redis, redis_rx) {
        info!(node = %node_id, "Redis: cache, pub/sub and polling leases on");
        match redis::Link::new(&redis, stats.clone()) {
            Ok(link) => {
                let link = Arc::new(link);
                writers.push(tokio::task::spawn_local(redis::write_loop(
                    link.clone(),
                    rx,
                    stop.clone(),
                )));
                background.push(tokio::task::spawn_local(redis::relay::run(
                    link.clone(),
                    node_id.clone(),
                    inboxes,
                    ws_sessions,
                )));
                writers.push(tokio::task::spawn_local(lease::run(
                    link,
                    leases.clone(),
                    node_id.clone(),
                    redis.lease,
                    stop.clone(),
                )));
            }
            Err(e) => warn!(error = %e, "Redis URL rejected by the client; Redis stays off"),
        }
    }
    if let (Some(pg), Some(rx)) = (settings.postgres, records_rx) {
        info!(host = %pg.host, port = pg.port, db = %pg.dbname, "PostgreSQL history on");
        // The writer ends when its channel closes, after writing (or journaling) what is
        // queued. The shards' senders may outlive them, so at stop the forwarder closes it.
        let (tx, writer_rx) = mpsc::channel(RECORD_QUEUE);
        writers.push(tokio::task::spawn_local(forward(rx, tx, stop.clone())));
        writers.push(tokio::task::spawn_local(pg::run(
            pg,
            writer_rx,
            pg_stats_owned.clone(),
        )));
    }
    if let Some(rx) = fetch_rx {
        background.push(tokio::task::spawn_local(fetch::run(
            rx,
            stop.clone(),
            stats.clone(),
        )));
    }
    let _ = stop.changed().await;
    for t in &background {
        t.abort();
    }
    let flush = async {
        for t in writers {
            let _ = t.await;
        }
    };
    if tokio::time::timeout(FLUSH_GRACE, flush).await.is_err() {
        warn!("I/O writers did not finish in time");
    }
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let pg = pg_stats_owned.snapshot();
    info!(
        redis_dropped = load(&stats.redis_dropped),
        sent_scores = load(&stats.sent_scores),
        sent_markets = load(&stats.sent_markets),
        sent_settlements = load(&stats.sent_settlements),
        pg_written = pg.written,
        pg_queued = pg.queued,
        pg_journal_records = pg.journal_records,
        pg_dropped = pg.dropped,
        "I/O thread stopped"
    );
}

/// Passes record batches to the PostgreSQL writer; at `stop`, passes what is still queued and
/// closes the writer's channel.
async fn forward(
    mut from: mpsc::Receiver<Vec<Record>>,
    to: mpsc::Sender<Vec<Record>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            batch = from.recv() => match batch {
                Some(b) => if to.send(b).await.is_err() { return },
                None => return,
            },
            _ = stop.changed() => break,
        }
    }
    from.close();
    while let Some(b) = from.recv().await {
        if to.send(b).await.is_err() {
            return;
        }
    }
}

impl IoHandle {
    /// Fetches over HTTP(S) on the I/O thread; the shard keeps running meanwhile.
    pub async fn fetch(&self, req: fetch::FetchRequest) -> fetch::FetchResponse {
        let failed = |why: &str| fetch::FetchResponse {
            result: Err(why.to_owned()),
            elapsed: Duration::ZERO,
            attempts: 0,
        };
        let Some(tx) = &self.fetch else {
            return failed("provider fetches are off");
        };
        let (reply, answer) = futures_channel::oneshot::channel();
        if tx.send((req, reply)).await.is_err() {
            return failed("the I/O thread has stopped");
        }
        answer
            .await
            .unwrap_or_else(|_| failed("the I/O thread has stopped"))
    }
}

impl IoThread {
    /// Stops the thread once the shards have stopped (their senders are gone, so the writers
    /// finish what is queued), waiting a bounded time.
    pub fn stop_and_join(mut self) {
        let _ = self.stop.send(true);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
