//! Per-address WebSocket caps against the real server (2 shards, so a client's connections are
//! counted across shards): connections per IP, subscriptions per IP, and both given back when
//! sessions end or unsubscribe.

mod common;

use std::time::{Duration, Instant};

use common::{
    request_bytes_with,
    wsclient::{connect, next_json, Ws},
    Client, Resp, TestServer,
};
use serde_json::{json, Value};
use tungstenite::Message;

/// A raw handshake on its own connection; the connection stays open with the client.
fn handshake(server: &TestServer, path: &str) -> (Client, Resp) {
    let mut c = Client::connect(server.addr);
    c.send_raw(&request_bytes_with(
        "GET",
        path,
        None,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    ));
    let r = c.read_response();
    (c, r)
}

/// Retries a handshake until it is accepted: a session that just ended gives its claim back
/// when the server has seen the close, a moment after the client.
fn handshake_eventually(server: &TestServer, path: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (c, r) = handshake(server, path);
        if r.status == 101 {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "still {}: {}",
            r.status,
            r.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_over(r: &Resp, what: &str) {
    assert_eq!(r.status, 429, "{}", r.text());
    let error = r.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(error.contains(what), "{error}");
}

#[test]
fn connections_per_ip_are_capped_across_shards() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_MAX_CONNECTIONS_PER_IP", "3"),
    ]);
    let mut open: Vec<Client> = Vec::new();
    for path in ["/ws", "/live/m-1", "/markets/soccer"] {
        let (c, r) = handshake(&server, path);
        assert_eq!(r.status, 101, "{path}: {}", r.text());
        open.push(c);
    }
    for path in ["/ws", "/live/m-1", "/markets/soccer"] {
        let (_c, r) = handshake(&server, path);
        assert_over(
            &r,
            "too many WebSocket connections from your address (at most 3)",
        );
    }
    // Plain HTTP is not affected.
    assert_eq!(server.get("/health").status, 200);
    // A session that ends gives its connection back.
    drop(open.pop());
    open.push(handshake_eventually(&server, "/ws"));
    let (_c, r) = handshake(&server, "/ws");
    assert_eq!(r.status, 429);
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).expect("send");
}

/// The next `n` replies' types, and the error texts among them.
fn replies(ws: &mut Ws, n: usize) -> (Vec<String>, Vec<String>) {
    let (mut types, mut errors) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let v = next_json(ws, Duration::from_secs(5)).expect("a reply");
        types.push(v["type"].as_str().unwrap_or_default().to_owned());
        if v["type"] == "error" {
            errors.push(v["error"].as_str().unwrap_or_default().to_owned());
        }
    }
    (types, errors)
}

#[test]
fn subscriptions_per_ip_are_capped_over_all_connections() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_MAX_SUBSCRIPTIONS_PER_IP", "3"),
    ]);
    let mut a = connect(&server, "/ws");
    send(&mut a, json!({"op": "subscribe", "matches": ["a1", "a2"]}));
    assert_eq!(replies(&mut a, 2).0, ["snapshot", "snapshot"]);

    // A second connection of the same address gets one more, then an error; it goes on.
    let mut b = connect(&server, "/ws");
    send(&mut b, json!({"op": "subscribe", "matches": ["b1", "b2"]}));
    let (types, errors) = replies(&mut b, 2);
    assert_eq!(types, ["snapshot", "error"]);
    assert!(
        errors[0].contains("subscription limit of your address reached (at most 3"),
        "{errors:?}"
    );
    // A /live or /markets session is a subscription too: its handshake is refused.
    let (_c, r) = handshake(&server, "/live/m-1");
    assert_over(&r, "subscription limit of your address");

    // Unsubscribing gives one back, to any connection of the address.
    send(&mut a, json!({"op": "unsubscribe", "matches": ["a1"]}));
    assert_eq!(replies(&mut a, 1).0, ["unsubscribed"]);
    let live = handshake_eventually(&server, "/live/m-1");
    send(&mut b, json!({"op": "subscribe", "matches": ["b3"]}));
    assert_eq!(replies(&mut b, 1).0, ["error"]);

    // Closing a connection gives back all it held.
    drop(live);
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        send(&mut b, json!({"op": "subscribe", "matches": ["b4", "b5"]}));
        let (types, _) = replies(&mut b, 2);
        if types == ["snapshot", "snapshot"] {
            break;
        }
        assert!(Instant::now() < deadline, "{types:?}");
        send(
            &mut b,
            json!({"op": "unsubscribe", "matches": ["b4", "b5"]}),
        );
        replies(&mut b, 1);
        std::thread::sleep(Duration::from_millis(50));
    }
}
