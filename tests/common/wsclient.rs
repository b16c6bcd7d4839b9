//! A blocking WebSocket client for tests (tungstenite), with short read timeouts.

use std::{
    net::TcpStream,
    time::{Duration, Instant},
};

use serde_json::Value;
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

use super::TestServer;

pub type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Opens `path` on the server (asserting 101) with a 200 ms read timeout.
pub fn connect(server: &TestServer, path: &str) -> Ws {
    let (ws, resp) =
        tungstenite::connect(format!("ws://{}{path}", server.addr)).expect("ws connect");
    assert_eq!(resp.status(), 101);
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set read timeout");
    }
    ws
}

/// Next JSON text message within `timeout` (None if none arrived).
pub fn next_json(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).expect("text is JSON")),
            Ok(_) => {}
            Err(e) if read_timed_out(&e) => {}
            Err(e) => panic!("ws error: {e}"),
        }
    }
    None
}

/// Next JSON message for which `pred` holds, within `timeout`.
pub fn next_matching(
    ws: &mut Ws,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = Instant::now() + timeout;
    while let Some(v) = next_json(ws, deadline.saturating_duration_since(Instant::now())) {
        if pred(&v) {
            return Some(v);
        }
    }
    None
}

/// A read that found nothing within the socket's read timeout (not an error).
pub fn read_timed_out(e: &tungstenite::Error) -> bool {
    // Interrupted too: a read with a timeout is not restarted after a signal (a child exiting).
    matches!(e, tungstenite::Error::Io(io)
        if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted))
}
