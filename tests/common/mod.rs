//! Test harness: boots the real `inplay` binary on 127.0.0.1 port 0 and speaks raw HTTP/1.1.
//!
//! Servers start with rate limiting off (the suites hammer them; `tests/ratelimit.rs` turns it
//! on with tiny limits) and with [`TEST_SECRET`] as the JWT secret, so a test can call the
//! protected routes with a token from [`admin_token`] or [`mint`].
#![allow(dead_code)] // each test binary uses a different subset

pub mod fake_provider;
pub mod pg;
pub mod providers;
pub mod pushed;
pub mod redis;
pub mod rss;
pub mod wsclient;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// The HS256 secret every test server starts with (overridable through `env`).
pub const TEST_SECRET: &str = "integration-tests-only-secret-0123456789";

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An HS256 token over `claims`, signed with [`TEST_SECRET`].
pub fn mint(claims: &serde_json::Value) -> String {
    mint_with(
        jsonwebtoken::Algorithm::HS256,
        claims,
        TEST_SECRET.as_bytes(),
    )
}

/// An HMAC token (HS256/384/512) over `claims`, signed with `secret`.
pub fn mint_with(
    alg: jsonwebtoken::Algorithm,
    claims: &serde_json::Value,
    secret: &[u8],
) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &key).expect("encode token")
}

/// A token with `roles`, valid for an hour.
pub fn token_with_roles(roles: &[&str]) -> String {
    mint(&serde_json::json!({"sub": "tests", "roles": roles, "exp": unix_now() + 3600}))
}

/// A token with the `admin` role, valid for an hour.
pub fn admin_token() -> String {
    token_with_roles(&["admin"])
}

/// A running server process; killed on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub child: Child,
    pub logs: mpsc::Receiver<String>,
}

impl TestServer {
    /// Starts the server with 2 shards, the demo feed, and `env` on top.
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::start_with_args(&[], env)
    }

    /// Starts the server with command-line `args` (e.g. `--config FILE`) and `env`.
    pub fn start_with_args(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inplay"));
        cmd.args(args);
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("INPLAY_SERVER_HOST", "127.0.0.1")
            .env("INPLAY_SERVER_PORT", "0")
            .env("INPLAY_SERVER_SHARDS", "2")
            .env("INPLAY_LOG_LEVEL", "info")
            .env("INPLAY_LOG_FORMAT", "json")
            .env("INPLAY_RATE_LIMIT_ENABLED", "false")
            .env("INPLAY_AUTH_JWT_SECRET", TEST_SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn inplay");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = logs.recv_timeout(left) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not report Listening within 20 s");
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["message"] == "Listening" {
                let addr = v["addr"]
                    .as_str()
                    .expect("addr field")
                    .parse()
                    .expect("addr parses");
                return Self { addr, child, logs };
            }
        }
    }

    /// One request on a fresh connection.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        let mut c = Client::connect(self.addr);
        c.send(method, path, body);
        c.read_response()
    }

    /// One request with extra header lines (`("Authorization", "Bearer ...")`).
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut c = Client::connect(self.addr);
        c.send_raw(&request_bytes_with(method, path, body, headers));
        c.read_response()
    }

    /// One request carrying an admin token.
    pub fn admin_request(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        let auth = format!("Bearer {}", admin_token());
        self.request_with(method, path, body, &[("Authorization", &auth)])
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None)
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    /// Polls `path` until `pred` holds on its JSON (or panics after `timeout`).
    pub fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.get(path);
            if r.status == 200 {
                let v = r.json();
                if pred(&v) {
                    return v;
                }
            }
            assert!(
                Instant::now() < deadline,
                "condition on {path} not met in {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        // SAFETY-free: kill(1) via the standard tool keeps tests free of unsafe.
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, returning its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
}

/// A keep-alive connection.
/// The most a [`Client`] reads at once.
const READ_MAX: usize = 65536;

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Self::from_stream(stream)
    }

    /// A client whose socket takes 4 KiB at a time, so that the server's writes to it soon
    /// come up short (a slow reader).
    pub fn slow_reader(addr: SocketAddr) -> Self {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket
            .connect_timeout(&addr.into(), Duration::from_secs(5))
            .expect("connect");
        let stream: TcpStream = socket.into();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Self::from_stream(stream)
    }

    /// A client over a socket the test set up itself (buffer sizes, say).
    pub fn from_stream(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, method: &str, path: &str, body: Option<&str>) {
        let req = request_bytes(method, path, body);
        self.stream.write_all(&req).expect("write request");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one response (Content-Length framed).
    pub fn read_response(&mut self) -> Resp {
        self.try_read_response().expect("a response")
    }

    /// Reads the response to a HEAD request: headers only, whatever Content-Length says.
    pub fn read_head_response(&mut self) -> Resp {
        self.read_framed(true, READ_MAX).expect("a HEAD response")
    }

    /// Reads one response, or `None` if the server closed the connection first.
    pub fn try_read_response(&mut self) -> Option<Resp> {
        self.read_framed(false, READ_MAX)
    }

    /// Reads one response at most `chunk` bytes per read: a slow reader.
    pub fn read_response_slowly(&mut self, chunk: usize) -> Resp {
        self.read_framed(false, chunk).expect("a response")
    }

    fn read_framed(&mut self, head_only: bool, max_read: usize) -> Option<Resp> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                let mut lines = head.split("\r\n");
                let status_line = lines.next().unwrap_or("");
                let status = status_line
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .filter(|_| !head_only)
                    .unwrap_or(0);
                if self.buf.len() >= end + 4 + len {
                    let body = self.buf[end + 4..end + 4 + len].to_vec();
                    self.buf.drain(..end + 4 + len);
                    return Some(Resp {
                        status,
                        headers,
                        body,
                    });
                }
            }
            let mut chunk = [0u8; READ_MAX];
            match self.stream.read(&mut chunk[..max_read.min(READ_MAX)]) {
                // A read with a timeout is not restarted after a signal (a child exiting).
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// True once the server has closed the connection (reads EOF).
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        loop {
            match self.stream.read(&mut b) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => return matches!(r, Ok(0)),
            }
        }
    }
}

pub fn request_bytes(method: &str, path: &str, body: Option<&str>) -> Vec<u8> {
    request_bytes_with(method, path, body, &[])
}

/// A request with extra header lines.
pub fn request_bytes_with(
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Vec<u8> {
    let mut s = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in headers {
        s.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = body {
        s.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    s.push_str("\r\n");
    if let Some(b) = body {
        s.push_str(b);
    }
    s.into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Waits until the demo feed has populated at least `n` matches, returns `/api/matches`.
pub fn wait_for_matches(server: &TestServer, n: usize) -> serde_json::Value {
    server.wait_for("/api/matches", Duration::from_secs(20), |v| {
        v.as_array().is_some_and(|a| a.len() >= n)
    })
}

/// The sum over shards of a per-shard series (`name{shard="…"} value`) in `/metrics` text.
pub fn metric_sum(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

impl TestServer {
    /// Scrapes `/metrics` and sums the per-shard series `name` (see [`metric_sum`]).
    pub fn metric(&self, name: &str) -> f64 {
        metric_sum(&self.get("/metrics").text(), name)
    }
}

/// A port nothing listens on right now (for throwaway services).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}
