//! The owner's recent changes per match, so a reconnecting `/ws` client gets exactly what it
//! missed (`since: {matchId: {epoch, seq}}`) instead of a fresh snapshot.
//!
//! The history is bounded in bytes per shard (`websocket.history_bytes`): the oldest frames, of
//! any match, go first. A client whose gap reaches further back than what is held gets a
//! snapshot and `"recovered": false`, never a partial replay.
//!
//! Frames are copied into one ring of bytes rather than kept as the shared frames live
//! subscribers got: thousands of small buffers of many sizes, freed oldest first, fragment the
//! heap until the process holds about twice the budget; one ring holds exactly its budget.
//! Copying a frame (a few hundred bytes) once per change costs far less than serialising it.

use std::collections::{HashMap, VecDeque};

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::MatchId;

/// Bookkeeping bytes counted per held frame on top of its text.
const ENTRY_OVERHEAD: usize = 48;

/// A held frame: which change it is, and where its bytes are (`pos`: position in the stream of
/// all bytes ever pushed; the ring holds positions `tail..tail + ring.len()`).
#[derive(Debug, Clone, Copy)]
struct Held {
    seq: u64,
    pos: u64,
    len: u32,
}

/// Recent frames per match, oldest first, within a byte budget.
#[derive(Debug)]
pub(crate) struct History {
    /// The frames' bytes, oldest first.
    ring: VecDeque<u8>,
    /// Stream position of the ring's first byte.
    tail: u64,
    per_match: HashMap<MatchId, VecDeque<Held>>,
    /// Every frame in the ring, in arrival order: (match, seq, length). A forgotten match's
    /// stay until they leave.
    order: VecDeque<(MatchId, u64, u32)>,
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
            ring: VecDeque::new(),
            tail: 0,
            per_match: HashMap::new(),
            order: VecDeque::new(),
            max_bytes,
        }
    }

    /// Remembers a change of `id`.
    pub fn push(&mut self, id: &MatchId, seq: u64, frame: &Utf8Bytes) {
        let cost = frame.len() + ENTRY_OVERHEAD;
        let Ok(len) = u32::try_from(frame.len()) else {
            self.per_match.remove(id);
            return;
        };
        if cost > self.max_bytes {
            // Too big to hold (or history off): older frames of this match would now leave a
            // hole before this one, so they go too.
            self.forget(id);
            return;
        }
        while self.bytes() + cost > self.max_bytes && self.drop_oldest() {}
        if self.ring.capacity() == 0 {
            self.ring.reserve_exact(self.max_bytes); // once: the ring never grows past it
        }
        let pos = self.tail + self.ring.len() as u64;
        self.ring.extend(frame.as_bytes());
        self.per_match
            .entry(id.clone())
            .or_default()
            .push_back(Held { seq, pos, len });
        self.order.push_back((id.clone(), seq, len));
    }

    /// Drops the oldest frame; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        let Some((id, seq, len)) = self.order.pop_front() else {
            return false;
        };
        if let Some(q) = self.per_match.get_mut(&id) {
            // Not so for a forgotten match's frame (or one of the match before it was re-created).
            if q.front()
                .is_some_and(|h| h.seq == seq && h.pos == self.tail)
            {
                q.pop_front();
                if q.is_empty() {
                    self.per_match.remove(&id);
                }
            }
        }
        let len = (len as usize).min(self.ring.len());
        self.ring.drain(..len);
        self.tail += len as u64;
        true
    }

    /// Forgets a match (evicted). Its bytes leave the ring as they come up, or now if they are
    /// the oldest.
    pub fn forget(&mut self, id: &MatchId) {
        if self.per_match.remove(id).is_none() {
            return;
        }
        while self
            .order
            .front()
            .is_some_and(|(m, _, _)| !self.per_match.contains_key(m))
        {
            self.drop_oldest();
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
            Some(first) if first.seq <= after + 1 => {}
            _ => return Recovery::Lost,
        }
        let frames: Vec<Utf8Bytes> = q
            .iter()
            .filter(|h| h.seq > after)
            .map(|h| self.frame(h))
            .collect();
        if frames.len() as u64 == current - after {
            Recovery::Frames(frames)
        } else {
            Recovery::Lost
        }
    }

    /// A held frame's text, copied out of the ring.
    fn frame(&self, held: &Held) -> Utf8Bytes {
        let start = (held.pos - self.tail) as usize;
        let bytes: Vec<u8> = self
            .ring
            .range(start..start + held.len as usize)
            .copied()
            .collect();
        // Pushed from `Utf8Bytes`, copied whole: still UTF-8.
        Utf8Bytes::from(String::from_utf8(bytes).unwrap_or_default())
    }

    /// Bytes held (frames plus bookkeeping).
    pub fn bytes(&self) -> usize {
        self.ring.len() + self.order.len() * ENTRY_OVERHEAD
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
        /// Whatever is pushed or forgotten, the budget holds, and a recovery is either the
        /// exact frames pushed, complete and in order, or refused.
        #[test]
        fn never_a_partial_replay(
            ops in proptest::collection::vec((0u8..4, 1usize..200, 0u8..20), 1..300),
            budget in 0usize..4000,
            after in 0u64..80,
        ) {
            let mut h = History::new(budget);
            let mut seqs = [0u64; 4];
            let text = |m: usize, seq: u64, len: usize| format!("{m}:{seq}:{}", "x".repeat(len));
            let mut lens: Vec<Vec<usize>> = vec![Vec::new(); 4];
            for (m, len, op) in &ops {
                let m = *m as usize;
                let id = MatchId::new(format!("m{m}"));
                if *op == 0 {
                    h.forget(&id);
                    continue;
                }
                seqs[m] += 1;
                lens[m].push(*len);
                h.push(&id, seqs[m], &Utf8Bytes::from(text(m, seqs[m], *len)));
                prop_assert!(h.bytes() <= budget);
            }
            for (m, current) in seqs.iter().enumerate() {
                let id = MatchId::new(format!("m{m}"));
                if let Recovery::Frames(f) = h.since(&id, after, *current) {
                    prop_assert_eq!(f.len() as u64, current - after);
                    for (i, frame) in f.iter().enumerate() {
                        let seq = after + 1 + i as u64;
                        let want = text(m, seq, lens[m][seq as usize - 1]);
                        prop_assert_eq!(frame.as_str(), want.as_str());
                    }
                }
            }
        }
    }
}
