//! Prometheus metrics: plain per-shard counters (no atomics, no locks on the request path),
//! merged from every shard when `/metrics` is scraped.

mod latency;

use std::{
    cell::{Cell, RefCell},
    collections::BTreeMap,
    fmt::Write,
    time::Duration,
};

pub(crate) use latency::LatencyHistogram;

/// One shard's counters.
#[derive(Debug, Default)]
pub(crate) struct ShardMetrics {
    /// (route template, status) → requests.
    requests: RefCell<BTreeMap<(&'static str, u16), u64>>,
    /// Request latencies (HDR, microseconds).
    latency: RefCell<LatencyHistogram>,
    /// TLS handshakes that failed or timed out (`[tls]` on).
    tls_handshake_failures: Cell<u64>,
    /// Connections the readiness loop handed to a task of their own.
    http_handovers: Cell<u64>,
}

/// A shard's metrics at scrape time (`Send`, crosses shards).
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricsSnapshot {
    pub requests: BTreeMap<(&'static str, u16), u64>,
    /// A copy of the shard's latency histogram (merged with the others' at render).
    pub latency: LatencyHistogram,
    /// Gauges and counters kept elsewhere on the shard.
    pub connections_open: usize,
    pub connections_in_loop: usize,
    pub ws_sessions: usize,
    pub ws_slow_dropped: u64,
    pub ws_slow_coalesced: u64,
    pub ws_lagged: u64,
    /// Frames waiting in sessions' queues (slow or TLS clients).
    pub ws_queued_frames: usize,
    /// Frames offered to sessions, events fanned out, and their publish-to-send lag.
    pub ws_offered: u64,
    pub ws_events: u64,
    pub ws_lag_sum: Duration,
    pub ws_lag_max: Duration,
    pub matches: usize,
    /// Bytes held for `/ws` recovery.
    pub history_bytes: usize,
    pub tls_handshake_failures: u64,
    pub http_handovers: u64,
}

impl ShardMetrics {
    /// Counts one answered request.
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        *self
            .requests
            .borrow_mut()
            .entry((route, status))
            .or_default() += 1;
        self.latency.borrow_mut().record(elapsed);
    }

    /// Counts one failed TLS handshake.
    pub fn handshake_failed(&self) {
        self.tls_handshake_failures
            .set(self.tls_handshake_failures.get() + 1);
    }

    /// Counts one connection the readiness loop handed to a task of its own.
    pub fn handed_over(&self) {
        self.http_handovers.set(self.http_handovers.get() + 1);
    }

    /// The request counters, for a snapshot.
    pub fn snapshot_into(&self, s: &mut MetricsSnapshot) {
        s.tls_handshake_failures = self.tls_handshake_failures.get();
        s.http_handovers = self.http_handovers.get();
        s.requests = self.requests.borrow().clone();
        s.latency = self.latency.borrow().clone();
    }
}

/// A per-shard series: (name, type, help, value of a snapshot).
type PerShard = (
    &'static str,
    &'static str,
    &'static str,
    fn(&MetricsSnapshot) -> f64,
);

/// Renders every shard's snapshot (index = shard id) in the Prometheus text format.
pub(crate) fn render(shards: &[MetricsSnapshot]) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let mut requests: BTreeMap<(&str, u16), u64> = BTreeMap::new();
    let mut latency = LatencyHistogram::default();
    for s in shards {
        for (k, v) in &s.requests {
            *requests.entry(*k).or_default() += v;
        }
        latency.merge(&s.latency);
    }
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP inplay_http_requests_total HTTP requests answered, by route and status."
    );
    let _ = writeln!(out, "# TYPE inplay_http_requests_total counter");
    for ((route, status), n) in &requests {
        let _ = writeln!(
            out,
            "inplay_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
        );
    }
    latency.write_prometheus(&mut out);
    let gauges: [PerShard; 15] = [
        (
            "inplay_http_connections_open",
            "gauge",
            "Open HTTP and WebSocket connections.",
            |s| s.connections_open as f64,
        ),
        (
            "inplay_ws_sessions",
            "gauge",
            "Open WebSocket sessions.",
            |s| s.ws_sessions as f64,
        ),
        (
            "inplay_ws_slow_consumers_total",
            "counter",
            "WebSocket sessions closed as slow consumers.",
            |s| s.ws_slow_dropped as f64,
        ),
        (
            "inplay_ws_slow_consumers_coalesced_total",
            "counter",
            "WebSocket send-queue overflows answered with a resync (slow_consumer = coalesce).",
            |s| s.ws_slow_coalesced as f64,
        ),
        (
            "inplay_ws_lagged_sessions_total",
            "counter",
            "WebSocket sessions that missed changes dropped before reaching their shard, resynced or closed with 1013.",
            |s| s.ws_lagged as f64,
        ),
        (
            "inplay_ws_queued_frames",
            "gauge",
            "Frames queued for WebSocket sessions whose socket did not take them at once.",
            |s| s.ws_queued_frames as f64,
        ),
        (
            "inplay_ws_frames_offered_total",
            "counter",
            "Change frames offered to WebSocket sessions (one per session per change).",
            |s| s.ws_offered as f64,
        ),
        (
            "inplay_ws_publish_events_total",
            "counter",
            "Changes fanned out to this shard's sessions.",
            |s| s.ws_events as f64,
        ),
        (
            "inplay_ws_publish_lag_seconds_total",
            "counter",
            "Sum of publish-to-send lags: change serialised to written to its last session here.",
            |s| s.ws_lag_sum.as_secs_f64(),
        ),
        (
            "inplay_ws_publish_lag_max_seconds",
            "gauge",
            "Largest publish-to-send lag since the previous scrape.",
            |s| s.ws_lag_max.as_secs_f64(),
        ),
        (
            "inplay_ws_history_bytes",
            "gauge",
            "Bytes of recent change frames held for WS /ws recovery.",
            |s| s.history_bytes as f64,
        ),
        (
            "inplay_tls_handshake_failures_total",
            "counter",
            "TLS handshakes that failed or timed out (plaintext on the TLS port, bad client hello, ...).",
            |s| s.tls_handshake_failures as f64,
        ),
        (
            "inplay_http_loop_connections",
            "gauge",
            "Open plain connections the shard's readiness loop holds (the rest of inplay_http_connections_open have a task each).",
            |s| s.connections_in_loop as f64,
        ),
        (
            "inplay_http_handovers_total",
            "counter",
            "Plain connections the shard's readiness loop (http.epoll) handed to a task of their own: an answer from another shard, a WebSocket upgrade, a request split over reads, or a reader slower than its socket.",
            |s| s.http_handovers as f64,
        ),
        (
            "inplay_matches",
            "gauge",
            "Matches in the shard's read view.",
            |s| s.matches as f64,
        ),
    ];
    for (name, kind, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (shard, s) in shards.iter().enumerate() {
            let _ = writeln!(out, "{name}{{shard=\"{shard}\"}} {}", value(s));
        }
    }
    out
}
