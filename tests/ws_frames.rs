//! Hostile and unusual WebSocket frames on a raw socket, against the real server: what RFC 6455
//! forbids a client closes the connection with the right code, what it allows (fragments,
//! control frames between them, a client close) is answered properly.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use common::TestServer;

const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// A client frame: `first` is the first byte (FIN, RSV, opcode); masked unless `unmasked`.
fn frame(first: u8, payload: &[u8], unmasked: bool) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![first, payload.len() as u8 | if unmasked { 0 } else { 0x80 }];
    if unmasked {
        out.extend_from_slice(payload);
    } else {
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    }
    out
}

/// A server frame: (opcode, payload).
type ServerFrame = (u8, Vec<u8>);

struct Raw {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn open(server: &TestServer, path: &str) -> Self {
        let mut tcp = TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(req.as_bytes()).unwrap();
        let mut raw = Self {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(at) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            raw.fill();
        };
        let head = String::from_utf8_lossy(&raw.buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        raw.buf.drain(..end);
        raw
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = self.tcp.read(&mut chunk).expect("read within 5 s");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).unwrap();
    }

    /// The next server frame, or `None` when the server closed the socket.
    fn next(&mut self) -> Option<ServerFrame> {
        loop {
            if self.buf.len() >= 2 {
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are never masked");
                let (len, at) = match self.buf[1] & 0x7F {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if at > 0 && self.buf.len() >= at + len {
                    let op = self.buf[0] & 0x0F;
                    assert_ne!(self.buf[0] & 0x80, 0, "server frames are final");
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some((op, payload));
                }
            }
            if self.fill() == 0 {
                return None;
            }
        }
    }

    /// Frames until the close frame; returns its code.
    fn close_code(&mut self) -> Option<u16> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.next()? {
                (0x8, p) if p.len() >= 2 => return Some(u16::from_be_bytes([p[0], p[1]])),
                (0x8, _) => return Some(1005),
                _ => {}
            }
        }
        None
    }
}

#[test]
fn frames_a_client_may_not_send_close_with_the_right_code() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let cases: [(&str, Vec<u8>, u16); 6] = [
        ("unmasked", frame(0x81, b"{}", true), 1002),
        ("reserved bit", frame(0xC1, b"{}", false), 1002),
        ("unknown opcode", frame(0x83, b"{}", false), 1002),
        ("fragmented ping", frame(0x09, b"", false), 1002),
        ("stray continuation", frame(0x80, b"{}", false), 1002),
        ("not UTF-8", frame(0x81, &[0xC3, 0x28], false), 1007),
    ];
    for (what, bytes, code) in cases {
        let mut ws = Raw::open(&server, "/live/m-1");
        ws.send(&bytes);
        assert_eq!(ws.close_code(), Some(code), "{what}");
        assert!(
            ws.next().is_none(),
            "{what}: the server hangs up after its close"
        );
    }
    // A frame announcing more than max_message_bytes: refused from its header alone.
    let mut ws = Raw::open(&server, "/ws");
    let mut big = vec![0x81, 0x80 | 127];
    big.extend_from_slice(&(1u64 << 40).to_be_bytes());
    big.extend_from_slice(&MASK);
    ws.send(&big);
    assert_eq!(ws.close_code(), Some(1009));
    // The server is fine afterwards.
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn fragments_control_frames_and_a_client_close_are_answered() {
    let server = TestServer::start(&[("INPLAY_DEMO_ENABLED", "false")]);
    let mut ws = Raw::open(&server, "/live/m-1");
    // {"type":"ping"} in three fragments, a ping control frame between them, all in one write.
    let mut bytes = frame(0x01, br#"{"type""#, false);
    bytes.extend(frame(0x89, b"hi", false));
    bytes.extend(frame(0x00, br#":"pi"#, false));
    bytes.extend(frame(0x80, br#"ng"}"#, false));
    ws.send(&bytes);
    assert_eq!(
        ws.next(),
        Some((0xA, b"hi".to_vec())),
        "pong echoes the ping"
    );
    let (op, text) = ws.next().expect("a reply");
    assert_eq!(op, 0x1);
    let reply: serde_json::Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(reply["type"], "pong");
    // A message split across writes arrives whole.
    let msg = frame(0x81, br#"{"type":"ping"}"#, false);
    ws.send(&msg[..3]);
    std::thread::sleep(Duration::from_millis(50));
    ws.send(&msg[3..]);
    let (op, text) = ws.next().expect("a reply");
    assert_eq!((op, &text[..15]), (0x1, &br#"{"type":"pong","#[..]));
    // Binary gets an error message, and the session goes on.
    ws.send(&frame(0x82, &[1, 2, 3], false));
    let (_, text) = ws.next().expect("an error");
    assert!(String::from_utf8_lossy(&text).contains("binary"));
    // A client close is echoed with its code.
    ws.send(&frame(0x88, &[0x0F, 0xA0, b'b', b'y', b'e'], false)); // 4000
    assert_eq!(ws.close_code(), Some(4000));
    assert!(ws.next().is_none());
}

#[test]
fn a_client_that_pings_and_never_reads_cannot_grow_the_servers_queue() {
    let server = TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_WEBSOCKET_SEND_QUEUE_BYTES", "65536"),
    ]);
    let mut ws = Raw::open(&server, "/live/m-1");
    ws.tcp
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // 100,000 pings of 125 bytes (12.9 MB), never reading a pong: far more than the kernel's
    // socket buffers hold, so without a bound the server would queue tens of thousands.
    let ping = frame(0x89, &[b'p'; 125], false);
    let batch: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    for _ in 0..100 {
        if Instant::now() > deadline || ws.tcp.write_all(&batch).is_err() {
            break; // the server stopped reading us: the point
        }
    }
    let queued = server.metric("inplay_ws_queued_frames");
    // 64 KiB of 127-byte pongs, plus what one read of client bytes answers.
    assert!(queued <= 600.0, "{queued} frames queued for one client");
    assert_eq!(server.get("/health").status, 200);
}
