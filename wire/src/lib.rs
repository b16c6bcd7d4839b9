//! What clients send inplay, parsed: pure functions from untrusted bytes to values or refusals.
//!
//! Kept apart from the server so the parsers can be fuzzed (`fuzz/`, cargo-fuzz) without
//! building the runtime, the I/O clients or the rest of the server, and so that what faces the
//! network is small enough to read in one sitting. No async, no sockets, no clock; no input
//! may panic.
//!
//! # Layout
//! * [`request`]: one HTTP/1.1 request from the front of a connection's read buffer, with the
//!   head, header-count and body limits applied.
//! * [`accept_encoding`]: whether a request's `Accept-Encoding` allows a gzip body.
//! * [`status`]: the HTTP status codes the server answers with.
//! * [`json_depth`]: how deep a JSON text nests, by a byte scan, before anything parses it.
//! * [`client_msg`]: the messages a WebSocket client may send on `/ws`, `/live` and `/markets`.
//! * [`ws`]: WebSocket frames: client frames decoded and checked, server frame headers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accept_encoding;
pub mod client_msg;
pub mod json_depth;
pub mod request;
pub mod status;
pub mod ws;

pub use status::Status;

/// Whether `s` names a match, sport, league or bet in the accepted alphabet: 1 to 128 of
/// ASCII letters, digits and `- _ . :`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}
