//! This shard's WebSocket subscribers and what they subscribed to.
//!
//! Events arrive already serialised; the hub frames each once and offers the same bytes to every
//! matching session's [`Outbox`], which writes them to the socket at once when it can and queues
//! them otherwise, bounded in frames (`websocket.send_queue`) and bytes
//! (`websocket.send_queue_bytes`). A session whose queue would overflow is a slow consumer. Under `slow_consumer =
//! "disconnect"` the hub closes its queue and the session closes the connection with 1008;
//! under `"coalesce"` nothing more is queued for it until it has caught up, then it gets a
//! `resync` message and the latest state of each match instead of every change it missed.
//! Either way one slow client never slows the others or grows memory without bound.
//!
//! The direct writes of one event go out together: the idle sessions' sockets are collected
//! and the frame is written to all of them in one io_uring submission ([`SendRing`]), then each
//! outbox hears what its write did before the next event is offered.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::{Rc, Weak},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use bytes::Bytes;
use inplay_core::MatchId;

use super::{
    event::{Event, Missed},
    outbox::{text_frame, Offer, Outbox},
    queue::SlowConsumer,
    send_ring::SendRing,
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

/// A session, as the hub holds it.
#[derive(Debug)]
struct Member {
    id: u64,
    out: Rc<Outbox>,
}

/// An open session, registered with its shard's hub until dropped.
#[derive(Debug)]
pub(crate) struct OpenSession {
    hub: Rc<Hub>,
    id: u64,
}

impl Drop for OpenSession {
    fn drop(&mut self) {
        self.hub.open.borrow_mut().remove(&self.id);
    }
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
    /// Subscriptions per shard, readable by every owner: events are only shipped to shards
    /// that have at least one.
    sessions: Arc<[AtomicUsize]>,
    /// Every open session's outbox by session id, subscribed or not: what a drain closes and
    /// the queue gauge reads. Membership alone would miss a `/ws` session with no
    /// subscriptions (it would get no 1001 and outlive the drain).
    open: RefCell<HashMap<u64, Weak<Outbox>>>,
    /// Sessions dropped as slow consumers since start.
    pub slow_dropped: Cell<u64>,
    /// Overflows coalesced into a resync since start.
    pub slow_coalesced: Cell<u64>,
    /// Sessions told they missed changes that never reached this shard (it fell behind).
    pub lagged: Cell<u64>,
    /// Fan-out counters, read at scrape.
    pub stats: FanoutStats,
    policy: SlowConsumer,
    /// Batches one event's direct writes.
    ring: SendRing,
    /// One event's direct writes, reused: the outboxes, their sockets, the results.
    writes: RefCell<Writes>,
}

/// The direct writes of the event being published.
#[derive(Debug, Default)]
struct Writes {
    outs: Vec<Rc<Outbox>>,
    fds: Vec<std::os::fd::RawFd>,
    results: Vec<std::io::Result<usize>>,
}

/// How fan-out went on this shard: plain counters, the shard is one thread.
#[derive(Debug, Default)]
pub(crate) struct FanoutStats {
    /// Frames offered to sessions (each session counts once per change).
    pub offered: Cell<u64>,
    /// Events published to at least one session.
    pub events: Cell<u64>,
    /// Sum of publish-to-send lags (change serialised → written to its last session here).
    pub lag_sum: Cell<std::time::Duration>,
    /// Largest lag since the last scrape (reset by it).
    pub lag_max: Cell<std::time::Duration>,
}

impl Hub {
    /// The hub of `shard_id`; `sessions` is shared by all shards.
    pub fn new(shard_id: usize, sessions: Arc<[AtomicUsize]>, policy: SlowConsumer) -> Self {
        Self {
            shard_id,
            next_id: Cell::new(0),
            by_match: RefCell::default(),
            by_sport: RefCell::default(),
            sessions,
            open: RefCell::default(),
            slow_dropped: Cell::new(0),
            slow_coalesced: Cell::new(0),
            lagged: Cell::new(0),
            stats: FanoutStats::default(),
            policy,
            ring: SendRing::new(),
            writes: RefCell::default(),
        }
    }

    /// Registers a session's outbox under `topic`; returns its id for [`Hub::leave`].
    pub fn join(&self, topic: &Topic, out: Rc<Outbox>) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let member = Member { id, out };
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

    /// Whether any shard has a subscribed session now.
    pub fn any_sessions(&self) -> bool {
        self.sessions.iter().any(|s| s.load(Ordering::Relaxed) > 0)
    }

    /// Whether shard `peer` has any subscribed session (so events are worth shipping there).
    pub fn has_sessions(&self, peer: usize) -> bool {
        self.sessions[peer].load(Ordering::Relaxed) > 0
    }

    /// Offers each event's frame to every session subscribed to it. The WebSocket frame is
    /// built once per event, and only if some session wants it.
    pub fn publish(&self, events: &[Event]) {
        let by_match = self.by_match.borrow();
        let by_sport = self.by_sport.borrow();
        let mut writes = self.writes.borrow_mut();
        for event in events {
            let mut wire = None;
            let mut offered = 0;
            let (id, sport, league) = (&event.match_id, &*event.sport, &*event.league);
            for m in members(&by_match, &by_sport, id, sport, league, event.market) {
                let frame = wire.get_or_insert_with(|| text_frame(event.frame.as_bytes()));
                self.offer(&m.out, frame, event, &mut writes);
                offered += 1;
            }
            if let Some(frame) = &wire {
                self.write_all(frame, &mut writes);
            }
            if offered > 0 {
                self.stats.record(offered, event.born.elapsed());
            }
        }
    }

    /// Changes of these matches were dropped before they reached this shard: every session that
    /// would have got one resyncs (`"coalesce"`) or is closed with 1013, to reconnect and
    /// recover (`"disconnect"`). None is left with a gap it cannot see.
    pub fn missed(&self, missed: &[Missed]) {
        let by_match = self.by_match.borrow();
        let by_sport = self.by_sport.borrow();
        for gap in missed {
            let (id, sport, league) = (&gap.match_id, &*gap.sport, &*gap.league);
            for m in members(&by_match, &by_sport, id, sport, league, gap.market) {
                if m.out.missed(self.policy == SlowConsumer::Coalesce) {
                    self.lagged.set(self.lagged.get() + 1);
                }
            }
        }
    }

    /// Closes every session's outbox: sessions see it and close with "going away".
    pub fn close_all(&self) {
        for out in self.open.borrow().values().filter_map(Weak::upgrade) {
            out.close();
        }
    }

    /// Frames queued (not yet written) over all sessions: how far behind slow clients are.
    pub fn queued_frames(&self) -> usize {
        let open = self.open.borrow();
        open.values()
            .filter_map(Weak::upgrade)
            .map(|out| out.queued())
            .sum()
    }

    /// Counts a session as open until the returned guard drops, whatever it subscribes to.
    pub fn open(self: &Rc<Self>, out: &Rc<Outbox>) -> OpenSession {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.open.borrow_mut().insert(id, Rc::downgrade(out));
        OpenSession {
            hub: self.clone(),
            id,
        }
    }

    /// Open sessions on this shard (subscribed or not).
    pub fn open_count(&self) -> usize {
        self.open.borrow().len()
    }

    /// Offers an event to one session and applies the slow-consumer policy if it overflows.
    /// Writes `frame` to the sockets collected in `writes` and tells each outbox how it went.
    /// Before any other event is offered: a socket's frames stay in order.
    fn write_all(&self, frame: &Bytes, writes: &mut Writes) {
        if writes.outs.is_empty() {
            return;
        }
        let Writes { outs, fds, results } = writes;
        self.ring.send_all(frame, fds, results);
        for (out, result) in outs.drain(..).zip(results.drain(..)) {
            out.sent(frame, result);
        }
        fds.clear();
    }

    fn offer(&self, out: &Rc<Outbox>, frame: &Bytes, event: &Event, writes: &mut Writes) {
        match out.claim(frame, &event.match_id, &event.epoch, event.seq) {
            Offer::Taken => return,
            Offer::Write(fd) => {
                writes.outs.push(out.clone());
                writes.fds.push(fd);
                return;
            }
            Offer::Overflow => {}
        }
        match self.policy {
            SlowConsumer::Disconnect => {
                // Closing is the signal; the session leaves the hub when it ends.
                if out.close() {
                    self.slow_dropped.set(self.slow_dropped.get() + 1);
                }
            }
            SlowConsumer::Coalesce => {
                out.set_overflowed();
                self.slow_coalesced.set(self.slow_coalesced.get() + 1);
            }
        }
    }
}

impl FanoutStats {
    fn record(&self, offered: usize, lag: std::time::Duration) {
        self.offered.set(self.offered.get() + offered as u64);
        self.events.set(self.events.get() + 1);
        self.lag_sum.set(self.lag_sum.get() + lag);
        self.lag_max.set(self.lag_max.get().max(lag));
    }
}

/// The sessions a change of match `id` (of `sport` and `league`) goes to: the match's, and
/// for a market change (`market`) those of its sport, all leagues or its own.
fn members<'a>(
    by_match: &'a HashMap<MatchId, Vec<Member>>,
    by_sport: &'a HashMap<Box<str>, Vec<SportMember>>,
    id: &MatchId,
    sport: &str,
    league: &'a str,
    market: bool,
) -> impl Iterator<Item = &'a Member> {
    let of_match = by_match.get(id).into_iter().flatten();
    let of_sport = by_sport
        .get(sport)
        .filter(|_| market)
        .into_iter()
        .flatten()
        .filter(move |(only, _)| only.as_deref().is_none_or(|l| l == league))
        .map(|(_, m)| m);
    of_match.chain(of_sport)
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

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
