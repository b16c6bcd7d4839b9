//! One subscriber: a WebSocket connection that watches one match and accounts for every frame
//! it receives.
//!
//! A subscriber connects (at most `concurrency` handshakes at once, each within
//! [`CONNECT_TIMEOUT`]), subscribes (on `/ws`, by message, and waits for its snapshot), then
//! reads until told to stop or until the server ends the connection. Every update received for
//! the first time is counted in [`Shared::delivered`] and its latency, receive time minus
//! `sentAt`, recorded in a histogram. Whatever the server sends, the subscriber only counts:
//! nothing it receives can make it panic.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use inplay_wire::ws::opcode;
use tokio::{
    net::TcpSocket,
    sync::{watch, Semaphore},
    time::timeout,
};

use crate::{
    clock::unix_micros,
    config::{Config, Endpoint},
    connection::Connection,
    frame::{classify, Frame},
    tally::{Arrival, Tally},
    ws_client::Message,
};

/// Longest a subscriber may take to connect, upgrade and (on `/ws`) get its snapshot.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Latencies above this (an hour, in µs) are recorded as this.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// State every subscriber shares.
#[derive(Debug)]
pub struct Shared {
    /// The run's configuration.
    pub config: Config,
    /// The server's address.
    pub server: SocketAddr,
    /// Bounds the handshakes in flight. Never closed.
    gate: Semaphore,
    /// Subscribers whose subscription is in place.
    pub connected: AtomicUsize,
    /// Of those, per match.
    connected_per_match: Vec<AtomicUsize>,
    /// Subscribers that could not connect or subscribe.
    pub failed: AtomicUsize,
    /// Updates received for the first time, over all subscribers.
    pub delivered: AtomicU64,
    /// When the last of those arrived, unix µs.
    pub last_receive_us: AtomicU64,
    /// Publish → receive latency in µs, sharded to keep lock contention away.
    latency: Vec<Mutex<Histogram<u64>>>,
}

/// How a subscriber's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It never got its subscription in place (the error).
    NotConnected(String),
    /// The generator stopped it at the end of the run.
    Stopped,
    /// The server closed it first (the close code, if it sent one).
    ClosedByServer(Option<u16>),
    /// A read failed (the error).
    Failed(String),
}

/// One subscriber's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The match it watched, 0..M.
    pub match_index: usize,
    /// What it received.
    pub tally: Tally,
    /// How it ended.
    pub ended: Ended,
}

impl Shared {
    /// Shared state for a run of `config` against `server`.
    pub fn new(config: Config, server: SocketAddr) -> Result<Self, String> {
        let shards = (config.threads * 4).clamp(1, 64);
        let mut latency = Vec::with_capacity(shards);
        for _ in 0..shards {
            let h = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .map_err(|e| format!("histogram: {e}"))?;
            latency.push(Mutex::new(h));
        }
        Ok(Self {
            gate: Semaphore::new(config.concurrency),
            server,
            connected: AtomicUsize::new(0),
            connected_per_match: (0..config.matches).map(|_| AtomicUsize::new(0)).collect(),
            failed: AtomicUsize::new(0),
            delivered: AtomicU64::new(0),
            last_receive_us: AtomicU64::new(0),
            latency,
            config,
        })
    }

    /// Subscriptions in place on match `j`.
    pub fn connected_on(&self, j: usize) -> usize {
        self.connected_per_match
            .get(j)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Every latency recorded so far, merged.
    pub fn latency(&self) -> Result<Histogram<u64>, String> {
        let mut all = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .map_err(|e| format!("histogram: {e}"))?;
        for shard in &self.latency {
            let h = shard.lock().unwrap_or_else(|e| e.into_inner());
            all.add(&*h).map_err(|e| format!("histogram merge: {e}"))?;
        }
        Ok(all)
    }

    /// Records an update received at `now` (unix µs, taken when its bytes were read).
    fn record(&self, index: usize, sent_at_us: u64, now: u64) {
        let latency = now.saturating_sub(sent_at_us).clamp(1, MAX_LATENCY_US);
        let shard = &self.latency[index % self.latency.len()];
        shard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .saturating_record(latency);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.last_receive_us.fetch_max(now, Ordering::Relaxed);
    }
}

/// Subscriber `index`: connects, then counts until `stop` turns true (or its sender is gone).
pub async fn run(index: usize, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> Outcome {
    let config = &shared.config;
    let match_index = index % config.matches;
    let match_id = config.match_id(match_index);
    let mut tally = Tally::new(config.count);
    let opened = {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = shared.gate.acquire().await;
        timeout(CONNECT_TIMEOUT, open(&shared, index, &match_id, &mut tally)).await
    };
    let mut ws = match opened {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => return not_connected(&shared, match_index, tally, e),
        Err(_) => return not_connected(&shared, match_index, tally, "timed out".into()),
    };
    shared.connected.fetch_add(1, Ordering::Relaxed);
    shared.connected_per_match[match_index].fetch_add(1, Ordering::Relaxed);
    // The stop signal's future lives across reads: a new one per read would register a waker
    // with the channel each time.
    let stopped = stop.wait_for(|stop| *stop);
    tokio::pin!(stopped);
    let ended = loop {
        let read = tokio::select! {
            biased;
            _ = &mut stopped => break Ended::Stopped,
            read = ws.read() => read,
        };
        match read {
            Ok(0) => break Ended::ClosedByServer(None),
            Ok(_) => {
                let now = unix_micros();
                if let Some(ended) =
                    on_read(&shared, index, &match_id, &mut ws, now, &mut tally).await
                {
                    break ended;
                }
            }
            Err(e) => break Ended::Failed(e.to_string()),
        }
    };
    if ended == Ended::Stopped {
        let _ = timeout(Duration::from_secs(1), ws.close()).await;
    }
    Outcome {
        match_index,
        tally,
        ended,
    }
}

fn not_connected(shared: &Shared, match_index: usize, tally: Tally, error: String) -> Outcome {
    shared.failed.fetch_add(1, Ordering::Relaxed);
    Outcome {
        match_index,
        tally,
        ended: Ended::NotConnected(error),
    }
}

/// Counts every message one read completed; `Some` when the connection is over.
async fn on_read(
    shared: &Shared,
    index: usize,
    match_id: &str,
    ws: &mut Connection,
    now: u64,
    tally: &mut Tally,
) -> Option<Ended> {
    loop {
        let pong = match ws.reader.message() {
            Ok(None) => return None,
            Err(e) => return Some(Ended::Failed(e)),
            Ok(Some(Message::Text(text))) => {
                on_text(shared, index, match_id, text, now, tally);
                None
            }
            Ok(Some(Message::Binary)) => {
                tally.counts.malformed += 1;
                None
            }
            Ok(Some(Message::Close(code))) => return Some(Ended::ClosedByServer(code)),
            Ok(Some(Message::Ping(payload))) => Some(payload.to_vec()),
            Ok(Some(Message::Pong)) => None,
        };
        if let Some(payload) = pong {
            if let Err(e) = ws.pong(&payload).await {
                return Some(Ended::Failed(e));
            }
        }
    }
}

fn on_text(
    shared: &Shared,
    index: usize,
    match_id: &str,
    text: &[u8],
    now: u64,
    tally: &mut Tally,
) {
    let Ok(text) = std::str::from_utf8(text) else {
        tally.counts.malformed += 1;
        return;
    };
    match classify(text, match_id) {
        Frame::Update {
            n,
            sent_at_us,
            right_match: true,
        } => match tally.record(n) {
            Arrival::InOrder | Arrival::OutOfOrder => shared.record(index, sent_at_us, now),
            Arrival::Duplicate | Arrival::Unexpected => {}
        },
        Frame::Update { .. } => tally.counts.unexpected += 1,
        Frame::Snapshot | Frame::Other => tally.counts.other += 1,
        Frame::Malformed => tally.counts.malformed += 1,
    }
}

/// Connects, upgrades and subscribes.
async fn open(
    shared: &Shared,
    index: usize,
    match_id: &str,
    tally: &mut Tally,
) -> Result<Connection, String> {
    let config = &shared.config;
    let server = shared.server;
    let socket = match server {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("socket: {e}"))?;
    if let Some(source) = source_address(config, server, index) {
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| format!("bind {source}: {e}"))?;
    }
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let mut ws = Connection::new(stream, index as u32);
    ws.upgrade(&config.host, config.port, &config.path(match_id))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    if config.endpoint == Endpoint::Mux {
        let subscribe = format!(r#"{{"op":"subscribe","matches":["{match_id}"]}}"#);
        ws.send(opcode::TEXT, subscribe.as_bytes())
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        loop {
            match ws.reader.message() {
                Ok(Some(Message::Text(text))) => {
                    match classify(&String::from_utf8_lossy(text), match_id) {
                        Frame::Snapshot => break,
                        Frame::Malformed => tally.counts.malformed += 1,
                        _ => tally.counts.other += 1,
                    }
                }
                Ok(Some(Message::Close(_))) => return Err("closed before the snapshot".into()),
                Ok(Some(Message::Ping(payload))) => {
                    let payload = payload.to_vec();
                    ws.pong(&payload).await?;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    if ws.read().await.map_err(|e| e.to_string())? == 0 {
                        return Err("closed before the snapshot".into());
                    }
                }
                Err(e) => return Err(format!("before the snapshot: {e}")),
            }
        }
    }
    Ok(ws)
}

/// With `--sources S` > 1 and a loopback IPv4 server, subscriber `i` binds 127.0.0.(1 + i % S).
fn source_address(config: &Config, server: SocketAddr, index: usize) -> Option<IpAddr> {
    let loopback_v4 = matches!(server.ip(), IpAddr::V4(ip) if ip.is_loopback());
    if config.sources <= 1 || !loopback_v4 {
        return None;
    }
    let last = 1 + (index % usize::from(config.sources)) as u8;
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
}
