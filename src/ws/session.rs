//! One WebSocket client: frames from its queue out, client messages in.
//!
//! Client messages: `{"type":"ping"}` gets `{"type":"pong","timestamp":…}` as in the original
//! service; anything else gets `{"type":"error","error":…}`; messages over the size limit close
//! the connection with 1009. The server pings an idle client every `ping_interval` and closes a
//! client that has sent nothing (not even a pong) for `idle_timeout`. When the queue is closed
//! the session ends with 1008 (slow consumer) or, while the shard drains, 1001 (going away).
//! A session opened with a token (`websocket.require_auth`) ends with 4001 "token expired"
//! when the token does.

use std::{rc::Rc, time::Duration};

use async_tungstenite::{
    tungstenite::{
        protocol::{frame::coding::CloseCode, CloseFrame, Role, WebSocketConfig},
        Message, Utf8Bytes,
    },
    WebSocketStream,
};
use futures_lite::future;
use futures_util::StreamExt;
use glommio::{net::TcpStream, timer::sleep};
use tracing::debug;

use super::hub::{Hub, Topic};
use crate::clock;

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
}

enum Next {
    Client(Option<Result<Message, async_tungstenite::tungstenite::Error>>),
    Frame(Option<Utf8Bytes>),
    Tick,
    /// The token the session was opened with has expired.
    Expired,
}

/// Close code of a session whose token expired (private-use range of RFC 6455 §7.4.2).
pub(crate) const TOKEN_EXPIRED: u16 = 4001;

/// Runs a session on an upgraded connection until either side ends it, or until
/// `expires_at` (the end of the token it was opened with), when it closes with
/// [`TOKEN_EXPIRED`].
pub(crate) async fn run(
    stream: TcpStream,
    topic: Topic,
    hub: Rc<Hub>,
    config: WsConfig,
    expires_at: Option<std::time::Instant>,
    draining: impl Fn() -> bool,
) {
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes));
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config)).await;
    let (mut tx, mut rx) = ws.split();
    let (queue_tx, queue_rx) = async_channel::bounded(config.send_queue);
    let id = hub.join(&topic, queue_tx);
    let mut last_heard = std::time::Instant::now();
    let close = loop {
        let next = future::or(
            future::or(async { Next::Client(rx.next().await) }, async {
                Next::Frame(queue_rx.recv().await.ok())
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
            Next::Frame(Some(frame)) => {
                if tx.send(Message::Text(frame)).await.is_err() {
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
                let reply = match msg {
                    Message::Text(text) => reply_to(&text),
                    Message::Binary(_) => Some(error_frame("binary messages are not supported")),
                    Message::Close(_) => break None,
                    _ => None, // pings are answered by the protocol layer; pongs just count
                };
                if let Some(reply) = reply {
                    if tx.send(Message::Text(reply)).await.is_err() {
                        break None;
                    }
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
    hub.leave(&topic, id);
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tx.close(Some(frame)).await;
    }
}

/// Answers one client text message.
fn reply_to(text: &str) -> Option<Utf8Bytes> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Some(error_frame("invalid JSON"));
    };
    match value.get("type").and_then(|t| t.as_str()) {
        Some("ping") => Some(Utf8Bytes::from(format!(
            r#"{{"type":"pong","timestamp":"{}"}}"#,
            clock::now().to_iso()
        ))),
        Some(other) => Some(error_frame(&format!("unknown message type {other:?}"))),
        None => Some(error_frame("messages need a \"type\"")),
    }
}

fn error_frame(message: &str) -> Utf8Bytes {
    let v = serde_json::json!({ "type": "error", "error": message });
    Utf8Bytes::from(v.to_string())
}
