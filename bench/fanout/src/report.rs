//! The result of a run: one flat JSON object (for scripts) and a table (for people).
//!
//! Latencies are in µs, memory in KiB (per session: bytes), CPU in % of one core. A field that
//! could not be measured (no `--pid`, nothing delivered) is `null` in the JSON and `-` in the
//! table.

use std::fmt::Write as _;

use serde::Serialize;

/// Everything a run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub label: String,
    /// `live` or `ws`.
    pub endpoint: String,
    pub url: String,
    pub subscribers: usize,
    pub matches: usize,
    /// Updates per second per match.
    pub rate: f64,
    /// Updates per match.
    pub count: u64,

    /// Subscriptions in place / subscribers that could not connect or subscribe.
    pub connected: usize,
    pub failed: usize,
    /// The first connection error, if any.
    pub connect_error: Option<String>,
    /// From the first handshake to the last subscription in place, s.
    pub connect_s: f64,

    /// Updates that went out (`PUBLISH` succeeded) and that failed.
    pub published: u64,
    pub publish_errors: u64,
    /// Fewest Redis subscribers a `PUBLISH` reached (0: the server was not subscribed).
    pub redis_receivers_min: Option<i64>,
    /// Furthest the publisher fell behind its schedule, ms (the client cpu was too busy).
    pub publisher_behind_max_ms: f64,
    /// The cap stopped publishing early.
    pub cut_short: bool,

    /// Σ over connected subscribers of the updates of their match that went out.
    pub expected: u64,
    /// Updates received for the first time.
    pub delivered: u64,
    /// delivered / (last receive − first publish).
    pub delivered_per_s: f64,
    /// Published updates a subscriber never received although a later one of its match
    /// arrived: gaps, real losses.
    pub lost: u64,
    /// Subscribers with at least one gap.
    pub subscribers_with_loss: usize,
    /// Published updates that had not arrived when the run ended, after the last one a
    /// subscriber received: the server was behind (or lost the tail of the stream).
    pub undelivered: u64,
    /// Subscribers with such a tail.
    pub subscribers_behind: usize,
    pub out_of_order: u64,
    pub duplicates: u64,
    /// Update numbers never published, or updates of another match.
    pub unexpected: u64,
    /// Frames that were not JSON objects, or updates with broken fields (errors).
    pub malformed: u64,
    /// Frames not counted (snapshots, pongs, the warm-up).
    pub other_frames: u64,
    /// Subscribers the server closed (or whose read failed) before the end.
    pub closed_early: usize,
    /// Their close codes, `code×count` (`none`: no close frame, `error`: a read error).
    pub close_codes: String,

    pub latency_p50_us: Option<u64>,
    pub latency_p90_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub latency_p999_us: Option<u64>,
    pub latency_max_us: Option<u64>,
    pub latency_mean_us: Option<f64>,

    /// The server's RSS before connecting, with N idle subscribed sessions, and at the end, KiB.
    pub rss_before_kib: Option<u64>,
    pub rss_connected_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    /// Its peak RSS (VmHWM) at the end, KiB.
    pub rss_peak_kib: Option<u64>,
    /// (connected − before) / connected sessions, bytes: an idle subscribed session's cost
    /// (negative when the server returned more memory than the sessions took: measure on a
    /// freshly started server).
    pub rss_per_session_bytes: Option<i64>,

    /// From the first publish to the end of the drain, s.
    pub window_s: f64,
    /// The server's user+system CPU in that window, s and % of one core.
    pub server_cpu_s: Option<f64>,
    pub server_cpu_pct: Option<f64>,
    /// This generator's, % of one core.
    pub client_cpu_pct: f64,
    /// Every other program's (busy time of all cpus minus server and generator), % of one core.
    pub other_cpu_pct: Option<f64>,
    /// The server's CPU time per delivered message, µs: its cost of one frame to one socket.
    pub server_cpu_us_per_msg: Option<f64>,
    /// This generator's, µs: with every subscriber on one match, a burst's last receive
    /// comes no sooner than (subscribers × this) after its first, whatever the server does.
    pub client_cpu_us_per_msg: Option<f64>,
    /// Whole run, s.
    pub elapsed_s: f64,
    /// Whether anything was delivered (the exit status follows it).
    pub ok: bool,
}

impl Report {
    /// The one-line JSON summary.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    }

    /// The table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "fan-out {} ({}): {} subscribers over {} matches, {} updates/s per match, {} each",
            self.endpoint, self.url, self.subscribers, self.matches, self.rate, self.count
        );
        let error = self.connect_error.as_ref();
        let _ = writeln!(
            t,
            "  subscribers   {} connected, {} failed in {:.1} s{}",
            self.connected,
            self.failed,
            self.connect_s,
            error.map_or(String::new(), |e| format!(" (first error: {e})"))
        );
        let _ = writeln!(
            t,
            "  published     {} updates, {} errors, fewest redis receivers {}, \
             publisher behind by up to {:.1} ms{}",
            self.published,
            self.publish_errors,
            dash(self.redis_receivers_min),
            self.publisher_behind_max_ms,
            if self.cut_short {
                " (cut short by --max-secs)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            t,
            "  delivered     {} of {} expected, {:.0} msgs/s; not arrived by the end: {} \
             ({} subscribers behind)",
            self.delivered,
            self.expected,
            self.delivered_per_s,
            self.undelivered,
            self.subscribers_behind
        );
        let codes = if self.close_codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.close_codes)
        };
        let _ = writeln!(
            t,
            "  anomalies     lost {} ({} subscribers), out of order {}, duplicates {}, \
             unexpected {}, malformed {}; closed early {}{codes}",
            self.lost,
            self.subscribers_with_loss,
            self.out_of_order,
            self.duplicates,
            self.unexpected,
            self.malformed,
            self.closed_early
        );
        let ms = |v: Option<u64>| v.map_or("-".into(), |v| format!("{:.2}", v as f64 / 1000.0));
        let _ = writeln!(
            t,
            "  latency ms    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (publish -> receive)",
            ms(self.latency_p50_us),
            ms(self.latency_p90_us),
            ms(self.latency_p99_us),
            ms(self.latency_p999_us),
            ms(self.latency_max_us)
        );
        let mib = |v: Option<u64>| v.map_or("-".into(), |v| format!("{:.1}", v as f64 / 1024.0));
        let _ = writeln!(
            t,
            "  server RSS    before {} MiB, with {} idle sessions {} MiB, end {} MiB, peak {} MiB",
            mib(self.rss_before_kib),
            self.connected,
            mib(self.rss_connected_kib),
            mib(self.rss_end_kib),
            mib(self.rss_peak_kib)
        );
        let _ = writeln!(
            t,
            "  per session   {} bytes of server RSS per idle subscribed session",
            dash(self.rss_per_session_bytes)
        );
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
        let _ = writeln!(
            t,
            "  cpu           server {}% ({} s), generator {:.0}%, others {}% of a core in {:.1} s",
            pct(self.server_cpu_pct),
            self.server_cpu_s.map_or("-".into(), |s| format!("{s:.2}")),
            self.client_cpu_pct,
            pct(self.other_cpu_pct),
            self.window_s
        );
        let us = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        let _ = writeln!(
            t,
            "  per message   server {} µs cpu, generator {} µs cpu (per delivered message)",
            us(self.server_cpu_us_per_msg),
            us(self.client_cpu_us_per_msg)
        );
        t
    }
}

fn dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// `code×count` pairs, sorted by code.
pub fn close_codes(codes: &std::collections::BTreeMap<String, usize>) -> String {
    codes
        .iter()
        .map(|(code, k)| format!("{code}x{k}"))
        .collect::<Vec<_>>()
        .join(" ")
}
