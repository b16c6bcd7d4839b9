//! Score consensus: many providers' latest score readings in, one published [`ScoreView`] out.
//!
//! Providers disagree for a few seconds after every goal and sometimes for longer (a wrong feed,
//! a goal struck off). This module keeps each provider's latest reading, votes by weight, and
//! refuses to move the published score or status backwards on one provider's word. The
//! formulas are documented in the parent module.

use super::{
    view::ScoreView,
    weights::{preference, Weights},
};
use crate::model::{MatchStatus, ProviderId, Timestamp};

/// Step of the reliability moving average: about the last ten changed readings count.
const RELIABILITY_ALPHA: f64 = 0.1;
/// Reliability never drops below this: a provider that disagrees is discounted, not silenced.
const RELIABILITY_FLOOR: f64 = 0.5;

/// A score reading as an observation carries it (borrowed, so the no-change path never
/// allocates).
#[derive(Clone, Copy, Debug)]
pub(super) struct ScoreReading<'a> {
    pub home: u32,
    pub away: u32,
    pub period: &'a str,
    pub status: MatchStatus,
    pub clock: Option<&'a str>,
}

/// What one provider last said, plus how far it is trusted.
#[derive(Clone, Debug)]
struct Reading {
    provider: ProviderId,
    home: u32,
    away: u32,
    period: String,
    status: MatchStatus,
    clock: Option<String>,
    /// `observed_at` of the last applied observation: anything older is a late packet.
    observed_at: Timestamp,
    /// `observed_at` of the observation that last changed this reading's content. "Freshest"
    /// in tie-breaks means this, so a repeated packet can never flip the consensus.
    changed_at: Timestamp,
    /// Moving average of "agreed with the published consensus", in `0.5..=1.0`.
    reliability: f64,
}

/// The group key of a consensus vote. The period label is not in it: feeds label the same
/// moment differently (The Odds API only says "LIVE" where ESPN says "Q3"), so readings agree
/// on score and status, and the published period is the most specific agreeing label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    home: u32,
    away: u32,
    status: MatchStatus,
}

/// Period labels that say only "in play" or nothing; any other agreeing label is preferred.
const GENERIC_PERIODS: &[&str] = &["", "LIVE"];

/// Every provider's latest reading and the published consensus.
#[derive(Clone, Debug, Default)]
pub(super) struct ScoreBook {
    readings: Vec<Reading>,
    published: Option<ScoreView>,
}

// === impl ScoreBook ===

impl ScoreBook {
    /// The published consensus, if any provider has reported a score.
    pub(super) fn published(&self) -> Option<&ScoreView> {
        self.published.as_ref()
    }

    /// Applies one provider's reading. Returns whether the published view changed (any field
    /// but `updated_at`).
    pub(super) fn apply(
        &mut self,
        provider: &ProviderId,
        new: ScoreReading<'_>,
        observed_at: Timestamp,
        weights: &Weights,
        now: Timestamp,
    ) -> bool {
        let idx = match self.readings.iter().position(|r| r.provider == *provider) {
            Some(i) => {
                let r = &mut self.readings[i];
                if observed_at < r.observed_at {
                    return false; // late packet
                }
                r.observed_at = observed_at;
                if r.same_as(&new) {
                    return false; // repeat
                }
                r.overwrite(&new, observed_at);
                i
            }
            None => {
                self.readings
                    .push(Reading::new(provider.clone(), &new, observed_at));
                self.readings.len() - 1
            }
        };
        let changed = self.publish(weights, now);
        self.update_reliability(idx);
        changed
    }

    /// Recomputes the consensus and stores it if it differs from the published one.
    fn publish(&mut self, weights: &Weights, now: Timestamp) -> bool {
        let key = match (self.winner(weights), &self.published) {
            (Some(i), _) => self.readings[i].key(),
            (None, Some(p)) => Key {
                home: p.home,
                away: p.away,
                status: p.status,
            },
            (None, None) => return false, // unreachable in practice: a first reading is eligible
        };
        let mut next = self.view_of(key, weights, now);
        match &self.published {
            Some(old) => {
                next.updated_at = old.updated_at;
                if *old == next {
                    return false;
                }
                next.updated_at = now;
            }
            None => next.updated_at = now,
        }
        self.published = Some(next);
        true
    }

    /// The index of one reading of the winning group, among groups allowed to replace the
    /// published consensus. `None` if every group would move it backwards.
    fn winner(&self, weights: &Weights) -> Option<usize> {
        let mut best: Option<(usize, f64, Timestamp, u8)> = None;
        for (i, r) in self.readings.iter().enumerate() {
            let key = r.key();
            if self.readings[..i].iter().any(|e| e.key() == key) || !self.eligible(key) {
                continue; // group already counted, or a regression
            }
            let (mut w, mut fresh, mut prio) = (0.0, Timestamp(i64::MIN), u8::MAX);
            for m in self.readings[i..].iter().filter(|m| m.key() == key) {
                let (mw, mp) = weights.rank(&m.provider);
                w += mw * m.reliability;
                fresh = fresh.max(m.changed_at);
                prio = prio.min(mp);
            }
            let better = match best {
                None => true,
                Some((bi, bw, bf, bp)) => w
                    .total_cmp(&bw)
                    .then(fresh.cmp(&bf))
                    .then(bp.cmp(&prio))
                    .then_with(|| self.readings[bi].key().cmp(&key))
                    .is_gt(),
            };
            if better {
                best = Some((i, w, fresh, prio));
            }
        }
        best.map(|b| b.0)
    }

    /// Whether a group may become the consensus: it must not lower the published score or
    /// status unless every provider currently reporting says so.
    fn eligible(&self, key: Key) -> bool {
        let Some(p) = &self.published else {
            return true;
        };
        let lower_score = key.home < p.home || key.away < p.away;
        if lower_score
            && !self
                .readings
                .iter()
                .all(|r| (r.home, r.away) == (key.home, key.away))
        {
            return false;
        }
        let lower_status = status_rank(key.status) < status_rank(p.status);
        !lower_status || self.readings.iter().all(|r| r.status == key.status)
    }

    /// The view the consensus `key` would publish (with `updated_at = now`).
    fn view_of(&self, key: Key, weights: &Weights, now: Timestamp) -> ScoreView {
        let mut total = 0.0;
        let mut agreeing = 0.0;
        let mut sources: Vec<(f64, u8, &Reading)> = Vec::new();
        for r in &self.readings {
            let (w, prio) = weights.rank(&r.provider);
            let w = w * r.reliability;
            total += w;
            if r.key() == key {
                agreeing += w;
                sources.push((w, prio, r));
            }
        }
        sources.sort_by(|a, b| preference((a.0, a.1, &a.2.provider), (b.0, b.1, &b.2.provider)));
        // The clock of the freshest agreeing reading that has one (preferred provider on ties).
        let clock = sources
            .iter()
            .filter(|s| s.2.clock.is_some())
            .fold(None::<&Reading>, |acc, s| match acc {
                Some(a) if a.changed_at >= s.2.changed_at => Some(a),
                _ => Some(s.2),
            })
            .and_then(|r| r.clock.clone());
        // The most preferred agreeing source with a specific label names the period.
        let period = sources
            .iter()
            .map(|s| s.2.period.as_str())
            .find(|p| !GENERIC_PERIODS.contains(p))
            .or_else(|| sources.first().map(|s| s.2.period.as_str()))
            .or(self.published.as_ref().map(|p| p.period.as_str()))
            .unwrap_or_default()
            .to_owned();
        ScoreView {
            home: key.home,
            away: key.away,
            period,
            status: key.status,
            clock,
            sources: sources.iter().map(|s| s.2.provider.clone()).collect(),
            confidence: ratio(agreeing, total),
            updated_at: now,
        }
    }

    /// Moves the reporter's reliability towards 1 if its new reading agrees with the published
    /// consensus, towards 0.5 if not. Takes effect from the next vote.
    fn update_reliability(&mut self, idx: usize) {
        let Some(p) = &self.published else { return };
        let Some(r) = self.readings.get_mut(idx) else {
            return;
        };
        let agreed = (r.home, r.away, r.status) == (p.home, p.away, p.status);
        let target = if agreed { 1.0 } else { RELIABILITY_FLOOR };
        r.reliability = (r.reliability + RELIABILITY_ALPHA * (target - r.reliability))
            .clamp(RELIABILITY_FLOOR, 1.0);
    }
}

// === impl Reading ===

impl Reading {
    fn new(provider: ProviderId, r: &ScoreReading<'_>, observed_at: Timestamp) -> Self {
        Self {
            provider,
            home: r.home,
            away: r.away,
            period: r.period.to_owned(),
            status: r.status,
            clock: r.clock.map(str::to_owned),
            observed_at,
            changed_at: observed_at,
            reliability: 1.0,
        }
    }

    fn key(&self) -> Key {
        Key {
            home: self.home,
            away: self.away,
            status: self.status,
        }
    }

    fn same_as(&self, r: &ScoreReading<'_>) -> bool {
        (self.home, self.away, self.status) == (r.home, r.away, r.status)
            && self.period == r.period
            && self.clock.as_deref() == r.clock
    }

    /// Replaces the content, reusing the string buffers.
    fn overwrite(&mut self, r: &ScoreReading<'_>, observed_at: Timestamp) {
        (self.home, self.away, self.status) = (r.home, r.away, r.status);
        self.period.clear();
        self.period.push_str(r.period);
        match (&mut self.clock, r.clock) {
            (Some(c), Some(n)) => {
                c.clear();
                c.push_str(n);
            }
            (slot, n) => *slot = n.map(str::to_owned),
        }
        self.changed_at = observed_at;
    }
}

/// Ordering of statuses for "never backwards": scheduled < in play (or postponed) < over.
fn status_rank(s: MatchStatus) -> u8 {
    match s {
        MatchStatus::Scheduled => 0,
        MatchStatus::Live | MatchStatus::Halftime | MatchStatus::Postponed => 1,
        MatchStatus::Finished | MatchStatus::Cancelled => 2,
    }
}

/// `part / whole` in `0.0..=1.0`, 0 when the whole weighs nothing.
pub(super) fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
