//! One WebSocket client: frames from its queue out, client messages in.
//!
//! What a client may say depends on the endpoint ([`Handler`]): on `/live` and `/markets`,
//! `{"type":"ping"}` gets `{"type":"pong","timestamp":…}` as in the original service and
//! anything else gets `{"type":"error","error":…}`; `/ws` adds subscriptions ([`super::mux`]).
//! Messages over the size limit close the connection with 1009; messages nested deeper than
//! `max_json_depth` get an error message before any parser sees them. The server pings an idle client
//! every `ping_interval` and closes a client that has sent nothing (not even a pong) for
//! `idle_timeout`. When the queue is closed
//! the session ends with 1008 (slow consumer) or, while the shard drains, 1001 (going away).
//! A session opened with a token (`websocket.require_auth`) ends with 4001 "token expired"
//! when the token does.

use std::time::Duration;

use async_tungstenite::{
    tungstenite::{
        protocol::{frame::coding::CloseCode, CloseFrame, Role, WebSocketConfig},
        Message, Utf8Bytes,
    },
    WebSocketStream,
};
use futures_lite::future;
use futures_util::StreamExt;
use glommio::timer::sleep;
use inplay_wire::json_depth::check_depth;
use tracing::debug;

use super::{
    hub::Out,
    queue::{Queue, QueueRx, SlowConsumer},
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

enum Next {
    Client(Option<Result<Message, async_tungstenite::tungstenite::Error>>),
    Frame(Option<super::hub::Out>),
    Tick,
    /// The token the session was opened with has expired.
    Expired,
}

/// What an endpoint does with a session's traffic.
pub(crate) trait Handler {
    /// Answers one client text message with frames to send, in order.
    async fn on_text(&mut self, text: &str, replies: &mut Vec<Utf8Bytes>);
    /// Whether a queued frame goes out (a `/ws` session skips what it already sent).
    fn admit(&mut self, out: &Out) -> bool;
    /// The session fell behind and its queue was dropped (`slow_consumer = "coalesce"`): the
    /// latest state of what it follows, after a `resync` message.
    fn resync(&mut self, replies: &mut Vec<Utf8Bytes>);
    /// The session ended: leave the hub.
    fn leave(&mut self);
}

/// A new session's queue, bounded by `[websocket] send_queue` (frames; the hub bounds bytes).
pub(crate) fn queue(config: &WsConfig) -> (Queue, QueueRx) {
    super::queue::queue(config.send_queue)
}

/// Per-session read buffer: enough for any usual client message in one read (larger ones
/// take several reads, up to `max_message_bytes`).
const READ_BUFFER: usize = 4096;

/// Close code of a session whose token expired (private-use range of RFC 6455 §7.4.2).
pub(crate) const TOKEN_EXPIRED: u16 = 4001;

/// Runs a session on an upgraded connection until either side ends it, or until
/// `expires_at` (the end of the token it was opened with), when it closes with
/// [`TOKEN_EXPIRED`].
pub(crate) async fn run(
    stream: Stream,
    mut handler: impl Handler,
    queue: QueueRx,
    config: WsConfig,
    expires_at: Option<std::time::Instant>,
    draining: impl Fn() -> bool,
) {
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes))
        // Clients send little (pings, subscriptions); tungstenite's default 128 KiB read buffer
        // is zero-filled before each read and stays resident per session.
        .read_buffer_size(READ_BUFFER);
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config)).await;
    let (mut tx, mut rx) = ws.split();
    let mut replies = Vec::new();
    let mut last_heard = std::time::Instant::now();
    let close = loop {
        let next = future::or(
            future::or(async { Next::Client(rx.next().await) }, async {
                Next::Frame(queue.rx.recv().await.ok())
            }),
            future::or(
                async {
                    sleep(config.ping_interval).await;
                    Next::Tick
                },
                async {
                    match expires_at {
                        Some(at) => {
                            sleep(at.saturating_duration_since(std::time::Instant::now())).await;
                            Next::Expired
                        }
                        None => future::pending().await,
                    }
                },
            ),
        )
        .await;
        match next {
            Next::Frame(Some(out)) => {
                queue.took(&out);
                if queue.state.overflowed.get() {
                    // Fell behind: drop the backlog, send the latest state instead.
                    queue.discard();
                    replies.push(resync_frame());
                    handler.resync(&mut replies);
                    if send_all(&mut tx, &mut replies).await.is_err() {
                        break None;
                    }
                    continue;
                }
                if !handler.admit(&out) {
                    continue;
                }
                if tx.send(Message::Text(out.frame)).await.is_err() {
                    break None;
                }
            }
            Next::Frame(None) if draining() => {
                break Some((CloseCode::Away, "server shutting down"))
            }
            Next::Frame(None) => {
                break Some((CloseCode::Policy, "slow consumer: send queue overflowed"))
            }
            Next::Client(Some(Ok(msg))) => {
                last_heard = std::time::Instant::now();
                match msg {
                    Message::Text(text) => {
                        match check_depth(text.as_bytes(), config.max_json_depth) {
                            Ok(()) => handler.on_text(&text, &mut replies).await,
                            Err(too_deep) => replies.push(error_frame(&too_deep.to_string())),
                        }
                    }
                    Message::Binary(_) => {
                        replies.push(error_frame("binary messages are not supported"))
                    }
                    Message::Close(_) => break None,
                    _ => {} // pings are answered by the protocol layer; pongs just count
                }
                if send_all(&mut tx, &mut replies).await.is_err() {
                    break None;
                }
            }
            Next::Client(Some(Err(e))) => {
                debug!(error = %e, "WebSocket client error");
                use async_tungstenite::tungstenite::Error;
                break match e {
                    Error::Capacity(_) => Some((CloseCode::Size, "message too large")),
                    Error::Protocol(_) => Some((CloseCode::Protocol, "protocol error")),
                    _ => None,
                };
            }
            Next::Client(None) => break None,
            Next::Expired => break Some((CloseCode::from(TOKEN_EXPIRED), "token expired")),
            Next::Tick => {
                if last_heard.elapsed() >= config.idle_timeout {
                    break Some((CloseCode::Away, "idle timeout"));
                }
                if tx.send(Message::Ping(Default::default())).await.is_err() {
                    break None;
                }
            }
        }
    };
    handler.leave();
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tx.close(Some(frame)).await;
    }
}

/// Sends (and clears) `replies` in order.
async fn send_all<S>(tx: &mut S, replies: &mut Vec<Utf8Bytes>) -> Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    use futures_util::SinkExt;
    let mut result = Ok(());
    for reply in replies.drain(..) {
        if result.is_ok() && tx.send(Message::Text(reply)).await.is_err() {
            result = Err(());
        }
    }
    result
}

/// `{"type":"resync",…}`: what precedes the latest state after an overflow.
fn resync_frame() -> Utf8Bytes {
    Utf8Bytes::from(format!(
        r#"{{"type":"resync","reason":"slow consumer: send queue overflowed; latest state follows","timestamp":"{}"}}"#,
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
