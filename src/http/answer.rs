//! A request's answer as bytes, and what a connection carries from the readiness loop to its
//! own task: shared by both ways a shard serves a connection ([`super::conn`], [`super::fast`]).

use std::time::Instant;

use inplay_wire::request::{Method, Request};

use super::{
    conn::{Deferred, Upgrade},
    date::with_date,
    Persist, Response, Status,
};

/// Bodies at least this large are not copied into the response buffer: they go to the socket
/// from where they are (usually bytes shared with the read view), in the same system call as
/// the head ([`super::Stream::send_pair`]). Measured against copying bodies up to 32 KiB, with
/// 100 connections fetching the gzip-compressed markets list (16 KB): +12 % requests/s and 2 MB
/// less peak RSS. Smaller bodies are still copied, so that pipelined responses share one write.
pub(crate) const DIRECT_BODY: usize = 8 * 1024;

/// What a connection brings along when the readiness loop hands it over.
#[derive(Default)]
pub(crate) struct Carried {
    /// Bytes read and not yet parsed (the start of a request, or requests after one that is
    /// answered elsewhere).
    pub input: Vec<u8>,
    /// Responses encoded and not yet written, in order.
    pub output: Vec<u8>,
    /// The request that made the loop hand the connection over, if it was not a short write
    /// or an incomplete request. Its response comes after `output` and before anything for
    /// `input`.
    pub pending: Option<Pending>,
    /// The last response in `output` closes the connection (`Connection: close`, HTTP/1.0, a
    /// bad request): write `output`, then close.
    pub close: bool,
}

/// A request the readiness loop cannot finish itself.
pub(crate) enum Pending {
    /// Answered by another shard: the request's bytes (parsed again for its headers and
    /// metrics; it parsed once, so it parses again) and its answer to come.
    Deferred {
        request: Vec<u8>,
        response: Deferred,
        received_at: Instant,
    },
    /// Upgraded: the `101` is at the end of `output`, and this session takes over once it is
    /// written.
    Upgrade(Upgrade),
}

/// Adds `response` to `out`: its head, and its body unless that is large enough to go to the
/// socket as it is (then it is returned, to be written right after `out`). Shared bodies of
/// lists are not copied into a per-connection buffer the size of the biggest list.
pub(crate) fn append<'r>(
    out: &mut Vec<u8>,
    response: &'r Response,
    req: &Request<'_>,
    keep_alive: bool,
) -> Option<&'r [u8]> {
    let persist = Persist::of(keep_alive, req.http10);
    let head = req.method == Method::Head;
    let body = response.body_bytes();
    let first = out.is_empty();
    with_date(|d| response.encode_head(out, d, persist));
    if head {
        None
    } else if body.len() < DIRECT_BODY {
        if first {
            // Exactly what one response needs, not the next power of two: an idle keep-alive
            // connection keeps what its last response needed.
            out.reserve_exact(body.len());
        }
        out.extend_from_slice(body);
        None
    } else {
        Some(body)
    }
}

pub(crate) fn switching_protocols(out: &mut Vec<u8>, accept: &str) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// The `503` a connection over the shard's connection limit gets before it is closed (by the
/// readiness loop or the accept loop).
pub(crate) fn encode_busy(out: &mut Vec<u8>) {
    Response::error(Status::UNAVAILABLE, "server busy: connection limit reached").encode_last(out);
}
