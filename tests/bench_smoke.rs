//! The WebSocket fan-out generator (`bench/fanout`, issues 6 and 10) against the real server and
//! a throwaway Redis: a few seconds with a small load, asserting only that it produced numbers
//! and that everything published arrived once, in order — not how fast.

mod common;

use std::time::Duration;

use common::{redis::Redis, TestServer};
use inplay_fanout::{Config, Endpoint, Report};

fn server(redis: &Redis) -> TestServer {
    TestServer::start(&[
        ("REDIS_URL", &redis.url()),
        ("INPLAY_DEMO_ENABLED", "false"),
    ])
}

/// 50 subscribers over 5 matches, 20 updates per match at 50/s (under a second of publishing).
fn small_run(server: &TestServer, redis: &Redis, endpoint: Endpoint) -> Report {
    let config = Config {
        port: server.addr.port(),
        endpoint,
        subscribers: 50,
        matches: 5,
        rate: 50.0,
        count: 20,
        redis_url: redis.url(),
        pid: Some(server.child.id()),
        settle: Duration::from_millis(300),
        // Only waited for if something has not arrived (a loaded CI machine).
        grace: Duration::from_secs(10),
        max_time: Duration::from_secs(30),
        threads: 1,
        json_only: true,
        ..Config::default()
    };
    inplay_fanout::run(&config).expect("the generator runs")
}

fn assert_complete(r: &Report) {
    let summary = r.json();
    assert_eq!((r.connected, r.failed), (50, 0), "{summary}");
    assert_eq!(r.published, 5 * 20, "{summary}");
    assert!(
        r.redis_receivers_min >= Some(1),
        "server subscribed: {summary}"
    );
    assert_eq!(r.expected, 50 * 20, "{summary}");
    assert!(r.delivered > 0 && r.ok, "{summary}");
    assert_eq!((r.lost, r.undelivered), (0, 0), "{summary}");
    assert_eq!((r.out_of_order, r.duplicates), (0, 0), "{summary}");
    assert_eq!(
        (r.unexpected, r.malformed, r.closed_early),
        (0, 0, 0),
        "{summary}"
    );
    assert!(
        r.latency_p50_us.is_some() && r.latency_max_us >= r.latency_p99_us,
        "{summary}"
    );
    assert!(r.delivered_per_s > 0.0, "{summary}");
    assert!(
        r.rss_connected_kib.is_some() && r.rss_per_session_bytes.is_some(),
        "{summary}"
    );
    assert!(r.server_cpu_s.is_some(), "{summary}");
    let parsed: serde_json::Value = serde_json::from_str(&summary).expect("one JSON object");
    assert_eq!(parsed["delivered"], r.delivered);
    assert!(r.table().contains("per idle subscribed session"));
}

#[test]
fn fanout_generator_measures_live_and_ws_subscribers() {
    let redis = Redis::start();
    let server = server(&redis);
    let live = small_run(&server, &redis, Endpoint::Live);
    assert_complete(&live);
    // Subscribers on /ws first get a snapshot of their match (counted as "other").
    let mux = small_run(&server, &redis, Endpoint::Mux);
    assert_complete(&mux);
    assert!(mux.other_frames >= 50, "{}", mux.json());
}

#[test]
fn fanout_generator_reports_nothing_delivered_without_a_subscribed_server() {
    // The server has no Redis: the generator's publishes reach no one.
    let redis = Redis::start();
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let config = Config {
        port: server.addr.port(),
        subscribers: 5,
        matches: 1,
        rate: 100.0,
        count: 5,
        redis_url: redis.url(),
        settle: Duration::from_millis(100),
        grace: Duration::from_millis(300),
        max_time: Duration::from_secs(10),
        threads: 1,
        json_only: true,
        ..Config::default()
    };
    let r = inplay_fanout::run(&config).expect("the generator runs");
    assert_eq!(r.connected, 5);
    assert_eq!(r.redis_receivers_min, Some(0));
    assert!(!r.ok && r.delivered == 0, "{}", r.json());
    assert_eq!((r.lost, r.undelivered, r.subscribers_behind), (0, 25, 5));
}
