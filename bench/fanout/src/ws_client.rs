//! The generator's own WebSocket client wire format (RFC 6455), just what a subscriber needs:
//! the upgrade request and its answer, server frames parsed in place, masked client frames.
//!
//! It replaces a general client on the receive path because the generator shares one core
//! with nothing but Redis while a server pushes 10,000 frames a burst at it: every microsecond
//! it spends per frame is added to the latency it reports for the last subscribers. Parsing
//! here is a few comparisons per frame, on the bytes one `read` returned.

use inplay_wire::ws::{opcode, unmask};
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

/// A frame header, parsed.
struct Header {
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: usize,
    size: usize,
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
            let Some(h) = header(&self.buf[self.start..self.end])? else {
                return Ok(None);
            };
            if self.end - self.start < h.size + h.len {
                return Ok(None);
            }
            let at = self.start + h.size;
            self.start = at + h.len;
            if let Some(mask) = h.mask {
                unmask(&mut self.buf[at..at + h.len], mask);
            }
            let payload = at..at + h.len;
            if h.opcode >= opcode::CLOSE {
                if !h.fin || h.len > 125 {
                    return Err("fragmented or oversized control frame".into());
                }
                return Ok(Some(control(h.opcode, &self.buf[payload])?));
            }
            match (h.opcode, self.partial.as_mut(), h.fin) {
                (opcode::CONTINUATION, None, _) => {
                    return Err("continuation without a message".into())
                }
                (opcode::CONTINUATION, Some((_, so_far)), _) => {
                    if so_far.len() + h.len > MAX_MESSAGE {
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

fn header(b: &[u8]) -> Result<Option<Header>, String> {
    if b.len() < 2 {
        return Ok(None);
    }
    if b[0] & 0x70 != 0 {
        return Err("reserved bits set".into());
    }
    let (len, mut size) = match b[1] & 0x7f {
        126 if b.len() < 4 => return Ok(None),
        126 => (u16::from_be_bytes([b[2], b[3]]) as u64, 4),
        127 if b.len() < 10 => return Ok(None),
        127 => (
            u64::from_be_bytes(b[2..10].try_into().unwrap_or_default()),
            10,
        ),
        n => (u64::from(n), 2),
    };
    if len > MAX_MESSAGE as u64 {
        return Err(format!("frame of {len} bytes, over {MAX_MESSAGE}"));
    }
    let mask = if b[1] & 0x80 != 0 {
        let Some(key) = b.get(size..size + 4) else {
            return Ok(None);
        };
        size += 4;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    Ok(Some(Header {
        fin: b[0] & 0x80 != 0,
        opcode: b[0] & 0x0f,
        mask,
        len: len as usize,
        size,
    }))
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
