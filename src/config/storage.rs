//! The storage sections: `[redis]`, `[postgres]`, `[storage]` (local files), and `[bets]`
//! (validated against stored market state). Their secrets stay out of `Debug` output.

use std::{fmt, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::ms;

/// `[redis]`: optional cache, pub/sub and polling leases.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// Connection URL; empty = Redis off.
    pub url: String,
    /// File holding the URL instead (it may carry a password; read at start-up); empty = none.
    pub url_file: String,
    /// This node's name in leases and published messages; empty = `<hostname>-<pid>`.
    pub node_id: String,
    /// TTL of `score:<matchId>`.
    #[serde(rename = "score_ttl_ms", with = "ms")]
    pub score_ttl: Duration,
    /// TTL of `markets:<sport>[:<league>]`.
    #[serde(rename = "markets_ttl_ms", with = "ms")]
    pub markets_ttl: Duration,
    /// TTL of `market:<marketId>` (market state for bet validation).
    #[serde(rename = "market_ttl_ms", with = "ms")]
    pub market_ttl: Duration,
    /// TTL of `settlement:<marketId>`.
    #[serde(rename = "settlement_ttl_ms", with = "ms")]
    pub settlement_ttl: Duration,
    /// How often changed `markets:<sport>[:<league>]` lists are re-written.
    #[serde(rename = "markets_refresh_ms", with = "ms")]
    pub markets_refresh: Duration,
    /// Lifetime of a polling-task lease; renewed every third of it.
    #[serde(rename = "lease_ms", with = "ms")]
    pub lease: Duration,
}

/// `[postgres]`: optional history store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Whether PostgreSQL is used. Setting the connection keys alone does not switch it on.
    pub enabled: bool,
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Database name.
    pub dbname: String,
    /// User name.
    pub user: String,
    /// Password (redacted in `Debug`).
    pub password: String,
    /// File holding the password instead (read at start-up); empty = none.
    pub password_file: String,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Most history records written in one transaction.
    pub batch_max: usize,
    /// Most history records waiting in memory while PostgreSQL is slow or away; past it they
    /// spill to the journal (see [`StorageConfig`]).
    pub queue_max: usize,
}

/// `[bets]`: how bets are validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BetsConfig {
    /// How far below the current price a requested price may be, in basis points of it
    /// (200 = 2 %). A price above the current one is always refused.
    pub odds_tolerance_bp: u32,
    /// Smallest stake, in cents.
    pub min_stake_cents: u64,
    /// Largest stake, in cents.
    pub max_stake_cents: u64,
}

impl Default for BetsConfig {
    fn default() -> Self {
        Self {
            odds_tolerance_bp: 200,
            min_stake_cents: 100,
            max_stake_cents: 1_000_000,
        }
    }
}

/// `[storage]`: local files the server keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory for the server's files (relative to the working directory); the PostgreSQL
    /// journal is `<data_dir>/pg-journal/`.
    pub data_dir: PathBuf,
    /// Most bytes the PostgreSQL journal may hold on disk; past it, history records are dropped
    /// (counted and logged). 0 = no journal.
    pub journal_max_bytes: u64,
}

// === impl Default ===

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            url_file: String::new(),
            node_id: String::new(),
            score_ttl: Duration::from_secs(1),
            markets_ttl: Duration::from_secs(30),
            market_ttl: Duration::from_secs(5),
            settlement_ttl: Duration::from_secs(3600),
            markets_refresh: Duration::from_secs(1),
            lease: Duration::from_secs(5),
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            host: "localhost".into(),
            port: 5432,
            dbname: "sportsbetting".into(),
            user: "postgres".into(),
            password: "postgres".into(),
            password_file: String::new(),
            pool_size: 4,
            batch_max: 1000,
            queue_max: 100_000,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            journal_max_bytes: 1 << 30,
        }
    }
}

// === secrets stay out of logs ===

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("enabled", &self.enabled)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &redacted(&self.password))
            .field("password_file", &self.password_file)
            .field("pool_size", &self.pool_size)
            .field("batch_max", &self.batch_max)
            .field("queue_max", &self.queue_max)
            .finish()
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &url_without_password(&self.url))
            .field("url_file", &self.url_file)
            .field("node_id", &self.node_id)
            .field("score_ttl", &self.score_ttl)
            .field("markets_ttl", &self.markets_ttl)
            .field("market_ttl", &self.market_ttl)
            .field("settlement_ttl", &self.settlement_ttl)
            .field("markets_refresh", &self.markets_refresh)
            .field("lease", &self.lease)
            .finish()
    }
}

/// A URL as `Debug` shows it: a password in its user info (`redis://:pw@host`) is redacted.
pub(super) fn url_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// How a secret shows in `Debug`: whether it is set, never its value.
pub(super) fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        "<empty>"
    } else {
        "<redacted>"
    }
}
