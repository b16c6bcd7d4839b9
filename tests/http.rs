//! The HTTP layer against the real server: keep-alive, pipelining, limits and timeouts.

mod common;

use std::time::{Duration, Instant};

use common::{request_bytes, Client, TestServer};

#[test]
fn keep_alive_and_pipelining() {
    let server = TestServer::start(&[]);
    let mut c = Client::connect(server.addr);
    for _ in 0..3 {
        c.send("GET", "/health", None);
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), None);
    }
    // Ten requests in one write come back as ten responses, in order.
    let mut batch = Vec::new();
    for i in 0..10 {
        let path = if i % 2 == 0 {
            "/openapi.json".to_owned()
        } else {
            format!("/missing/{i}")
        };
        batch.extend(request_bytes("GET", &path, None));
    }
    c.send_raw(&batch);
    for i in 0..10 {
        let r = c.read_response();
        assert_eq!(r.status, if i % 2 == 0 { 200 } else { 404 }, "response {i}");
        if i % 2 == 1 {
            assert!(r.text().contains(&format!("/missing/{i}")));
        }
    }
    // Connection: close is honoured.
    c.send_raw(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed());

    // HTTP/1.0: open only when asked, and then the response says so (ApacheBench -k relies on
    // it); closed otherwise.
    let mut c = Client::connect(server.addr);
    for _ in 0..2 {
        c.send_raw(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
    c.send_raw(b"GET /health HTTP/1.0\r\n\r\n");
    assert_eq!(c.read_response().header("connection"), Some("close"));
    assert!(c.closed());
}

#[test]
fn oversized_and_malformed_requests() {
    let server = TestServer::start(&[
        ("INPLAY_HTTP_MAX_HEADER_BYTES", "2048"),
        ("INPLAY_HTTP_MAX_BODY_BYTES", "1024"),
    ]);
    let mut c = Client::connect(server.addr);
    let big_header = format!(
        "GET /health HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(4000)
    );
    c.send_raw(big_header.as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 431);
    assert!(r.json()["error"].is_string());
    assert!(c.closed());

    let mut c = Client::connect(server.addr);
    let body = "x".repeat(2000);
    c.send("POST", "/api/polling/update", Some(&body));
    assert_eq!(c.read_response().status, 413);

    let mut c = Client::connect(server.addr);
    c.send_raw(b"\x16\x03\x01 not http at all\r\n\r\n");
    assert_eq!(c.read_response().status, 400);

    let mut c = Client::connect(server.addr);
    c.send_raw(b"POST /api/polling/update HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert_eq!(c.read_response().status, 501);

    // The server is still fine after all that.
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn slow_headers_get_408_and_idle_connections_close() {
    let server = TestServer::start(&[
        ("INPLAY_HTTP_HEADER_READ_TIMEOUT_MS", "1000"),
        ("INPLAY_HTTP_IDLE_TIMEOUT_MS", "1500"),
    ]);
    // Slowloris: a byte every 300 ms never completes the head within the timeout.
    let mut c = Client::connect(server.addr);
    let started = Instant::now();
    let mut got = None;
    for b in b"GET /health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa" {
        c.send_raw(&[*b]);
        std::thread::sleep(Duration::from_millis(300));
        if started.elapsed() > Duration::from_millis(1500) {
            got = c.try_read_response();
            break;
        }
    }
    let r = got.expect("a 408 before the head completes");
    assert_eq!(r.status, 408);

    // An idle keep-alive connection is closed after the idle timeout.
    let mut c = Client::connect(server.addr);
    c.send("GET", "/health", None);
    assert_eq!(c.read_response().status, 200);
    let idle_started = Instant::now();
    assert!(c.closed());
    let waited = idle_started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn pipelined_large_and_small_bodies_stay_in_order() {
    let server = TestServer::start(&[]);
    common::wait_for_matches(&server, 1000);
    let mut c = Client::connect(server.addr);
    let mut batch = Vec::new();
    for i in 0..6 {
        let path = if i % 2 == 0 {
            "/api/markets/football?limit=200"
        } else {
            "/health"
        };
        batch.extend(request_bytes("GET", path, None));
    }
    batch.extend(b"HEAD /api/markets/football?limit=200 HTTP/1.1\r\n\r\n");
    c.send_raw(&batch);
    for i in 0..6 {
        let r = c.read_response();
        assert_eq!(r.status, 200, "response {i}");
        let v = r.json();
        if i % 2 == 0 {
            assert!(
                r.body.len() > 32 * 1024,
                "response {i} is {} bytes",
                r.body.len()
            );
            assert!(v
                .as_array()
                .is_some_and(|a| a.iter().all(|e| e["sport"] == "football")));
        } else {
            assert_eq!(v["status"], "ok");
        }
    }
    // HEAD: the length of the body, but no body; the connection stays usable.
    let head = c.read_head_response();
    assert!(head.body.is_empty());
    let head_len: usize = head.header("content-length").unwrap().parse().unwrap();
    assert!(head_len > 32 * 1024);
    c.send("GET", "/health", None);
    assert_eq!(c.read_response().status, 200);
}

/// A large body goes out in the same system call as its head when the socket has room. To a
/// client that reads slowly through a small window, pipelined lists soon fill the server's
/// send buffer (on loopback it grows to ~1 MB): one is taken in part, the next not at all, and
/// the rest of each must follow exactly once, in order.
#[test]
fn large_bodies_arrive_whole_at_a_slow_reader() {
    const LISTS: usize = 24; // ~150 KB each
    let server = TestServer::start(&[]);
    common::wait_for_matches(&server, 1000);
    let mut c = Client::slow_reader(server.addr);
    let mut batch = Vec::new();
    for _ in 0..LISTS {
        batch.extend(request_bytes(
            "GET",
            "/api/markets/football?limit=200",
            None,
        ));
    }
    c.send_raw(&batch);
    // Let the server fill the window and its send buffer before anything is read.
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..LISTS {
        let r = c.read_response_slowly(if i < 2 { 1024 } else { 65536 });
        assert_eq!(r.status, 200, "response {i}");
        assert!(
            r.body.len() > 32 * 1024,
            "response {i}: {} bytes",
            r.body.len()
        );
        let v = r.json();
        assert!(
            v.as_array()
                .is_some_and(|a| a.iter().all(|e| e["sport"] == "football")),
            "response {i}"
        );
    }
    c.send("GET", "/health", None);
    assert_eq!(c.read_response().status, 200);
}

/// A client that stops reading its responses is dropped once a write has waited the idle
/// timeout, mid-response, instead of holding its connection (and a connection slot) for good.
#[test]
fn a_client_that_stops_reading_is_dropped_after_the_idle_timeout() {
    const LISTS: usize = 100; // ~150 KB each: several times what the socket buffers hold
    let server = TestServer::start(&[("INPLAY_HTTP_IDLE_TIMEOUT_MS", "1000")]);
    common::wait_for_matches(&server, 1000);
    let one = server.get("/api/markets/football").body.len();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&server.addr.into(), Duration::from_secs(5))
        .unwrap();
    let mut stream: std::net::TcpStream = socket.into();
    let batch: Vec<u8> = (0..LISTS)
        .flat_map(|_| request_bytes("GET", "/api/markets/football", None))
        .collect();
    std::io::Write::write_all(&mut stream, &batch).unwrap();
    std::thread::sleep(Duration::from_millis(3000));
    // What the server wrote before it gave up is still delivered, then the end of the stream.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (mut total, mut chunk) = (0, vec![0u8; 65536]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let ended = loop {
        match std::io::Read::read(&mut stream, &mut chunk) {
            Ok(0) | Err(_) => break true,
            Ok(n) => total += n,
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(ended, "the connection ended");
    assert!(
        total < LISTS * one / 2,
        "{total} bytes arrived of {LISTS} lists of ~{one}: the server waited for the reader"
    );
    // Everyone else is served.
    assert_eq!(server.get("/health").status, 200);
}

/// A connection that was sent a large body keeps no buffer that size once it is idle.
#[test]
fn a_large_body_leaves_no_large_buffer_behind() {
    const CONNS: usize = 40;
    let server = TestServer::start(&[]);
    common::wait_for_matches(&server, 1000);
    let before = server.settled_rss_kib();
    let body = "x".repeat(1_000_000);
    let mut clients: Vec<Client> = (0..CONNS).map(|_| Client::connect(server.addr)).collect();
    for c in &mut clients {
        c.send("POST", "/missing", Some(&body));
        assert_eq!(c.read_response().status, 404);
    }
    // Each connection's read buffer grew to 2 MiB for its body: 80 MiB if all were kept.
    let grown = server.settled_rss_kib().saturating_sub(before);
    assert!(
        grown < 24 * 1024,
        "{CONNS} idle connections after a 1 MB body each: {grown} KiB more"
    );
    for c in &mut clients {
        c.send("GET", "/health", None);
        assert_eq!(c.read_response().status, 200, "still usable");
    }
}
