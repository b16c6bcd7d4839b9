//! Redis from the I/O thread: one multiplexed command connection (cache `SET … PX`, `PUBLISH`,
//! lease commands) that reconnects by itself, and one subscription connection ([`relay`]).
//!
//! Keys and channels are the original service's: `score:<matchId>`, `markets:<sport>[:<league>]`
//! (plus `market:<marketId>` and `settlement:<marketId>` from its guide), channels
//! `match:<matchId>` and `markets:<sport>:<league>`.

pub(crate) mod relay;

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use ::redis::{aio::ConnectionManager, aio::ConnectionManagerConfig, Client, Pipeline, Value};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::IoStats;

/// How long one Redis round trip may take before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a (re)connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Redis configuration the I/O thread needs.
#[derive(Debug, Clone)]
pub(crate) struct RedisSettings {
    /// `redis://…` URL.
    pub url: String,
    /// Polling-lease lifetime.
    pub lease: Duration,
}

/// One cache write: `SET key value PX ttl`.
#[derive(Debug, Clone)]
pub(crate) struct CacheSet {
    pub key: String,
    pub value: Arc<[u8]>,
    pub ttl: Duration,
}

/// What one shard flush asks of Redis.
#[derive(Debug, Default)]
pub(crate) struct RedisBatch {
    /// Cache writes (latest value per key).
    pub sets: Vec<CacheSet>,
    /// `(channel, message)` publishes, in order.
    pub publishes: Vec<(String, Vec<u8>)>,
}

impl RedisBatch {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty() && self.publishes.is_empty()
    }

    /// Commands in the batch.
    pub fn len(&self) -> usize {
        self.sets.len() + self.publishes.len()
    }
}

/// The connections to one Redis server.
pub(crate) struct Link {
    pub client: Client,
    conn: ConnectionManager,
    pub stats: Arc<IoStats>,
}

impl Link {
    /// A link that connects on first use and reconnects after failures.
    pub fn new(settings: &RedisSettings, stats: Arc<IoStats>) -> ::redis::RedisResult<Self> {
        let client = Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(Self {
            client,
            conn,
            stats,
        })
    }

    /// Runs a pipeline, keeping the connection state and counters up to date.
    pub async fn exec(&self, pipe: &Pipeline, commands: usize) -> ::redis::RedisResult<Vec<Value>> {
        let mut conn = self.conn.clone();
        let result = pipe.query_async::<Vec<Value>>(&mut conn).await;
        let stats = &self.stats;
        stats
            .redis_commands
            .fetch_add(commands as u64, Ordering::Relaxed);
        let was = stats
            .redis_connected
            .swap(result.is_ok(), Ordering::Relaxed);
        match &result {
            Ok(_) if !was => info!("Redis connected"),
            Err(e) => {
                stats.redis_errors.fetch_add(1, Ordering::Relaxed);
                if was {
                    warn!(error = %e, "Redis unreachable; serving from memory until it is back");
                }
            }
            Ok(_) => {}
        }
        result
    }
}

/// Writes the shards' cache entries and publishes; after `stop`, what is already queued.
pub(crate) async fn write_loop(
    link: Arc<Link>,
    mut rx: mpsc::Receiver<RedisBatch>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stopping = false;
    loop {
        let batch = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                b = rx.recv() => b,
                _ = stop.changed() => {
                    stopping = true;
                    rx.close(); // what is queued is still received, then None
                    continue;
                }
            }
        };
        let Some(batch) = batch else {
            return;
        };
        link.stats.redis_queue.store(rx.len(), Ordering::Relaxed);
        if batch.is_empty() {
            continue;
        }
        let mut pipe = ::redis::pipe();
        for set in &batch.sets {
            let ttl_ms = set.ttl.as_millis().max(1) as u64;
            pipe.cmd("SET")
                .arg(&set.key)
                .arg(&*set.value)
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
        }
        for (channel, message) in &batch.publishes {
            pipe.cmd("PUBLISH").arg(channel).arg(message).ignore();
        }
        if link.exec(&pipe, batch.len()).await.is_err() {
            link.stats.redis_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
