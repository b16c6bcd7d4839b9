//! Providers: who inplay polls, how each is doing, and which one serves a feed right now.
//!
//! The [`Board`] is built once by `main` and shared by every shard (`Arc`). Each provider's
//! [`Health`] sits behind its own mutex: it is touched once per poll (a few times a second at
//! most), never per request, so the lock is uncontended and off the hot path.
//!
//! Failover: a provider covers data kinds (scores, markets) for sports/leagues. A polling task
//! of provider P stands by as a **backup** while, for every kind it would fetch, a provider with
//! a better (lower) `priority` covering the same sport and league is not down. When that one goes
//! down (circuit open, quota used up), P's task polls; when it recovers, P stands by again.
//! Providers of equal priority are peers: all poll, and their data is merged.

pub(crate) mod feed;
mod health;
pub(crate) mod interpret;
pub(crate) mod setup;

use std::{fmt::Write, sync::Mutex};

use serde_json::{json, Value};

pub(crate) use feed::{Endpoint, FeedSpec, Source};
pub(crate) use health::{Admit, Health, Policy, Verdict};
use inplay_core::Timestamp;

/// What a provider covers: a sport and league (`*` = every league) for some data kinds.
#[derive(Debug, Clone)]
pub(crate) struct Coverage {
    pub sport: String,
    pub league: String,
    pub scores: bool,
    pub markets: bool,
}

/// One provider on the board.
#[derive(Debug)]
pub(crate) struct Entry {
    pub id: String,
    /// `the-odds-api`, `espn`, `api-football`, `native` or `demo`.
    pub kind: &'static str,
    pub priority: u32,
    pub coverage: Vec<Coverage>,
    /// The configured provider (`None` for the built-in demo providers).
    pub source: Option<Source>,
    health: Mutex<Health>,
}

impl Entry {
    /// A provider entry.
    pub fn new(
        id: &str,
        kind: &'static str,
        priority: u32,
        policy: Policy,
        source: Option<Source>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            kind,
            priority,
            coverage: Vec::new(),
            source,
            health: Mutex::new(Health::new(policy)),
        }
    }

    fn scores(&self) -> bool {
        self.coverage.iter().any(|c| c.scores)
    }

    fn markets(&self) -> bool {
        self.coverage.iter().any(|c| c.markets)
    }

    fn covers(&self, sport: &str, league: &str, scores: bool, markets: bool) -> bool {
        self.coverage.iter().any(|c| {
            c.sport == sport
                && (c.league == league || c.league == "*" || league == "*")
                && (!scores || c.scores)
                && (!markets || c.markets)
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        // A panic while holding it would leave plain counters behind; they are still usable.
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Every provider, demo and configured, by index.
#[derive(Debug, Default)]
pub(crate) struct Board {
    entries: Vec<Entry>,
}

impl Board {
    /// A board of `entries` (indices are positions).
    pub fn new(entries: Vec<Entry>) -> Self {
        Self { entries }
    }

    /// The provider at `index`.
    pub fn entry(&self, index: usize) -> &Entry {
        &self.entries[index]
    }

    /// The index of provider `id`.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }

    /// Whether provider `index` may poll now (see [`Health::admit`]).
    pub fn admit(&self, index: usize, now: Timestamp) -> Admit {
        self.entries[index].health().admit(now.millis())
    }

    /// Why provider `index` may not poll at `now` (open circuit, used-up quota), if so. Unlike
    /// [`Board::admit`] it changes nothing.
    pub fn blocked(&self, index: usize, now: Timestamp) -> Option<&'static str> {
        self.entries[index].health().blocked(now.millis())
    }

    /// Records one poll (or push) of provider `index`.
    pub fn record(
        &self,
        index: usize,
        verdict: Verdict,
        latency_ms: u32,
        now: Timestamp,
        error: Option<String>,
    ) {
        self.entries[index]
            .health()
            .record(verdict, latency_ms, now, error);
    }

    /// Records the usage counters a response of provider `index` carried.
    pub fn quota(
        &self,
        index: usize,
        (remaining, used, last): (Option<u64>, Option<u64>, Option<u64>),
    ) {
        self.entries[index].health().quota(remaining, used, last);
    }

    /// The interval multiplier of provider `index` after rate limits.
    pub fn slowdown(&self, index: usize) -> u32 {
        self.entries[index].health().slowdown()
    }

    /// The better provider serving what a task of `index` for `feed` would fetch, if every kind
    /// it would fetch is served by one (then the task stands by as a backup).
    pub fn preferred(
        &self,
        index: usize,
        sport: &str,
        league: &str,
        scores: bool,
        markets: bool,
        now: Timestamp,
    ) -> Option<&str> {
        let me = &self.entries[index];
        let serving = |scores: bool, markets: bool| {
            self.entries.iter().find(|e| {
                e.priority < me.priority
                    && e.covers(sport, league, scores, markets)
                    && e.health().status(now.millis()) != "down"
            })
        };
        let by_scores = if scores { serving(true, false) } else { None };
        let by_markets = if markets { serving(false, true) } else { None };
        match (scores, markets) {
            (true, true) => by_scores.and(by_markets).map(|e| e.id.as_str()),
            (true, false) => by_scores.map(|e| e.id.as_str()),
            (false, true) => by_markets.map(|e| e.id.as_str()),
            (false, false) => None,
        }
    }

    /// One provider's health JSON.
    fn entry_json(&self, e: &Entry, now: Timestamp) -> Value {
        let mut v = e.health().to_json(&e.id, now.millis());
        v["kind"] = json!(e.kind);
        v["priority"] = json!(e.priority);
        v
    }

    /// Every provider's health, sorted by id (`/health`'s `providers`).
    pub fn all_json(&self, now: Timestamp) -> Vec<Value> {
        let mut all: Vec<&Entry> = self.entries.iter().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.into_iter().map(|e| self.entry_json(e, now)).collect()
    }

    /// `/api/providers/health`: `{liveScoreProviders, marketProviders}`, each by priority.
    pub fn by_kind_json(&self, now: Timestamp) -> Value {
        let mut all: Vec<&Entry> = self.entries.iter().collect();
        all.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        let list = |want: fn(&Entry) -> bool| -> Vec<Value> {
            all.iter()
                .filter(|e| want(e))
                .map(|e| self.entry_json(e, now))
                .collect()
        };
        json!({
            "liveScoreProviders": list(Entry::scores),
            "marketProviders": list(Entry::markets),
        })
    }

    /// Statuses at `now`, by provider: (id, status).
    pub fn statuses(&self, now: Timestamp) -> Vec<(&str, &'static str)> {
        self.entries
            .iter()
            .map(|e| (e.id.as_str(), e.health().status(now.millis())))
            .collect()
    }

    /// Prometheus lines: polls, failures, health state, latency and quota per provider.
    pub fn write_metrics(&self, out: &mut String, now: Timestamp) {
        let rows: Vec<MetricsRow<'_>> = self
            .entries
            .iter()
            .map(|e| {
                let h = e.health();
                let (polls, failures) = h.counts();
                MetricsRow {
                    id: &e.id,
                    polls,
                    failures,
                    status: h.status(now.millis()),
                    json: h.to_json(&e.id, now.millis()),
                }
            })
            .collect();
        let families: [Family; 4] = [
            (
                "inplay_provider_polls_total",
                "counter",
                "Polls (and pushes) of each provider.",
                |r| Some(r.polls),
            ),
            (
                "inplay_provider_poll_failures_total",
                "counter",
                "Failed polls (and pushes) of each provider.",
                |r| Some(r.failures),
            ),
            (
                "inplay_provider_health",
                "gauge",
                "Provider health: 2 healthy, 1 degraded, 0 down.",
                |r| {
                    Some(match r.status {
                        "healthy" => 2,
                        "degraded" => 1,
                        _ => 0,
                    })
                },
            ),
            (
                "inplay_provider_quota_remaining",
                "gauge",
                "Requests left in the provider's usage quota, as it last said.",
                |r| r.json["quota"]["remaining"].as_u64(),
            ),
        ];
        for (name, kind, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for row in &rows {
                if let Some(v) = value(row) {
                    let _ = writeln!(out, "{name}{{provider=\"{}\"}} {v}", row.id);
                }
            }
        }
        let name = "inplay_provider_response_ms";
        let _ = writeln!(
            out,
            "# HELP {name} Response time of the provider's last 100 successful polls, by quantile."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        for row in &rows {
            for q in ["p50", "p95", "p99"] {
                if let Some(v) = row.json["responseTimes"][q].as_u64() {
                    let quantile = &q[1..];
                    let _ = writeln!(
                        out,
                        "{name}{{provider=\"{}\",quantile=\"0.{quantile}\"}} {v}",
                        row.id
                    );
                }
            }
        }
    }
}

/// A metric family: name, type, help, and the value of a row (`None`: no sample).
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&MetricsRow<'_>) -> Option<u64>,
);

/// One provider's values for `/metrics`.
struct MetricsRow<'a> {
    id: &'a str,
    polls: u64,
    failures: u64,
    status: &'static str,
    json: Value,
}
