//! Plain HTTP is served the same whichever way a shard waits for its connections: from the
//! readiness loop (`http.epoll = true`, the default) or by one task per connection (`false`).
//! The readiness loop answers what the shard's view answers at once and hands a connection to
//! its own task for everything else (another shard's answer, an upgrade, a split request, a
//! reader slower than the socket), so each test crosses that line on one connection.

mod common;

use std::{
    io::Write,
    time::{Duration, Instant},
};

use common::{request_bytes, request_bytes_with, Client, TestServer};

const MODES: [&str; 2] = ["true", "false"];

/// Ids of `n` matches every shard's view has: a listing comes from one shard's view, and the
/// others get a new match a moment later (it is replicated), so the ids are taken from a
/// listing made a while after enough matches appeared.
fn some_matches(server: &TestServer, n: usize) -> Vec<String> {
    common::wait_for_matches(server, n);
    std::thread::sleep(Duration::from_millis(500));
    let matches = server.get_json("/api/matches");
    matches.as_array().expect("a list")[..n]
        .iter()
        .map(|m| m["matchId"].as_str().expect("an id").to_owned())
        .collect()
}

fn some_match(server: &TestServer) -> String {
    some_matches(server, 1).remove(0)
}

/// Answers from the view and answers from other shards, pipelined on one connection, come back
/// in order; the connection stays usable after each kind, and after a request split over
/// writes.
#[test]
fn pipelined_view_and_shard_answers_stay_in_order() {
    for epoll in MODES {
        let server = TestServer::start(&[("INPLAY_HTTP_EPOLL", epoll)]);
        let id = some_match(&server);
        let scores = format!("/api/scores/{id}");
        let mut c = Client::connect(server.addr);
        // `/health` gathers from every shard; the rest is the view's.
        let paths = [
            "/missing/1",
            scores.as_str(),
            "/health",
            "/missing/2",
            "/health",
            scores.as_str(),
        ];
        for round in 0..2 {
            let batch: Vec<u8> = paths
                .iter()
                .flat_map(|p| request_bytes("GET", p, None))
                .collect();
            c.send_raw(&batch);
            for (i, path) in paths.iter().enumerate() {
                let r = c.read_response();
                let what = format!("epoll={epoll} round {round} response {i} ({path})");
                if path.starts_with("/missing/") {
                    assert_eq!(r.status, 404, "{what}");
                    assert!(r.text().contains(path), "{what}: {}", r.text());
                } else if *path == "/health" {
                    assert_eq!(r.status, 200, "{what}");
                    assert_eq!(r.json()["status"], "ok", "{what}");
                } else {
                    assert_eq!(r.status, 200, "{what}");
                    assert_eq!(r.json()["matchId"], id.as_str(), "{what}");
                }
            }
        }
        // A request in three writes.
        let bytes = request_bytes("GET", &scores, None);
        let (a, rest) = bytes.split_at(5);
        let (b, tail) = rest.split_at(rest.len() - 2);
        for part in [a, b, tail] {
            c.send_raw(part);
            std::thread::sleep(Duration::from_millis(100));
        }
        let r = c.read_response();
        assert_eq!(r.status, 200, "epoll={epoll}: split request");
        assert_eq!(r.json()["matchId"], id.as_str());
        c.send("GET", "/missing/3", None);
        assert_eq!(c.read_response().status, 404, "epoll={epoll}: after");
    }
}

/// A connection the readiness loop holds is closed by the idle sweeper like any other, and a
/// connection it never handed over answers `Connection: close` by closing.
#[test]
fn idle_and_closing_connections_close() {
    for epoll in MODES {
        let server = TestServer::start(&[
            ("INPLAY_HTTP_EPOLL", epoll),
            ("INPLAY_HTTP_IDLE_TIMEOUT_MS", "1500"),
        ]);
        let id = some_match(&server);
        let mut c = Client::connect(server.addr);
        // `/health` takes the connection out of the loop; it comes back once idle.
        for path in ["/health".to_owned(), format!("/api/scores/{id}")] {
            c.send("GET", &path, None);
            assert_eq!(c.read_response().status, 200, "epoll={epoll}: {path}");
        }
        let idle_started = Instant::now();
        assert!(c.closed(), "epoll={epoll}: closed when idle");
        let waited = idle_started.elapsed();
        assert!(
            waited >= Duration::from_millis(1000) && waited < Duration::from_secs(5),
            "epoll={epoll}: {waited:?}"
        );

        let mut c = Client::connect(server.addr);
        c.send_raw(b"GET /missing HTTP/1.1\r\nConnection: close\r\n\r\n");
        let r = c.read_response();
        assert_eq!(r.status, 404);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.closed(), "epoll={epoll}: closed after Connection: close");

        // Garbage gets its 400 and a close.
        let mut c = Client::connect(server.addr);
        c.send_raw(b"\x16\x03\x01 not http\r\n\r\n");
        assert_eq!(c.read_response().status, 400, "epoll={epoll}");
        assert!(c.closed(), "epoll={epoll}: closed after a bad request");
    }
}

/// A WebSocket upgrade on a connection that has already been answered over HTTP: the session
/// takes the connection over and works.
#[test]
fn an_upgrade_after_plain_requests_starts_a_session() {
    for epoll in MODES {
        let server = TestServer::start(&[("INPLAY_HTTP_EPOLL", epoll)]);
        let id = some_match(&server);
        let mut c = Client::connect(server.addr);
        for _ in 0..3 {
            c.send("GET", &format!("/api/scores/{id}"), None);
            assert_eq!(c.read_response().status, 200);
        }
        let (mut ws, response) =
            tungstenite::client(format!("ws://{}/live/{id}", server.addr), c.stream)
                .expect("handshake");
        assert_eq!(response.status(), 101, "epoll={epoll}");
        ws.send(tungstenite::Message::text(r#"{"type":"ping"}"#))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "epoll={epoll}: no pong");
            if let tungstenite::Message::Text(t) = ws.read().expect("a message") {
                if t.contains(r#""pong""#) {
                    break;
                }
            }
        }
    }
}

/// A client may send nothing after an upgrade request until it has the 101 (RFC 6455 §4.1):
/// bytes after it close the connection after the 101, whether the upgrade came first on its
/// connection or after an answer from another shard (which hands the connection over).
#[test]
fn bytes_after_an_upgrade_request_close_the_connection() {
    for epoll in MODES {
        let server = TestServer::start(&[("INPLAY_HTTP_EPOLL", epoll)]);
        let id = some_match(&server);
        let upgrade = request_bytes_with(
            "GET",
            &format!("/live/{id}"),
            None,
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
        );
        for before in [None, Some("/health")] {
            let mut c = Client::connect(server.addr);
            let mut bytes = before
                .map(|p| request_bytes("GET", p, None))
                .unwrap_or_default();
            bytes.extend_from_slice(&upgrade);
            // Shorter than the upgrade request, which once hid it.
            bytes.extend(request_bytes("GET", "/x", None));
            c.send_raw(&bytes);
            if before.is_some() {
                assert_eq!(c.read_response().status, 200, "epoll={epoll}");
            }
            assert_eq!(c.read_response().status, 101, "epoll={epoll} {before:?}");
            assert!(
                c.closed(),
                "epoll={epoll} {before:?}: no session after bytes that followed the upgrade"
            );
        }
    }
}

/// Many connections at once, each with a few keep-alive requests: every one is answered (the
/// loop's shared buffers never mix two connections' bytes).
#[test]
fn many_connections_each_get_their_own_answers() {
    let server = TestServer::start(&[]);
    let ids = some_matches(&server, 50);
    let mut clients: Vec<Client> = ids.iter().map(|_| Client::connect(server.addr)).collect();
    for round in 0..5 {
        for (c, id) in clients.iter_mut().zip(&ids) {
            let req = request_bytes("GET", &format!("/api/scores/{id}"), None);
            c.stream.write_all(&req).unwrap();
        }
        for (c, id) in clients.iter_mut().zip(&ids) {
            let r = c.read_response();
            assert_eq!(r.status, 200, "round {round}: {}", r.text());
            assert_eq!(r.json()["matchId"], id.as_str(), "round {round}");
        }
    }
}

/// A response the socket does not take at once still ends the connection when it says
/// `Connection: close` (here: HTTP/1.0), after every pipelined response before it has arrived
/// whole. The server's send buffer on loopback holds up to ~25 lists (4 MiB); each round sends one more
/// list before the closing one, so in some round the closing response is the one that does
/// not fit.
#[test]
fn closing_responses_to_a_slow_reader_arrive_whole_then_close() {
    for epoll in MODES {
        let server = TestServer::start(&[("INPLAY_HTTP_EPOLL", epoll)]);
        common::wait_for_matches(&server, 1000);
        let one = server.get("/api/markets/football").body.len();
        assert!(one > 64 * 1024, "the list is {one} bytes");
        for before in 0..32 {
            let mut ask: Vec<u8> = (0..before)
                .flat_map(|_| request_bytes("GET", "/api/markets/football", None))
                .collect();
            ask.extend(b"GET /api/markets/football HTTP/1.0\r\n\r\n");
            let mut c = Client::slow_reader(server.addr);
            c.send_raw(&ask);
            std::thread::sleep(Duration::from_millis(100)); // the server's writes fill up
            for i in 0..=before {
                let r = c.read_response();
                let what = format!("epoll={epoll}, {before} before: response {i}");
                assert_eq!(r.status, 200, "{what}");
                assert!(r.json().as_array().is_some(), "{what}: a whole list");
            }
            let started = Instant::now();
            assert!(c.closed(), "epoll={epoll}, {before} before: closed");
            assert!(started.elapsed() < Duration::from_secs(5), "epoll={epoll}");
        }
    }
}

/// A client that sends more after a request the server closes on (here a pipelined `POST`
/// after `Connection: close`) still gets every byte of every response, then the end of the
/// stream, never a reset (which would cost it what it had not read yet): the server shuts its
/// write side and drops what still comes until the client closes. The first response is a
/// large list to a slow reader (its end still in the server's buffers when the server is done,
/// written by a task), a small 404 (answered in the readiness loop), or a short list (written
/// by the loop, not yet all sent when the loop is done); the body after the close is larger
/// than the loop reads at one look.
#[test]
fn a_client_that_sends_more_before_a_close_still_gets_everything() {
    for epoll in MODES {
        let server = TestServer::start(&[("INPLAY_HTTP_EPOLL", epoll)]);
        common::wait_for_matches(&server, 1000);
        // The slow reader's body fits the socket buffers: the server writes while it waits.
        for (first, kib) in [
            ("/api/markets/football", 60),
            ("/missing", 256),
            ("/api/markets/football?limit=10", 256),
        ] {
            let body = "x".repeat(kib * 1024);
            let mut ask = request_bytes("GET", first, None);
            ask.extend(request_bytes_with(
                "GET",
                "/missing/close",
                None,
                &[("Connection", "close")],
            ));
            ask.extend(request_bytes("POST", "/api/unknown", Some(&body)));
            let mut c = Client::slow_reader(server.addr);
            c.send_raw(&ask);
            std::thread::sleep(Duration::from_millis(200)); // the server is done by now
            let what = format!("epoll={epoll}, {first}");
            let r = c.read_response();
            assert_eq!(
                r.status,
                if first == "/missing" { 404 } else { 200 },
                "{what}"
            );
            assert_eq!(c.read_response().status, 404, "{what}: the closing request");
            assert!(c.closed(), "{what}: the end of the stream, not a reset");
        }
    }
}

/// A connection handed to a task of its own (here for `/health`, which another shard answers)
/// goes back to the readiness loop once idle: the loop's gauge counts it, and it is served on.
#[test]
fn a_handed_over_connection_comes_back_to_the_loop() {
    let server = TestServer::start(&[]);
    let id = some_match(&server);
    let in_loop = || server.metric("inplay_http_loop_connections");
    let mut c = Client::connect(server.addr);
    for round in 0..3 {
        c.send("GET", "/health", None);
        assert_eq!(c.read_response().status, 200, "round {round}");
        // The scrape's own connection is with a task while it is answered; ours is back.
        let deadline = Instant::now() + Duration::from_secs(5);
        while in_loop() < 1.0 {
            assert!(
                Instant::now() < deadline,
                "round {round}: not back in the loop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        c.send("GET", &format!("/api/scores/{id}"), None);
        assert_eq!(c.read_response().status, 200, "round {round}");
    }
    let handovers = server.metric("inplay_http_handovers_total");
    assert!(handovers >= 3.0, "{handovers}");
}
