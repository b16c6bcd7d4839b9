//! This shard's WebSocket subscribers and what they subscribed to.
//!
//! Events arrive already serialised; the hub hands the same frame to every matching session's
//! queue, bounded in frames (`websocket.send_queue`) and bytes (`websocket.send_queue_bytes`).
//! A session whose queue would overflow is a slow consumer. Under `slow_consumer =
//! "disconnect"` the hub closes its queue and the session closes the connection with 1008;
//! under `"coalesce"` nothing more is queued for it until it has caught up, then it gets a
//! `resync` message and the latest state of each match instead of every change it missed.
//! Either way one slow client never slows the others or grows memory without bound.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::MatchId;

use super::{
    event::Event,
    queue::{Queue, SlowConsumer},
};

/// What a session listens to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    /// `/live/:matchId`: every change of one match.
    Match(MatchId),
    /// `/markets/:sport[?league=]`: market changes of a sport (one league or all).
    Sport {
        sport: Box<str>,
        league: Option<Box<str>>,
    },
}

/// One frame for a session: the shared bytes, and which change of which match it is (so a
/// `/ws` session can skip what its snapshot or recovery already covered).
#[derive(Debug, Clone)]
pub(crate) struct Out {
    pub match_id: MatchId,
    /// 0 when unknown (external publishes).
    pub seq: u64,
    pub frame: Utf8Bytes,
}

/// A session's queue, as the hub holds it.
#[derive(Debug)]
struct Member {
    id: u64,
    queue: Queue,
}

/// A `/markets/:sport` session and its optional league filter.
type SportMember = (Option<Box<str>>, Member);

/// Per-shard subscriber registry.
#[derive(Debug)]
pub(crate) struct Hub {
    shard_id: usize,
    next_id: Cell<u64>,
    by_match: RefCell<HashMap<MatchId, Vec<Member>>>,
    /// Sport → (league filter, session) of `/markets/:sport` sessions.
    by_sport: RefCell<HashMap<Box<str>, Vec<SportMember>>>,
    /// Sessions per shard, readable by every owner: events are only shipped to shards that
    /// have at least one session.
    sessions: Arc<[AtomicUsize]>,
    /// Sessions dropped as slow consumers since start.
    pub slow_dropped: Cell<u64>,
    /// Overflows coalesced into a resync since start.
    pub slow_coalesced: Cell<u64>,
    policy: SlowConsumer,
    /// Most bytes one session may have queued.
    max_bytes: usize,
}

impl Hub {
    /// The hub of `shard_id`; `sessions` is shared by all shards.
    pub fn new(
        shard_id: usize,
        sessions: Arc<[AtomicUsize]>,
        policy: SlowConsumer,
        max_bytes: usize,
    ) -> Self {
        Self {
            shard_id,
            next_id: Cell::new(0),
            by_match: RefCell::default(),
            by_sport: RefCell::default(),
            sessions,
            slow_dropped: Cell::new(0),
            slow_coalesced: Cell::new(0),
            policy,
            max_bytes,
        }
    }

    /// Registers a session's queue under `topic`; returns its id for [`Hub::leave`].
    pub fn join(&self, topic: &Topic, queue: Queue) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let member = Member { id, queue };
        match topic {
            Topic::Match(m) => self
                .by_match
                .borrow_mut()
                .entry(m.clone())
                .or_default()
                .push(member),
            Topic::Sport { sport, league } => self
                .by_sport
                .borrow_mut()
                .entry(sport.clone())
                .or_default()
                .push((league.clone(), member)),
        }
        self.sessions[self.shard_id].fetch_add(1, Ordering::Relaxed);
        id
    }

    /// Removes a session (idempotent).
    pub fn leave(&self, topic: &Topic, id: u64) {
        let removed = match topic {
            Topic::Match(m) => remove(&mut self.by_match.borrow_mut(), m, |x| x.id == id),
            Topic::Sport { sport, .. } => {
                remove(&mut self.by_sport.borrow_mut(), sport, |(_, x)| x.id == id)
            }
        };
        if removed {
            self.sessions[self.shard_id].fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Sessions on this shard.
    pub fn session_count(&self) -> usize {
        self.sessions[self.shard_id].load(Ordering::Relaxed)
    }

    /// Whether shard `peer` has any session (so events are worth shipping there).
    pub fn has_sessions(&self, peer: usize) -> bool {
        self.sessions[peer].load(Ordering::Relaxed) > 0
    }

    /// Hands each event's frame to every session subscribed to it.
    pub fn publish(&self, events: &[Event]) {
        for event in events {
            if let Some(members) = self.by_match.borrow().get(&event.match_id) {
                for m in members {
                    self.offer(&m.queue, event);
                }
            }
            if event.market {
                if let Some(members) = self.by_sport.borrow().get(&event.sport) {
                    for (league, m) in members {
                        if league.as_ref().is_some_and(|l| *l != event.league) {
                            continue;
                        }
                        self.offer(&m.queue, event);
                    }
                }
            }
        }
    }

    /// Closes every session's queue: sessions see it and close with "going away".
    pub fn close_all(&self) {
        for members in self.by_match.borrow().values() {
            members.iter().for_each(|m| {
                m.queue.tx.close();
            });
        }
        for members in self.by_sport.borrow().values() {
            members.iter().for_each(|(_, m)| {
                m.queue.tx.close();
            });
        }
    }

    /// Queues an event for one session, unless that overflows its queue (frames or bytes; a
    /// lone frame always fits an empty queue).
    fn offer(&self, queue: &Queue, event: &Event) {
        let state = &queue.state;
        if state.overflowed.get() {
            return; // coalescing: the session resyncs to the latest state
        }
        let len = event.frame.len();
        let queued = state.bytes.get();
        let over = queued > 0 && queued + len > self.max_bytes;
        if !over && queue.tx.try_send(out(event)).is_ok() {
            state.bytes.set(queued + len);
            return;
        }
        match self.policy {
            SlowConsumer::Disconnect => {
                // Closing the queue is the signal; the session leaves the hub when it ends.
                if queue.tx.close() {
                    self.slow_dropped.set(self.slow_dropped.get() + 1);
                }
            }
            SlowConsumer::Coalesce => {
                state.overflowed.set(true);
                self.slow_coalesced.set(self.slow_coalesced.get() + 1);
            }
        }
    }
}

fn out(event: &Event) -> Out {
    Out {
        match_id: event.match_id.clone(),
        seq: event.seq,
        frame: event.frame.clone(),
    }
}

fn remove<K, T>(map: &mut HashMap<K, Vec<T>>, key: &K, pred: impl Fn(&T) -> bool) -> bool
where
    K: std::hash::Hash + Eq,
{
    let Some(list) = map.get_mut(key) else {
        return false;
    };
    let before = list.len();
    list.retain(|x| !pred(x));
    let removed = list.len() != before;
    if list.is_empty() {
        map.remove(key);
    }
    removed
}
