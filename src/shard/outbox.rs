//! Replication from an owner to the other shards, coalesced per match.
//!
//! The owner never awaits a peer while applying observations (two shards waiting on each
//! other's full inboxes would deadlock). It drops each fresh render into a per-peer outbox
//! instead; one sender task per peer ships the outbox as a batch whenever the peer has room.
//! A match that changes twice before a batch leaves is sent once, in its latest state, so an
//! outbox never holds more entries than there are matches.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use inplay_core::MatchId;

use super::msg::{Replica, ShardMsg};

/// Pending replicas for one peer.
#[derive(Debug, Default)]
struct Pending {
    entries: HashMap<MatchId, Replica>,
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

    /// Ships batches to `peer` until the peer's inbox closes (it stopped).
    pub async fn run_sender(self: Rc<Self>, peer: usize, inbox: async_channel::Sender<ShardMsg>) {
        while self.wake_rx[peer].recv().await.is_ok() {
            let batch: Vec<Replica> = self.pending[peer]
                .borrow_mut()
                .entries
                .drain()
                .map(|(_, r)| r)
                .collect();
            if batch.is_empty() {
                continue;
            }
            if inbox.send(ShardMsg::Replicate(batch)).await.is_err() {
                return;
            }
        }
    }
}
