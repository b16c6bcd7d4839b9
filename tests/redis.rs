//! Redis against a real, throwaway `redis-server`: the original service's cache keys and TTLs,
//! its external PUBLISH path, a Redis restart mid-stream, and two nodes sharing one Redis
//! (cross-node fan-out and polling-lease takeover).

mod common;

use std::time::Duration;

use common::{
    redis::Redis,
    wait_for_matches,
    wsclient::{connect, next_matching},
    TestServer,
};
use serde_json::Value;

fn node(redis: &Redis, id: &str) -> TestServer {
    TestServer::start(&[
        ("REDIS_URL", &redis.url()),
        ("INPLAY_REDIS_NODE_ID", id),
        ("INPLAY_REDIS_LEASE_MS", "1000"),
    ])
}

fn io_health(server: &TestServer, pred: impl Fn(&Value) -> bool) -> Value {
    server.wait_for("/health", Duration::from_secs(15), |h| pred(&h["io"]))["io"].clone()
}

/// Keys matching `pattern`, waiting up to 10 s for at least one.
fn keys(redis: &Redis, pattern: &str) -> Vec<String> {
    for _ in 0..100 {
        let out = redis.cli(&["--scan", "--pattern", pattern]);
        let keys: Vec<String> = out.lines().map(str::to_owned).collect();
        if !keys.is_empty() {
            return keys;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no key matches {pattern}");
}

fn pttl(redis: &Redis, key: &str) -> i64 {
    redis
        .cli(&["PTTL", key])
        .trim()
        .parse()
        .expect("PTTL is a number")
}

#[test]
fn cache_uses_the_original_keys_and_ttls() {
    let redis = Redis::start();
    let server = node(&redis, "cache-node");
    wait_for_matches(&server, 100);
    io_health(&server, |io| io["redis"]["status"] == "up");

    let score_key = keys(&redis, "score:*").remove(0);
    let ttl = pttl(&redis, &score_key);
    assert!((1..=1000).contains(&ttl) || ttl == -2, "score TTL {ttl}");
    let markets = keys(&redis, "markets:football");
    assert_eq!(markets, ["markets:football"]);
    let ttl = pttl(&redis, "markets:football");
    assert!((1..=30_000).contains(&ttl), "markets TTL {ttl}");
    let body: Value = serde_json::from_str(&redis.cli(&["GET", "markets:football"])).expect("JSON");
    assert!(body.as_array().is_some_and(|a| !a.is_empty()));
    assert!(
        !keys(&redis, "markets:football:*").is_empty(),
        "per-league lists"
    );
    let market_key = keys(&redis, "market:*").remove(0);
    assert!(pttl(&redis, &market_key) <= 5000);

    // A cached score is what the API serves for that match.
    let mut matched = false;
    for key in keys(&redis, "score:*").iter().take(20) {
        let cached = redis.cli(&["GET", key]);
        if let Ok(v) = serde_json::from_str::<Value>(&cached) {
            let id = key.trim_start_matches("score:");
            assert_eq!(v["matchId"], id, "{key} holds its own match");
            matched = true;
        }
    }
    assert!(matched, "no score key could be read before it expired");
}

#[test]
fn an_external_publish_reaches_live_subscribers() {
    let redis = Redis::start();
    let server = node(&redis, "pub-node");
    io_health(&server, |io| io["redis"]["subscribed"] == true);
    let mut ws = connect(&server, "/live/match-123");
    std::thread::sleep(Duration::from_millis(100)); // the session is registered
    redis.cli(&["PUBLISH", "match:match-123", "not json"]);
    redis.cli(&[
        "PUBLISH",
        "match:match-123",
        r#"{"homeScore":2,"awayScore":1,"period":"2nd Half"}"#,
    ]);
    let msg = next_matching(&mut ws, Duration::from_secs(5), |v| {
        v["type"] == "score_update"
    })
    .expect("score_update from PUBLISH");
    assert_eq!(msg["matchId"], "match-123");
    assert_eq!(msg["data"]["homeScore"], 2);
    assert_eq!(msg["data"]["awayScore"], 1);
    assert_eq!(msg["data"]["period"], "2nd Half");
    let io = io_health(&server, |io| io["redis"]["relayed"].as_u64() >= Some(1));
    assert!(
        io["redis"]["badMessages"].as_u64() >= Some(1),
        "garbage counted: {io}"
    );
}

/// An external publish carries no seq to filter duplicates on: a `/ws` session that reaches
/// the match through two subscriptions (the match and its sport) still gets it once.
#[test]
fn an_external_publish_reaches_a_session_once_through_overlapping_subscriptions() {
    let redis = Redis::start();
    let server = node(&redis, "dedup-node");
    io_health(&server, |io| io["redis"]["subscribed"] == true);
    let mut ws = connect(&server, "/ws");
    for (sub, answer) in [
        (r#"{"op":"subscribe","matches":["ext-1"]}"#, "snapshot"),
        (r#"{"op":"subscribe","sport":"curling"}"#, "subscribed"),
    ] {
        ws.send(tungstenite::Message::text(sub)).expect("send");
        next_matching(&mut ws, Duration::from_secs(5), |v| v["type"] == answer)
            .unwrap_or_else(|| panic!("no {answer} for {sub}"));
    }
    for n in 1..=3 {
        let body = format!(r#"{{"matchId":"ext-1","n":{n}}}"#);
        redis.cli(&["PUBLISH", "markets:curling:", &body]);
    }
    let mut got = Vec::new();
    while let Some(v) = next_matching(&mut ws, Duration::from_secs(2), |v| {
        v["type"] == "market_update"
    }) {
        got.push(v["data"]["n"].as_u64().expect("n"));
    }
    assert_eq!(got, [1, 2, 3], "each publish once, in order");
}

#[test]
fn a_redis_restart_is_survived_and_subscriptions_come_back() {
    let mut redis = Redis::start();
    let server = node(&redis, "restart-node");
    wait_for_matches(&server, 50);
    io_health(&server, |io| io["redis"]["subscribed"] == true);
    let mut ws = connect(&server, "/live/match-9");

    redis.stop();
    let h = server.wait_for("/health", Duration::from_secs(15), |h| {
        h["io"]["redis"]["status"] == "down" && h["io"]["redis"]["subscribed"] == false
    });
    assert_eq!(h["status"], "degraded", "Redis away shows in /health");
    let matches = server.get_json("/api/matches");
    let id = matches[0]["matchId"].as_str().expect("matchId").to_owned();
    assert_eq!(
        server.get(&format!("/api/scores/{id}")).status,
        200,
        "served from memory"
    );

    redis.start_again();
    io_health(&server, |io| {
        io["redis"]["status"] == "up" && io["redis"]["subscribed"] == true
    });
    redis.cli(&[
        "PUBLISH",
        "match:match-9",
        r#"{"homeScore":1,"awayScore":0,"period":"Q1"}"#,
    ]);
    let msg = next_matching(&mut ws, Duration::from_secs(5), |v| {
        v["type"] == "score_update"
    })
    .expect("relayed after the restart");
    assert_eq!(msg["data"]["homeScore"], 1);
    assert!(!keys(&redis, "score:*").is_empty(), "cache written again");
    assert!(
        !keys(&redis, "inplay:lease:*").is_empty(),
        "leases taken again"
    );
}

/// Which tasks a node polls (not standby), by task id.
fn active_tasks(server: &TestServer) -> Vec<String> {
    let status = server.get_json("/api/polling/status");
    status["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["standby"] == false)
        .map(|t| t["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn two_nodes_share_polling_and_fan_out_across_nodes() {
    let redis = Redis::start();
    let mut a = node(&redis, "node-a");
    let a_io = io_health(&a, |io| io["leases"]["held"] == io["leases"]["total"]);
    let total = a_io["leases"]["total"].as_u64().expect("total");
    assert!(total > 1);
    let b = node(&redis, "node-b");
    io_health(&b, |io| io["redis"]["subscribed"] == true);
    // A holds every lease, so B polls nothing: each task runs on exactly one node.
    std::thread::sleep(Duration::from_millis(1500)); // a few renewal rounds
    let b_io = io_health(&b, |_| true);
    assert_eq!(b_io["leases"]["held"], 0, "B took a lease A holds: {b_io}");
    assert!(active_tasks(&b).is_empty());
    assert_eq!(active_tasks(&a).len() as u64, 2 * total, "every task on A");

    // A change polled by A reaches a subscriber on B, and A's own subscribers see each change
    // once (A skips its own messages coming back from Redis).
    let live = wait_for_matches(&a, 50);
    let id = live
        .as_array()
        .and_then(|all| all.iter().find(|m| m["status"] == "live"))
        .unwrap_or(&live[0])["matchId"]
        .as_str()
        .expect("matchId")
        .to_owned();
    let mut on_b = connect(&b, &format!("/live/{id}"));
    let mut on_a = connect(&a, &format!("/live/{id}"));
    let from_a = next_matching(&mut on_b, Duration::from_secs(15), |v| {
        v["matchId"] == id.as_str()
    })
    .expect("B's subscriber gets A's change");
    assert!(
        from_a["seq"].as_u64().is_some(),
        "relayed with A's seq: {from_a}"
    );
    let mut seqs = Vec::new();
    while let Some(v) = next_matching(&mut on_a, Duration::from_secs(2), |_| true) {
        seqs.push(v["seq"].as_u64().expect("seq"));
    }
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(seqs, unique, "no duplicates on A");

    // A dies without releasing its leases: B takes over within about a lease lifetime.
    a.child.kill().expect("kill A");
    let _ = a.child.wait();
    let b_io = io_health(&b, |io| io["leases"]["held"].as_u64() == Some(total));
    assert_eq!(b_io["leases"]["held"], total);
    assert_eq!(
        redis.cli(&["GET", "inplay:lease:football:nfl"]).trim(),
        "node-b"
    );
    wait_for_matches(&b, 50);
}
