//! The table of every config key: its section, name, kind and range, and the original
//! service's variable that sets it too. [`super::schema`] checks documents against it.

use super::{
    schema::{Kind, MAX_SHARDS},
    security::{ALGORITHMS, TLS_VERSIONS},
};

/// One config key.
#[derive(Debug)]
pub(super) struct Key {
    /// The TOML section, e.g. `rate_limit`.
    pub section: &'static str,
    /// The key inside the section, e.g. `requests_per_minute`.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// The original service's variable for it, if any (`PORT`, `DB_HOST`, ...).
    pub legacy: Option<&'static str>,
}

/// A key only the file and `INPLAY_*` set.
const fn key(section: &'static str, name: &'static str, kind: Kind) -> Key {
    Key {
        section,
        name,
        kind,
        legacy: None,
    }
}

/// A key the original service's variable `var` sets too.
const fn legacy(section: &'static str, name: &'static str, kind: Kind, var: &'static str) -> Key {
    Key {
        section,
        name,
        kind,
        legacy: Some(var),
    }
}

/// An integer key accepting `min..=max`.
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

/// `u32::MAX`, lossless in `i64`.
const U32: i64 = u32::MAX as i64;

/// Largest rate-limit burst: far above any sane value, and small enough that the limiter's
/// nanosecond arithmetic cannot overflow.
const MAX_BURST: i64 = 1_000_000;

/// Every key of the config, in the order of config/default.toml.
pub(super) static KEYS: &[Key] = &[
    legacy("server", "host", Kind::IpAddr, "HOST"),
    legacy("server", "port", int(0, 65535), "PORT"),
    key("server", "shards", int(0, MAX_SHARDS)),
    key("server", "cpus", Kind::IntList { max: 4095 }),
    key("server", "shutdown_grace_ms", Kind::Ms { min: 0 }),
    key("server", "io_memory_kib", int(1, 1 << 20)),
    key("server", "dev_mode", Kind::Bool),
    key("http", "max_header_bytes", int(1024, 1 << 20)),
    key("http", "max_body_bytes", int(0, 64 << 20)),
    // The parser has 64 header slots (`inplay_wire::request::MAX_HEADERS`).
    key("http", "max_headers", int(1, 64)),
    key("http", "header_read_timeout_ms", Kind::Ms { min: 1 }),
    key("http", "idle_timeout_ms", Kind::Ms { min: 1 }),
    key("http", "max_connections_per_shard", int(1, 10_000_000)),
    key("http", "max_pipeline", int(1, 1024)),
    key("http", "epoll", Kind::Bool),
    key("http", "max_json_depth", int(1, 1024)),
    key("http", "gzip", Kind::Bool),
    key("websocket", "send_queue", int(1, 1_000_000)),
    key("websocket", "send_queue_bytes", int(1024, 1 << 30)),
    key(
        "websocket",
        "slow_consumer",
        Kind::OneOf(&["disconnect", "coalesce"]),
    ),
    key("websocket", "max_message_bytes", int(128, 16 << 20)),
    key("websocket", "ping_interval_ms", Kind::Ms { min: 100 }),
    key("websocket", "idle_timeout_ms", Kind::Ms { min: 100 }),
    key("websocket", "history_bytes", int(0, 1 << 30)),
    key("websocket", "max_subscriptions", int(1, 1_000_000)),
    key("websocket", "max_connections_per_ip", int(1, 10_000_000)),
    key("websocket", "max_subscriptions_per_ip", int(1, 10_000_000)),
    key("websocket", "require_auth", Kind::Bool),
    legacy("log", "level", Kind::LogLevel, "LOG_LEVEL"),
    key("log", "format", Kind::OneOf(&["json", "pretty"])),
    key("demo", "enabled", Kind::Bool),
    key("demo", "seed", int(0, i64::MAX)),
    key("demo", "slots_per_league", int(1, 100_000)),
    legacy(
        "polling",
        "default_interval_ms",
        Kind::Ms { min: 0 },
        "POLLING_DEFAULT_INTERVAL",
    ),
    key("polling", "min_interval_ms", Kind::Ms { min: 1000 }),
    key("polling", "demo_interval_ms", Kind::Ms { min: 0 }),
    key("polling", "prematch_interval_ms", Kind::Ms { min: 0 }),
    key("polling", "sport_intervals", Kind::MsTable),
    key("polling", "league_intervals", Kind::MsTable),
    key("polling", "match_intervals", Kind::MsTable),
    key("polling", "provider_intervals", Kind::MsTable),
    key("identity", "start_window_ms", Kind::Ms { min: 1 }),
    key("identity", "retain_finished_ms", Kind::Ms { min: 0 }),
    key("identity", "aliases", Kind::AliasTable),
    key("markets", "default_limit", int(1, 100_000)),
    key("markets", "max_limit", int(1, 100_000)),
    legacy("redis", "url", Kind::RedisUrl, "REDIS_URL"),
    key("redis", "url_file", Kind::Str),
    key("redis", "node_id", Kind::Str),
    key("redis", "score_ttl_ms", Kind::Ms { min: 1000 }),
    key("redis", "markets_ttl_ms", Kind::Ms { min: 1000 }),
    key("redis", "market_ttl_ms", Kind::Ms { min: 1000 }),
    key("redis", "settlement_ttl_ms", Kind::Ms { min: 1000 }),
    key("redis", "markets_refresh_ms", Kind::Ms { min: 100 }),
    key("redis", "lease_ms", Kind::Ms { min: 300 }),
    key("postgres", "enabled", Kind::Bool),
    legacy("postgres", "host", Kind::NonEmpty, "DB_HOST"),
    legacy("postgres", "port", int(1, 65535), "DB_PORT"),
    legacy("postgres", "dbname", Kind::NonEmpty, "DB_NAME"),
    legacy("postgres", "user", Kind::NonEmpty, "DB_USER"),
    legacy("postgres", "password", Kind::Str, "DB_PASSWORD"),
    key("postgres", "password_file", Kind::Str),
    key("postgres", "pool_size", int(1, 1024)),
    key("postgres", "batch_max", int(1, 100_000)),
    key("postgres", "queue_max", int(1, 100_000_000)),
    key("storage", "data_dir", Kind::NonEmpty),
    key("storage", "journal_max_bytes", int(0, i64::MAX)),
    key("bets", "odds_tolerance_bp", int(0, 10_000)),
    key("bets", "min_stake_cents", int(1, i64::MAX / 2)),
    key("bets", "max_stake_cents", int(1, i64::MAX / 2)),
    legacy("auth", "jwt_secret", Kind::Str, "JWT_SECRET"),
    key("auth", "jwt_secret_file", Kind::Str),
    key("auth", "public_key_file", Kind::Str),
    key("auth", "algorithms", Kind::WordList(ALGORITHMS)),
    key("auth", "leeway_ms", Kind::Ms { min: 0 }),
    key("auth", "issuer", Kind::Str),
    key("auth", "audience", Kind::Str),
    key("auth", "protect_reads", Kind::Bool),
    legacy("cors", "allowed_origins", Kind::StrList, "ALLOWED_ORIGINS"),
    key("cors", "max_age_ms", Kind::Ms { min: 0 }),
    key("rate_limit", "enabled", Kind::Bool),
    key("rate_limit", "requests_per_minute", int(1, U32)),
    key("rate_limit", "burst", int(1, MAX_BURST)),
    key("rate_limit", "write_requests_per_minute", int(1, U32)),
    key("rate_limit", "write_burst", int(1, MAX_BURST)),
    key("rate_limit", "trusted_proxies", Kind::NetList),
    key("rate_limit", "max_clients_per_shard", int(1, 100_000_000)),
    key("tls", "cert_file", Kind::Str),
    key("tls", "key_file", Kind::Str),
    key("tls", "min_version", Kind::OneOf(TLS_VERSIONS)),
];

/// Prefix of inplay's own environment variables.
pub(super) const ENV_PREFIX: &str = "INPLAY_";

// === impl Key ===

impl Key {
    /// Dotted path, e.g. `server.shards`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// The overriding variable, e.g. `INPLAY_RATE_LIMIT_ENABLED`.
    pub fn env_var(&self) -> String {
        format!("{ENV_PREFIX}{}_{}", self.section, self.name).to_ascii_uppercase()
    }

    /// Looks a key up by section and name.
    pub fn find(section: &str, name: &str) -> Option<&'static Key> {
        KEYS.iter().find(|k| k.section == section && k.name == name)
    }
}
