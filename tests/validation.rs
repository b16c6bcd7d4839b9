//! Every 400 from a request body, path or query parameter names what is wrong:
//! `{"error": "...", "field": "..."}`, route by route, against the real server.

mod common;

use common::{admin_token, token_with_roles, Resp, TestServer};
use serde_json::Value;

fn with_token(server: &TestServer, method: &str, path: &str, body: Option<&str>) -> Resp {
    let token = if path.starts_with("/api/polling") {
        admin_token()
    } else {
        token_with_roles(&["service"])
    };
    let auth = format!("Bearer {token}");
    server.request_with(method, path, body, &[("Authorization", &auth)])
}

/// Asserts a 400 whose body is exactly `{"error": <non-empty>, "field": field}`.
fn assert_field(r: &Resp, field: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text());
    let v = r.json();
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "{what}: {v}");
    assert_eq!(v["field"], field, "{what}: {v}");
    assert!(
        v["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {v}"
    );
}

#[test]
fn bodies_name_the_offending_field() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let cases: &[(&str, &str, &str)] = &[
        ("/api/polling/update", "{", "body"),
        ("/api/polling/update", "[]", "body"),
        ("/api/polling/update", r#"{"interval":5000}"#, "taskId"),
        (
            "/api/polling/update",
            r#"{"taskId":5,"interval":5000}"#,
            "taskId",
        ),
        (
            "/api/polling/update",
            r#"{"taskId":"x","interval":"fast"}"#,
            "interval",
        ),
        (
            "/api/polling/update",
            r#"{"taskId":"x","interval":-5}"#,
            "interval",
        ),
        (
            "/api/polling/update",
            r#"{"taskId":"x","interval":500}"#,
            "interval",
        ),
        (
            "/api/polling/update",
            r#"{"taskId":"x","interval":1e99}"#,
            "interval",
        ),
        ("/api/bets/validate", "null", "body"),
        ("/api/bets/validate", r#"{"marketId":"m1"}"#, "marketId"),
        (
            "/api/bets/validate",
            r#"{"marketId":"m:x","selection":"home","odds":0.5,"stake":1}"#,
            "odds",
        ),
        (
            "/api/bets/validate",
            r#"{"marketId":"m:x","selection":"home","odds":2,"stake":0}"#,
            "stake",
        ),
        ("/api/bets", r#"{"betId":"no spaces"}"#, "betId"),
        (
            "/api/bets",
            r#"{"betId":"b1","userId":"u","marketId":"m:x","selection":"h","odds":2}"#,
            "stake",
        ),
    ];
    for (path, body, field) in cases {
        let r = with_token(&server, "POST", path, Some(body));
        assert_field(&r, field, &format!("POST {path} {body}"));
    }
    let low = with_token(
        &server,
        "POST",
        "/api/polling/update",
        Some(r#"{"taskId":"x","interval":500}"#),
    );
    assert_eq!(low.json()["error"], "Interval must be at least 1000ms");
}

#[test]
fn path_and_query_parameters_name_the_offending_parameter() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let long = "x".repeat(200);
    let cases: Vec<(String, &str)> = vec![
        ("/api/markets/football?limit=0".into(), "limit"),
        ("/api/markets/football?limit=lots".into(), "limit"),
        ("/api/markets/football?league=%01".into(), "league"),
        (format!("/api/markets/{long}"), "sport"),
        ("/api/matches?status=sleeping".into(), "status"),
        ("/api/matches?sport=%7F".into(), "sport"),
        (format!("/api/matches?league={long}"), "league"),
        (format!("/api/scores/{long}"), "matchId"),
        (format!("/api/matches/{long}"), "matchId"),
        (format!("/api/markets/{long}/odds"), "marketId"),
        (format!("/api/markets/{long}/settlement"), "marketId"),
        (format!("/api/bets/{long}/settlement"), "betId"),
        ("/live/no%20spaces".into(), "matchId"),
        ("/markets/soc%20cer".into(), "sport"),
        ("/markets/soccer?league=a%2Fb".into(), "league"),
    ];
    for (path, field) in &cases {
        let r = with_token(&server, "GET", path, None);
        assert_field(&r, field, &format!("GET {path}"));
    }
    // Unknown query parameters are ignored, not refused.
    assert_eq!(server.get("/api/matches?colour=%01").status, 200);

    // A WebSocket handshake without a usable key names the header.
    let r = server.request_with(
        "GET",
        "/ws",
        None,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
        ],
    );
    assert_field(&r, "Sec-WebSocket-Key", "GET /ws without a key");

    // Not validation errors: the plain {"error"} shape.
    for (method, path) in [("GET", "/nope"), ("DELETE", "/health")] {
        let v: Value = server.request(method, path, None).json();
        assert!(v.get("field").is_none() && v["error"].is_string(), "{v}");
    }
}
