//! Slow WebSocket consumers against the real server: a client that stops reading is either
//! closed with 1008 (`slow_consumer = "disconnect"`) or, under `"coalesce"`, resynced to the
//! latest state once it reads again; a fast client on the same server sees every change.

mod common;

use std::{
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use common::{
    wait_for_matches,
    wsclient::{connect, next_matching, read_timed_out},
    TestServer,
};
use serde_json::{json, Value};
use socket2::{Domain, Socket, Type};
use tungstenite::{Message, WebSocket};

/// A `/ws` client with a tiny receive buffer, so the server's queue fills soon after it stops
/// reading; sends `subscriptions` first.
fn slow_client(addr: SocketAddr, subscriptions: &[Value]) -> WebSocket<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    socket.connect(&addr.into()).expect("connect");
    let stream: TcpStream = socket.into();
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/ws"), stream).expect("handshake");
    for msg in subscriptions {
        ws.send(Message::text(msg.to_string())).expect("subscribe");
    }
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    ws
}

fn server(policy: &str) -> TestServer {
    let s = TestServer::start(&[
        ("INPLAY_WEBSOCKET_SLOW_CONSUMER", policy),
        ("INPLAY_WEBSOCKET_SEND_QUEUE", "64"),
        ("INPLAY_WEBSOCKET_SEND_QUEUE_BYTES", "65536"),
    ]);
    wait_for_matches(&s, 300);
    s
}

/// Reads until `pred` holds for a message, or the close code, within `timeout`.
fn read_until(
    ws: &mut WebSocket<TcpStream>,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Result<Value, Option<u16>> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                if pred(&v) {
                    return Ok(v);
                }
            }
            Ok(Message::Close(frame)) => return Err(frame.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(e) if read_timed_out(&e) => {}
            Err(_) => return Err(None),
        }
    }
    panic!("nothing conclusive within {timeout:?}");
}

/// Waits (bounded) until the server counts a slow consumer in `metric`.
fn wait_metric(server: &TestServer, metric: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if server.metric(metric) > 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "{metric} never moved");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_slow_consumer_is_disconnected_with_1008() {
    let server = server("disconnect");
    let every_sport = [
        "soccer",
        "football",
        "basketball",
        "hockey",
        "baseball",
        "tennis",
    ]
    .map(|sport| json!({"op": "subscribe", "sport": sport}));
    let mut slow = slow_client(server.addr, &every_sport);
    wait_metric(&server, "inplay_ws_slow_consumers_total");
    let end = read_until(&mut slow, Duration::from_secs(30), |_| false);
    assert_eq!(end, Err(Some(1008)), "closed as a slow consumer");
    // The server goes on serving everyone else.
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn a_coalesced_consumer_gets_a_resync_and_stays_connected() {
    let server = server("coalesce");
    let busiest = server.get_json("/api/matches?status=live");
    let busiest = busiest
        .as_array()
        .and_then(|a| a.iter().max_by_key(|m| m["seq"].as_u64().unwrap_or(0)))
        .expect("a live match");
    let id = busiest["matchId"].as_str().expect("matchId").to_owned();
    let mut fast = connect(&server, &format!("/live/{id}"));
    // Subscribed to that match twice over: by id and through its sport.
    let first = [
        json!({"op": "subscribe", "matches": [&id]}),
        json!({"op": "subscribe", "sport": busiest["sport"]}),
    ];
    let mut slow = slow_client(server.addr, &first);
    wait_metric(&server, "inplay_ws_slow_consumers_coalesced_total");
    // Meanwhile a client that keeps up sees every change of its match, in order.
    let first = next_matching(&mut fast, Duration::from_secs(20), |_| true).expect("a change");
    let first = first["seq"].as_u64().expect("seq");
    for expected in first + 1..=first + 2 {
        let v = next_matching(&mut fast, Duration::from_secs(20), |_| true).expect("a change");
        assert_eq!(
            v["seq"].as_u64(),
            Some(expected),
            "no gap for the fast client"
        );
    }
    let resync = read_until(&mut slow, Duration::from_secs(30), |v| {
        v["type"] == "resync"
    });
    assert!(resync.is_ok(), "resync announced: {resync:?}");
    // The latest state of each match follows, once per match however many subscriptions
    // cover it. (The list may be cut short by the next overflow, announced by the next
    // resync.)
    let mut snapshots = Vec::new();
    let after = loop {
        let v = read_until(&mut slow, Duration::from_secs(10), |_| true).expect("a message");
        if v["type"] != "snapshot" {
            break v;
        }
        assert!(v["seq"].as_u64().is_some() && v["data"]["score"].is_object());
        snapshots.push(v["matchId"].as_str().expect("matchId").to_owned());
    };
    assert!(!snapshots.is_empty(), "latest state follows: {after}");
    let unique: std::collections::HashSet<&String> = snapshots.iter().collect();
    assert_eq!(unique.len(), snapshots.len(), "one snapshot per match");
    // Still subscribed: changes keep coming afterwards.
    let change = read_until(&mut slow, Duration::from_secs(15), |v| {
        v["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("_update") || t.starts_with("market"))
    });
    assert!(change.is_ok(), "still connected: {change:?}");
}

/// Many requests in one read from a client that reads nothing: `subscribe`/`unsubscribe` pairs
/// for a sport, 80 bytes that ask for a snapshot of every open match. The server answers only
/// as far as its send queue holds; the client then gets every answer in order, unless the
/// changes of the sport it is still subscribed to overflow its queue first (it reads nothing):
/// then it is closed as a slow consumer. Either way the queue stays bounded.
#[test]
fn requests_in_one_read_are_answered_only_as_the_client_reads() {
    const PAIRS: usize = 40;
    let server = TestServer::start(&[("INPLAY_WEBSOCKET_SEND_QUEUE_BYTES", "65536")]);
    wait_for_matches(&server, 300);
    let football = server.get_json("/api/matches?sport=football");
    let n = football.as_array().map_or(0, Vec::len);
    assert!(n >= 20, "the demo feed has football matches: {n}");

    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    socket.connect(&server.addr.into()).expect("connect");
    let stream: TcpStream = socket.into();
    let (mut ws, _) =
        tungstenite::client(format!("ws://{}/ws", server.addr), stream).expect("handshake");
    let subscribe = json!({"op": "subscribe", "sport": "football"}).to_string();
    let unsubscribe = json!({"op": "unsubscribe", "sport": "football"}).to_string();
    let before = server.settled_rss_kib();
    for _ in 0..PAIRS {
        // Buffered by tungstenite until the flush: one write, read by the server at once.
        ws.write(Message::text(subscribe.clone()))
            .expect("subscribe");
        ws.write(Message::text(unsubscribe.clone()))
            .expect("unsubscribe");
    }
    ws.flush().expect("flush");

    // Unbounded, the server would queue a snapshot of every open football match per pair:
    // +23 to +34 MiB measured. Bounded, about one subscribe's worth past the 64 KiB limit; the
    // demo feed's own growth in the window adds noise (up to +4.2 MiB seen in CI).
    std::thread::sleep(Duration::from_millis(1500));
    let grown = server.rss_kib().saturating_sub(before);
    assert!(
        grown < 12 * 1024,
        "the server grew by {grown} KiB for a client that reads nothing ({n} football matches)"
    );
    assert_eq!(server.get("/health").status, 200, "the shard still serves");

    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut answers = Vec::new();
    let mut closed = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while answers.len() < 2 * PAIRS && closed.is_none() && Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                if let Some(kind @ ("subscribed" | "unsubscribed" | "error")) = v["type"].as_str() {
                    answers.push(kind.to_owned());
                }
            }
            Ok(Message::Close(frame)) => closed = Some(frame.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(e) if read_timed_out(&e) => {}
            Err(e) => panic!("connection failed after {} answers: {e}", answers.len()),
        }
    }
    let expected: Vec<String> = (0..answers.len())
        .map(|i| ["subscribed", "unsubscribed"][i % 2].to_owned())
        .collect();
    assert_eq!(answers, expected, "each request answered in turn");
    match closed {
        None => assert_eq!(answers.len(), 2 * PAIRS, "every request answered"),
        Some(code) => assert_eq!(code, Some(1008), "closed only as a slow consumer"),
    }
}
