//! WebSocket frames (RFC 6455 §5), the server's side: frames a client sends, read from the
//! front of a connection's buffer, and the headers of frames the server sends.
//!
//! The server writes the same pre-framed bytes to every subscriber, so encoding is only a
//! header ([`header`]). Decoding ([`Decoder`]) enforces what a server must: client frames are
//! masked, no extension bits, known opcodes, control frames short and unfragmented,
//! continuations only inside a fragmented message, text valid UTF-8, and a message size limit
//! checked from the header, before any payload is buffered.

use std::fmt;

/// Frame opcodes (RFC 6455 §5.2).
pub mod opcode {
    /// A continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// A text frame.
    pub const TEXT: u8 = 0x1;
    /// A binary frame.
    pub const BINARY: u8 = 0x2;
    /// Close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xA;
}

/// Close codes the server sends (RFC 6455 §7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// Going away (server shutting down, idle timeout).
    pub const AWAY: u16 = 1001;
    /// Protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// Data inconsistent with the message type (text that is not UTF-8).
    pub const INVALID_DATA: u16 = 1007;
    /// Policy violation (slow consumer).
    pub const POLICY: u16 = 1008;
    /// Message too big.
    pub const TOO_BIG: u16 = 1009;
}

/// Longest header a server frame needs: 2 bytes, then up to 8 of length (servers never mask).
pub const MAX_HEADER: usize = 10;

/// The header of an unmasked, final frame of `opcode` carrying `len` payload bytes, and how many
/// of the returned bytes it uses.
pub fn header(opcode: u8, len: usize) -> ([u8; MAX_HEADER], usize) {
    let mut h = [0u8; MAX_HEADER];
    h[0] = 0x80 | (opcode & 0x0F);
    let used = if len < 126 {
        h[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        h[1] = 126;
        h[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (h, used)
}

/// A whole server frame: header and payload in one buffer.
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let (h, used) = header(opcode, payload.len());
    let mut out = Vec::with_capacity(used + payload.len());
    out.extend_from_slice(&h[..used]);
    out.extend_from_slice(payload);
    out
}

/// A frame as a client sends it: masked with `mask`, final or not (`fin`). The server never
/// sends one; its tests and the fan-out load generator (`bench/fanout`) do.
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let (mut h, used) = header(opcode, payload.len());
    if !fin {
        h[0] &= 0x7F;
    }
    h[1] |= 0x80;
    let mut out = Vec::with_capacity(used + 4 + payload.len());
    out.extend_from_slice(&h[..used]);
    out.extend_from_slice(&mask);
    out.extend_from_slice(payload);
    unmask(&mut out[used + 4..], mask);
    out
}

/// A close frame with `code` and `reason` (cut to fit a control frame's 125 bytes).
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame(opcode::CLOSE, &payload)
}

/// A client message, whole (fragments joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, valid UTF-8.
    Text(String),
    /// A binary message (its bytes are not kept: the server does not accept binary).
    Binary,
    /// A ping with its payload (the pong echoes it).
    Ping(Vec<u8>),
    /// A pong.
    Pong,
    /// A close, with the client's code if it gave one.
    Close(Option<u16>),
}

/// Why a client's bytes cannot be a WebSocket stream; each maps to the close code to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A frame or message over the limit (close 1009).
    TooBig,
    /// Text that is not UTF-8 (close 1007).
    InvalidUtf8,
    /// Anything else RFC 6455 forbids (close 1002), with what.
    Protocol(&'static str),
}

impl Error {
    /// The close code this error ends the connection with.
    pub fn close_code(self) -> u16 {
        match self {
            Self::TooBig => close_code::TOO_BIG,
            Self::InvalidUtf8 => close_code::INVALID_DATA,
            Self::Protocol(_) => close_code::PROTOCOL,
        }
    }

    /// The close reason.
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooBig => "message too large",
            Self::InvalidUtf8 => "text message is not valid UTF-8",
            Self::Protocol(what) => what,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Error {}

/// Reads client frames, joining fragmented messages. Holds only the fragments of a message in
/// progress (nothing between messages).
#[derive(Debug)]
pub struct Decoder {
    max_message: usize,
    /// The opcode of the fragmented message in progress, if any.
    fragmented: Option<u8>,
    fragments: Vec<u8>,
}

/// What [`Decoder::decode`] found at the front of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Not a whole frame yet; at least this many bytes (from the front) are needed.
    Need(usize),
    /// A frame of `used` bytes that completes no message (a fragment).
    Skip(usize),
    /// A whole message, from a frame of `used` bytes.
    Message(usize, Message),
}

impl Decoder {
    /// A decoder refusing messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self {
            max_message,
            fragmented: None,
            fragments: Vec::new(),
        }
    }

    /// Decodes the frame at the front of `buf` (unmasking its payload in place).
    ///
    /// # Errors
    /// A frame RFC 6455 forbids a client to send, or a message over the limit; the connection
    /// should close with [`Error::close_code`].
    pub fn decode(&mut self, buf: &mut [u8]) -> Result<Decoded, Error> {
        if buf.len() < 2 {
            return Ok(Decoded::Need(2));
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & 0x80 != 0;
        if b0 & 0x70 != 0 {
            return Err(Error::Protocol("reserved bits set without an extension"));
        }
        let op = b0 & 0x0F;
        if b1 & 0x80 == 0 {
            return Err(Error::Protocol("client frames must be masked"));
        }
        let control = op >= opcode::CLOSE;
        match op {
            opcode::CONTINUATION | opcode::TEXT | opcode::BINARY => {}
            opcode::CLOSE | opcode::PING | opcode::PONG => {}
            _ => return Err(Error::Protocol("unknown opcode")),
        }
        let (len, at) = match b1 & 0x7F {
            126 => {
                if buf.len() < 4 {
                    return Ok(Decoded::Need(4));
                }
                (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(Decoded::Need(10));
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(b);
                if len >> 63 != 0 {
                    return Err(Error::Protocol("frame length has its top bit set"));
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        if control && (!fin || len > 125) {
            return Err(Error::Protocol(
                "control frames must be final and at most 125 bytes",
            ));
        }
        let so_far = if op == opcode::CONTINUATION {
            self.fragments.len() as u64
        } else {
            0
        };
        if so_far.saturating_add(len) > self.max_message as u64 {
            return Err(Error::TooBig);
        }
        let len = len as usize; // ≤ max_message, a usize
        let start = at + 4;
        let end = start + len;
        if buf.len() < end {
            return Ok(Decoded::Need(end));
        }
        let mask = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        let payload = &mut buf[start..end];
        unmask(payload, mask);
        let payload = &buf[start..end];
        let message = match op {
            opcode::PING => Message::Ping(payload.to_vec()),
            opcode::PONG => Message::Pong,
            opcode::CLOSE => Message::Close(close_payload(payload)?),
            opcode::CONTINUATION => {
                let Some(first) = self.fragmented else {
                    return Err(Error::Protocol("continuation frame outside a message"));
                };
                if first == opcode::TEXT {
                    self.fragments.extend_from_slice(payload);
                }
                if !fin {
                    return Ok(Decoded::Skip(end));
                }
                self.fragmented = None;
                let bytes = std::mem::take(&mut self.fragments);
                whole(first, bytes)?
            }
            _ => {
                if self.fragmented.is_some() {
                    return Err(Error::Protocol("new message inside a fragmented one"));
                }
                if !fin {
                    self.fragmented = Some(op);
                    if op == opcode::TEXT {
                        self.fragments.extend_from_slice(payload);
                    }
                    return Ok(Decoded::Skip(end));
                }
                whole(
                    op,
                    if op == opcode::TEXT {
                        payload.to_vec()
                    } else {
                        Vec::new()
                    },
                )?
            }
        };
        Ok(Decoded::Message(end, message))
    }
}

fn whole(op: u8, bytes: Vec<u8>) -> Result<Message, Error> {
    if op == opcode::TEXT {
        String::from_utf8(bytes)
            .map(Message::Text)
            .map_err(|_| Error::InvalidUtf8)
    } else {
        Ok(Message::Binary)
    }
}

/// A close frame's code: none, or two bytes of a code a peer may send, then UTF-8.
fn close_payload(payload: &[u8]) -> Result<Option<u16>, Error> {
    match payload {
        [] => Ok(None),
        [_] => Err(Error::Protocol("close frame with a one-byte payload")),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !sendable {
                return Err(Error::Protocol("close code a peer may not send"));
            }
            std::str::from_utf8(reason).map_err(|_| Error::InvalidUtf8)?;
            Ok(Some(code))
        }
    }
}

/// XORs `payload` with `mask` (masking and unmasking are the same operation).
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
#[path = "ws_tests.rs"]
mod tests;
