//! WebSocket frames (RFC 6455 §5), the server's side: frames a client sends, read from the
//! front of a connection's buffer, and the headers of frames the server sends.
//!
//! The server writes the same pre-framed bytes to every subscriber, so encoding is only a
//! header ([`header`]). Decoding ([`Decoder`]) enforces what a server must: client frames are
//! masked, no extension bits, known opcodes, control frames short and unfragmented,
//! continuations only inside a fragmented message, text valid UTF-8, and a message size limit
//! checked from the header, before any payload is buffered. The header checks either side
//! makes are [`FrameHeader::parse`], which the fan-out load generator's client reads with too.

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
    /// Try again later: the server fell behind and the session missed changes (reconnect, and
    /// `/ws` clients recover with `since`).
    pub const TRY_AGAIN: u16 = 1013;
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

/// A frame's header (RFC 6455 §5.2), checked as either side must check it: no extension bits,
/// a known opcode, control frames final and at most 125 bytes, a length with its top bit clear.
/// What depends on the side (whether frames must be masked, how large a message may be) is the
/// caller's: the server's [`Decoder`], or the fan-out load generator's client (`bench/fanout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The final frame of its message.
    pub fin: bool,
    /// One of [`opcode`].
    pub opcode: u8,
    /// The payload is masked; its key is the last 4 bytes of the header.
    pub masked: bool,
    /// Payload bytes, as the header states them (not yet checked against any limit).
    pub len: u64,
    /// Header bytes, the mask key included: the payload starts here.
    pub size: usize,
}

/// What [`FrameHeader::parse`] found at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Not enough bytes for the length fields: at least this many are needed.
    Need(usize),
    /// The header (its mask key and payload may still be on the way).
    Header(FrameHeader),
}

impl FrameHeader {
    /// Reads the header at the front of `buf`, from its first 2, 4 or 10 bytes.
    ///
    /// # Errors
    /// Reserved bits, an unknown opcode, a fragmented or long control frame, a 64-bit length
    /// with its top bit set: [`Error::Protocol`].
    pub fn parse(buf: &[u8]) -> Result<Head, Error> {
        let [b0, b1, ..] = *buf else {
            return Ok(Head::Need(2));
        };
        if b0 & 0x70 != 0 {
            return Err(Error::Protocol("reserved bits set without an extension"));
        }
        let (fin, op, masked) = (b0 & 0x80 != 0, b0 & 0x0F, b1 & 0x80 != 0);
        match op {
            opcode::CONTINUATION | opcode::TEXT | opcode::BINARY => {}
            opcode::CLOSE | opcode::PING | opcode::PONG => {}
            _ => return Err(Error::Protocol("unknown opcode")),
        }
        let (len, at) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
                _ => return Ok(Head::Need(4)),
            },
            127 => {
                let Some(bytes) = buf.get(2..10) else {
                    return Ok(Head::Need(10));
                };
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                let len = u64::from_be_bytes(b);
                if len >> 63 != 0 {
                    return Err(Error::Protocol("frame length has its top bit set"));
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        if op >= opcode::CLOSE && (!fin || len > 125) {
            return Err(Error::Protocol(
                "control frames must be final and at most 125 bytes",
            ));
        }
        Ok(Head::Header(Self {
            fin,
            opcode: op,
            masked,
            len,
            size: at + if masked { 4 } else { 0 },
        }))
    }

    /// The frame's payload in `buf` (which starts with this header), unmasked in place: `None`
    /// until `buf` holds all of it. Call it once per frame (unmasking twice masks again), after
    /// checking [`len`](Self::len) against a limit: a length no `usize` holds (only possible
    /// on a 32-bit target) is `None` too, and would wait forever without that check.
    pub fn payload<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let end = self.size.checked_add(usize::try_from(self.len).ok()?)?;
        let frame = buf.get_mut(..end)?;
        let (head, payload) = frame.split_at_mut(self.size);
        if self.masked {
            let key = &head[self.size - 4..];
            unmask(payload, [key[0], key[1], key[2], key[3]]);
        }
        Some(payload)
    }
}

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
        // Refused as soon as the second byte shows it, before waiting for any length bytes.
        if buf.len() >= 2 && buf[1] & 0x80 == 0 {
            return Err(Error::Protocol("client frames must be masked"));
        }
        let h = match FrameHeader::parse(buf)? {
            Head::Need(n) => return Ok(Decoded::Need(n)),
            Head::Header(h) => h,
        };
        let (fin, op) = (h.fin, h.opcode);
        let so_far = if op == opcode::CONTINUATION {
            self.fragments.len() as u64
        } else {
            0
        };
        if so_far.saturating_add(h.len) > self.max_message as u64 {
            return Err(Error::TooBig);
        }
        let end = h.size + h.len as usize; // len ≤ max_message, a usize
        let Some(payload) = h.payload(buf) else {
            return Ok(Decoded::Need(end));
        };
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
