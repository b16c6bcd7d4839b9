//! gzip list bodies: negotiated from `Accept-Encoding`, the same JSON once decompressed,
//! cached like the JSON, and off with `http.gzip = false`.

mod common;

use std::io::Read;

use common::{request_bytes_with, wait_for_matches, Client, Resp, TestServer};
use flate2::read::GzDecoder;

const GZIP: (&str, &str) = ("Accept-Encoding", "gzip, deflate, br");

/// A request: method, path and extra header lines.
type Req<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

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
        let json: serde_json::Value = serde_json::from_slice(&gunzip(&gz.body)).unwrap();
        assert!(json.as_array().is_some_and(|a| !a.is_empty()), "{path}");
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
