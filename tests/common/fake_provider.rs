//! A fake sports-data provider: real HTTP/1.1 on 127.0.0.1:0, serving fixtures and scripted
//! faults per path, counting requests. Keep-alive connections are served until the client
//! closes them, so the server's connection reuse is exercised too.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

/// What the fake answers on a path.
#[derive(Clone, Debug)]
pub enum Script {
    /// Status, extra headers, body.
    Reply(u16, Vec<(String, String)>, Vec<u8>),
    /// Waits, then answers as the inner script.
    Delay(Duration, Box<Script>),
    /// Announces `Content-Length` of the whole body but sends only half, then closes.
    Truncated(Vec<u8>),
    /// Sends the body a few bytes at a time, `Duration` between chunks.
    Slow(Duration, Vec<u8>),
    /// Accepts and closes without answering.
    Hangup,
    /// The n-th request on the path gets the (n mod len)-th script: a provider that flaps.
    Cycle(Vec<Script>),
}

impl Script {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self::Reply(200, Vec::new(), body.into())
    }

    /// A status with a JSON body.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Reply(status, Vec::new(), body.into())
    }
}

#[derive(Default)]
struct State {
    /// Path (without query) → script.
    scripts: HashMap<String, Script>,
    /// Path → requests seen.
    hits: HashMap<String, usize>,
    /// Path → the last request's query string.
    queries: HashMap<String, String>,
    /// Path → the last request's headers (lower-case names).
    headers: HashMap<String, Vec<(String, String)>>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeProvider {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeProvider {
    /// Starts serving on a free port (the thread lives as long as the test process).
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake provider");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = shared.clone();
                thread::spawn(move || serve(stream, &state));
            }
        });
        Self { addr, state }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets what `path` answers from now on.
    pub fn set(&self, path: &str, script: Script) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_owned(), script);
    }

    /// Requests seen on `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// The last query string sent to `path`.
    pub fn last_query(&self, path: &str) -> Option<String> {
        self.state.lock().unwrap().queries.get(path).cloned()
    }

    /// A header of the last request to `path`.
    pub fn last_header(&self, path: &str, name: &str) -> Option<String> {
        let state = self.state.lock().unwrap();
        let headers = state.headers.get(path)?;
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let script = {
            let mut s = state.lock().unwrap();
            *s.hits.entry(path.to_owned()).or_default() += 1;
            s.queries.insert(path.to_owned(), query.to_owned());
            s.headers.insert(path.to_owned(), headers);
            let hits = s.hits[path];
            match s.scripts.get(path).cloned() {
                Some(Script::Cycle(all)) if !all.is_empty() => {
                    Some(all[(hits - 1) % all.len()].clone())
                }
                other => other,
            }
        };
        let script = script.unwrap_or_else(|| Script::status(404, r#"{"message":"no such path"}"#));
        if !answer(&mut out, script) {
            return;
        }
    }
}

/// Writes one answer; `false` when the connection must close.
fn answer(out: &mut TcpStream, script: Script) -> bool {
    let head = |status: u16, len: usize, extra: &[(String, String)]| {
        let mut h = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n"
        );
        for (n, v) in extra {
            h.push_str(&format!("{n}: {v}\r\n"));
        }
        h.push_str("\r\n");
        h
    };
    match script {
        Script::Reply(status, extra, body) => {
            let ok = out
                .write_all(head(status, body.len(), &extra).as_bytes())
                .is_ok();
            ok && out.write_all(&body).is_ok()
        }
        Script::Delay(d, inner) => {
            thread::sleep(d);
            answer(out, *inner)
        }
        Script::Truncated(body) => {
            let _ = out.write_all(head(200, body.len(), &[]).as_bytes());
            let _ = out.write_all(&body[..body.len() / 2]);
            false
        }
        Script::Slow(gap, body) => {
            if out
                .write_all(head(200, body.len(), &[]).as_bytes())
                .is_err()
            {
                return false;
            }
            for chunk in body.chunks(16) {
                if out.write_all(chunk).is_err() {
                    return false;
                }
                let _ = out.flush();
                thread::sleep(gap);
            }
            true
        }
        Script::Hangup | Script::Cycle(_) => false,
    }
}

/// The bytes of `core/tests/fixtures/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/core/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}
