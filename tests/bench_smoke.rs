//! The bundled benchmarks, run for a few seconds with a small load, asserting only that they
//! produce numbers, not how fast (issue 10):
//! - the WebSocket fan-out generator (`bench/fanout`, issue 6) against the real server and a
//!   throwaway Redis, also checking that everything published arrived once, in order;
//! - `bench/wrk.sh` against the debug server this test suite built;
//! - `bench/ab.sh` with that server as both builds.
//!
//! `bench/autocannon.sh` is not run here: it needs Node.js and an `npm install` of autocannon
//! from the network (minutes on a fresh machine, and a registry outage fails the suite).

mod common;

use std::{
    io::Read,
    path::PathBuf,
    process::{Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

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
    assert!(
        r.server_cpu_us_per_msg.is_some() && r.client_cpu_us_per_msg.is_some(),
        "{summary}"
    );
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
fn fanout_generator_answers_the_servers_pings() {
    // The server pings every 100 ms and drops a client it has not heard from in 400 ms; a run
    // lasts over a second, so a subscriber that did not answer would be closed early.
    let redis = Redis::start();
    let server = TestServer::start(&[
        ("REDIS_URL", &redis.url()),
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_PING_INTERVAL_MS", "100"),
        ("INPLAY_WEBSOCKET_IDLE_TIMEOUT_MS", "400"),
    ]);
    let r = small_run(&server, &redis, Endpoint::Live);
    assert_complete(&r);
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

/// Whether `tool` is on the PATH.
fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` for at most `limit`; its stdout and stderr, or why it failed. On timeout it is
/// sent SIGTERM first (bench scripts stop their server on it), then SIGKILL.
fn run_bounded(mut cmd: Command, limit: Duration) -> Result<(String, String), String> {
    // One directory per call: the tests of this file run in parallel in one process.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let out =
        std::env::temp_dir().join(format!("inplay-bench-smoke-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (stdout_path, stderr_path) = (out.join("stdout"), out.join("stderr"));
    let file = |p: &PathBuf| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = cmd
        .stdout(file(&stdout_path)?)
        .stderr(file(&stderr_path)?)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let grace = Instant::now() + Duration::from_secs(15);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < grace {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |p: &PathBuf| {
        let mut text = String::new();
        let _ = std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut text));
        text
    };
    let (stdout, stderr) = (read(&stdout_path), read(&stderr_path));
    let _ = std::fs::remove_dir_all(&out);
    match status {
        Some(s) if s.success() => Ok((stdout, stderr)),
        Some(s) => Err(format!("{s}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")),
        None => Err(format!(
            "no result within {limit:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        )),
    }
}

/// Column `n` (0 = the endpoint's name) of an endpoint's row in wrk.sh's table.
fn column(table: &str, endpoint: &str, n: usize) -> Option<f64> {
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(endpoint))?;
    row.split_whitespace().nth(n)?.parse().ok()
}

/// Runs `bench/wrk.sh 1 4 1` against the debug server with `env` on top: its table.
fn wrk_script(env: &[(&str, &str)]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("inplay-wrk-smoke-{}", std::process::id()));
    let lock = scratch.join("bench.lock");
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("bench/wrk.sh"))
        .args(["1", "4", "1"]) // 1 s, 4 connections, 1 shard
        .current_dir(&root)
        // The debug server this suite built: no release build inside a test.
        .env("BENCH_BIN", env!("CARGO_BIN_EXE_inplay"))
        .env("WARMUP", "0")
        // Its own lock: a benchmark someone runs on this machine must not hold the test up for
        // the 15 minutes wrk.sh would wait for /tmp/bench.lock.
        .env("LOCK", &lock)
        .env("OUT", scratch.join("out"))
        .envs(env.iter().copied());
    let result = run_bounded(cmd, Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(&scratch);
    let (table, log) = result.unwrap_or_else(|e| panic!("bench/wrk.sh failed: {e}"));
    for endpoint in ["scores", "markets"] {
        let rps = column(&table, endpoint, 1);
        assert!(
            rps.is_some_and(|r| r > 0.0),
            "{endpoint}: req/s {rps:?} in\n{table}\n--- stderr\n{log}"
        );
    }
    table
}

#[test]
fn wrk_script_reports_numbers_for_both_endpoints() {
    if !have("wrk") && !have("apt-get") {
        // scripts/deps.sh (run by scripts/test.sh and CI) installs wrk on Debian and Ubuntu.
        eprintln!("skipped: wrk is not installed and there is no apt-get to install it with");
        return;
    }
    let table = wrk_script(&[]);
    assert!(
        table.contains("INPLAY_RATE_LIMIT_ENABLED=false"),
        "says rate limiting is off:\n{table}"
    );
    assert!(table.contains("peak RSS (VmHWM) of inplay: "), "{table}");
    eprintln!("{table}");

    // ACCEPT_ENCODING reaches the server: the markets list comes back compressed.
    let gzip = wrk_script(&[("ACCEPT_ENCODING", "gzip")]);
    assert!(gzip.contains("Accept-Encoding: gzip"), "says so:\n{gzip}");
    let (plain, compressed) = (
        column(&table, "markets", 8).unwrap_or(0.0),
        column(&gzip, "markets", 8).unwrap_or(f64::MAX),
    );
    assert!(
        compressed * 3.0 < plain,
        "markets bytes per response: {compressed} with gzip, {plain} without\n{gzip}"
    );
    eprintln!("{gzip}");
}

#[test]
fn ab_script_reports_a_ratio() {
    if !have("wrk") && !have("apt-get") {
        eprintln!("skipped: wrk is not installed and there is no apt-get to install it with");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("inplay-ab-smoke-{}", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_inplay");
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("bench/ab.sh"))
        .args([bin, bin, "1", "1", "scores"]) // the same build twice: 1 round of 1 s
        .current_dir(&root)
        .env("WARMUP", "0")
        .env("LOCK", scratch.join("bench.lock"))
        .env("OUT", scratch.join("out"));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let result = run_bounded(cmd, Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(&scratch);
    let (table, log) = result.unwrap_or_else(|e| panic!("bench/ab.sh failed: {e}"));
    let ratio = table
        .lines()
        .find_map(|l| l.strip_prefix("B/A geometric mean over 1 rounds: "))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok());
    assert!(
        ratio.is_some_and(|r| r > 0.0),
        "a ratio in\n{table}\n--- stderr\n{log}"
    );
    eprintln!("{table}");
}
