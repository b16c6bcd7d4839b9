//! One WebSocket client: client messages in, replies and queued changes out.
//!
//! Changes usually reach the client without this task: the hub writes them straight to the
//! socket ([`super::outbox`]). The session task wakes only for what the client sends, for
//! frames that had to queue (a full socket), and for its ping timer, so an idle subscriber
//! costs no CPU and little memory: no read buffer between messages, no preallocated queue.
//! Frames are RFC 6455's, decoded by [`inplay_wire::ws`].
//!
//! What a client may say depends on the endpoint ([`Handler`]): on `/live` and `/markets`,
//! `{"type":"ping"}` gets `{"type":"pong","timestamp":…}` as in the original service and
//! anything else gets `{"type":"error","error":…}`; `/ws` adds subscriptions ([`super::mux`]).
//! Messages over the size limit close the connection with 1009; messages nested deeper than
//! `max_json_depth` get an error message before any parser sees them. The server pings an idle client
//! every `ping_interval` and closes a client that has sent nothing (not even a pong) for
//! `idle_timeout`. When the outbox is closed the session ends with 1008 (slow consumer),
//! 1013 (changes were dropped before they reached this shard: reconnect and recover) or,
//! while the shard drains, 1001 (going away). Protocol errors close with 1002, text that is
//! not UTF-8 with 1007.
//! A session opened with a token (`websocket.require_auth`) ends with 4001 "token expired"
//! when the token does.

use std::{
    future::poll_fn,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use async_tungstenite::tungstenite::Utf8Bytes;
use bytes::Bytes;
use futures_lite::{future, AsyncRead, Future};
use glommio::timer::Timer;
use inplay_wire::{
    json_depth::check_depth,
    ws::{self, close_code, opcode, Decoded, Decoder, Message},
};
use tracing::debug;

use super::{
    outbox::{text_frame, Outbox},
    queue::SlowConsumer,
};
use crate::{clock, http::Stream};

/// WebSocket limits and timers, from `[websocket]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WsConfig {
    /// Frames a session may have queued before it counts as a slow consumer.
    pub send_queue: usize,
    /// Largest client message accepted.
    pub max_message_bytes: usize,
    /// How often an idle client is pinged.
    pub ping_interval: Duration,
    /// A client silent for this long is disconnected.
    pub idle_timeout: Duration,
    /// Recovery history per shard, in bytes (0: no recovery, always a snapshot).
    pub history_bytes: usize,
    /// Most subscriptions one `/ws` connection may hold.
    pub max_subscriptions: usize,
    /// Deepest JSON nesting a client message may have (`http.max_json_depth`).
    pub max_json_depth: usize,
    /// Most bytes of frames one session may have queued.
    pub send_queue_bytes: usize,
    /// What happens to a session whose queue overflows.
    pub slow_consumer: SlowConsumer,
}

/// What an endpoint does with a session's traffic.
pub(crate) trait Handler {
    /// Answers one client text message with frames to send, in order.
    async fn on_text(&mut self, text: &str, replies: &mut Vec<Utf8Bytes>);
    /// The session missed changes (its queue overflowed, or they were dropped before they
    /// reached its shard) and the changes queued were dropped (`slow_consumer = "coalesce"`):
    /// the latest state of what it follows, after a `resync` message; each match starts over
    /// from its snapshot.
    fn resync(&mut self, replies: &mut Vec<Utf8Bytes>);
    /// The session ended: leave the hub (idempotent; handlers also leave when dropped).
    fn leave(&mut self);
}

/// Bytes read from the socket at once.
const READ_CHUNK: usize = 4096;

/// How long a closing session may take to write what it still owes (its queue, the close
/// frame) before the connection is dropped.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Close code of a session whose token expired (private-use range of RFC 6455 §7.4.2).
pub(crate) const TOKEN_EXPIRED: u16 = 4001;

/// Why the session's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Client bytes arrived (in the session's read buffer).
    Read,
    /// The send queue has room again for replies to messages read earlier.
    Decode,
    /// The connection is gone (client hung up, or a write failed).
    Gone,
    /// The outbox overflowed under `"coalesce"`.
    Resync,
    /// The outbox was closed (slow consumer under `"disconnect"`, or drain).
    Closed,
    /// Time to ping (or to give up on a silent client).
    Tick,
    /// The token the session was opened with has expired.
    Expired,
}

/// A session's connection and what it has read but not yet decoded.
struct Conn {
    stream: Stream,
    /// Bytes read but not yet decoded (a partial frame); empty, unallocated, between messages.
    pending: Vec<u8>,
    /// Whole messages wait in `pending`: decoding stopped when the replies filled the send
    /// queue, and goes on (before anything more is read) once the client has read them.
    undecoded: bool,
    decoder: Decoder,
}

/// Runs a session on an upgraded connection until either side ends it, or until
/// `expires_at` (the end of the token it was opened with), when it closes with
/// [`TOKEN_EXPIRED`]. `out` is the session's outbox, already known to `handler`.
pub(crate) async fn run(
    stream: Stream,
    mut handler: impl Handler,
    out: Rc<Outbox>,
    config: WsConfig,
    expires_at: Option<Instant>,
    draining: impl Fn() -> bool,
) {
    let mut conn = Conn {
        stream,
        pending: Vec::new(),
        undecoded: false,
        decoder: Decoder::new(config.max_message_bytes),
    };
    // Declared after `conn`, so dropped before it even if this future is dropped unfinished:
    // the hub must never write to the descriptor once it is closed (and perhaps reused).
    let _end = EndOnDrop(&out);
    let close = converse(&mut conn, &mut handler, &out, config, expires_at, &draining).await;
    handler.leave();
    if let Some((code, reason)) = close {
        out.push(Bytes::from(ws::close_frame(code, reason)));
        let flush = poll_fn(|cx| out.poll_write(cx, &mut conn.stream));
        let _ = future::or(flush, async {
            Timer::new(CLOSE_WRITE_TIMEOUT).await;
            Ok(())
        })
        .await;
    }
}

/// Ends an outbox when dropped.
struct EndOnDrop<'a>(&'a Outbox);

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The session's loop: returns the close frame to end with, if any.
async fn converse(
    conn: &mut Conn,
    handler: &mut impl Handler,
    out: &Outbox,
    config: WsConfig,
    expires_at: Option<Instant>,
    draining: &impl Fn() -> bool,
) -> Option<(u16, &'static str)> {
    let mut replies = Vec::new();
    let mut last_heard = Instant::now();
    let mut ping = Timer::new(config.ping_interval);
    let mut expiry = expires_at.map(|at| Timer::new(at.saturating_duration_since(Instant::now())));
    loop {
        let step = poll_fn(|cx| {
            let max_backlog = config.send_queue_bytes;
            poll_step(cx, conn, out, &mut ping, expiry.as_mut(), max_backlog)
        })
        .await;
        match step {
            Step::Read | Step::Decode => {
                if step == Step::Read {
                    last_heard = Instant::now();
                }
                if let Some(close) = decode_all(conn, handler, out, config, &mut replies).await {
                    return close;
                }
            }
            Step::Gone => return None,
            Step::Resync => {
                // Fell behind: drop the changes queued, send the latest state instead (after
                // any answer still owed to the client).
                let reason = if out.lagged() {
                    "server fell behind: changes were dropped before they reached this session"
                } else {
                    "slow consumer: send queue overflowed"
                };
                out.discard();
                replies.push(resync_frame(reason));
                handler.resync(&mut replies);
                out.push_resync(replies.drain(..).map(|r| text(&r)));
            }
            Step::Closed if draining() => return Some((close_code::AWAY, "server shutting down")),
            Step::Closed if out.lagged() => {
                return Some((
                    close_code::TRY_AGAIN,
                    "server fell behind: reconnect to recover",
                ))
            }
            Step::Closed => {
                return Some((close_code::POLICY, "slow consumer: send queue overflowed"))
            }
            Step::Expired => return Some((TOKEN_EXPIRED, "token expired")),
            Step::Tick => {
                if last_heard.elapsed() >= config.idle_timeout {
                    return Some((close_code::AWAY, "idle timeout"));
                }
                out.push(Bytes::from(ws::frame(opcode::PING, &[])));
                ping = Timer::new(config.ping_interval);
            }
        }
    }
}

/// One poll of everything a session waits on: its outbox (written as far as the socket takes
/// it), the client's bytes, and its timers.
fn poll_step(
    cx: &mut Context<'_>,
    conn: &mut Conn,
    out: &Outbox,
    ping: &mut Timer,
    expiry: Option<&mut Timer>,
    max_backlog: usize,
) -> Poll<Step> {
    out.register(cx.waker());
    if let Poll::Ready(Err(_)) = out.poll_write(cx, &mut conn.stream) {
        return Poll::Ready(Step::Gone);
    }
    if out.failed() {
        return Poll::Ready(Step::Gone);
    }
    if out.overflowed() {
        return Poll::Ready(Step::Resync);
    }
    if out.closed() {
        return Poll::Ready(Step::Closed);
    }
    // A client that does not read what it is sent is not read either: its requests would
    // only queue more replies. The socket draining wakes this task again; messages already
    // read are answered first.
    if out.backlog_bytes() < max_backlog {
        if conn.undecoded {
            return Poll::Ready(Step::Decode);
        }
        let mut chunk = [0u8; READ_CHUNK];
        match Pin::new(&mut conn.stream).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(Step::Gone),
            Poll::Ready(Ok(n)) => {
                conn.pending.extend_from_slice(&chunk[..n]);
                return Poll::Ready(Step::Read);
            }
            Poll::Pending => {}
        }
    }
    if Pin::new(ping).poll(cx).is_ready() {
        return Poll::Ready(Step::Tick);
    }
    if expiry.is_some_and(|t| Pin::new(t).poll(cx).is_ready()) {
        return Poll::Ready(Step::Expired);
    }
    Poll::Pending
}

/// Decodes and answers every whole message read so far. Returns `Some(close)` when the session
/// should end (`None` inside: without a close frame of ours).
async fn decode_all(
    conn: &mut Conn,
    handler: &mut impl Handler,
    out: &Outbox,
    config: WsConfig,
    replies: &mut Vec<Utf8Bytes>,
) -> Option<Option<(u16, &'static str)>> {
    let mut at = 0;
    conn.undecoded = false;
    let result = loop {
        // Replies fill the send queue: the rest waits until the client reads them, so one read
        // of many requests cannot queue replies without bound (or hold the shard's core).
        if out.backlog_bytes() >= config.send_queue_bytes {
            conn.undecoded = at < conn.pending.len();
            break None;
        }
        let message = match conn.decoder.decode(&mut conn.pending[at..]) {
            Ok(Decoded::Need(_)) => break None,
            Ok(Decoded::Skip(used)) => {
                at += used;
                continue;
            }
            Ok(Decoded::Message(used, message)) => {
                at += used;
                message
            }
            Err(e) => {
                debug!(error = %e, "WebSocket client error");
                break Some(Some((e.close_code(), e.reason())));
            }
        };
        match message {
            Message::Text(msg) => match check_depth(msg.as_bytes(), config.max_json_depth) {
                Ok(()) => {
                    // Changes queue while the handler works, so its replies go first.
                    out.hold();
                    handler.on_text(&msg, replies).await;
                    out.release(replies.drain(..).map(|r| text(&r)));
                }
                Err(too_deep) => out.push(text(&error_frame(&too_deep.to_string()))),
            },
            Message::Binary => out.push(text(&error_frame("binary messages are not supported"))),
            Message::Ping(payload) => out.push(Bytes::from(ws::frame(opcode::PONG, &payload))),
            Message::Pong => {}
            // Answered with the client's code (RFC 6455 §5.5.1), or a normal closure.
            Message::Close(code) => break Some(Some((code.unwrap_or(close_code::NORMAL), ""))),
        }
    };
    conn.pending.drain(..at);
    if conn.pending.is_empty() {
        conn.pending = Vec::new(); // an idle session keeps no buffer
    }
    result
}

/// `{"type":"resync",…}`: what precedes the latest state after changes were missed.
fn resync_frame(reason: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(
        r#"{{"type":"resync","reason":"{reason}; latest state follows","timestamp":"{}"}}"#,
        clock::now().to_iso()
    ))
}

/// `{"type":"pong","timestamp":…}`.
pub(crate) fn pong() -> Utf8Bytes {
    Utf8Bytes::from(format!(
        r#"{{"type":"pong","timestamp":"{}"}}"#,
        clock::now().to_iso()
    ))
}

/// `{"type":"error","error":…}`.
pub(crate) fn error_frame(message: &str) -> Utf8Bytes {
    let v = serde_json::json!({ "type": "error", "error": message });
    Utf8Bytes::from(v.to_string())
}

/// A reply as a frame.
fn text(payload: &Utf8Bytes) -> Bytes {
    text_frame(payload.as_bytes())
}
