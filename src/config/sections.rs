//! The typed config sections, one struct per TOML section, with their defaults (the security
//! sections are in `security.rs`, the storage ones in `storage.rs`).
//!
//! These defaults are the single source of truth in code; `config/default.toml` spells out the
//! same values with documentation, and a test keeps the two equal. Durations are `Duration` here
//! and whole milliseconds (`*_ms` keys) in TOML.

use std::{collections::BTreeMap, time::Duration};

use serde::{Deserialize, Serialize};

use super::ms::{self, to_ms};

/// Name → interval table (`sport_intervals`, `league_intervals`, ...).
pub type Intervals = BTreeMap<String, Duration>;

/// Sport → (alias → canonical team name).
pub type Aliases = BTreeMap<String, BTreeMap<String, String>>;

/// `[server]`: listening socket, shards and their cpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
    pub host: String,
    /// TCP port; 0 lets the OS pick a free port (tests).
    pub port: u16,
    /// Number of shards; 0 = one per cpu in `cpus`, or per available core. See
    /// [`Config::resolved_shards`](super::Config::resolved_shards).
    pub shards: usize,
    /// Explicit cpus to pin shards to (shard i on `cpus[i]`); empty = the first cores.
    pub cpus: Vec<usize>,
    /// How long draining connections get after a shutdown signal before they are closed.
    #[serde(rename = "shutdown_grace_ms", with = "ms")]
    pub shutdown_grace: Duration,
    /// glommio `io_memory` per shard, in KiB. Locked memory: `RLIMIT_MEMLOCK` must allow it.
    pub io_memory_kib: usize,
    /// Local development: allows what production must not have, such as the original service's
    /// placeholder JWT secret.
    pub dev_mode: bool,
}

/// `[http]`: limits and timeouts of the HTTP/1.1 front end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest request head (request line + headers) in bytes; larger gets 431.
    pub max_header_bytes: usize,
    /// Largest request body in bytes; larger gets 413.
    pub max_body_bytes: usize,
    /// Most headers in one request; more gets 431.
    pub max_headers: usize,
    /// A request's head must arrive completely within this (slowloris guard).
    #[serde(rename = "header_read_timeout_ms", with = "ms")]
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    #[serde(rename = "idle_timeout_ms", with = "ms")]
    pub idle_timeout: Duration,
    /// Open connections one shard accepts; beyond it new connections are refused.
    pub max_connections_per_shard: usize,
    /// Most pipelined requests answered from one read batch.
    pub max_pipeline: usize,
    /// Plain HTTP connections are served from one epoll set per shard, not one io_uring poll
    /// per connection (`src/http/fast/`).
    pub epoll: bool,
    /// Deepest nesting of arrays and objects in a JSON request body or WebSocket message;
    /// deeper gets 400 (HTTP) or an error message (WebSocket).
    pub max_json_depth: usize,
    /// List bodies (`/api/markets/:sport`, `/api/matches`) go gzip-compressed to clients whose
    /// `Accept-Encoding` allows it.
    pub gzip: bool,
}

/// Output format of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable, coloured when on a terminal.
    Pretty,
}

/// `[log]`: what is logged and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A level (`info`) or a `tracing` filter directive (`info,inplay::http=debug`).
    pub level: String,
    /// Line format.
    pub format: LogFormat,
}

/// `[demo]`: the built-in simulated providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Whether the demo providers run.
    pub enabled: bool,
    /// Seed of the simulated world; the same seed gives the same matches and prices.
    pub seed: u64,
    /// Matches simulated per league.
    pub slots_per_league: u32,
}

/// `[polling]`: how often providers are polled. Most specific wins: match > league > sport >
/// default, never below the provider's floor nor `min_interval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollingConfig {
    /// Interval of tasks with no more specific setting.
    #[serde(rename = "default_interval_ms", with = "ms")]
    pub default_interval: Duration,
    /// Smallest interval accepted here and by `POST /api/polling/update`.
    #[serde(rename = "min_interval_ms", with = "ms")]
    pub min_interval: Duration,
    /// Interval of the built-in demo providers' tasks.
    #[serde(rename = "demo_interval_ms", with = "ms")]
    pub demo_interval: Duration,
    /// A provider task whose last answer held no live match waits at least this long
    /// (0 = no difference between live and pre-match).
    #[serde(rename = "prematch_interval_ms", with = "ms")]
    pub prematch_interval: Duration,
    /// Per sport.
    #[serde(with = "ms::map")]
    pub sport_intervals: Intervals,
    /// Per league.
    #[serde(with = "ms::map")]
    pub league_intervals: Intervals,
    /// Per match id.
    #[serde(with = "ms::map")]
    pub match_intervals: Intervals,
    /// Per provider: floors, a provider is never polled more often than this.
    #[serde(with = "ms::map")]
    pub provider_intervals: Intervals,
}

/// `[identity]`: how provider events are matched to one match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Two events of the same pairing are one match if their start times differ by at most this.
    #[serde(rename = "start_window_ms", with = "ms")]
    pub start_window: Duration,
    /// How long a finished match is still served.
    #[serde(rename = "retain_finished_ms", with = "ms")]
    pub retain_finished: Duration,
    /// Team-name aliases added to the built-in table.
    pub aliases: Aliases,
}

/// `[markets]`: market list responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketsConfig {
    /// Matches per `/api/markets/:sport` response when the client names no limit.
    pub default_limit: usize,
    /// Most matches per response, whatever the client asks.
    pub max_limit: usize,
}

// === impl Default for each section ===

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 3000,
            shards: 0,
            cpus: Vec::new(),
            shutdown_grace: Duration::from_millis(5000),
            io_memory_kib: 512,
            dev_mode: false,
        }
    }
}

/// `[websocket]`: limits and timers of WebSocket sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketConfig {
    /// Frames one session may have queued before it counts as a slow consumer.
    pub send_queue: usize,
    /// Bytes of frames one session may have queued before it counts as a slow consumer.
    pub send_queue_bytes: usize,
    /// `disconnect` (close with 1008) or `coalesce` (resync to the latest state).
    pub slow_consumer: String,
    /// Largest client message in bytes; larger closes the session (1009).
    pub max_message_bytes: usize,
    /// An idle session is pinged this often.
    #[serde(rename = "ping_interval_ms", with = "ms")]
    pub ping_interval: Duration,
    /// A client that sends nothing (not even a pong) for this long is closed (1001).
    #[serde(rename = "idle_timeout_ms", with = "ms")]
    pub idle_timeout: Duration,
    /// Bytes of recent change frames each shard keeps for `/ws` recovery (0 = none).
    pub history_bytes: usize,
    /// Most subscriptions (matches, sports) one `/ws` connection may hold.
    pub max_subscriptions: usize,
    /// Most WebSocket connections one client address may have open, over all shards.
    pub max_connections_per_ip: u32,
    /// Most subscriptions one client address may hold over all its connections (a `/live` or
    /// `/markets` session is one).
    pub max_subscriptions_per_ip: u32,
    /// Whether a handshake needs a valid bearer token (`Authorization` or `?token=`). Off keeps
    /// the original service's clients working.
    pub require_auth: bool,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            send_queue: 1024,
            send_queue_bytes: 4 << 20,
            slow_consumer: "disconnect".into(),
            max_message_bytes: 64 * 1024,
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            history_bytes: 4 << 20,
            max_subscriptions: 1000,
            max_connections_per_ip: 256,
            max_subscriptions_per_ip: 10_000,
            require_auth: false,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            max_headers: 64,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections_per_shard: 10_000,
            max_pipeline: 64,
            epoll: true,
            max_json_depth: 32,
            gzip: true,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Json,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            seed: 42,
            slots_per_league: 100,
        }
    }
}

impl Default for PollingConfig {
    /// The original service's `PollingConfig` defaults.
    fn default() -> Self {
        let sports = [
            ("football", 10_000),
            ("basketball", 5_000),
            ("soccer", 15_000),
            ("baseball", 30_000),
            ("hockey", 10_000),
            ("tennis", 5_000),
            ("cricket", 60_000),
        ];
        let leagues = [
            ("nfl", 5_000),
            ("ncaa-football", 10_000),
            ("nba", 3_000),
            ("ncaa-basketball", 5_000),
            ("premier-league", 10_000),
            ("champions-league", 10_000),
            ("mls", 15_000),
            ("mlb", 30_000),
            ("atp", 3_000),
            ("wta", 3_000),
        ];
        Self {
            default_interval: Duration::from_secs(30),
            min_interval: Duration::from_secs(1),
            demo_interval: Duration::from_secs(1),
            prematch_interval: Duration::from_secs(60),
            sport_intervals: intervals(&sports),
            league_intervals: intervals(&leagues),
            match_intervals: Intervals::new(),
            provider_intervals: Intervals::new(),
        }
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            start_window: Duration::from_secs(90 * 60),
            retain_finished: Duration::from_secs(30 * 60),
            aliases: Aliases::new(),
        }
    }
}

impl Default for MarketsConfig {
    fn default() -> Self {
        Self {
            default_limit: 50,
            max_limit: 500,
        }
    }
}

/// An interval table from name, milliseconds pairs.
fn intervals(pairs: &[(&str, u64)]) -> Intervals {
    pairs
        .iter()
        .map(|&(name, ms)| (name.to_owned(), Duration::from_millis(ms)))
        .collect()
}

// === impl PollingConfig ===

impl PollingConfig {
    /// The intervals as the original service's `PollingConfig` JSON (camelCase keys,
    /// milliseconds), served as `config` by `GET /api/polling/status`.
    pub fn to_json(&self) -> serde_json::Value {
        let table = |map: &Intervals| -> serde_json::Map<String, serde_json::Value> {
            map.iter()
                .map(|(name, d)| (name.clone(), to_ms(d).into()))
                .collect()
        };
        serde_json::json!({
            "defaultInterval": to_ms(&self.default_interval),
            "minInterval": to_ms(&self.min_interval),
            "demoInterval": to_ms(&self.demo_interval),
            "prematchInterval": to_ms(&self.prematch_interval),
            "sportIntervals": table(&self.sport_intervals),
            "leagueIntervals": table(&self.league_intervals),
            "matchIntervals": table(&self.match_intervals),
            "providerIntervals": table(&self.provider_intervals),
        })
    }
}
