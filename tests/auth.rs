//! Bearer tokens against the real server: every refusal a token can earn, roles, RS256 keys,
//! issuer/audience, protected reads, and WebSocket handshakes with token expiry.

mod common;

use std::{
    net::TcpStream,
    path::Path,
    time::{Duration, Instant},
};

use common::{mint, mint_with, token_with_roles, unix_now, Resp, TestServer, TEST_SECRET};
use jsonwebtoken::Algorithm;
use serde_json::json;
use tungstenite::{client::IntoClientRequest, stream::MaybeTlsStream, Message, WebSocket};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jwt")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Asserts a 401 whose challenge and body carry `description`.
fn assert_invalid_token(r: &Resp, description: &str) {
    assert_eq!(r.status, 401, "{}", r.text());
    let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
    assert_eq!(
        challenge,
        format!(
            r#"Bearer realm="inplay", error="invalid_token", error_description="{description}""#
        )
    );
    assert_eq!(r.json(), json!({"error": description, "statusCode": 401}));
}

#[test]
fn polling_update_needs_an_admin_token() {
    let server = TestServer::start(&[]);
    let tasks = server.wait_for("/api/polling/status", Duration::from_secs(20), |v| {
        v["tasks"].as_array().is_some_and(|t| !t.is_empty())
    });
    let id = tasks["tasks"][0]["id"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"taskId":"{id}","interval":3000}}"#);
    let post = |token: &str| {
        let auth = bearer(token);
        server.request_with(
            "POST",
            "/api/polling/update",
            Some(&body),
            &[("Authorization", &auth)],
        )
    };

    let r = server.request("POST", "/api/polling/update", Some(&body));
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer realm="inplay""#)
    );
    assert_eq!(r.json()["statusCode"], 401);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("missing bearer token"));

    let basic = server.request_with(
        "POST",
        "/api/polling/update",
        Some(&body),
        &[("Authorization", "Basic dXNlcjpwdw==")],
    );
    assert_eq!(basic.status, 401);
    assert!(basic
        .header("www-authenticate")
        .unwrap()
        .contains(r#"error="invalid_request""#));

    let now = unix_now();
    let admin = |extra: serde_json::Value| {
        let mut claims = json!({"sub": "ops", "roles": ["admin"], "exp": now + 60});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims
    };
    let forged = mint_with(
        Algorithm::HS256,
        &admin(json!({})),
        b"some-other-secret-entirely",
    );
    assert_invalid_token(&post(&forged), "invalid signature");
    assert_invalid_token(
        &post(&mint(&admin(json!({"exp": now - 120})))),
        "token expired",
    );
    assert_invalid_token(
        &post(&mint(&admin(json!({"nbf": now + 120})))),
        "token not yet valid",
    );
    let hs384 = mint_with(Algorithm::HS384, &admin(json!({})), TEST_SECRET.as_bytes());
    assert_invalid_token(&post(&hs384), "token algorithm HS384 is not accepted");
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none"}"#),
        b64url(admin(json!({})).to_string().as_bytes())
    );
    assert_invalid_token(&post(&none), "malformed token");
    assert_invalid_token(&post("not-a-jwt"), "malformed token");

    let r = post(&token_with_roles(&["service"]));
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            r#"Bearer realm="inplay", error="insufficient_scope", error_description="requires role admin""#
        )
    );
    assert_eq!(
        r.json(),
        json!({"error": "requires role admin", "statusCode": 403})
    );

    let r = post(&mint(&admin(json!({}))));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["newInterval"], 3000);
    // Reads stay public by default, and a bad token on a public route is not even looked at.
    assert_eq!(server.get("/api/matches").status, 200);
    let r = server.request_with(
        "GET",
        "/api/matches",
        None,
        &[("Authorization", "Bearer junk")],
    );
    assert_eq!(r.status, 200);
}

#[test]
fn no_key_configured_means_401_not_open() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_AUTH_JWT_SECRET", ""),
    ]);
    let body = r#"{"taskId":"x","interval":5000}"#;
    let r = server.admin_request("POST", "/api/polling/update", Some(body));
    assert_invalid_token(&r, "no verification key configured");
    let r = server.request("POST", "/api/polling/update", Some(body));
    assert_invalid_token(&r, "no verification key configured");
}

#[test]
fn protected_reads_check_issuer_and_audience() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_AUTH_PROTECT_READS", "true"),
        ("INPLAY_AUTH_ISSUER", "https://idp.example"),
        ("INPLAY_AUTH_AUDIENCE", "inplay"),
    ]);
    let exp = unix_now() + 60;
    let get = |claims: serde_json::Value| {
        let auth = bearer(&mint(&claims));
        server.request_with("GET", "/api/matches", None, &[("Authorization", &auth)])
    };
    assert_eq!(server.get("/api/matches").status, 401);
    let ok = get(json!({"exp": exp, "iss": "https://idp.example", "aud": ["x", "inplay"]}));
    assert_eq!(ok.status, 200, "{}", ok.text());
    let r = get(json!({"exp": exp, "iss": "https://idp.example", "aud": "someone-else"}));
    assert_invalid_token(&r, "wrong audience");
    let r = get(json!({"exp": exp, "iss": "https://evil.example", "aud": "inplay"}));
    assert_invalid_token(&r, "wrong issuer");
    // Health, metrics and the API description stay public.
    for path in ["/health", "/metrics", "/openapi.json"] {
        assert_eq!(server.get(path).status, 200, "{path}");
    }
}

#[test]
fn rs256_tokens_and_no_key_confusion() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_AUTH_PROTECT_READS", "true"),
        ("INPLAY_AUTH_ALGORITHMS", "RS256"),
        ("INPLAY_AUTH_PUBLIC_KEY_FILE", &fixture("rsa_public.pem")),
    ]);
    let claims = json!({"sub": "svc", "roles": [], "exp": unix_now() + 60});
    let private = std::fs::read(fixture("rsa_private.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&private).unwrap();
    let rs =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::RS256), &claims, &key).unwrap();
    let get = |token: &str| {
        let auth = bearer(token);
        server.request_with("GET", "/api/matches", None, &[("Authorization", &auth)])
    };
    assert_eq!(get(&rs).status, 200);
    // HMAC keyed with the public key's PEM: the classic RS256 → HS256 confusion.
    let public = std::fs::read(fixture("rsa_public.pem")).unwrap();
    let confused = mint_with(Algorithm::HS256, &claims, &public);
    assert_invalid_token(&get(&confused), "token algorithm HS256 is not accepted");
}

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket with optional extra headers; `Err(status)` if the handshake was refused.
fn ws_connect(server: &TestServer, path: &str, auth: Option<&str>) -> Result<Ws, u16> {
    let mut request = format!("ws://{}{path}", server.addr)
        .into_client_request()
        .unwrap();
    if let Some(auth) = auth {
        request
            .headers_mut()
            .insert("Authorization", auth.parse().unwrap());
    }
    match tungstenite::connect(request) {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("handshake failed: {e}"),
    }
}

#[test]
fn websocket_auth_and_expiry() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_REQUIRE_AUTH", "true"),
        ("INPLAY_AUTH_LEEWAY_MS", "0"),
    ]);
    assert_eq!(ws_connect(&server, "/live/match-1", None).err(), Some(401));
    let expired = mint(&json!({"exp": unix_now() - 5}));
    let path = format!("/live/match-1?token={expired}");
    assert_eq!(ws_connect(&server, &path, None).err(), Some(401));
    // The plain HTTP answer explains itself.
    let r = server.get("/live/match-1");
    assert_eq!(r.status, 401);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("missing bearer token"));

    let long = mint(&json!({"exp": unix_now() + 3600}));
    let mut ws =
        ws_connect(&server, &format!("/markets/soccer?token={long}"), None).expect("query token");
    ws.send(Message::text(r#"{"type":"ping"}"#)).unwrap();
    assert!(matches!(ws.read().unwrap(), Message::Text(t) if t.contains("pong")));
    ws_connect(&server, "/live/match-1", Some(&bearer(&long))).expect("header token");

    // A token with two seconds left: the session closes with 4001 when it runs out.
    let short = mint(&json!({"exp": unix_now() + 2}));
    let started = Instant::now();
    let mut ws =
        ws_connect(&server, &format!("/live/match-1?token={short}"), None).expect("short token");
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
    }
    let code = loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                break frame.map(|f| (u16::from(f.code), f.reason.to_string()))
            }
            Ok(_) => {}
            Err(e) => panic!("no close frame: {e}"),
        }
    };
    assert_eq!(code, Some((4001, "token expired".to_owned())));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// base64url without padding, for a hand-made `alg: none` token.
fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}
