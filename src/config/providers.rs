//! `[[providers]]`: the real sports-data providers inplay polls and accepts pushes from.
//!
//! Each entry is one provider account: its kind (which parser and URL scheme), where it lives,
//! its key, its priority for failover and the feeds it covers. Entries are checked against
//! [`PROVIDER_KEYS`] like every other key (unknown keys, types and ranges, with messages naming
//! `providers[i].key`), then against each other (unique ids, feeds the kind understands).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Value;

use super::{
    error::Bad,
    ms,
    schema::{render, Kind, Problem},
};

/// Provider kinds: which payload parser and which URL scheme.
pub const PROVIDER_KINDS: &[&str] = &["the-odds-api", "espn", "api-football", "native", "demo"];

/// Every key of a `[[providers]]` entry, and whether it is required.
static PROVIDER_KEYS: &[(&str, Kind, bool)] = &[
    ("id", Kind::NonEmpty, true),
    ("kind", Kind::OneOf(PROVIDER_KINDS), true),
    ("base_url", Kind::NonEmpty, false),
    ("api_key", Kind::Str, false),
    ("api_key_env", Kind::Str, false),
    ("enabled", Kind::Bool, false),
    ("priority", Kind::Int { min: 0, max: 1000 }, false),
    ("feeds", Kind::StrList, false),
    ("timeout_ms", Kind::Ms { min: 1 }, false),
    ("max_retries", Kind::Int { min: 0, max: 10 }, false),
    ("retry_delay_ms", Kind::Ms { min: 0 }, false),
    ("min_interval_ms", Kind::Ms { min: 0 }, false),
    (
        "max_body_bytes",
        Kind::Int {
            min: 1024,
            max: 1 << 30,
        },
        false,
    ),
    ("breaker_failures", Kind::Int { min: 1, max: 1000 }, false),
    ("breaker_cooldown_ms", Kind::Ms { min: 1 }, false),
    ("quota_backoff_ms", Kind::Ms { min: 1 }, false),
    ("regions", Kind::NonEmpty, false),
    ("markets", Kind::NonEmpty, false),
    ("odds_format", Kind::OneOf(&["decimal", "american"]), false),
];

/// The kind of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// The Odds API v4: odds and scores per sport key.
    TheOddsApi,
    /// ESPN's public scoreboard per `sport/league`.
    Espn,
    /// API-Football v3 live fixtures.
    ApiFootball,
    /// inplay's native feed format.
    Native,
    /// One of the built-in demo providers (`[demo]`): the entry sets its priority, breaker
    /// and whether it runs; it has no URL and no feeds.
    Demo,
}

impl ProviderKind {
    /// The name used in config and in `/api/providers/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TheOddsApi => "the-odds-api",
            Self::Espn => "espn",
            Self::ApiFootball => "api-football",
            Self::Native => "native",
            Self::Demo => "demo",
        }
    }
}

/// One `[[providers]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Unique id: lower-case letters, digits and `-` (it is part of task ids and URLs).
    pub id: String,
    /// Which parser and URL scheme.
    pub kind: ProviderKind,
    /// Where the provider lives, e.g. `https://api.the-odds-api.com` (none for `demo`).
    #[serde(default)]
    pub base_url: String,
    /// The key, written here (prefer `api_key_env`).
    #[serde(default)]
    pub api_key: String,
    /// The name of an environment variable holding the key.
    #[serde(default)]
    pub api_key_env: String,
    /// Off = neither polled nor accepting pushes.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Lower is preferred; a provider polls a feed only while no better one covering it is up.
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// What it covers, in the provider's own keys (see config/default.toml; none for `demo`).
    #[serde(default)]
    pub feeds: Vec<String>,
    /// Per request, body included.
    #[serde(rename = "timeout_ms", with = "ms", default = "default_timeout")]
    pub timeout: Duration,
    /// Retries of a failed fetch (connection errors, timeouts, 5xx) within one poll.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First retry delay; doubled per retry, jittered.
    #[serde(
        rename = "retry_delay_ms",
        with = "ms",
        default = "default_retry_delay"
    )]
    pub retry_delay: Duration,
    /// The provider's own floor: never polled more often than this (0 = none).
    #[serde(rename = "min_interval_ms", with = "ms", default)]
    pub min_interval: Duration,
    /// Largest response body accepted.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
    /// Consecutive failed polls that open the circuit breaker.
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    /// How long an open breaker waits before a half-open probe (doubled per failed probe).
    #[serde(
        rename = "breaker_cooldown_ms",
        with = "ms",
        default = "default_cooldown"
    )]
    pub breaker_cooldown: Duration,
    /// How long to stop polling after the provider says the usage quota is used up.
    #[serde(
        rename = "quota_backoff_ms",
        with = "ms",
        default = "default_quota_backoff"
    )]
    pub quota_backoff: Duration,
    /// The Odds API: `regions` parameter.
    #[serde(default = "default_regions")]
    pub regions: String,
    /// The Odds API: `markets` parameter.
    #[serde(default = "default_markets")]
    pub markets: String,
    /// The Odds API: `oddsFormat` parameter.
    #[serde(default = "default_odds_format")]
    pub odds_format: String,
}

fn yes() -> bool {
    true
}
fn default_priority() -> u32 {
    100
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_retries() -> u32 {
    2
}
fn default_retry_delay() -> Duration {
    Duration::from_millis(250)
}
fn default_body() -> usize {
    16 << 20
}
fn default_breaker_failures() -> u32 {
    5
}
fn default_cooldown() -> Duration {
    Duration::from_secs(30)
}
fn default_quota_backoff() -> Duration {
    Duration::from_secs(3600)
}
fn default_regions() -> String {
    "us".into()
}
fn default_markets() -> String {
    "h2h,spreads,totals".into()
}
fn default_odds_format() -> String {
    "decimal".into()
}

impl ProviderConfig {
    /// The API key: `api_key`, else the variable `api_key_env` names (read through `env`).
    /// Empty when neither is set.
    pub fn key(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        if !self.api_key.is_empty() {
            return self.api_key.clone();
        }
        if self.api_key_env.is_empty() {
            return String::new();
        }
        env(&self.api_key_env).unwrap_or_default()
    }
}

/// Checks the raw `providers` value: an array of tables with known keys of the right types.
pub(super) fn check_raw(value: &Value) -> Result<(), Problem> {
    let Value::Array(entries) = value else {
        let bad = Bad::new("providers", render(value), "[[providers]] tables");
        return Err(Problem::Bad(bad));
    };
    for (i, entry) in entries.iter().enumerate() {
        let Value::Table(body) = entry else {
            let bad = Bad::new(format!("providers[{i}]"), render(entry), "a table");
            return Err(Problem::Bad(bad));
        };
        for (name, value) in body {
            let path = format!("providers[{i}].{name}");
            let Some((_, kind, _)) = PROVIDER_KEYS.iter().find(|(k, _, _)| k == name) else {
                return Err(Problem::Unknown(path));
            };
            kind.check(&path, value).map_err(Problem::Bad)?;
        }
        let demo = body.get("kind").and_then(Value::as_str) == Some("demo");
        let network_only = ["base_url", "feeds"];
        for (name, _, required) in PROVIDER_KEYS {
            let required = *required || (!demo && network_only.contains(name));
            if required && !body.contains_key(*name) {
                let bad = Bad::new(format!("providers[{i}].{name}"), "(missing)", "a value");
                return Err(Problem::Bad(bad));
            }
            if demo && network_only.contains(name) && body.contains_key(*name) {
                let path = format!("providers[{i}].{name}");
                let bad = Bad::new(
                    path,
                    "(set)",
                    "nothing: a demo provider has no URL or feeds",
                );
                return Err(Problem::Bad(bad));
            }
        }
    }
    Ok(())
}

/// Checks the entries against each other and their feeds against their kinds.
pub(super) fn check_relations(
    providers: &[ProviderConfig],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Bad> {
    for (i, p) in providers.iter().enumerate() {
        let key = |name: &str| format!("providers[{i}].{name}");
        let slug_ok = p.id.len() <= 64
            && p.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(Bad::new(
                key("id"),
                format!("{:?}", p.id),
                "lower-case letters, digits and '-', at most 64",
            ));
        }
        let demo = p.kind == ProviderKind::Demo;
        if p.id.starts_with("demo-") != demo {
            let expected = if demo {
                "a demo provider's id, \"demo-...\" (GET /api/providers/health lists them)"
            } else {
                "an id not starting with \"demo-\" (the demo providers' prefix)"
            };
            return Err(Bad::new(key("id"), format!("{:?}", p.id), expected));
        }
        if providers[..i].iter().any(|q| q.id == p.id) {
            return Err(Bad::new(
                key("id"),
                format!("{:?}", p.id),
                "an id no other provider has",
            ));
        }
        if demo {
            continue;
        }
        let url_ok = (p.base_url.starts_with("http://") || p.base_url.starts_with("https://"))
            && reqwest::Url::parse(&p.base_url).is_ok();
        if !url_ok {
            return Err(Bad::new(
                key("base_url"),
                format!("{:?}", p.base_url),
                "an http:// or https:// URL",
            ));
        }
        if p.feeds.is_empty() {
            return Err(Bad::new(key("feeds"), "[]", "at least one feed"));
        }
        for (j, feed) in p.feeds.iter().enumerate() {
            if let Err(expected) = check_feed(p.kind, feed) {
                return Err(Bad::new(
                    format!("providers[{i}].feeds[{j}]"),
                    format!("{feed:?}"),
                    expected,
                ));
            }
        }
        if !p.api_key_env.is_empty() && env(&p.api_key_env).is_none_or(|v| v.is_empty()) {
            return Err(Bad::new(
                key("api_key_env"),
                format!("{:?}", p.api_key_env),
                "the name of a set, non-empty environment variable",
            ));
        }
    }
    Ok(())
}

/// Whether `feed` is a feed key `kind` understands; the error says what it expects.
fn check_feed(kind: ProviderKind, feed: &str) -> Result<(), &'static str> {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    let ok = match kind {
        ProviderKind::TheOddsApi => word(feed),
        ProviderKind::Demo => false,
        ProviderKind::Espn | ProviderKind::Native => {
            matches!(feed.split_once('/'), Some((s, l)) if word(s) && word(l))
        }
        ProviderKind::ApiFootball => {
            feed == "all"
                || feed
                    .split('-')
                    .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        ProviderKind::TheOddsApi => "a sport key such as \"americanfootball_nfl\"",
        ProviderKind::Demo => "no feeds",
        ProviderKind::Espn => {
            "an ESPN path \"sport/league\" such as \"football/nfl\" or \"soccer/eng.1\""
        }
        ProviderKind::Native => {
            "\"sport/league\" in inplay's names, such as \"soccer/premier-league\""
        }
        ProviderKind::ApiFootball => "\"all\" or league ids joined by '-', such as \"39-140\"",
    })
}
