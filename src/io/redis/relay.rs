//! Messages from Redis to this node's WebSocket sessions.
//!
//! One subscription connection listens to `match:*` and `markets:*`:
//! - a message this node published itself (it ends with this node's `"origin"`) is skipped,
//!   because local sessions already had it;
//! - another node's message is a change of a match that node polls: relayed as the frame it
//!   describes (with that node's `seq`);
//! - a message without `origin` comes from an external publisher, exactly as in the original
//!   service: `PUBLISH match:<id> '{"homeScore":2,…}'` reaches `WS /live/<id>` as a
//!   `score_update` whose `data` is the message.
//!
//! The subscription is re-established with backoff after Redis goes away.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use async_tungstenite::tungstenite::Utf8Bytes;
use futures_util::StreamExt;
use inplay_core::MatchId;
use serde_json::{Map, Value};
use tracing::{debug, info, warn};

use super::Link;
use crate::{clock, shard::ShardMsg, ws::Event};

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Keeps the subscription alive and relays messages, forever (the I/O thread aborts it).
pub(crate) async fn run(
    link: Arc<Link>,
    node_id: Arc<str>,
    inboxes: Vec<async_channel::Sender<ShardMsg>>,
    ws_sessions: Arc<[AtomicUsize]>,
) {
    let own_suffix = origin_suffix(&node_id);
    let mut backoff = Duration::from_millis(50);
    let mut warned = false;
    loop {
        let subscribed = async {
            let mut pubsub = link.client.get_async_pubsub().await?;
            pubsub.psubscribe("match:*").await?;
            pubsub.psubscribe("markets:*").await?;
            Ok::<_, ::redis::RedisError>(pubsub)
        };
        let pubsub = match tokio::time::timeout(Duration::from_secs(2), subscribed).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                fail(&mut warned, &e.to_string());
                tokio::time::sleep(jitter(backoff)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(_) => {
                fail(&mut warned, "subscription timed out");
                continue;
            }
        };
        link.stats.redis_subscribed.store(true, Ordering::Relaxed);
        info!("Redis subscription up: match:*, markets:*");
        backoff = Duration::from_millis(50);
        warned = false;
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let payload = msg.get_payload_bytes();
            if payload.ends_with(own_suffix.as_bytes()) {
                continue;
            }
            let Some(event) = to_event(msg.get_channel_name(), payload, &node_id) else {
                link.stats
                    .redis_bad_messages
                    .fetch_add(1, Ordering::Relaxed);
                debug!(
                    channel = msg.get_channel_name(),
                    "Unusable Redis message skipped"
                );
                continue;
            };
            link.stats.redis_relayed.fetch_add(1, Ordering::Relaxed);
            for (shard, inbox) in inboxes.iter().enumerate() {
                if ws_sessions[shard].load(Ordering::Relaxed) > 0 {
                    let _ = inbox.send(ShardMsg::Events(vec![event.clone()])).await;
                }
            }
        }
        link.stats.redis_subscribed.store(false, Ordering::Relaxed);
        warn!("Redis subscription lost; re-subscribing");
    }
}

fn fail(warned: &mut bool, error: &str) {
    if !*warned {
        warn!(error, "Redis subscription unavailable; retrying");
        *warned = true;
    }
}

/// `backoff` ± 25 %, so several nodes do not reconnect in lockstep.
fn jitter(backoff: Duration) -> Duration {
    let nanos = clock::now().millis().unsigned_abs() % 1000;
    backoff.mul_f64(0.75 + nanos as f64 / 2000.0)
}

/// The bytes every message this node publishes ends with.
pub(crate) fn origin_suffix(node_id: &str) -> String {
    format!(",\"origin\":{}}}", Value::from(node_id))
}

/// Appends this node's `origin` to a JSON object's text.
pub(crate) fn with_origin(object: &[u8], suffix: &str) -> Vec<u8> {
    let body = object.strip_suffix(b"}").unwrap_or(object);
    let mut out = Vec::with_capacity(body.len() + suffix.len());
    out.extend_from_slice(body);
    out.extend_from_slice(suffix.as_bytes());
    out
}

/// Turns a message into the WebSocket event it means; `None` if it is not usable.
fn to_event(channel: &str, payload: &[u8], node_id: &str) -> Option<Event> {
    let mut object: Map<String, Value> = match serde_json::from_slice(payload) {
        Ok(Value::Object(o)) => o,
        _ => return None,
    };
    let origin = object.remove("origin");
    if origin.as_ref().and_then(Value::as_str) == Some(node_id) {
        return None;
    }
    let now = clock::now().to_iso();
    if let Some(id) = channel.strip_prefix("match:") {
        if id.is_empty() {
            return None;
        }
        // Another node's score change carries its seq and timestamp next to the data.
        let seq = object.remove("seq").filter(|_| origin.is_some());
        let timestamp = object
            .remove("timestamp")
            .filter(|_| origin.is_some())
            .unwrap_or_else(|| Value::from(now));
        object.remove("matchId");
        let mut frame = Map::new();
        frame.insert("type".into(), "score_update".into());
        frame.insert("matchId".into(), id.into());
        if let Some(seq) = seq {
            frame.insert("seq".into(), seq);
        }
        frame.insert("data".into(), Value::Object(object));
        frame.insert("timestamp".into(), timestamp);
        return Some(Event {
            match_id: MatchId::new(id),
            seq: 0,
            epoch: std::sync::Arc::from(""),
            sport: "".into(),
            league: "".into(),
            market: false,
            frame: Utf8Bytes::from(Value::Object(frame).to_string()),
            born: std::time::Instant::now(),
        });
    }
    let rest = channel.strip_prefix("markets:")?;
    let (sport, league) = rest.split_once(':').unwrap_or((rest, ""));
    if sport.is_empty() {
        return None;
    }
    let match_id = MatchId::new(
        object
            .get("matchId")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let frame = if origin.is_some() {
        // Another node's frame, as its own sessions got it (origin removed).
        Value::Object(object)
    } else {
        let mut frame = Map::new();
        frame.insert("type".into(), "market_update".into());
        frame.insert("sport".into(), sport.into());
        frame.insert("league".into(), league.into());
        frame.insert("data".into(), Value::Object(object));
        frame.insert("timestamp".into(), now.into());
        Value::Object(frame)
    };
    Some(Event {
        match_id,
        seq: 0,
        epoch: std::sync::Arc::from(""),
        sport: sport.into(),
        league: league.into(),
        market: true,
        frame: Utf8Bytes::from(frame.to_string()),
        born: std::time::Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(e: &Event) -> Value {
        serde_json::from_str(e.frame.as_str()).expect("frame is JSON")
    }

    #[test]
    fn external_score_publish_becomes_a_score_update() {
        let e = to_event(
            "match:match-123",
            br#"{"homeScore":2,"awayScore":1,"period":"2nd Half"}"#,
            "me",
        )
        .expect("usable");
        assert_eq!(e.match_id.as_str(), "match-123");
        let f = frame(&e);
        assert_eq!(f["type"], "score_update");
        assert_eq!(f["matchId"], "match-123");
        assert_eq!(f["data"]["homeScore"], 2);
        assert_eq!(f["data"]["period"], "2nd Half");
        assert!(f.get("seq").is_none(), "external messages have no seq");
        assert!(f["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    #[test]
    fn another_nodes_score_keeps_its_seq_and_drops_origin() {
        let payload = with_origin(
            br#"{"homeScore":1,"awayScore":0,"period":"1st Half","matchId":"m1","seq":7,"timestamp":"2026-01-01T00:00:00.000Z"}"#,
            &origin_suffix("node-a"),
        );
        let e = to_event("match:m1", &payload, "node-b").expect("usable");
        let f = frame(&e);
        assert_eq!(f["seq"], 7);
        assert_eq!(f["timestamp"], "2026-01-01T00:00:00.000Z");
        assert!(f["data"].get("origin").is_none() && f["data"].get("seq").is_none());
        assert_eq!(f["data"]["homeScore"], 1);
    }

    #[test]
    fn own_messages_and_garbage_are_not_relayed() {
        let own = with_origin(br#"{"homeScore":1}"#, &origin_suffix("me"));
        assert!(own.ends_with(origin_suffix("me").as_bytes()));
        assert!(to_event("match:m1", &own, "me").is_none());
        assert!(to_event("match:m1", b"not json", "me").is_none());
        assert!(to_event("match:m1", b"[1,2]", "me").is_none());
        assert!(to_event("match:", b"{}", "me").is_none());
        assert!(to_event("markets:", b"{}", "me").is_none());
    }

    #[test]
    fn market_messages_reach_sport_subscribers() {
        let remote = with_origin(
            br#"{"type":"odds_update","matchId":"m1","seq":3,"data":{},"timestamp":"t"}"#,
            &origin_suffix("node-a"),
        );
        let e = to_event("markets:football:nfl", &remote, "node-b").expect("usable");
        assert!(e.market && &*e.sport == "football" && &*e.league == "nfl");
        assert_eq!(e.match_id.as_str(), "m1");
        let f = frame(&e);
        assert_eq!(f["type"], "odds_update");
        assert!(f.get("origin").is_none());

        let external = to_event("markets:football:nfl", br#"{"odds":1.9}"#, "me").expect("usable");
        let f = frame(&external);
        assert_eq!(f["type"], "market_update");
        assert_eq!(f["data"]["odds"], 1.9);
    }
}
