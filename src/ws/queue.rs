//! What happens when a slow client lets its send queue ([`super::outbox`]) overflow
//! (`websocket.slow_consumer`), and which changes a session still has to send ([`SeqFilter`]).

use std::collections::HashMap;

use inplay_core::MatchId;

/// What to do with a client whose send queue overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlowConsumer {
    /// Close the connection with 1008 "slow consumer".
    Disconnect,
    /// Drop what is queued and send the latest state instead: a `resync` message, then a
    /// snapshot of each subscribed match.
    Coalesce,
}

/// Per match, the last seq a session sent: a change its snapshot (or recovery) already covered
/// is skipped, and none after it. Only matches the session was told about ([`SeqFilter::advance`])
/// are tracked; a `/live` session that never resynced keeps an empty map and pays nothing per
/// frame.
#[derive(Debug, Default)]
pub(crate) struct SeqFilter {
    sent: HashMap<MatchId, u64>,
}

impl SeqFilter {
    /// Whether change `seq` of `id` goes out (and remembers it if the match is tracked).
    pub fn admit(&mut self, id: &MatchId, seq: u64) -> bool {
        // External publishes carry no seq; untracked matches have nothing to skip.
        if seq == 0 || self.sent.is_empty() {
            return true;
        }
        match self.sent.get_mut(id) {
            Some(last) if seq <= *last => false,
            Some(last) => {
                *last = seq;
                true
            }
            None => true,
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

    fn admit(f: &mut SeqFilter, id: &str, seq: u64) -> bool {
        f.admit(&MatchId::new(id), seq)
    }

    #[test]
    fn seq_filter_skips_what_was_covered() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), 5);
        assert!(!admit(&mut f, "m", 4) && !admit(&mut f, "m", 5));
        assert!(admit(&mut f, "m", 6) && !admit(&mut f, "m", 6));
        assert!(admit(&mut f, "other", 1) && admit(&mut f, "m", 0));
        f.forget(&MatchId::new("m"));
        assert!(
            admit(&mut f, "m", 1) && admit(&mut f, "m", 1),
            "untracked: not filtered"
        );
    }
}
