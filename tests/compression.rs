//! gzip list bodies: negotiated from `Accept-Encoding`, the same JSON once decompressed,
//! cached like the JSON, and off with `http.gzip = false`.

mod common;

use std::io::Read;

use common::{request_bytes_with, wait_for_matches, Client, Resp, TestServer};
use flate2::read::GzDecoder;

const GZIP: (&str, &str) = ("Accept-Encoding", "gzip, deflate, br");

/// A request: method, path and extra header lines.
type Req<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// The body as JSON, decompressed first if it came gzip-compressed.
fn json(r: &Resp) -> serde_json::Value {
    let body = match r.header("content-encoding") {
        Some("gzip") => gunzip(&r.body),
        _ => r.body.clone(),
    };
    serde_json::from_slice(&body).expect("a JSON body")
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a valid gzip body");
    out
}

/// Sends `requests` in one write (answered from one read batch, so from one view of the data)
/// and reads their responses; `HEAD` ones are read without a body.
fn pipelined(server: &TestServer, requests: &[Req<'_>]) -> Vec<Resp> {
    let mut c = Client::connect(server.addr);
    let mut batch = Vec::new();
    for (method, path, headers) in requests {
        batch.extend(request_bytes_with(method, path, None, headers));
    }
    c.send_raw(&batch);
    requests
        .iter()
        .map(|(method, ..)| {
            if *method == "HEAD" {
                c.read_head_response()
            } else {
                c.read_response()
            }
        })
        .collect()
}

#[test]
fn lists_go_gzip_to_clients_that_accept_it() {
    let server = TestServer::start(&[]);
    wait_for_matches(&server, 10);
    for path in ["/api/markets/football", "/api/matches"] {
        let r = pipelined(
            &server,
            &[
                ("GET", path, &[GZIP]),
                ("GET", path, &[GZIP]),
                ("GET", path, &[]),
                ("HEAD", path, &[GZIP]),
            ],
        );
        let (gz, again, plain, head) = (&r[0], &r[1], &r[2], &r[3]);
        for resp in &r {
            assert_eq!(resp.status, 200, "{path}");
            assert_eq!(resp.header("vary"), Some("Accept-Encoding"), "{path}");
        }
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert!(
            plain.body.len() > 1024,
            "{path}: a list long enough to compress"
        );
        assert!(gz.body.len() * 3 < plain.body.len(), "{path}: it shrinks");
        assert_eq!(gunzip(&gz.body), plain.body, "{path}: the same JSON");
        // Compressed once: the second gzip request and the plain one are cache hits.
        assert_eq!(again.header("x-cache"), Some("HIT"), "{path}");
        assert_eq!(again.body, gz.body, "{path}");
        assert_eq!(plain.header("x-cache"), Some("HIT"), "{path}");
        // HEAD says what GET would send: the compressed length.
        assert_eq!(head.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(gz.body.len().to_string().as_str()),
            "{path}"
        );
        assert!(json(gz).as_array().is_some_and(|a| !a.is_empty()), "{path}");
    }
}

#[test]
fn refused_short_or_fixed_bodies_go_as_they_are() {
    let server = TestServer::start(&[]);
    let matches = wait_for_matches(&server, 10);
    let id = matches[0]["matchId"].as_str().unwrap().to_owned();
    let score = format!("/api/scores/{id}");
    let r = pipelined(
        &server,
        &[
            // gzip refused by weight: identity, still negotiable.
            (
                "GET",
                "/api/markets/football",
                &[("Accept-Encoding", "gzip;q=0, br")],
            ),
            // A list under 1 KiB: not worth compressing.
            ("GET", "/api/matches?sport=nosuchsport", &[GZIP]),
            // Not a list: never compressed, so no Vary.
            ("GET", &score, &[GZIP]),
        ],
    );
    for resp in &r {
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.header("content-encoding"), None, "{}", resp.text());
        resp.json();
    }
    assert_eq!(r[0].header("vary"), Some("Accept-Encoding"));
    assert_eq!(r[1].text(), "[]");
    assert_eq!(r[1].header("vary"), Some("Accept-Encoding"));
    assert_eq!(r[2].header("vary"), None);
}

#[test]
fn gzip_off_sends_every_list_as_it_is() {
    let server = TestServer::start(&[("INPLAY_HTTP_GZIP", "false")]);
    wait_for_matches(&server, 10);
    let r = server.request_with("GET", "/api/markets/football", None, &[GZIP]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("vary"), None);
    assert!(r.json().as_array().is_some_and(|a| !a.is_empty()));
}

/// A list is rebuilt (and recompressed) only after a match of its own sport changed.
#[test]
fn a_sports_list_survives_changes_to_other_sports() {
    use common::providers::{native, push};
    let fake = common::fake_provider::FakeProvider::start();
    let server = common::providers::start("list-cache", &native("feed", &fake.url(), "x/y", 5));
    let events = String::from_utf8(common::fake_provider::fixture("native/example.json")).unwrap();
    assert_eq!(push(&server, "feed", &events).status, 202);
    let mut c = Client::connect(server.addr);
    let mut get = |path: &str| {
        c.send_raw(&request_bytes_with("GET", path, None, &[GZIP]));
        c.read_response()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // The demo world's leagues appear one poll at a time: wait for both sports this test uses.
    let mut empty = |path: &str| json(&get(path)).as_array().is_none_or(|a| a.is_empty());
    while empty("/api/markets/football") || empty("/api/matches?sport=soccer") {
        assert!(
            std::time::Instant::now() < deadline,
            "football markets and soccer matches never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let soccer = json(&get("/api/matches?sport=soccer"));
    let id = soccer[0]["matchId"]
        .as_str()
        .expect("a soccer match")
        .to_owned();
    // Every list this test reads, built and cached before the change.
    let lists = [
        "/api/markets/football",
        "/api/markets/soccer",
        "/api/matches?sport=football",
        "/api/matches",
    ];
    for path in lists {
        get(path);
        assert_eq!(get(path).header("x-cache"), Some("HIT"), "{path}");
    }

    // Only the soccer match changes: 0-1 becomes 1-1.
    let changed = events.replacen(r#""home": 0, "away": 1"#, r#""home": 1, "away": 1"#, 1);
    assert_ne!(changed, events);
    assert_eq!(push(&server, "feed", &changed).status, 202);
    while get(&format!("/api/scores/{id}")).json()["homeScore"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the change never showed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let football = get("/api/markets/football");
    assert_eq!(
        football.header("x-cache"),
        Some("HIT"),
        "football did not change"
    );
    assert_eq!(football.header("content-encoding"), Some("gzip"));
    let football_matches = get("/api/matches?sport=football");
    assert_eq!(football_matches.header("x-cache"), Some("HIT"));
    assert_eq!(get("/api/markets/soccer").header("x-cache"), Some("MISS"));
    assert_eq!(get("/api/markets/soccer").header("x-cache"), Some("HIT"));
    // A list over every sport changes with any match, and shows the new score.
    let all = get("/api/matches");
    assert_eq!(all.header("x-cache"), Some("MISS"));
    let mun = json(&all)
        .as_array()
        .and_then(|a| a.iter().find(|m| m["matchId"] == id.as_str()).cloned())
        .expect("the soccer match in /api/matches");
    assert_eq!(mun["homeScore"], 1, "{mun}");
}
