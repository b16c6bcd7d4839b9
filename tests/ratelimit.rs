//! Rate limiting against the real server, with tiny limits: exhaustion, headers, recovery,
//! separate classes, exemptions, the per-shard split, and trusted proxies.

mod common;

use std::time::Duration;

use common::{Client, Resp, TestServer};

fn limited(extra: &[(&'static str, &'static str)]) -> TestServer {
    let mut env = vec![
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_RATE_LIMIT_ENABLED", "true"),
        ("INPLAY_SERVER_SHARDS", "1"),
    ];
    env.extend_from_slice(extra);
    TestServer::start(&env)
}

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", r.headers))
}

#[test]
fn exhaustion_429_headers_and_recovery() {
    // One read every two seconds (slack for a loaded machine), three at once.
    let server = limited(&[
        ("INPLAY_RATE_LIMIT_REQUESTS_PER_MINUTE", "30"),
        ("INPLAY_RATE_LIMIT_BURST", "3"),
    ]);
    let mut c = Client::connect(server.addr);
    for left in ["2", "1", "0"] {
        c.send("GET", "/api/matches", None);
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(header(&r, "x-ratelimit-limit"), "30");
        assert_eq!(header(&r, "x-ratelimit-remaining"), left);
        assert!(r.header("retry-after").is_none());
    }
    c.send("GET", "/api/matches", None);
    let r = c.read_response();
    assert_eq!(r.status, 429);
    assert_eq!(header(&r, "retry-after"), "2");
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&r, "x-ratelimit-reset"), "6");
    assert_eq!(r.json()["statusCode"], 429);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("rate limit exceeded"));

    // Health and metrics are exempt and carry no rate-limit headers.
    for path in ["/health", "/metrics"] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("x-ratelimit-limit").is_none(), "{path}");
    }
    // Writes draw from their own bucket (the write below is refused by auth, after the limit).
    let w = server.request("POST", "/api/polling/update", Some("{}"));
    assert_eq!(w.status, 401);
    assert_eq!(header(&w, "x-ratelimit-limit"), "30");

    // Recovery: one more read after Retry-After.
    std::thread::sleep(Duration::from_millis(2050));
    c.send("GET", "/api/matches", None);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    c.send("GET", "/api/matches", None);
    assert_eq!(c.read_response().status, 429);
}

#[test]
fn shards_split_the_limit() {
    // Two shards: each admits 30/min and 2 at once, so a client spread over both gets at most
    // 4 at once in total, and one shard's 2 at the very least.
    let server = limited(&[
        ("INPLAY_SERVER_SHARDS", "2"),
        ("INPLAY_RATE_LIMIT_REQUESTS_PER_MINUTE", "60"),
        ("INPLAY_RATE_LIMIT_BURST", "4"),
    ]);
    let mut admitted = 0;
    for _ in 0..40 {
        if server.get("/api/matches").status == 200 {
            admitted += 1;
        }
    }
    // One refill per shard every 2 s could add a few if the machine is very slow.
    assert!((2..=6).contains(&admitted), "{admitted} admitted");
}

#[test]
fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let server = limited(&[
        ("INPLAY_RATE_LIMIT_REQUESTS_PER_MINUTE", "1"),
        ("INPLAY_RATE_LIMIT_BURST", "1"),
        ("INPLAY_RATE_LIMIT_TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let via = |xff: &str| {
        server
            .request_with("GET", "/api/matches", None, &[("X-Forwarded-For", xff)])
            .status
    };
    assert_eq!(via("203.0.113.1"), 200);
    assert_eq!(via("203.0.113.1"), 429);
    // Another client behind the same proxy has its own bucket; a spoofed left part is ignored.
    assert_eq!(via("203.0.113.2"), 200);
    assert_eq!(via("6.6.6.6, 203.0.113.2"), 429);
    // Without the header the proxy itself is the client.
    assert_eq!(server.get("/api/matches").status, 200);
}

#[test]
fn forwarded_for_from_anyone_else_is_ignored() {
    let server = limited(&[
        ("INPLAY_RATE_LIMIT_REQUESTS_PER_MINUTE", "1"),
        ("INPLAY_RATE_LIMIT_BURST", "1"),
        ("INPLAY_RATE_LIMIT_TRUSTED_PROXIES", "10.0.0.0/8"),
    ]);
    let via = |xff: &str| {
        server
            .request_with("GET", "/api/matches", None, &[("X-Forwarded-For", xff)])
            .status
    };
    assert_eq!(via("203.0.113.1"), 200);
    // A fresh address in the header buys nothing: the peer (127.0.0.1) is the client.
    assert_eq!(via("203.0.113.2"), 429);
}
