//! A session's send queue as the hub sees it, bounded in frames and bytes, and what happens
//! when a slow client lets it overflow (`websocket.slow_consumer`).

use std::{cell::Cell, collections::HashMap, rc::Rc};

use inplay_core::MatchId;

use super::hub::Out;

/// What to do with a client whose send queue overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlowConsumer {
    /// Close the connection with 1008 "slow consumer".
    Disconnect,
    /// Drop what is queued and send the latest state instead: a `resync` message, then a
    /// snapshot of each subscribed match.
    Coalesce,
}

/// Shared by the hub (which fills the queue) and the session (which empties it).
#[derive(Debug, Default)]
pub(crate) struct QueueState {
    /// Bytes of frames queued now.
    pub bytes: Cell<usize>,
    /// Set by the hub on overflow under [`SlowConsumer::Coalesce`]; nothing more is queued
    /// until the session has resynced and cleared it.
    pub overflowed: Cell<bool>,
}

/// The sending side of a session's queue.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    pub tx: async_channel::Sender<Out>,
    pub state: Rc<QueueState>,
}

/// The receiving side.
pub(crate) struct QueueRx {
    pub rx: async_channel::Receiver<Out>,
    pub state: Rc<QueueState>,
}

/// A queue of at most `frames` frames (the byte bound is the hub's).
pub(crate) fn queue(frames: usize) -> (Queue, QueueRx) {
    let (tx, rx) = async_channel::bounded(frames);
    let state = Rc::new(QueueState::default());
    (
        Queue {
            tx,
            state: state.clone(),
        },
        QueueRx { rx, state },
    )
}

impl QueueRx {
    /// Notes that `out` left the queue.
    pub fn took(&self, out: &Out) {
        let s = &self.state;
        s.bytes.set(s.bytes.get().saturating_sub(out.frame.len()));
    }

    /// Drops everything queued (before a resync) and clears the overflow.
    pub fn discard(&self) {
        while self.rx.try_recv().is_ok() {}
        self.state.bytes.set(0);
        self.state.overflowed.set(false);
    }
}

/// Per match, the last seq a session sent: a change its snapshot (or recovery) already covered
/// is skipped, and none after it.
#[derive(Debug, Default)]
pub(crate) struct SeqFilter {
    sent: HashMap<MatchId, u64>,
}

impl SeqFilter {
    /// Whether `out` goes out (and remembers it if so).
    pub fn admit(&mut self, out: &Out) -> bool {
        if out.seq == 0 {
            return true; // external publishes carry no seq
        }
        match self.sent.get_mut(&out.match_id) {
            Some(last) if out.seq <= *last => false,
            Some(last) => {
                *last = out.seq;
                true
            }
            None => {
                self.sent.insert(out.match_id.clone(), out.seq);
                true
            }
        }
    }

    /// The session sent `id` up to `seq` (a snapshot or a replay).
    pub fn advance(&mut self, id: &MatchId, seq: u64) {
        let e = self.sent.entry(id.clone()).or_insert(0);
        *e = (*e).max(seq);
    }

    /// Forgets a match (unsubscribed).
    pub fn forget(&mut self, id: &MatchId) {
        self.sent.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_tungstenite::tungstenite::Utf8Bytes;

    fn out(id: &str, seq: u64) -> Out {
        Out {
            match_id: MatchId::new(id),
            seq,
            frame: Utf8Bytes::from_static("{}"),
        }
    }

    #[test]
    fn seq_filter_skips_what_was_covered() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), 5);
        assert!(!f.admit(&out("m", 4)) && !f.admit(&out("m", 5)));
        assert!(f.admit(&out("m", 6)) && !f.admit(&out("m", 6)));
        assert!(f.admit(&out("other", 1)) && f.admit(&out("m", 0)));
        f.forget(&MatchId::new("m"));
        assert!(f.admit(&out("m", 1)));
    }
}
