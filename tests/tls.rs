//! Native TLS (`[tls]`) against the real server: a self-signed certificate made at test time,
//! HTTPS and WSS through a rustls client that trusts only it, and what happens to plaintext and
//! to a client that never finishes its handshake on the TLS port.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use common::TestServer;
use rustls::{pki_types::CertificateDer, ClientConfig, ClientConnection, RootCertStore};
use serde_json::Value;
use tungstenite::Message;

type Tls = rustls::StreamOwned<ClientConnection, TcpStream>;

/// A self-signed certificate for `localhost`, written as PEM into a fresh directory.
struct Cert {
    dir: PathBuf,
    der: CertificateDer<'static>,
}

impl Cert {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("inplay-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        std::fs::write(dir.join("cert.pem"), made.cert.pem()).expect("write cert");
        std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("write key");
        Self {
            dir,
            der: made.cert.der().clone(),
        }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }

    /// A server on this certificate, with `env` on top.
    fn server(&self, env: &[(&str, &str)]) -> TestServer {
        let (cert, key) = (self.path("cert.pem"), self.path("key.pem"));
        let mut all = vec![
            ("INPLAY_TLS_CERT_FILE", cert.as_str()),
            ("INPLAY_TLS_KEY_FILE", key.as_str()),
        ];
        all.extend_from_slice(env);
        TestServer::start(&all)
    }

    /// A client that offers `versions` and trusts this certificate only.
    fn client(&self, versions: &[&'static rustls::SupportedProtocolVersion]) -> ClientConnection {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).expect("trust the test cert");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = "localhost".try_into().expect("server name");
        ClientConnection::new(Arc::new(config), name).expect("client connection")
    }

    /// A TLS 1.2/1.3 connection to `server` that trusts this certificate only.
    fn connect(&self, server: &TestServer) -> Tls {
        let conn = self.client(rustls::DEFAULT_VERSIONS);
        let tcp =
            TcpStream::connect_timeout(&server.addr, Duration::from_secs(5)).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        rustls::StreamOwned::new(conn, tcp)
    }

    /// `GET path` over HTTPS with `Connection: close`: (status, body). Reading to the end also
    /// checks that the server ends the TLS session properly (close_notify).
    fn get(&self, server: &TestServer, path: &str) -> (u16, String) {
        let mut tls = self.connect(server);
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(req.as_bytes()).expect("write request");
        let mut raw = Vec::new();
        tls.read_to_end(&mut raw).expect("read to close_notify");
        let text = String::from_utf8(raw).expect("UTF-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        let status = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status");
        (status, body.to_owned())
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn https_get_and_keep_alive() {
    let cert = Cert::new("get");
    let server = cert.server(&[]);
    let (status, body) = cert.get(&server, "/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(health["status"], "ok", "{body}");

    // Two requests on one connection: keep-alive works over TLS as over TCP.
    let mut tls = cert.connect(&server);
    let req = b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for _ in 0..2 {
        tls.write_all(req).expect("write");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            tls.read_exact(&mut byte).expect("read head");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).expect("UTF-8 head");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")?
                    .parse()
                    .ok()
            })
            .expect("content-length");
        let mut body = vec![0u8; len];
        tls.read_exact(&mut body).expect("read body");
    }
}

#[test]
fn wss_session_answers_ping() {
    let cert = Cert::new("wss");
    let server = cert.server(&[]);
    let tls = cert.connect(&server);
    let url = format!("wss://localhost:{}/ws", server.addr.port());
    let (mut ws, resp) = tungstenite::client(url, tls).expect("WSS handshake");
    assert_eq!(resp.status(), 101);
    ws.send(Message::text(r#"{"type":"ping"}"#))
        .expect("send ping");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no pong over WSS");
        if let Message::Text(t) = ws.read().expect("read") {
            let v: Value = serde_json::from_str(&t).expect("JSON");
            if v["type"] == "pong" {
                break;
            }
        }
    }
    ws.close(None).expect("close");
}

#[test]
fn plaintext_on_the_tls_port_is_closed_and_counted() {
    let cert = Cert::new("plain");
    let server = cert.server(&[("INPLAY_HTTP_HEADER_READ_TIMEOUT_MS", "500")]);

    let mut plain = TcpStream::connect(server.addr).expect("connect");
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    let mut reply = Vec::new();
    // At most a TLS alert, then the end of the stream: never an HTTP response.
    plain
        .read_to_end(&mut reply)
        .expect("closed, not timed out");
    assert!(!reply.starts_with(b"HTTP/"), "{reply:?}");

    // A client that connects and says nothing is cut off after the header-read timeout.
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).expect("connect");
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = silent.read(&mut [0u8; 64]).expect("closed, not timed out");
    assert_eq!(n, 0);
    assert!(started.elapsed() < Duration::from_secs(4));

    // The server is still healthy, and counted both failed handshakes.
    let (status, _) = cert.get(&server, "/health");
    assert_eq!(status, 200);
    let (status, metrics) = cert.get(&server, "/metrics");
    assert_eq!(status, 200);
    let failures = common::metric_sum(&metrics, "inplay_tls_handshake_failures_total");
    assert_eq!(failures, 2.0, "{metrics}");
}

#[test]
fn min_version_1_3_refuses_a_tls_1_2_client() {
    let cert = Cert::new("v13");
    let server = cert.server(&[("INPLAY_TLS_MIN_VERSION", "1.3")]);
    let (status, _) = cert.get(&server, "/health");
    assert_eq!(status, 200);

    let mut conn = cert.client(&[&rustls::version::TLS12]);
    let mut tcp = TcpStream::connect(server.addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let handshake = conn.complete_io(&mut tcp);
    assert!(handshake.is_err(), "a TLS 1.2 handshake succeeded");
}
