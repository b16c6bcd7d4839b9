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
//! Anything else gets `{"type":"error","error":…}` and the session goes on, as does a
//! subscription over `websocket.max_subscriptions` (this connection) or
//! `websocket.max_subscriptions_per_ip` (all its client's connections, see [`super::caps`]). Per match the
//! session remembers the last (epoch, seq) it sent, so a change that its snapshot or recovery
//! already covered is never sent twice, and none after it is skipped. A resync starts each
//! match over from its snapshot.

use std::{
    collections::{HashMap, HashSet},
    rc::Rc,
    sync::Arc,
};

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::{identity::owner_of_match_id, MatchId};
use inplay_wire::client_msg::{MuxMsg, Since, SportTopic};
use serde_json::json;

use super::{
    caps::Permit,
    hub::Topic,
    outbox::Outbox,
    session::{error_frame, pong, Handler},
    snapshot::snapshot,
};
use crate::shard::{history::Recovery, Answer, Query, Shard};

/// A `/ws` session's subscriptions.
pub(crate) struct Mux {
    shard: Rc<Shard>,
    /// Its filter holds, per match, the last (epoch, seq) sent (snapshot, recovery or change).
    out: Rc<Outbox>,
    /// Topic → the hub's member id for it.
    subs: HashMap<Topic, u64>,
    /// This connection's claim on its client's caps; each subscription takes one more.
    permit: Permit,
}

impl Mux {
    /// A session with no subscriptions yet.
    pub fn new(shard: Rc<Shard>, out: Rc<Outbox>, permit: Permit) -> Self {
        Self {
            shard,
            out,
            subs: HashMap::new(),
            permit,
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
        if let Err(over) = self.permit.subscribe() {
            replies.push(error_frame(&over.to_string()));
            return false;
        }
        let id = self.shard.hub.join(&topic, self.out.clone());
        self.subs.insert(topic, id);
        true
    }

    /// Leaves `topic`; returns whether the session had subscribed to it.
    fn leave_topic(&mut self, topic: &Topic) -> bool {
        let Some(id) = self.subs.remove(topic) else {
            return false;
        };
        self.shard.hub.leave(topic, id);
        self.permit.unsubscribe();
        true
    }

    fn subscribe_sport(&mut self, topic: SportTopic, replies: &mut Vec<Utf8Bytes>) {
        let (sport, league): (Box<str>, Option<Box<str>>) =
            (topic.sport.into(), topic.league.map(Into::into));
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
            self.snapshot(id, None, false, replies);
        }
        replies.push(Utf8Bytes::from(
            json!({"type": "subscribed", "sport": &*sport, "league": league.as_deref(),
                   "matches": ids.len()})
            .to_string(),
        ));
    }

    async fn subscribe_matches(
        &mut self,
        subs: Vec<(String, Since)>,
        replies: &mut Vec<Utf8Bytes>,
    ) {
        for (id, since) in subs {
            let id = MatchId::new(&id);
            if !self.join(Topic::Match(id.clone()), replies) {
                continue;
            }
            match since {
                Since::At { epoch, seq } => self.recover(&id, epoch, seq, replies).await,
                Since::Invalid => {
                    replies.push(error_frame(&format!(
                        "since.{id} must be {{\"epoch\": string, \"seq\": number}}"
                    )));
                    self.snapshot(&id, Some(false), false, replies);
                }
                Since::Fresh => self.snapshot(&id, None, false, replies),
            }
        }
    }

    /// Replays what the client missed from the owner's history, or falls back to a snapshot.
    async fn recover(
        &mut self,
        id: &MatchId,
        epoch: String,
        after: u64,
        replies: &mut Vec<Utf8Bytes>,
    ) {
        let shard = &self.shard;
        let owner = owner_of_match_id(id, shard.nr_shards);
        let answer = match owner {
            Some(owner) => {
                let q = Query::Recover {
                    match_id: id.clone(),
                    epoch: epoch.clone(),
                    after,
                };
                shard.ask(owner, q).await
            }
            None => None,
        };
        let Some(Answer::Recovered(Recovery::Frames(frames))) = answer else {
            self.snapshot(id, Some(false), false, replies);
            return;
        };
        let last = after + frames.len() as u64;
        replies.push(Utf8Bytes::from(
            json!({"type": "recovered", "matchId": id.as_str(), "epoch": epoch,
                   "seq": last, "recovered": true, "missed": frames.len()})
            .to_string(),
        ));
        replies.extend(frames);
        self.out
            .filter
            .borrow_mut()
            .advance(id, &Arc::from(epoch), last);
    }

    /// Sends the match's current state from this shard's view; `resync`: the client starts
    /// over from it, so the filter goes back to it ([`super::queue::SeqFilter::reset`]).
    fn snapshot(
        &mut self,
        id: &MatchId,
        recovered: Option<bool>,
        resync: bool,
        replies: &mut Vec<Utf8Bytes>,
    ) {
        let (frame, at) = snapshot(&self.shard.view.borrow(), id, recovered);
        replies.push(frame);
        // Tracked even when unknown yet (seq 0): a change reaching this session by two
        // subscriptions (the match and its sport) then goes out once.
        let (epoch, seq) = at.unwrap_or_else(|| (Arc::from(""), 0));
        let mut filter = self.out.filter.borrow_mut();
        if resync {
            filter.reset(id, &epoch, seq);
        } else {
            filter.advance(id, &epoch, seq);
        }
    }

    fn unsubscribe_sport(&mut self, topic: SportTopic, replies: &mut Vec<Utf8Bytes>) {
        let (sport, league): (Box<str>, Option<Box<str>>) =
            (topic.sport.into(), topic.league.map(Into::into));
        let left = self.leave_topic(&Topic::Sport {
            sport: sport.clone(),
            league: league.clone(),
        });
        if left {
            self.forget_sport(&sport, league.as_deref());
        }
        replies.push(Utf8Bytes::from_static(r#"{"type":"unsubscribed"}"#));
    }

    /// Forgets the seq of each of a sport's matches (its snapshots were tracked) that no
    /// remaining subscription covers: a long session would otherwise keep every match it ever
    /// saw. One covered by another sport subscription is kept, so its changes still go out once.
    fn forget_sport(&self, sport: &str, league: Option<&str>) {
        let view = self.shard.view.borrow();
        let sports: Vec<(&str, Option<&str>)> = self
            .subs
            .keys()
            .filter_map(|t| match t {
                Topic::Sport { sport, league } => Some((&**sport, league.as_deref())),
                Topic::Match(_) => None,
            })
            .collect();
        let limit = self.shard.config.markets_max_limit;
        let mut filter = self.out.filter.borrow_mut();
        for id in view.open_matches(sport, league, limit) {
            let by_id = self.subs.contains_key(&Topic::Match(id.clone()));
            let by_sport = view.get(id.as_str()).is_some_and(|m| {
                sports
                    .iter()
                    .any(|&(s, l)| *m.sport == *s && l.is_none_or(|l| *m.league == *l))
            });
            if !by_id && !by_sport {
                filter.forget(&id);
            }
        }
    }

    /// Every match a subscription covers now, once each (a match that several subscriptions
    /// cover, by id and through its sport, or a sport and one of its leagues, is listed once).
    fn followed(&self) -> Vec<MatchId> {
        let view = self.shard.view.borrow();
        let limit = self.shard.config.markets_max_limit;
        let mut seen = HashSet::new();
        self.subs
            .keys()
            .flat_map(|t| match t {
                Topic::Match(id) => vec![id.clone()],
                Topic::Sport { sport, league } => {
                    view.open_matches(sport, league.as_deref(), limit)
                }
            })
            .filter(|id| seen.insert(id.clone()))
            .collect()
    }

    fn unsubscribe_matches(&mut self, ids: Vec<String>, replies: &mut Vec<Utf8Bytes>) {
        for id in ids {
            let id = MatchId::new(&id);
            if self.leave_topic(&Topic::Match(id.clone())) {
                self.out.filter.borrow_mut().forget(&id);
            }
        }
        replies.push(Utf8Bytes::from_static(r#"{"type":"unsubscribed"}"#));
    }
}

impl Handler for Mux {
    async fn on_text(&mut self, text: &str, replies: &mut Vec<Utf8Bytes>) {
        match MuxMsg::parse(text) {
            Ok(MuxMsg::Ping) => replies.push(pong()),
            Ok(MuxMsg::SubscribeMatches(subs)) => self.subscribe_matches(subs, replies).await,
            Ok(MuxMsg::SubscribeSport(topic)) => self.subscribe_sport(topic, replies),
            Ok(MuxMsg::UnsubscribeMatches(ids)) => self.unsubscribe_matches(ids, replies),
            Ok(MuxMsg::UnsubscribeSport(topic)) => self.unsubscribe_sport(topic, replies),
            Err(message) => replies.push(error_frame(&message)),
        }
    }

    fn resync(&mut self, replies: &mut Vec<Utf8Bytes>) {
        for id in self.followed() {
            self.snapshot(&id, None, true, replies);
        }
    }

    fn leave(&mut self) {
        for (topic, id) in self.subs.drain() {
            self.shard.hub.leave(&topic, id);
            self.permit.unsubscribe();
        }
    }
}

impl Drop for Mux {
    fn drop(&mut self) {
        self.leave();
    }
}
