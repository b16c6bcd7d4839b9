//! Replication from an owner to the other shards, coalesced per match.
//!
//! The owner never awaits a peer while applying observations (two shards waiting on each
//! other's full inboxes would deadlock). It drops each fresh render into a per-peer outbox
//! instead; one sender task per peer ships the outbox as a batch whenever the peer has room.
//! A match that changes twice before a batch leaves is sent once, in its latest state, so an
//! outbox never holds more entries than there are matches. Change events for WebSocket
//! sessions are never merged (each is an update a client must see); they are queued only for
//! peers that have sessions, in order, up to [`MAX_PENDING_EVENTS`].

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use inplay_core::MatchId;

use super::msg::{Replica, ShardMsg};
use crate::ws::Event;

/// Events kept for one peer before the oldest are dropped (and counted): the bound that keeps
/// a stalled peer from growing this shard's memory. Sessions see the gap in `seq`.
pub(crate) const MAX_PENDING_EVENTS: usize = 100_000;

/// Pending replicas for one peer.
#[derive(Debug, Default)]
struct Pending {
    entries: HashMap<MatchId, Replica>,
    events: Vec<Event>,
    /// Events dropped because the peer fell [`MAX_PENDING_EVENTS`] behind.
    dropped: u64,
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
            pending.events.drain(..excess);
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
            let (batch, events) = {
                let mut pending = self.pending[peer].borrow_mut();
                let batch: Vec<Replica> = pending.entries.drain().map(|(_, r)| r).collect();
                (batch, std::mem::take(&mut pending.events))
            };
            // Renders first: an event never arrives before the state it describes.
            if !batch.is_empty() && inbox.send(ShardMsg::Replicate(batch)).await.is_err() {
                return;
            }
            if !events.is_empty() && inbox.send(ShardMsg::Events(events)).await.is_err() {
                return;
            }
        }
    }
}
