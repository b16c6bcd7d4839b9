//! `[http]` limits tripped against the real server, next to tests/http.rs (head and body bytes,
//! slow heads byte by byte, idle keep-alive) and tests/ws.rs (WebSocket message size): JSON
//! nesting depth (HTTP bodies and WebSocket messages), header count, a head that stops halfway,
//! and connections per shard.

mod common;

use std::time::{Duration, Instant};

use common::{
    admin_token, token_with_roles,
    wsclient::{connect, next_json},
    Client, Resp, TestServer,
};
use serde_json::{json, Value};
use tungstenite::Message;

/// `{"a":{"a":…1…}}`, `depth` objects deep.
fn nested(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

fn post(server: &TestServer, path: &str, token: &str, body: &str) -> Resp {
    let auth = format!("Bearer {token}");
    server.request_with("POST", path, Some(body), &[("Authorization", &auth)])
}

#[test]
fn json_bodies_deeper_than_the_limit_get_400_naming_the_body() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_HTTP_MAX_JSON_DEPTH", "4"),
    ]);
    let service = token_with_roles(&["service"]);
    let admin = admin_token();
    let too_deep = json!({"error": "JSON nested deeper than 4 levels", "field": "body"});
    for (path, token) in [
        ("/api/bets/validate", &service),
        ("/api/bets", &service),
        ("/api/polling/update", &admin),
    ] {
        let r = post(&server, path, token, &nested(5));
        assert_eq!((r.status, r.json()), (400, too_deep.clone()), "{path}");
        // Brackets inside strings do not count; four levels pass on to the field checks.
        let r = post(&server, path, token, r#"{"x":"[[[[[[{{{{{{","y":[[[1]]]}"#);
        assert_eq!(r.status, 400, "{path}");
        assert_ne!(r.json()["field"], "body", "{path}: {}", r.text());
    }
    // A megabyte of '[' is refused by the scan, and the server is none the worse.
    let mut c = Client::connect(server.addr);
    let auth = format!("Bearer {service}");
    let flood = "[".repeat(1_000_000);
    c.send_raw(&common::request_bytes_with(
        "POST",
        "/api/bets/validate",
        Some(&flood),
        &[("Authorization", &auth)],
    ));
    let r = c.read_response();
    assert_eq!((r.status, r.json()), (400, too_deep));
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn websocket_messages_deeper_than_the_limit_get_an_error_and_the_session_goes_on() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_HTTP_MAX_JSON_DEPTH", "3"),
    ]);
    let deep = format!(r#"{{"op":"ping","x":{}}}"#, nested(3));
    for path in ["/ws", "/live/m-1", "/markets/soccer"] {
        let mut ws = connect(&server, path);
        ws.send(Message::text(deep.clone())).expect("send");
        let v = next_json(&mut ws, Duration::from_secs(5)).expect("an answer");
        assert_eq!(
            v,
            json!({"type": "error", "error": "JSON nested deeper than 3 levels"}),
            "{path}"
        );
        // Three levels are fine, and the session is still there.
        let ok = format!(r#"{{"op":"ping","type":"ping","x":{}}}"#, nested(2));
        ws.send(Message::text(ok)).expect("send");
        let v: Value = next_json(&mut ws, Duration::from_secs(5)).expect("a pong");
        assert_eq!(v["type"], "pong", "{path}");
    }
}

#[test]
fn more_headers_than_allowed_get_431_and_a_close() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_HTTP_MAX_HEADERS", "8"),
    ]);
    let head = |n: usize| {
        let mut h = String::from("GET /health HTTP/1.1\r\n");
        for i in 0..n {
            h.push_str(&format!("X-H{i}: {i}\r\n"));
        }
        h + "\r\n"
    };
    let mut c = Client::connect(server.addr);
    c.send_raw(head(8).as_bytes());
    assert_eq!(c.read_response().status, 200);
    c.send_raw(head(9).as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 431);
    assert_eq!(r.json(), json!({"error": "too many headers"}));
    assert!(c.closed());
}

#[test]
fn a_head_that_stops_halfway_gets_408_and_a_close_within_the_timeout() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_HTTP_HEADER_READ_TIMEOUT_MS", "800"),
    ]);
    let mut c = Client::connect(server.addr);
    let sent_at = Instant::now();
    c.send_raw(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Partial: ");
    let r = c.try_read_response().expect("a 408 before the close");
    let waited = sent_at.elapsed();
    assert_eq!(r.status, 408);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[test]
fn connections_over_the_shard_limit_get_503_until_one_closes() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_SERVER_SHARDS", "1"),
        ("INPLAY_HTTP_MAX_CONNECTIONS_PER_SHARD", "2"),
    ]);
    // Two keep-alive connections, each proven open by a request.
    let mut open: Vec<Client> = (0..2)
        .map(|_| {
            let mut c = Client::connect(server.addr);
            c.send("GET", "/health", None);
            assert_eq!(c.read_response().status, 200);
            c
        })
        .collect();
    // The refusal comes at accept, before any request: nothing is sent, so the close is a
    // clean FIN (a request the server never reads would turn it into a reset).
    let mut third = Client::connect(server.addr);
    let r = third.read_response();
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json(),
        json!({"error": "server busy: connection limit reached"})
    );
    assert!(third.closed());
    // The open ones still work; once one leaves, a new connection is served.
    open[1].send("GET", "/health", None);
    assert_eq!(open[1].read_response().status, 200);
    drop(open.remove(0));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = Client::connect(server.addr);
        c.send("GET", "/health", None);
        let status = c.try_read_response().map_or(0, |r| r.status);
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
