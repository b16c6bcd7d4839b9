//! `/metrics`: valid Prometheus text, counters that move, every shard's numbers merged.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;

/// Parses the exposition: (series with labels → value), and the metric names with a `# TYPE`.
fn parse(text: &str) -> (BTreeMap<String, f64>, BTreeSet<String>) {
    let (mut series, mut typed) = (BTreeMap::new(), BTreeSet::new());
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap().to_owned();
            let kind = parts.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name);
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = key.split('{').next().unwrap();
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{line}"
        );
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| typed.contains(*b)))
            .unwrap_or(name);
        assert!(typed.contains(base), "{name} has no # TYPE");
        series.insert(key.to_owned(), value);
    }
    (series, typed)
}

#[test]
fn metrics_parse_and_counters_move() {
    let server = TestServer::start(&[]);
    common::wait_for_matches(&server, 1000);
    for _ in 0..5 {
        assert_eq!(server.get("/health").status, 200);
    }
    assert_eq!(server.get("/api/scores/nope").status, 404);
    let r = server.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let (before, typed) = parse(&r.text());
    for name in [
        "inplay_http_requests_total",
        "inplay_http_request_duration_seconds",
        "inplay_http_request_duration_quantile_seconds",
        "inplay_http_connections_open",
        "inplay_ws_sessions",
        "inplay_matches",
        "inplay_provider_polls_total",
        "inplay_http_handovers_total",
    ] {
        assert!(typed.contains(name), "{name} missing");
    }
    let health = r#"inplay_http_requests_total{route="/health",status="200"}"#;
    assert!(before[health] >= 5.0, "{before:?}");
    assert!(
        before[r#"inplay_http_requests_total{route="/api/scores/{matchId}",status="404"}"#] >= 1.0
    );
    assert!(before[r#"inplay_matches{shard="0"}"#] >= 1000.0);
    assert!(before[r#"inplay_matches{shard="1"}"#] >= 1000.0);
    assert!(before[r#"inplay_provider_polls_total{provider="demo-alpha"}"#] > 0.0);
    let count = before["inplay_http_request_duration_seconds_count"];
    assert!(count >= 6.0);
    assert_eq!(
        before[r#"inplay_http_request_duration_seconds_bucket{le="+Inf"}"#],
        count
    );
    assert_latency_consistent(&before);
    // Per-shard gauges carry a shard label; summed, they are the server's total (the scrape's
    // own connection is open on one of the shards).
    for name in ["inplay_http_connections_open", "inplay_ws_sessions"] {
        let per_shard: Vec<f64> = (0..2)
            .map(|shard| before[&format!("{name}{{shard=\"{shard}\"}}")])
            .collect();
        assert!(per_shard.iter().all(|v| *v >= 0.0), "{name}: {per_shard:?}");
    }
    let open: f64 = (0..2)
        .map(|shard| before[&format!("inplay_http_connections_open{{shard=\"{shard}\"}}")])
        .sum();
    assert!(open >= 1.0, "the scrape's connection is open: {open}");

    for _ in 0..3 {
        server.get("/health");
    }
    let (after, _) = parse(&server.get("/metrics").text());
    assert!(after[health] >= before[health] + 3.0);
    // `/health` is answered by another shard, so each of those connections left the
    // readiness loop (each request above came on a new connection).
    let handovers = |m: &BTreeMap<String, f64>| -> f64 {
        (0..2)
            .map(|shard| m[&format!("inplay_http_handovers_total{{shard=\"{shard}\"}}")])
            .sum()
    };
    assert!(handovers(&after) >= handovers(&before) + 3.0, "{after:?}");
    assert!(after["inplay_http_request_duration_seconds_count"] > count);
    assert_latency_consistent(&after);
}

/// The latency histogram's buckets are cumulative and end at `_count`; the quantiles are
/// ordered and within the observed range.
fn assert_latency_consistent(series: &BTreeMap<String, f64>) {
    let prefix = "inplay_http_request_duration_seconds_bucket{le=\"";
    let mut buckets: Vec<(f64, f64)> = series
        .iter()
        .filter_map(|(k, v)| {
            let le = k.strip_prefix(prefix)?.strip_suffix("\"}")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            Some((le, *v))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The same bounds as before the HDR histogram, so dashboards keep working.
    let bounds: Vec<f64> = buckets.iter().map(|b| b.0).collect();
    assert_eq!(
        bounds,
        [
            0.0001,
            0.00025,
            0.0005,
            0.001,
            0.0025,
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            1.0,
            f64::INFINITY
        ]
    );
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    let count = series["inplay_http_request_duration_seconds_count"];
    assert_eq!(buckets.last().unwrap().1, count);
    let q = |q: &str| {
        series[&format!("inplay_http_request_duration_quantile_seconds{{quantile=\"{q}\"}}")]
    };
    let (p50, p90, p99, p999) = (q("0.5"), q("0.9"), q("0.99"), q("0.999"));
    assert!(
        0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= 60.0,
        "{p50} {p90} {p99} {p999}"
    );
}
