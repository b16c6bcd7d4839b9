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
/// recovery) already covered is skipped, and none after it. A change of another epoch (the match
/// was forgotten and created again, and counts from 1 anew) starts the match over instead of
/// being taken for an old one. Only matches the session was told about ([`SeqFilter::advance`])
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
            Some(other) => *other = (epoch.clone(), seq),
            None => {
                self.sent.insert(id.clone(), (epoch.clone(), seq));
            }
        }
    }

    /// Forgets a match (unsubscribed).
    pub fn forget(&mut self, id: &MatchId) {
        self.sent.remove(id);
    }

    /// Forgets every match but those `keep` says to keep (what a session still follows).
    pub fn retain(&mut self, keep: impl Fn(&MatchId) -> bool) {
        self.sent.retain(|id, _| keep(id));
        if self.sent.is_empty() {
            self.sent = HashMap::new(); // give the table back
        }
    }

    /// Matches tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sent.len()
    }
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
    fn a_new_epoch_starts_the_match_over() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from("e1"), 57);
        assert!(
            admit(&mut f, "m", "e2", 1),
            "the re-created match's first change is not an old one"
        );
        assert!(admit(&mut f, "m", "e2", 2) && !admit(&mut f, "m", "e2", 2));
        f.advance(&MatchId::new("m"), &Arc::from("e3"), 4);
        assert!(!admit(&mut f, "m", "e3", 4) && admit(&mut f, "m", "e3", 5));
    }

    #[test]
    fn an_unknown_match_is_tracked_until_its_first_change() {
        let mut f = SeqFilter::default();
        f.advance(&MatchId::new("m"), &Arc::from(""), 0);
        assert!(admit(&mut f, "m", "e", 1) && !admit(&mut f, "m", "e", 1));
    }

    #[test]
    fn retain_keeps_only_what_is_still_followed() {
        let mut f = SeqFilter::default();
        for id in ["a", "b", "c"] {
            f.advance(&MatchId::new(id), &Arc::from("e"), 3);
        }
        f.retain(|id| id.as_str() != "b");
        assert_eq!(f.len(), 2);
        assert!(admit(&mut f, "b", "e", 1), "b is untracked now");
        assert!(!admit(&mut f, "a", "e", 3));
    }
}
