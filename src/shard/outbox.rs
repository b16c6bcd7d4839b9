//! Replication from an owner to the other shards, coalesced per match.
//!
//! The owner never awaits a peer while applying observations (two shards waiting on each
//! other's full inboxes would deadlock). It drops each fresh render into a per-peer outbox
//! instead; one sender task per peer ships the outbox as a batch whenever the peer has room.
//! A match that changes twice before a batch leaves is sent once, in its latest state, so an
//! outbox never holds more entries than there are matches. Change events for WebSocket
//! sessions are never merged (each is an update a client must see); they are queued only for
//! peers that have sessions, in order, up to [`MAX_PENDING_EVENTS`]. Past that the oldest are
//! dropped, and the peer is told which matches lost changes ([`ShardMsg::Missed`], ahead of the
//! events that follow them), so its sessions resync or close instead of skipping silently.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use inplay_core::MatchId;

use super::msg::{Replica, ShardMsg};
use crate::ws::{Event, Missed};

/// Events kept for one peer before the oldest are dropped (and counted): the bound that keeps
/// a stalled peer from growing this shard's memory. The peer's sessions of those matches are
/// told (at most one [`Missed`] per match is kept).
pub(crate) const MAX_PENDING_EVENTS: usize = 100_000;

/// Pending replicas for one peer.
#[derive(Debug, Default)]
struct Pending {
    entries: HashMap<MatchId, Replica>,
    events: Vec<Event>,
    /// Events dropped because the peer fell [`MAX_PENDING_EVENTS`] behind.
    dropped: u64,
    /// The matches those events were of, until the peer is told.
    missed: HashMap<MatchId, Missed>,
}

/// Per-peer outboxes of one shard.
#[derive(Debug)]
pub(crate) struct Outbox {
    pending: Vec<RefCell<Pending>>,
    /// Wakes a peer's sender task (capacity 1: one pending wake-up is enough).
    wake: Vec<async_channel::Sender<()>>,
    wake_rx: Vec<async_channel::Receiver<()>>,
}

impl Outbox {
    /// Outboxes for `nr_shards` peers; the entry for `self_id` stays unused.
    pub fn new(nr_shards: usize) -> Self {
        let (wake, wake_rx) = (0..nr_shards).map(|_| async_channel::bounded(1)).unzip();
        Self {
            pending: (0..nr_shards).map(|_| RefCell::default()).collect(),
            wake,
            wake_rx,
        }
    }

    /// Queues a replica for every peer except `self_id`.
    pub fn push(&self, self_id: usize, id: &MatchId, replica: &Replica) {
        for (peer, pending) in self.pending.iter().enumerate() {
            if peer == self_id {
                continue;
            }
            pending
                .borrow_mut()
                .entries
                .insert(id.clone(), replica.clone());
            let _ = self.wake[peer].try_send(()); // full means a wake-up is already pending
        }
    }

    /// Queues change events for `peer`.
    pub fn push_events(&self, peer: usize, events: &[Event]) {
        let mut pending = self.pending[peer].borrow_mut();
        pending.events.extend_from_slice(events);
        let excess = pending.events.len().saturating_sub(MAX_PENDING_EVENTS);
        if excess > 0 {
            let Pending { events, missed, .. } = &mut *pending;
            for event in events.drain(..excess) {
                missed
                    .entry(event.match_id.clone())
                    .and_modify(|m| m.market |= event.market)
                    .or_insert_with(|| Missed::of(&event));
            }
            pending.dropped += excess as u64;
            tracing::warn!(
                peer,
                dropped = pending.dropped,
                "Peer shard behind; events dropped"
            );
        }
        drop(pending);
        let _ = self.wake[peer].try_send(());
    }

    /// Ships batches to `peer` until the peer's inbox closes (it stopped).
    pub async fn run_sender(self: Rc<Self>, peer: usize, inbox: async_channel::Sender<ShardMsg>) {
        while self.wake_rx[peer].recv().await.is_ok() {
            let (batch, missed, events) = {
                let mut pending = self.pending[peer].borrow_mut();
                let batch: Vec<Replica> = pending.entries.drain().map(|(_, r)| r).collect();
                let missed: Vec<Missed> = pending.missed.drain().map(|(_, m)| m).collect();
                (batch, missed, std::mem::take(&mut pending.events))
            };
            // Renders first: an event never arrives before the state it describes, and a
            // session that resyncs gets the latest state.
            if !batch.is_empty() && inbox.send(ShardMsg::Replicate(batch)).await.is_err() {
                return;
            }
            if !missed.is_empty() && inbox.send(ShardMsg::Missed(missed)).await.is_err() {
                return;
            }
            if !events.is_empty() && inbox.send(ShardMsg::Events(events)).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_tungstenite::tungstenite::Utf8Bytes;

    use super::*;

    fn event(id: &str, seq: u64, market: bool) -> Event {
        Event {
            match_id: MatchId::new(id),
            seq,
            epoch: Arc::from("e"),
            sport: "soccer".into(),
            league: "premier".into(),
            market,
            frame: Utf8Bytes::from_static("{}"),
            born: std::time::Instant::now(),
        }
    }

    /// The first `n` messages the sender ships to peer 1 once `batches` of events are queued.
    fn shipped(batches: &[&[Event]], n: usize) -> Vec<ShardMsg> {
        let outbox = Rc::new(Outbox::new(2));
        for events in batches {
            outbox.push_events(1, events);
        }
        let (tx, rx) = async_channel::bounded(4);
        let sender = async {
            outbox.clone().run_sender(1, tx).await;
            None
        };
        let receiver = async {
            let mut got = Vec::new();
            for _ in 0..n {
                got.push(rx.recv().await.ok()?);
            }
            Some(got)
        };
        futures_lite::future::block_on(futures_lite::future::or(sender, receiver))
            .expect("the sender ships that many messages")
    }

    #[test]
    fn a_peer_that_falls_behind_is_told_which_matches_lost_changes_first() {
        // The oldest five go: three score changes of a, a score and a market change of b.
        let mut events = vec![
            event("a", 1, false),
            event("a", 2, false),
            event("a", 3, false),
        ];
        events.extend([event("b", 1, false), event("b", 2, true)]);
        events.extend((1..=MAX_PENDING_EVENTS as u64).map(|seq| event("c", seq, false)));
        let mut got = shipped(&[&events], 2).into_iter();
        let (first, second) = (got.next().unwrap(), got.next().unwrap());
        let ShardMsg::Missed(mut missed) = first else {
            panic!("the gap goes ahead of the events after it, got {first:?}");
        };
        missed.sort_by(|x, y| x.match_id.as_str().cmp(y.match_id.as_str()));
        let seen: Vec<(&str, bool)> = missed
            .iter()
            .map(|m| (m.match_id.as_str(), m.market))
            .collect();
        assert_eq!(
            seen,
            [("a", false), ("b", true)],
            "one per match, market if any was"
        );
        let ShardMsg::Events(kept) = second else {
            panic!("then the events, got {second:?}");
        };
        assert_eq!(kept.len(), MAX_PENDING_EVENTS);
        assert!(kept.iter().all(|e| e.match_id.as_str() == "c"));
        assert_eq!(kept[0].seq, 1, "the newest are kept, in order");
    }

    #[test]
    fn a_peer_within_the_bound_gets_its_events_and_no_gap() {
        let a = [event("a", 1, false), event("a", 2, true)];
        let first = shipped(&[&a, &[event("b", 1, false)]], 1).pop();
        let Some(ShardMsg::Events(events)) = first else {
            panic!("events only, got {first:?}");
        };
        let seqs: Vec<(&str, u64)> = events
            .iter()
            .map(|e| (e.match_id.as_str(), e.seq))
            .collect();
        assert_eq!(seqs, [("a", 1), ("a", 2), ("b", 1)]);
    }
}
