//! The owner's recent changes per match, so a reconnecting `/ws` client gets exactly what it
//! missed (`since: {matchId: {epoch, seq}}`) instead of a fresh snapshot.
//!
//! Frames are the ones already serialised for live subscribers (shared bytes, no copy). The
//! history is bounded in bytes per shard (`websocket.history_bytes`): the oldest frames, of any
//! match, go first. A client whose gap reaches further back than what is held gets a snapshot
//! and `"recovered": false`, never a partial replay.

use std::collections::{HashMap, VecDeque};

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::MatchId;

/// Bookkeeping bytes counted per held frame on top of its text.
const ENTRY_OVERHEAD: usize = 64;

/// Recent frames per match, oldest first, within a byte budget.
#[derive(Debug)]
pub(crate) struct History {
    per_match: HashMap<MatchId, VecDeque<(u64, Utf8Bytes)>>,
    /// Every held frame in arrival order: (match, seq, counted bytes).
    order: VecDeque<(MatchId, u64, usize)>,
    bytes: usize,
    max_bytes: usize,
}

/// What recovering a client's position found.
#[derive(Debug, PartialEq)]
pub(crate) enum Recovery {
    /// Every change after the client's seq, in order (possibly none).
    Frames(Vec<Utf8Bytes>),
    /// Not recoverable: another epoch, a seq ahead of the match, or a gap older than the
    /// history holds.
    Lost,
}

impl History {
    /// An empty history holding at most `max_bytes` (0 disables it).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            per_match: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// Remembers a change of `id`.
    pub fn push(&mut self, id: &MatchId, seq: u64, frame: &Utf8Bytes) {
        let cost = frame.len() + ENTRY_OVERHEAD;
        if cost > self.max_bytes {
            // Too big to hold (or history off): older frames of this match would now leave a
            // hole before this one, so they go too.
            if let Some(q) = self.per_match.remove(id) {
                self.bytes -= q
                    .iter()
                    .map(|(_, f)| f.len() + ENTRY_OVERHEAD)
                    .sum::<usize>();
            }
            return;
        }
        self.per_match
            .entry(id.clone())
            .or_default()
            .push_back((seq, frame.clone()));
        self.order.push_back((id.clone(), seq, cost));
        self.bytes += cost;
        while self.bytes > self.max_bytes {
            let Some((old_id, old_seq, _)) = self.order.pop_front() else {
                break;
            };
            self.drop_front(&old_id, old_seq);
        }
    }

    /// Removes `id`'s oldest frame if it is `seq` (entries of forgotten matches are skipped).
    fn drop_front(&mut self, id: &MatchId, seq: u64) {
        let Some(q) = self.per_match.get_mut(id) else {
            return;
        };
        if q.front().is_some_and(|(s, _)| *s == seq) {
            if let Some((_, f)) = q.pop_front() {
                self.bytes -= f.len() + ENTRY_OVERHEAD;
            }
        }
        if q.is_empty() {
            self.per_match.remove(id);
        }
    }

    /// Forgets a match (evicted).
    pub fn forget(&mut self, id: &MatchId) {
        if let Some(q) = self.per_match.remove(id) {
            self.bytes -= q
                .iter()
                .map(|(_, f)| f.len() + ENTRY_OVERHEAD)
                .sum::<usize>();
        }
        // Its entries in `order` are skipped when they come up; bound them anyway.
        if self.order.len() > self.max_bytes / ENTRY_OVERHEAD + 1 {
            self.order.retain(|(m, _, _)| m != id);
        }
    }

    /// The changes of `id` after `after`, if the history holds all of them. `current` is the
    /// match's seq now.
    pub fn since(&self, id: &MatchId, after: u64, current: u64) -> Recovery {
        if after > current {
            return Recovery::Lost;
        }
        if after == current {
            return Recovery::Frames(Vec::new());
        }
        let Some(q) = self.per_match.get(id) else {
            return Recovery::Lost;
        };
        // The first missed change must still be held, and the held run must be complete.
        match q.front() {
            Some((first, _)) if *first <= after + 1 => {}
            _ => return Recovery::Lost,
        }
        let frames: Vec<Utf8Bytes> = q
            .iter()
            .filter(|(s, _)| *s > after)
            .map(|(_, f)| f.clone())
            .collect();
        if frames.len() as u64 == current - after {
            Recovery::Frames(frames)
        } else {
            Recovery::Lost
        }
    }

    /// Bytes held (frames plus bookkeeping).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(seq: u64) -> Utf8Bytes {
        Utf8Bytes::from(format!("{{\"seq\":{seq}}}"))
    }

    #[test]
    fn recovers_exactly_the_missed_changes() {
        let mut h = History::new(1 << 20);
        let id = MatchId::new("m1");
        for seq in 1..=10 {
            h.push(&id, seq, &frame(seq));
        }
        assert_eq!(h.since(&id, 10, 10), Recovery::Frames(vec![]));
        assert_eq!(
            h.since(&id, 7, 10),
            Recovery::Frames(vec![frame(8), frame(9), frame(10)])
        );
        assert_eq!(h.since(&id, 11, 10), Recovery::Lost, "ahead of the match");
        assert_eq!(h.since(&MatchId::new("m2"), 0, 3), Recovery::Lost);
    }

    #[test]
    fn a_gap_older_than_the_history_is_lost() {
        let one = frame(1).len() + ENTRY_OVERHEAD;
        let mut h = History::new(3 * one + 2); // three frames of this size
        let id = MatchId::new("m1");
        for seq in 1..=5 {
            h.push(&id, seq, &frame(seq));
        }
        assert!(h.bytes() <= 3 * one + 2);
        assert_eq!(
            h.since(&id, 2, 5),
            Recovery::Frames(vec![frame(3), frame(4), frame(5)])
        );
        assert_eq!(h.since(&id, 1, 5), Recovery::Lost);
    }

    #[test]
    fn forget_releases_the_bytes() {
        let mut h = History::new(1 << 20);
        let id = MatchId::new("m1");
        h.push(&id, 1, &frame(1));
        h.forget(&id);
        assert_eq!(h.bytes(), 0);
        assert_eq!(h.since(&id, 0, 1), Recovery::Lost);
        assert_eq!(History::new(0).since(&id, 0, 0), Recovery::Frames(vec![]));
    }

    proptest! {
        /// Whatever is pushed, the budget holds, and a recovery is either complete and in
        /// order or refused.
        #[test]
        fn never_a_partial_replay(
            pushes in proptest::collection::vec((0u8..4, 1usize..200), 1..300),
            budget in 0usize..4000,
            after in 0u64..80,
        ) {
            let mut h = History::new(budget);
            let mut seqs = [0u64; 4];
            for (m, len) in &pushes {
                let id = MatchId::new(format!("m{m}"));
                seqs[*m as usize] += 1;
                h.push(&id, seqs[*m as usize], &Utf8Bytes::from("x".repeat(*len)));
                prop_assert!(h.bytes() <= budget);
            }
            for (m, current) in seqs.iter().enumerate() {
                let id = MatchId::new(format!("m{m}"));
                if let Recovery::Frames(f) = h.since(&id, after, *current) {
                    prop_assert_eq!(f.len() as u64, current - after);
                }
            }
        }
    }
}
