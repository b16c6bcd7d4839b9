//! The frames a session has queued, and what they count against its bounds
//! ([`super::outbox::Outbox`] decides what goes in).

use std::{collections::VecDeque, sync::Arc};

use bytes::Bytes;
use inplay_core::MatchId;

/// A change's place in its match's stream: the match, the epoch, the seq.
pub(crate) type ChangeAt = (MatchId, Arc<str>, u64);

/// Whose a queued frame is, which decides what counts against the bounds and what a resync
/// drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A change the hub offered: counts against the bounds, dropped by a resync (the latest
    /// state replaces it).
    Change,
    /// The session's answer to its client (a pong, an error, a snapshot, a recovery) or its
    /// heartbeat: not counted (what a client may ask is bounded by not reading it while the
    /// backlog is full) and kept through a resync, so no answer is lost.
    Reply,
    /// The `resync` message and snapshots of a resync: not counted, or a resync bigger than
    /// the queue would overflow it again at once; the next resync replaces them.
    Resync,
}

/// A queued frame: the bytes, and for a change not yet admitted, which one (checked against
/// the session's filter when it is written).
#[derive(Debug)]
pub(crate) struct Item {
    pub frame: Bytes,
    pub change: Option<ChangeAt>,
    pub kind: Kind,
}

/// Queued frames, in the order they go out.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    items: VecDeque<Item>,
    /// Bytes of the front frame already written.
    offset: usize,
    /// Changes queued, and their bytes (the session's own frames are not counted).
    changes: usize,
    change_bytes: usize,
    /// Bytes of everything queued, the session's own frames too.
    all_bytes: usize,
}

impl Backlog {
    /// Queues `item` last; `written` of its bytes are already on the socket (a short direct
    /// write), which only means something for the front frame.
    pub fn push(&mut self, item: Item, written: usize) {
        if self.items.is_empty() {
            self.offset = written;
        }
        self.count(&item, true);
        self.items.push_back(item);
    }

    /// Queues the session's `replies` at position `at`, in order.
    pub fn insert(&mut self, at: usize, replies: impl DoubleEndedIterator<Item = Bytes>) {
        let at = at.min(self.items.len());
        for frame in replies.rev() {
            let item = Item {
                frame,
                change: None,
                kind: Kind::Reply,
            };
            self.count(&item, true);
            self.items.insert(at, item);
        }
    }

    /// The front frame, and how much of it was written.
    pub fn front(&mut self) -> Option<(&mut Item, usize)> {
        let offset = self.offset;
        self.items.front_mut().map(|i| (i, offset))
    }

    /// `n` more bytes of the front frame were written.
    pub fn advance(&mut self, n: usize) {
        self.offset += n;
    }

    /// The front frame is done with (written, or skipped by the filter).
    pub fn pop_front(&mut self) {
        self.offset = 0;
        if let Some(done) = self.items.pop_front() {
            self.count(&done, false);
        }
    }

    /// Drops the changes and an earlier resync, keeping the session's answers still owed and a
    /// half-written frame (which must finish, or the stream would be corrupt).
    pub fn discard(&mut self) {
        let mut half_written = !self.items.is_empty() && self.offset > 0;
        self.items
            .retain(|i| std::mem::take(&mut half_written) || i.kind == Kind::Reply);
        self.all_bytes = self.items.iter().map(|i| i.frame.len()).sum();
        let kept = self.items.iter().filter(|i| i.kind == Kind::Change);
        self.changes = kept.clone().count();
        self.change_bytes = kept.map(|i| i.frame.len()).sum();
    }

    /// Drops everything, and gives the memory back.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Frames queued (changes and the session's own).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Changes queued, and their bytes: what the bounds count.
    pub fn changes(&self) -> (usize, usize) {
        (self.changes, self.change_bytes)
    }

    /// Bytes of everything queued.
    pub fn all_bytes(&self) -> usize {
        self.all_bytes
    }

    /// Counts an item in (or out of) the backlog and, for a change, the bounds.
    fn count(&mut self, item: &Item, added: bool) {
        let len = item.frame.len();
        self.all_bytes = if added {
            self.all_bytes + len
        } else {
            self.all_bytes.saturating_sub(len)
        };
        if item.kind != Kind::Change {
            return;
        }
        if added {
            self.changes += 1;
            self.change_bytes += len;
        } else {
            self.changes = self.changes.saturating_sub(1);
            self.change_bytes = self.change_bytes.saturating_sub(len);
        }
    }
}
