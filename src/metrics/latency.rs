//! Request latency as an HDR histogram: one per shard, recorded without atomics or locks,
//! cloned into the scrape snapshot and merged with every other shard's at `/metrics`.
//!
//! A fixed-bucket histogram only answers "how many under 1 ms"; an HDR histogram keeps every
//! value to 3 significant digits, so the scrape can derive both the Prometheus buckets existing
//! dashboards use and exact quantiles (p99, p99.9) of the whole server.

use std::{fmt::Write, time::Duration};

use hdrhistogram::Histogram;

/// Upper bounds of the exported Prometheus histogram, in seconds (the `le` labels dashboards
/// already use; they were the fixed buckets before the HDR histogram).
pub(crate) const LATENCY_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Quantiles exported as `inplay_http_request_duration_quantile_seconds`.
pub(crate) const QUANTILES: [(f64, &str); 4] =
    [(0.5, "0.5"), (0.9, "0.9"), (0.99, "0.99"), (0.999, "0.999")];

/// Lowest latency told apart from zero, in microseconds.
const LOWEST_US: u64 = 1;
/// Highest latency recorded as itself, in microseconds (60 s); longer ones count as 60 s.
const HIGHEST_US: u64 = 60_000_000;
/// Significant decimal digits kept: values are exact to within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Request latencies in microseconds, and their exact sum.
///
/// About 136 KiB (17,408 `u64` counts) whatever the traffic: the counts are preallocated for
/// the whole 1 µs..60 s range.
#[derive(Debug, Clone)]
pub(crate) struct LatencyHistogram {
    hist: Histogram<u64>,
    /// The exact sum (the histogram's would be rounded to its resolution).
    sum: Duration,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            // The bounds are constants that satisfy `new_with_bounds`' rules (low >= 1,
            // high >= 2 * low, sigfig <= 5), which the unit tests exercise.
            hist: Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
                .expect("constant histogram bounds are valid"),
            sum: Duration::ZERO,
        }
    }
}

// === impl LatencyHistogram ===

impl LatencyHistogram {
    /// Records one request (a few nanoseconds: an index computation and an increment).
    pub fn record(&mut self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.hist.saturating_record(us);
        self.sum += elapsed;
    }

    /// Adds another shard's latencies to these.
    pub fn merge(&mut self, other: &Self) {
        // Every histogram here has the same bounds, so the addition cannot run out of range;
        // if it ever did, the scrape would show fewer requests rather than fail.
        if let Err(e) = self.hist.add(&other.hist) {
            tracing::warn!(error = ?e, "Latency histograms of two shards could not be merged");
            return;
        }
        self.sum += other.sum;
    }

    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Requests that took at most `le` seconds (to within the histogram's 0.1 % resolution).
    pub fn count_at_most(&self, le: f64) -> u64 {
        let us = (le * 1e6).round() as u64;
        self.hist.count_between(0, us).min(self.count())
    }

    /// The latency `q` (in `0.0..=1.0`) of the requests are at or under, in seconds; `None`
    /// before the first request.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        (!self.hist.is_empty()).then(|| self.hist.value_at_quantile(q) as f64 / 1e6)
    }

    /// Writes `inplay_http_request_duration_seconds` (a Prometheus histogram with the
    /// [`LATENCY_BUCKETS`] bounds) and `inplay_http_request_duration_quantile_seconds`.
    pub fn write_prometheus(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let name = "inplay_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a request's parse to its response."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut last = 0;
        for le in LATENCY_BUCKETS {
            // Nested ranges make the counts cumulative; `max` keeps them so even if a bound
            // ever rounded below the previous one.
            last = last.max(self.count_at_most(le));
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {last}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum.as_secs_f64());
        let _ = writeln!(out, "{name}_count {count}");

        let name = "inplay_http_request_duration_quantile_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Request latency quantiles of every shard since start (HDR histogram, 3 significant digits); NaN before the first request."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (q, label) in QUANTILES {
            let value = self.quantile(q).unwrap_or(f64::NAN);
            let _ = writeln!(out, "{name}{{quantile=\"{label}\"}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// (le, cumulative count) of every bucket line, and `_count`.
    fn buckets(text: &str) -> (Vec<(String, u64)>, u64) {
        let mut out = Vec::new();
        let mut count = None;
        for line in text.lines() {
            if let Some(rest) =
                line.strip_prefix("inplay_http_request_duration_seconds_bucket{le=\"")
            {
                let (le, n) = rest.split_once("\"} ").expect("bucket line");
                out.push((le.to_owned(), n.parse().expect("count")));
            } else if let Some(n) = line.strip_prefix("inplay_http_request_duration_seconds_count ")
            {
                count = Some(n.parse().expect("count"));
            }
        }
        (out, count.expect("a _count line"))
    }

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let mut h = LatencyHistogram::default();
        for d in [
            Duration::from_micros(50),
            Duration::from_micros(100), // exactly on the first bound: inside it
            Duration::from_micros(101),
            ms(3),
            ms(700),
            ms(5_000),                  // above every bound: only in +Inf
            Duration::from_secs(3_600), // above the histogram's range: counted as 60 s
        ] {
            h.record(d);
        }
        let mut text = String::new();
        h.write_prometheus(&mut text);
        let (buckets, count) = buckets(&text);
        assert_eq!(buckets.len(), LATENCY_BUCKETS.len() + 1);
        assert_eq!(count, 7);
        assert_eq!(buckets.last(), Some(&("+Inf".to_owned(), 7)));
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
        let at = |le: &str| buckets.iter().find(|(l, _)| l == le).map(|(_, n)| *n);
        assert_eq!(at("0.0001"), Some(2));
        assert_eq!(at("0.00025"), Some(3));
        assert_eq!(at("0.005"), Some(4));
        assert_eq!(at("1"), Some(5));
        assert!(text.contains("inplay_http_request_duration_seconds_sum 3605.70325"));
    }

    #[test]
    fn shards_merge_into_one_distribution() {
        let (mut a, mut b) = (LatencyHistogram::default(), LatencyHistogram::default());
        for _ in 0..990 {
            a.record(Duration::from_micros(200));
        }
        for _ in 0..10 {
            b.record(ms(40));
        }
        a.merge(&b);
        assert_eq!(a.count(), 1000);
        assert_eq!(a.sum, Duration::from_micros(200 * 990) + ms(400));
        // p50 and p99 in shard a's range, p99.9 in shard b's (to 3 significant digits).
        let near = |got: Option<f64>, want: f64| {
            let got = got.expect("recorded");
            assert!((got - want).abs() <= want * 1e-3, "{got} vs {want}");
        };
        near(a.quantile(0.5), 0.0002);
        near(a.quantile(0.99), 0.0002);
        near(a.quantile(0.999), 0.040);
        assert_eq!(a.count_at_most(0.025), 990);
        assert_eq!(a.count_at_most(0.05), 1000);
    }

    #[test]
    fn an_empty_histogram_has_no_quantiles() {
        let h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        let mut text = String::new();
        h.write_prometheus(&mut text);
        assert!(
            text.contains("inplay_http_request_duration_quantile_seconds{quantile=\"0.99\"} NaN")
        );
        assert!(text.contains("inplay_http_request_duration_seconds_bucket{le=\"+Inf\"} 0"));
    }

    #[test]
    fn memory_per_shard_stays_small() {
        // 17,408 u64 counts: the figure the type's documentation gives.
        let h = LatencyHistogram::default();
        assert_eq!(h.hist.distinct_values(), 17_408);
    }
}
