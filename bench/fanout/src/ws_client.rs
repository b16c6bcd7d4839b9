//! The generator's own WebSocket client wire format (RFC 6455), just what a subscriber needs:
//! the upgrade request and its answer, server frames parsed in place, masked client frames.
//!
//! It replaces a general client on the receive path because the generator shares one core
//! with nothing but Redis while a server pushes 10,000 frames a burst at it: every microsecond
//! it spends per frame is added to the latency it reports for the last subscribers. Parsing
//! here is a few comparisons per frame, on the bytes one `read` returned, with the frame header
//! checks the server's own decoder uses (`inplay_wire::ws::FrameHeader`); what is the client's
//! is the buffer, message reassembly without copies, and a size limit of its own.

use inplay_wire::ws::{opcode, FrameHeader, Head};
use tungstenite::handshake::derive_accept_key;

pub use inplay_wire::ws::client_frame;

/// Largest server message the generator accepts (the servers send a few hundred bytes).
pub const MAX_MESSAGE: usize = 1 << 20;

/// Largest upgrade answer (status line and headers).
pub const MAX_HEAD: usize = 8192;

/// The upgrade request for `path` on `host:port`, with `key` (base64 of 16 bytes).
pub fn upgrade_request(host: &str, port: u16, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Checks the server's answer to the upgrade: `head` holds the bytes read so far. `Ok(None)`:
/// the head is not complete yet; `Ok(Some(n))`: a valid `101` whose head is `n` bytes long
/// (anything after it is already WebSocket frames).
pub fn upgrade_answer(head: &[u8], key: &str) -> Result<Option<usize>, String> {
    let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
        if head.len() > MAX_HEAD {
            return Err(format!("upgrade answer longer than {MAX_HEAD} bytes"));
        }
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&head[..end]);
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if status.split(' ').nth(1) != Some("101") {
        return Err(format!("upgrade refused: {status}"));
    }
    let accept = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim().to_owned())
    });
    let expected = derive_accept_key(key.as_bytes());
    match accept {
        Some(a) if a == expected => Ok(Some(end + 4)),
        Some(a) => Err(format!("wrong Sec-WebSocket-Accept {a:?}")),
        None => Err("no Sec-WebSocket-Accept".into()),
    }
}

/// One complete message (or control frame) from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Text(&'a [u8]),
    Binary,
    Ping(&'a [u8]),
    Pong,
    /// The close code, if the frame had one.
    Close(Option<u16>),
}

/// Frames read from one connection: a buffer of received bytes and a message being
/// reassembled from fragments.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
    /// Parsed up to here.
    start: usize,
    /// Received up to here.
    end: usize,
    /// The opcode and payload of a fragmented message so far.
    partial: Option<(u8, Vec<u8>)>,
    /// The last reassembled message (what [`Reader::message`] returned).
    assembled: Vec<u8>,
}

impl Reader {
    /// Room to read into: at least `min` bytes past what is buffered.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end + min > self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end + min > self.buf.len() {
            self.buf.resize(self.end + min, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Keeps the first `n` bytes of what [`spare`](Self::spare) offered: they were read.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Appends bytes received some other way (what followed the upgrade answer).
    pub fn push(&mut self, bytes: &[u8]) {
        self.spare(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// The next complete message in the buffer, `Ok(None)` if more bytes are needed. An error
    /// is a protocol violation: the connection cannot go on.
    pub fn message(&mut self) -> Result<Option<Message<'_>>, String> {
        loop {
            let h = match FrameHeader::parse(&self.buf[self.start..self.end]) {
                Ok(Head::Header(h)) => h,
                Ok(Head::Need(_)) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            if h.len > MAX_MESSAGE as u64 {
                return Err(format!("frame of {} bytes, over {MAX_MESSAGE}", h.len));
            }
            let at = self.start + h.size;
            let Some(len) = h
                .payload(&mut self.buf[self.start..self.end])
                .map(<[u8]>::len)
            else {
                return Ok(None);
            };
            self.start = at + len;
            let payload = at..at + len;
            if h.opcode >= opcode::CLOSE {
                return Ok(Some(control(h.opcode, &self.buf[payload])?));
            }
            match (h.opcode, self.partial.as_mut(), h.fin) {
                (opcode::CONTINUATION, None, _) => {
                    return Err("continuation without a message".into())
                }
                (opcode::CONTINUATION, Some((_, so_far)), _) => {
                    if so_far.len() + len > MAX_MESSAGE {
                        return Err(format!("message over {MAX_MESSAGE} bytes"));
                    }
                    so_far.extend_from_slice(&self.buf[payload]);
                    if !h.fin {
                        continue;
                    }
                    let (first, whole) = self.partial.take().unwrap_or_default();
                    self.assembled = whole;
                    return Ok(Some(data(first, &self.assembled)));
                }
                (_, Some(_), _) => return Err("new message inside a fragmented one".into()),
                (opcode::TEXT | opcode::BINARY, None, false) => {
                    self.partial = Some((h.opcode, self.buf[payload].to_vec()));
                }
                (opcode::TEXT | opcode::BINARY, None, true) => {
                    return Ok(Some(data(h.opcode, &self.buf[payload])));
                }
                (op, None, _) => return Err(format!("unknown opcode {op:#x}")),
            }
        }
    }
}

fn control(op: u8, payload: &[u8]) -> Result<Message<'_>, String> {
    match op {
        opcode::CLOSE => Ok(Message::Close(
            (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
        )),
        opcode::PING => Ok(Message::Ping(payload)),
        opcode::PONG => Ok(Message::Pong),
        op => Err(format!("unknown control opcode {op:#x}")),
    }
}

fn data(op: u8, payload: &[u8]) -> Message<'_> {
    if op == opcode::TEXT {
        Message::Text(payload)
    } else {
        Message::Binary
    }
}

#[cfg(test)]
#[path = "ws_client_tests.rs"]
mod tests;
