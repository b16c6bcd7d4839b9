//! Each `[http]` limit not covered by tests/http.rs, tripped against the real server: JSON
//! nesting depth (HTTP bodies and WebSocket messages), header count and connections per shard.

mod common;

use std::time::Duration;

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
