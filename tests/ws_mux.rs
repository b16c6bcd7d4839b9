//! `WS /ws` against the real server (2 shards, demo feed): snapshots, ordered changes with
//! `seq`/`epoch`, recovery of exactly the missed changes after a reconnect, the snapshot
//! fallback, sport subscriptions, and bad client messages.

mod common;

use std::time::Duration;

use common::{
    wait_for_matches,
    wsclient::{connect, next_json, next_matching, Ws},
    TestServer,
};
use serde_json::{json, Value};
use tungstenite::Message;

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).expect("send");
}

/// The match with the most changes so far: the likeliest to change again soon.
fn busiest_match(server: &TestServer) -> String {
    let all = wait_for_matches(server, 100);
    let best = all
        .as_array()
        .expect("list")
        .iter()
        .filter(|m| m["status"] == "live")
        .max_by_key(|m| m["seq"].as_u64().unwrap_or(0))
        .expect("a live match");
    best["matchId"].as_str().expect("id").to_owned()
}

/// Reads `n` changes of `id`, asserting they continue `last` without a gap; returns the last.
fn consecutive_changes(ws: &mut Ws, id: &str, epoch: &str, mut last: u64, n: usize) -> u64 {
    for _ in 0..n {
        let v = next_matching(ws, Duration::from_secs(20), |v| v["matchId"] == id)
            .expect("a change of the match");
        assert_eq!(v["epoch"], epoch, "{v}");
        assert_eq!(v["seq"].as_u64(), Some(last + 1), "no gap, no repeat: {v}");
        last += 1;
    }
    last
}

#[test]
fn snapshot_then_every_change_in_order() {
    let server = TestServer::start(&[]);
    let id = busiest_match(&server);
    let mut ws = connect(&server, "/ws");
    send(&mut ws, json!({"op": "subscribe", "matches": [id]}));
    let snap = next_json(&mut ws, Duration::from_secs(5)).expect("snapshot");
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["matchId"], id.as_str());
    assert_eq!(snap["data"]["score"]["matchId"], id.as_str());
    assert!(snap["data"]["markets"].is_array());
    let epoch = snap["epoch"].as_str().expect("epoch").to_owned();
    let seq = snap["seq"].as_u64().expect("seq");
    assert_eq!(snap["data"]["score"]["seq"].as_u64(), Some(seq));
    consecutive_changes(&mut ws, &id, &epoch, seq, 3);
}

#[test]
fn a_reconnect_recovers_exactly_what_was_missed() {
    let server = TestServer::start(&[]);
    let id = busiest_match(&server);
    let mut ws = connect(&server, "/ws");
    send(&mut ws, json!({"op": "subscribe", "matches": [id]}));
    let snap = next_json(&mut ws, Duration::from_secs(5)).expect("snapshot");
    let epoch = snap["epoch"].as_str().expect("epoch").to_owned();
    let last = consecutive_changes(&mut ws, &id, &epoch, snap["seq"].as_u64().unwrap(), 2);
    drop(ws);

    // Changes happen while the client is away.
    server.wait_for(&format!("/api/scores/{id}"), Duration::from_secs(20), |s| {
        s["seq"].as_u64() > Some(last + 1)
    });
    let mut ws = connect(&server, "/ws");
    send(
        &mut ws,
        json!({"op": "subscribe", "matches": [id], "since": {&id: {"epoch": epoch, "seq": last}}}),
    );
    let rec = next_json(&mut ws, Duration::from_secs(5)).expect("recovery");
    assert_eq!(rec["type"], "recovered", "{rec}");
    assert_eq!(rec["recovered"], true);
    let missed = rec["missed"].as_u64().expect("missed");
    assert!(missed >= 1, "{rec}");
    let replayed = consecutive_changes(&mut ws, &id, &epoch, last, missed as usize);
    assert_eq!(rec["seq"].as_u64(), Some(replayed));
    // And live changes continue right after the replay, without a gap or a repeat.
    consecutive_changes(&mut ws, &id, &epoch, replayed, 2);
}

#[test]
fn an_unrecoverable_position_gets_a_fresh_snapshot() {
    // A history too small to hold any frame: every recovery falls back to a snapshot.
    let server = TestServer::start(&[("INPLAY_WEBSOCKET_HISTORY_BYTES", "1")]);
    let id = busiest_match(&server);
    let mut ws = connect(&server, "/ws");
    send(&mut ws, json!({"op": "subscribe", "matches": [id]}));
    let snap = next_json(&mut ws, Duration::from_secs(5)).expect("snapshot");
    let epoch = snap["epoch"].as_str().expect("epoch").to_owned();
    let seq = snap["seq"].as_u64().unwrap();
    drop(ws);
    server.wait_for(&format!("/api/scores/{id}"), Duration::from_secs(20), |s| {
        s["seq"].as_u64() > Some(seq)
    });
    for since in [
        json!({"epoch": epoch, "seq": seq}),
        json!({"epoch": "another-epoch", "seq": seq}),
        json!({"epoch": epoch, "seq": seq + 1_000_000}),
    ] {
        let mut ws = connect(&server, "/ws");
        send(
            &mut ws,
            json!({"op": "subscribe", "matches": [id], "since": {&id: since}}),
        );
        let v = next_json(&mut ws, Duration::from_secs(5)).expect("answer");
        assert_eq!(v["type"], "snapshot", "{v}");
        assert_eq!(v["recovered"], false);
        assert!(v["seq"].as_u64() > Some(seq));
    }
}

#[test]
fn sport_subscriptions_start_with_snapshots() {
    let server = TestServer::start(&[]);
    server.wait_for(
        "/api/matches?sport=soccer&league=premier-league&status=live",
        Duration::from_secs(20),
        |v| v.as_array().is_some_and(|a| !a.is_empty()),
    );
    let mut ws = connect(&server, "/ws");
    send(
        &mut ws,
        json!({"op": "subscribe", "sport": "soccer", "league": "premier-league"}),
    );
    let mut snapshots = 0;
    let subscribed = loop {
        let v = next_json(&mut ws, Duration::from_secs(5)).expect("message");
        match v["type"].as_str() {
            Some("snapshot") => {
                assert_eq!(v["data"]["score"]["league"], "premier-league");
                snapshots += 1;
            }
            Some("subscribed") => break v,
            _ => {} // changes may already flow
        }
    };
    assert!(snapshots > 0);
    assert_eq!(subscribed["matches"], snapshots);
    let change = next_matching(&mut ws, Duration::from_secs(20), |v| {
        v["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("odds") || t.starts_with("market"))
    })
    .expect("a market change of the league");
    assert!(change["epoch"].is_string() && change["seq"].is_u64());
}

#[test]
fn bad_messages_get_clear_errors_and_the_session_goes_on() {
    let server = TestServer::start(&[("INPLAY_WEBSOCKET_MAX_SUBSCRIPTIONS", "2")]);
    let mut ws = connect(&server, "/ws");
    let cases: [(&str, &str); 6] = [
        ("{not json", "invalid JSON"),
        ("[1]", "JSON objects"),
        (r#"{"op":"dance"}"#, "unknown op"),
        (r#"{"op":"subscribe"}"#, "needs \"matches\""),
        (
            r#"{"op":"subscribe","matches":["bad id!"]}"#,
            "invalid match id",
        ),
        (
            r#"{"op":"subscribe","sport":"soccer","league":7}"#,
            "must be names",
        ),
    ];
    for (text, expected) in cases {
        ws.send(Message::text(text)).expect("send");
        let v = next_json(&mut ws, Duration::from_secs(5)).expect("error");
        assert_eq!(v["type"], "error", "{text}: {v}");
        assert!(
            v["error"].as_str().is_some_and(|e| e.contains(expected)),
            "{text}: {v}"
        );
    }
    send(
        &mut ws,
        json!({"op": "subscribe", "matches": ["a1", "a2", "a3"]}),
    );
    let mut saw_limit = false;
    for _ in 0..3 {
        let v = next_json(&mut ws, Duration::from_secs(5)).expect("answer");
        if v["type"] == "error" {
            saw_limit = v["error"].as_str().is_some_and(|e| e.contains("limit"));
        } else {
            assert_eq!(v["type"], "snapshot");
            assert_eq!(v["data"], Value::Null, "unknown ids get an empty snapshot");
        }
    }
    assert!(saw_limit, "the third subscription is refused");
    send(&mut ws, json!({"op": "unsubscribe", "matches": ["a1"]}));
    assert_eq!(
        next_json(&mut ws, Duration::from_secs(5)).unwrap()["type"],
        "unsubscribed"
    );
    send(&mut ws, json!({"op": "ping"}));
    assert_eq!(
        next_json(&mut ws, Duration::from_secs(5)).unwrap()["type"],
        "pong"
    );
}

/// `inplay_ws_history_bytes` summed over the shards.
fn history_bytes(server: &TestServer) -> f64 {
    server.metric("inplay_ws_history_bytes")
}

#[test]
fn history_is_kept_from_the_first_websocket_client_on() {
    let server = TestServer::start(&[]);
    // The demo feed has been changing matches for a while: nothing recorded for nobody.
    let id = busiest_match(&server);
    server.wait_for(&format!("/api/scores/{id}"), Duration::from_secs(20), |s| {
        s["seq"].as_u64() > Some(3)
    });
    assert_eq!(
        history_bytes(&server),
        0.0,
        "no history before any WebSocket client"
    );

    let mut ws = connect(&server, "/ws");
    send(&mut ws, json!({"op": "subscribe", "matches": [id]}));
    next_json(&mut ws, Duration::from_secs(5)).expect("snapshot");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while history_bytes(&server) == 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "history still empty 20 s after a client connected"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
