//! [`MatchState`]: the authoritative state of one match, owned by one shard.
//!
//! Observations in, changes out. This type routes each observation to the score book, the
//! market book or the settlement book, turns what they report into [`Change`]s stamped with
//! the match's sequence numbers, and keeps the one match-wide figure the markets share: which
//! providers quote this match at all (the denominator of price confidence).

use super::{
    book::{MarketBook, Refresh},
    score::{ScoreBook, ScoreReading},
    view::{Change, ChangeKind, MarketView, MatchInfo, ScoreView},
    weights::Weights,
};
use crate::{
    model::{MarketKey, MarketStatus, MatchStatus, ProviderId, Selection, Settlement, Timestamp},
    observation::{Observation, ObservationBody},
    odds::Price,
};

/// The aggregated state of one match.
#[derive(Clone, Debug)]
pub struct MatchState {
    info: MatchInfo,
    /// Last sequence number issued; 0 before the first change.
    seq: u64,
    /// `now` of the last change; the epoch before the first.
    updated_at: Timestamp,
    score: ScoreBook,
    /// Sorted by key, which is the published order: moneyline, spread, total, others, lines
    /// ascending (the derived order of [`MarketKey`]).
    markets: Vec<MarketBook>,
    /// Providers with at least one price in any market of this match.
    quoting: Vec<ProviderId>,
}

// === impl MatchState ===

impl MatchState {
    /// An empty state: no score, no markets.
    pub fn new(info: MatchInfo) -> Self {
        Self {
            info,
            seq: 0,
            updated_at: Timestamp::default(),
            score: ScoreBook::default(),
            markets: Vec::new(),
            quoting: Vec::new(),
        }
    }

    /// Static facts about the match.
    pub fn info(&self) -> &MatchInfo {
        &self.info
    }

    /// Applies one observation (already resolved to this match). Returns only real changes,
    /// each stamped with the match's next sequence number. A repeat of the same data, a late
    /// packet, or prices for a settled market return an empty `Vec` (which does not allocate).
    pub fn apply(&mut self, obs: &Observation, weights: &Weights, now: Timestamp) -> Vec<Change> {
        let mut out = Vec::new();
        match &obs.body {
            ObservationBody::Score {
                home,
                away,
                period,
                status,
                clock,
            } => {
                let reading = ScoreReading {
                    home: *home,
                    away: *away,
                    period,
                    status: *status,
                    clock: clock.as_deref(),
                };
                if self
                    .score
                    .apply(&obs.provider, reading, obs.observed_at, weights, now)
                {
                    self.emit(&mut out, ChangeKind::Score, now);
                }
            }
            ObservationBody::Prices {
                market,
                prices,
                status,
            } => {
                let quote = Quote {
                    prices,
                    status: *status,
                };
                self.apply_prices(obs, market, quote, weights, now, &mut out);
            }
            ObservationBody::Settled { market, results } => {
                self.apply_settlement(obs, market, results, weights, now, &mut out);
            }
        }
        out
    }

    /// Last sequence number issued (0 = none yet).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The consensus score, once any provider has reported one.
    pub fn score(&self) -> Option<&ScoreView> {
        self.score.published()
    }

    /// Every market, in a stable order: moneyline, spread, total, others; lines ascending.
    pub fn markets(&self) -> impl Iterator<Item = &MarketView> {
        self.markets.iter().map(MarketBook::view)
    }

    /// One market by key.
    pub fn market(&self, key: &MarketKey) -> Option<&MarketView> {
        self.find(key).ok().map(|i| self.markets[i].view())
    }

    /// The consensus status ([`MatchStatus::Scheduled`] before any score).
    pub fn status(&self) -> MatchStatus {
        self.score
            .published()
            .map_or(MatchStatus::Scheduled, |s| s.status)
    }

    /// When anything published last changed (`now` of that `apply`; the epoch before).
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    fn apply_prices(
        &mut self,
        obs: &Observation,
        key: &MarketKey,
        quote: Quote<'_>,
        weights: &Weights,
        now: Timestamp,
        out: &mut Vec<Change>,
    ) {
        let (idx, created) = match self.find(key) {
            Ok(i) => (i, false),
            // Even an empty book is kept: it is this provider's latest word on the market, and
            // skipping it would make the outcome depend on arrival order.
            Err(i) => {
                self.markets.insert(i, MarketBook::new(key.clone(), now));
                (i, true)
            }
        };
        let market = &mut self.markets[idx];
        let was_quoting = market.quoted_by(&obs.provider);
        if !market.apply_prices(&obs.provider, quote.prices, quote.status, obs.observed_at) {
            return;
        }
        if was_quoting != market.quoted_by(&obs.provider) && self.refresh_quoting() {
            // The confidence denominator moved: every market's view may have changed.
            let quoting_weight = self.quoting_weight(weights);
            for i in 0..self.markets.len() {
                let r = self.markets[i].refresh(weights, quoting_weight, now);
                self.emit_refresh(out, i, r, created && i == idx, now);
            }
            return;
        }
        let quoting_weight = self.quoting_weight(weights);
        let r = self.markets[idx].refresh(weights, quoting_weight, now);
        self.emit_refresh(out, idx, r, created, now);
    }

    fn apply_settlement(
        &mut self,
        obs: &Observation,
        key: &MarketKey,
        results: &[(Selection, Settlement)],
        weights: &Weights,
        now: Timestamp,
        out: &mut Vec<Change>,
    ) {
        if results.is_empty() {
            return;
        }
        let idx = self.find(key).unwrap_or_else(|i| {
            self.markets.insert(i, MarketBook::new(key.clone(), now));
            i
        });
        let market = &mut self.markets[idx];
        if market.apply_settlement(&obs.provider, results, obs.observed_at)
            && market.refresh_settlement(weights, now)
        {
            self.emit(out, ChangeKind::Settled(key.clone()), now);
        }
    }

    /// Turns one market refresh into changes: odds first, then a status flip. A new market
    /// announces itself with `Odds` only.
    fn emit_refresh(
        &mut self,
        out: &mut Vec<Change>,
        idx: usize,
        r: Refresh,
        created: bool,
        now: Timestamp,
    ) {
        let flip = match (r.before, r.after) {
            _ if created => None,
            (MarketStatus::Active, MarketStatus::Suspended) => Some(false),
            (MarketStatus::Suspended, MarketStatus::Active) => Some(true),
            _ => None,
        };
        if !(r.odds || created || flip.is_some()) {
            return;
        }
        let key = self.markets[idx].view().key.clone();
        if r.odds || created {
            self.emit(out, ChangeKind::Odds(key.clone()), now);
        }
        match flip {
            Some(true) => self.emit(out, ChangeKind::MarketResumed(key), now),
            Some(false) => self.emit(out, ChangeKind::MarketSuspended(key), now),
            None => {}
        }
    }

    fn emit(&mut self, out: &mut Vec<Change>, kind: ChangeKind, now: Timestamp) {
        self.seq = self.seq.saturating_add(1);
        self.updated_at = now;
        out.push(Change {
            seq: self.seq,
            kind,
        });
    }

    /// Recomputes which providers quote this match. Returns whether the set changed.
    fn refresh_quoting(&mut self) -> bool {
        let mut next: Vec<ProviderId> = Vec::with_capacity(self.quoting.len() + 1);
        for p in self.markets.iter().flat_map(MarketBook::quoting) {
            if !next.contains(p) {
                next.push(p.clone());
            }
        }
        next.sort();
        let changed = next != self.quoting;
        self.quoting = next;
        changed
    }

    fn quoting_weight(&self, weights: &Weights) -> f64 {
        self.quoting.iter().map(|p| weights.weight(p)).sum()
    }

    fn find(&self, key: &MarketKey) -> Result<usize, usize> {
        self.markets.binary_search_by(|m| m.view().key.cmp(key))
    }
}

/// The price part of a `Prices` observation, borrowed.
#[derive(Clone, Copy)]
struct Quote<'a> {
    prices: &'a [(Selection, Price)],
    status: MarketStatus,
}
