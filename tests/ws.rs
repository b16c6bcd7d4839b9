//! WebSocket endpoints against the real server (2 shards, demo feed): the original message
//! shape, ping/pong, fan-out to subscribers on both shards, bad handshakes and bad messages.

mod common;

use std::time::{Duration, Instant};

use common::{
    wait_for_matches,
    wsclient::{connect, next_json, read_timed_out, Ws},
    TestServer,
};
use serde_json::Value;
use tungstenite::Message;

/// Reads until the server's close frame (up to 5 s) and returns its code.
fn close_code(ws: &mut Ws) -> Option<u16> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Close(Some(frame))) => return Some(u16::from(frame.code)),
            Ok(_) => {}
            Err(e) if read_timed_out(&e) => {}
            Err(_) => return None,
        }
    }
    None
}

fn first_live(matches: &Value) -> String {
    matches
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "live")
        .expect("a live match")["matchId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn live_match_streams_original_messages_in_order() {
    let server = TestServer::start(&[]);
    let id = first_live(&wait_for_matches(&server, 1000));
    // Several subscribers: SO_REUSEPORT spreads them over both shards.
    let mut clients: Vec<Ws> = (0..6)
        .map(|_| connect(&server, &format!("/live/{id}")))
        .collect();
    for ws in &mut clients {
        let mut seen_score = false;
        let mut last_seq = 0;
        let deadline = Instant::now() + Duration::from_secs(15);
        while !seen_score && Instant::now() < deadline {
            let Some(msg) = next_json(ws, Duration::from_secs(1)) else {
                continue;
            };
            assert_eq!(msg["matchId"], id.as_str());
            let seq = msg["seq"].as_u64().expect("seq");
            assert!(seq > last_seq, "seq went from {last_seq} to {seq}");
            last_seq = seq;
            assert!(msg["timestamp"].is_string());
            let kind = msg["type"].as_str().unwrap();
            assert!(
                [
                    "score_update",
                    "odds_update",
                    "market_suspended",
                    "market_resumed",
                    "settlement"
                ]
                .contains(&kind),
                "{kind}"
            );
            if kind == "score_update" {
                let data = &msg["data"];
                assert!(
                    data["homeScore"].is_u64() && data["awayScore"].is_u64(),
                    "{msg}"
                );
                assert!(data["period"].is_string());
                seen_score = true;
            } else {
                assert!(msg["data"]["marketId"].is_string(), "{msg}");
            }
        }
        assert!(seen_score, "no score_update for {id}");
    }
}

#[test]
fn ping_pong_and_bad_client_messages() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let mut ws = connect(&server, "/live/match-123");
    ws.send(Message::text(r#"{"type":"ping"}"#)).unwrap();
    let pong = next_json(&mut ws, Duration::from_secs(5)).expect("pong");
    assert_eq!(pong["type"], "pong");
    ws.send(Message::text("not json")).unwrap();
    let err = next_json(&mut ws, Duration::from_secs(5)).expect("error reply");
    assert_eq!(err["type"], "error");
    ws.send(Message::text(r#"{"type":"dance"}"#)).unwrap();
    assert_eq!(
        next_json(&mut ws, Duration::from_secs(5)).expect("error")["type"],
        "error"
    );

    // Oversized message: closed with 1009.
    ws.send(Message::text("x".repeat(100 * 1024))).unwrap();
    let code = close_code(&mut ws);
    assert_eq!(code, Some(1009));
}

#[test]
fn sport_stream_carries_only_that_sport() {
    let server = TestServer::start(&[]);
    wait_for_matches(&server, 1000);
    let mut ws = connect(&server, "/markets/basketball?league=nba");
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen < 20 && Instant::now() < deadline {
        let Some(msg) = next_json(&mut ws, Duration::from_secs(1)) else {
            continue;
        };
        assert_ne!(msg["type"], "score_update");
        assert_eq!(msg["data"]["sport"], "basketball", "{msg}");
        assert_eq!(msg["data"]["league"], "nba", "{msg}");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} market messages in 15 s");
}

#[test]
fn plain_get_and_bad_handshakes_are_refused() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let r = server.get("/live/match-123");
    assert_eq!(r.status, 426);
    assert!(r.json()["error"].is_string());
    let mut c = common::Client::connect(server.addr);
    c.send_raw(
        b"GET /live/match-123 HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(c.read_response().status, 400);
    assert_eq!(server.get("/live/bad%20id").status, 400);

    // RFC 6455 §4.2.1: a GET, with Connection: Upgrade, and a key of 16 bytes in base64.
    let good_key = "dGhlIHNhbXBsZSBub25jZQ==";
    for (method, connection, key) in [
        ("HEAD", "Upgrade", good_key),
        ("GET", "keep-alive", good_key),
        ("GET", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ!!"),
        ("GET", "Upgrade", "this is not base64 at all"),
        ("GET", "Upgrade", "dGhlIHNhbXBsZSBub25jZR=="), // 130 bits: not 16 bytes
    ] {
        let mut c = common::Client::connect(server.addr);
        c.send_raw(
            format!(
                "{method} /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\
                 Connection: {connection}\r\nSec-WebSocket-Key: {key}\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        );
        if method == "HEAD" {
            assert_eq!(c.read_head_response().status, 400);
            continue;
        }
        let r = c.read_response();
        assert_eq!(r.status, 400, "{method} {connection} {key}");
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn drain_closes_sessions_with_going_away() {
    // A grace far longer than the wait below: the drain must end the sessions, not the grace.
    let mut server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_SERVER_SHUTDOWN_GRACE_MS", "30000"),
    ]);
    let mut live = connect(&server, "/live/match-123");
    // A `/ws` session that never subscribed is a session too.
    let mut mux = connect(&server, "/ws");
    let sessions = server.metric("inplay_ws_sessions");
    assert_eq!(sessions, 2.0, "inplay_ws_sessions counts open sessions");
    let started = Instant::now();
    server.terminate();
    assert_eq!(close_code(&mut live), Some(1001));
    assert_eq!(close_code(&mut mux), Some(1001));
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn silent_clients_are_pinged_then_closed() {
    use std::io::Read;
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_PING_INTERVAL_MS", "200"),
        ("INPLAY_WEBSOCKET_IDLE_TIMEOUT_MS", "700"),
    ]);
    // A raw client that never answers pings (tungstenite would pong automatically).
    let mut c = common::Client::connect(server.addr);
    c.send_raw(
        b"GET /live/match-123 HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let handshake = c.read_response();
    assert_eq!(handshake.status, 101);
    assert_eq!(
        handshake.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    let mut bytes = Vec::new();
    let _ = c.stream.read_to_end(&mut bytes); // until the server closes
                                              // Server frames are unmasked: [opcode byte, length byte (< 126 here), payload].
    let (mut pings, mut close_code, mut at) = (0, None, 0);
    while at + 2 <= bytes.len() {
        let (opcode, len) = (bytes[at] & 0x0f, usize::from(bytes[at + 1] & 0x7f));
        let payload = &bytes[at + 2..(at + 2 + len).min(bytes.len())];
        match opcode {
            0x9 => pings += 1,
            0x8 if payload.len() >= 2 => {
                close_code = Some(u16::from_be_bytes([payload[0], payload[1]]))
            }
            _ => {}
        }
        at += 2 + len;
    }
    assert!(pings >= 1, "no ping before the close: {bytes:?}");
    assert_eq!(close_code, Some(1001));
}
