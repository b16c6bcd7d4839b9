//! `WS /ws`: one connection, many subscriptions, with snapshots and gap-free recovery.
//!
//! Client messages (JSON text):
//! - `{"op":"subscribe","matches":["<id>",…]}`: each match first gets
//!   `{"type":"snapshot","matchId","seq","epoch","data":{"score","markets"},"timestamp"}`, then
//!   every change after it (each carrying `matchId`, `seq`, `epoch`).
//! - `{"op":"subscribe","matches":[…],"since":{"<id>":{"epoch":"…","seq":N}}}`: a reconnecting
//!   client. If the owner's history still holds every change after `N` in that epoch, the client
//!   gets `{"type":"recovered","matchId","epoch","seq","recovered":true,"missed":K}` and exactly
//!   those K changes, in order; otherwise a fresh snapshot with `"recovered":false`. Never a
//!   partial, silent gap.
//! - `{"op":"subscribe","sport":"…","league":"…"}` (league optional): market changes of a sport,
//!   after a snapshot of each of its open matches.
//! - `{"op":"unsubscribe", …}` with the same shapes; `{"op":"ping"}` or `{"type":"ping"}`.
//!
//! Anything else gets `{"type":"error","error":…}` and the session goes on. Per match the
//! session remembers the last seq it sent, so a change that its snapshot or recovery already
//! covered is never sent twice, and none after it is skipped.

use std::{collections::HashMap, rc::Rc};

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::{identity::owner_of_match_id, MatchId};
use serde_json::{json, Map, Value};

use super::{
    hub::{Out, Topic},
    queue::{Queue, SeqFilter},
    session::{error_frame, pong, Handler},
    snapshot::snapshot,
};
use crate::{
    api::valid_name,
    shard::{history::Recovery, Answer, Query, Shard},
};

/// A `/ws` session's subscriptions.
pub(crate) struct Mux {
    shard: Rc<Shard>,
    queue: Queue,
    /// Topic → the hub's member id for it.
    subs: HashMap<Topic, u64>,
    /// Per match, the last seq sent (snapshot, recovery or change).
    sent: SeqFilter,
}

/// A client's position in one match's stream.
struct Since {
    epoch: String,
    seq: u64,
}

impl Mux {
    /// A session with no subscriptions yet.
    pub fn new(shard: Rc<Shard>, queue: Queue) -> Self {
        Self {
            shard,
            queue,
            subs: HashMap::new(),
            sent: SeqFilter::default(),
        }
    }

    fn join(&mut self, topic: Topic, replies: &mut Vec<Utf8Bytes>) -> bool {
        if self.subs.contains_key(&topic) {
            return false;
        }
        let max = self.shard.config.ws.max_subscriptions;
        if self.subs.len() >= max {
            replies.push(error_frame(&format!("subscription limit reached ({max})")));
            return false;
        }
        let id = self.shard.hub.join(&topic, self.queue.clone());
        self.subs.insert(topic, id);
        true
    }

    fn leave_topic(&mut self, topic: &Topic) {
        if let Some(id) = self.subs.remove(topic) {
            self.shard.hub.leave(topic, id);
        }
    }

    async fn subscribe(&mut self, msg: &Map<String, Value>, replies: &mut Vec<Utf8Bytes>) {
        if let Some(sport) = msg.get("sport") {
            let Some((sport, league)) = sport_topic(sport, msg.get("league")) else {
                replies.push(error_frame("\"sport\" and \"league\" must be names"));
                return;
            };
            let topic = Topic::Sport {
                sport: sport.clone(),
                league: league.clone(),
            };
            if !self.join(topic, replies) {
                return;
            }
            let limit = self.shard.config.markets_max_limit;
            let ids = self
                .shard
                .view
                .borrow()
                .open_matches(&sport, league.as_deref(), limit);
            for id in &ids {
                self.snapshot(id, None, replies);
            }
            replies.push(Utf8Bytes::from(
                json!({"type": "subscribed", "sport": &*sport, "league": league.as_deref(),
                       "matches": ids.len()})
                .to_string(),
            ));
            return;
        }
        let Some(ids) = match_ids(msg, replies) else {
            return;
        };
        let since = msg.get("since").and_then(Value::as_object);
        for id in ids {
            if !self.join(Topic::Match(id.clone()), replies) {
                continue;
            }
            let position = since.and_then(|s| s.get(id.as_str())).and_then(parse_since);
            match position {
                Some(pos) => self.recover(&id, pos, replies).await,
                None if since.is_some_and(|s| s.contains_key(id.as_str())) => {
                    replies.push(error_frame(&format!(
                        "since.{id} must be {{\"epoch\": string, \"seq\": number}}"
                    )));
                    self.snapshot(&id, Some(false), replies);
                }
                None => self.snapshot(&id, None, replies),
            }
        }
    }

    /// Replays what the client missed from the owner's history, or falls back to a snapshot.
    async fn recover(&mut self, id: &MatchId, since: Since, replies: &mut Vec<Utf8Bytes>) {
        let shard = &self.shard;
        let owner = owner_of_match_id(id, shard.nr_shards);
        let answer = match owner {
            Some(owner) => {
                let q = Query::Recover {
                    match_id: id.clone(),
                    epoch: since.epoch.clone(),
                    after: since.seq,
                };
                shard.ask(owner, q).await
            }
            None => None,
        };
        let Some(Answer::Recovered(Recovery::Frames(frames))) = answer else {
            self.snapshot(id, Some(false), replies);
            return;
        };
        let last = since.seq + frames.len() as u64;
        replies.push(Utf8Bytes::from(
            json!({"type": "recovered", "matchId": id.as_str(), "epoch": since.epoch,
                   "seq": last, "recovered": true, "missed": frames.len()})
            .to_string(),
        ));
        replies.extend(frames);
        self.sent.advance(id, last);
    }

    /// Sends the match's current state from this shard's view.
    fn snapshot(&mut self, id: &MatchId, recovered: Option<bool>, replies: &mut Vec<Utf8Bytes>) {
        let (frame, seq) = snapshot(&self.shard.view.borrow(), id, recovered);
        replies.push(frame);
        if let Some(seq) = seq {
            self.sent.advance(id, seq);
        }
    }

    fn unsubscribe(&mut self, msg: &Map<String, Value>, replies: &mut Vec<Utf8Bytes>) {
        if let Some(sport) = msg.get("sport") {
            let Some((sport, league)) = sport_topic(sport, msg.get("league")) else {
                replies.push(error_frame("\"sport\" and \"league\" must be names"));
                return;
            };
            self.leave_topic(&Topic::Sport { sport, league });
        } else if let Some(ids) = match_ids(msg, replies) {
            for id in ids {
                self.leave_topic(&Topic::Match(id.clone()));
                self.sent.forget(&id);
            }
        } else {
            return;
        }
        replies.push(Utf8Bytes::from_static(r#"{"type":"unsubscribed"}"#));
    }
}

impl Handler for Mux {
    async fn on_text(&mut self, text: &str, replies: &mut Vec<Utf8Bytes>) {
        let msg = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return replies.push(error_frame("messages are JSON objects")),
            Err(_) => return replies.push(error_frame("invalid JSON")),
        };
        let op = msg
            .get("op")
            .or_else(|| msg.get("type"))
            .and_then(Value::as_str);
        match op {
            Some("subscribe") => self.subscribe(&msg, replies).await,
            Some("unsubscribe") => self.unsubscribe(&msg, replies),
            Some("ping") => replies.push(pong()),
            Some(other) => replies.push(error_frame(&format!(
                "unknown op {other:?}: use subscribe, unsubscribe or ping"
            ))),
            None => replies.push(error_frame("messages need an \"op\"")),
        }
    }

    fn admit(&mut self, out: &Out) -> bool {
        self.sent.admit(out)
    }

    fn resync(&mut self, replies: &mut Vec<Utf8Bytes>) {
        let ids: Vec<MatchId> = {
            let view = self.shard.view.borrow();
            let limit = self.shard.config.markets_max_limit;
            self.subs
                .keys()
                .flat_map(|t| match t {
                    Topic::Match(id) => vec![id.clone()],
                    Topic::Sport { sport, league } => {
                        view.open_matches(sport, league.as_deref(), limit)
                    }
                })
                .collect()
        };
        for id in ids {
            self.snapshot(&id, None, replies);
        }
    }

    fn leave(&mut self) {
        for (topic, id) in self.subs.drain() {
            self.shard.hub.leave(&topic, id);
        }
    }
}

/// The `matches` array of a message, validated.
fn match_ids(msg: &Map<String, Value>, replies: &mut Vec<Utf8Bytes>) -> Option<Vec<MatchId>> {
    let Some(list) = msg.get("matches").and_then(Value::as_array) else {
        replies.push(error_frame(
            "needs \"matches\": [ids] or \"sport\": name (with an optional \"league\")",
        ));
        return None;
    };
    let mut ids = Vec::with_capacity(list.len());
    for v in list {
        match v.as_str() {
            Some(s) if valid_name(s) => ids.push(MatchId::new(s)),
            _ => {
                replies.push(error_frame(&format!("invalid match id {v}")));
                return None;
            }
        }
    }
    Some(ids)
}

fn sport_topic(sport: &Value, league: Option<&Value>) -> Option<(Box<str>, Option<Box<str>>)> {
    let sport = sport.as_str().filter(|s| valid_name(s))?;
    let league = match league {
        None | Some(Value::Null) => None,
        Some(l) => Some(l.as_str().filter(|s| valid_name(s))?.into()),
    };
    Some((sport.into(), league))
}

fn parse_since(v: &Value) -> Option<Since> {
    Some(Since {
        epoch: v.get("epoch")?.as_str()?.to_owned(),
        seq: v.get("seq")?.as_u64()?,
    })
}
