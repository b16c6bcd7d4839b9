//! What happens when a slow client lets its send queue ([`super::outbox`]) overflow
//! (`websocket.slow_consumer`), and which changes a session still has to send ([`SeqFilter`]).

use std::{collections::HashMap, sync::Arc};

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

/// Per match, the last change a session sent, as (epoch, seq): a change its snapshot (or
/// recovery) already covered is skipped, and none after it. A change of a later epoch (the
/// match was forgotten and created again, and counts from 1 anew) starts the match over instead
/// of being taken for an old one; one of an earlier epoch is skipped (epochs are the hex
/// millisecond the owner created the match, so they order). Only matches the session was told about ([`SeqFilter::advance`])
/// are tracked; a `/live` session that never resynced keeps an empty map and pays nothing per
/// frame.
#[derive(Debug, Default)]
pub(crate) struct SeqFilter {
    sent: HashMap<MatchId, (Arc<str>, u64)>,
}

impl SeqFilter {
    /// Whether change `seq` of `id` in `epoch` goes out (and remembers it if the match is
    /// tracked).
    pub fn admit(&mut self, id: &MatchId, epoch: &Arc<str>, seq: u64) -> bool {
        // External publishes carry no seq; untracked matches have nothing to skip.
        if seq == 0 || self.sent.is_empty() {
            return true;
        }
        match self.sent.get_mut(id) {
            Some((e, last)) if **e == **epoch => {
                if seq <= *last {
                    return false;
                }
                *last = seq;
                true
            }
            Some(other) if order(epoch) < order(&other.0) => false, // an older stream's
            Some(other) => {
                *other = (epoch.clone(), seq);
                true
            }
            None => true,
        }
    }

    /// The session sent `id` up to `seq` of `epoch` (a snapshot or a replay; an unknown match
    /// is tracked at seq 0 of no epoch).
    pub fn advance(&mut self, id: &MatchId, epoch: &Arc<str>, seq: u64) {
        match self.sent.get_mut(id) {
            Some((e, last)) if **e == **epoch => *last = (*last).max(seq),
            Some(other) if order(epoch) < order(&other.0) => {}
            Some(other) => *other = (epoch.clone(), seq),
            None => {
                self.sent.insert(id.clone(), (epoch.clone(), seq));
            }
        }
    }

    /// The session sent the match's state as of (`epoch`, `seq`) and its client starts over
    /// from it (a resync): what follows goes out, even changes sent before the resync (the
    /// snapshot, from this shard's view, can be behind what a recovery from the owner sent).
    pub fn reset(&mut self, id: &MatchId, epoch: &Arc<str>, seq: u64) {
        self.sent.insert(id.clone(), (epoch.clone(), seq));
    }

    /// Forgets a match (unsubscribed).
    pub fn forget(&mut self, id: &MatchId) {
        self.sent.remove(id);
    }
}

/// An epoch's place in time: the hex millisecond it names (an unknown one, `""`, first).
fn order(epoch: &str) -> u64 {
    u64::from_str_radix(epoch, 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(f: &mut SeqFilter, id: &str, epoch: &str, seq: u64) -> bool {
        f.admit(&MatchId::new(id), &Arc::from(epoch), seq)
    }

    #[test]
    fn seq_filter_skips_what_was_covered() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from("e"), 5);
        assert!(!admit(&mut f, "m", "e", 4) && !admit(&mut f, "m", "e", 5));
        assert!(admit(&mut f, "m", "e", 6) && !admit(&mut f, "m", "e", 6));
        assert!(admit(&mut f, "other", "e", 1) && admit(&mut f, "m", "e", 0));
        f.forget(&MatchId::new("m"));
        assert!(
            admit(&mut f, "m", "e", 1) && admit(&mut f, "m", "e", 1),
            "untracked: not filtered"
        );
    }

    #[test]
    fn a_new_epoch_starts_the_match_over_and_an_old_one_is_skipped() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from("19a0"), 57);
        assert!(
            admit(&mut f, "m", "19b0", 1),
            "the re-created match's first change is not an old one"
        );
        assert!(admit(&mut f, "m", "19b0", 2) && !admit(&mut f, "m", "19b0", 2));
        assert!(
            !admit(&mut f, "m", "19a0", 58),
            "a late change of the forgotten match is not taken for a new one"
        );
        assert!(admit(&mut f, "m", "19b0", 3));
        f.advance(&MatchId::new("m"), &Arc::from("19a0"), 99);
        assert!(
            !admit(&mut f, "m", "19b0", 3),
            "an older snapshot moves nothing"
        );
        f.advance(&MatchId::new("m"), &Arc::from("19c0"), 4);
        assert!(!admit(&mut f, "m", "19c0", 4) && admit(&mut f, "m", "19c0", 5));
    }

    #[test]
    fn a_reset_goes_back_to_the_snapshot() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from("e"), 9);
        f.reset(&MatchId::new("m"), &Arc::from("e"), 5);
        assert!(
            admit(&mut f, "m", "e", 6),
            "after a resync to 5, change 6 goes out again"
        );
    }

    #[test]
    fn an_unknown_match_is_tracked_until_its_first_change() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from(""), 0);
        assert!(admit(&mut f, "m", "e", 1) && !admit(&mut f, "m", "e", 1));
    }
}
