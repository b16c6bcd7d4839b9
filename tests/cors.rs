//! CORS against the real server: preflights from allowed and other origins, headers on actual
//! responses (refusals included), and `*`.

mod common;

use common::{Resp, TestServer};

fn cors_headers(r: &Resp) -> Vec<&str> {
    r.headers
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(k, _)| k.as_str())
        .collect()
}

fn preflight(server: &TestServer, origin: &str) -> Resp {
    server.request_with(
        "OPTIONS",
        "/api/polling/update",
        None,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
    )
}

#[test]
fn allowed_and_other_origins() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        (
            "ALLOWED_ORIGINS",
            "https://app.example, https://admin.example",
        ),
    ]);
    let r = preflight(&server, "https://app.example");
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, POST, OPTIONS")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Authorization, Content-Type")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("vary"), Some("Origin"));

    let r = preflight(&server, "https://evil.example");
    assert_eq!(r.status, 403);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    assert_eq!(r.json()["statusCode"], 403);

    let get =
        |origin: &str| server.request_with("GET", "/api/matches", None, &[("Origin", origin)]);
    let r = get("https://admin.example");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://admin.example")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r
        .header("access-control-expose-headers")
        .unwrap()
        .contains("X-RateLimit-Remaining"));
    // One Vary line: a list's body also depends on Accept-Encoding (gzip).
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Origin"));
    let r = get("https://evil.example");
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Origin"));

    // A refusal still carries CORS headers, so the page can read why.
    let r = server.request_with(
        "POST",
        "/api/polling/update",
        Some("{}"),
        &[("Origin", "https://app.example")],
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );

    // Plain OPTIONS (no Origin) lists the methods.
    let r = server.request("OPTIONS", "/api/matches", None);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
}

#[test]
fn star_echoes_the_origin_and_no_list_means_no_cors() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false"), ("ALLOWED_ORIGINS", "*")]);
    let r = preflight(&server, "http://localhost:5173");
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(preflight(&server, "null").status, 403);

    let plain = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let r = plain.request_with(
        "GET",
        "/api/matches",
        None,
        &[("Origin", "https://app.example")],
    );
    assert!(
        cors_headers(&r).is_empty() && r.header("vary") == Some("Accept-Encoding"),
        "{:?}",
        r.headers
    );
}
