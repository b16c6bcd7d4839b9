//! Aggregation: one truth per match from many providers.
//!
//! Each match has one [`MatchState`], owned by one shard. Observations already resolved to the
//! match go through [`MatchState::apply`], which keeps every provider's latest reading, derives
//! the consensus [`view`], and returns only the [`Change`](view::Change)s that really happened,
//! each stamped with the match's next sequence number. The service inplay replaces merged
//! markets on each provider's own event id, left spread/total lines out of the market key,
//! published the best price repeated as the "average" and took `max` of American odds as
//! "best"; here markets are keyed by [`MarketKey`](crate::MarketKey) (type + line) within a
//! match, prices are decimal, and every figure below is computed from the providers' own prices.
//!
//! # Latest readings
//! Per provider, the latest reading of the score, of each market's prices and of each market's
//! settlement is kept. An observation older (`observed_at`) than that provider's last applied
//! one for the same thing is a late packet and changes nothing. A repeat of the same data
//! changes nothing either (no change, no sequence number).
//!
//! # Weights
//! `w(p)` is [`Weights::weight`]. Score votes use `w(p) × r(p)`, where the reliability `r(p)`
//! starts at 1 and, each time `p`'s reading changes, moves `r ← r + 0.1 (x − r)` with `x = 1`
//! if the new reading agrees with the consensus then published and `x = 0.5` if not; so
//! `r ∈ [0.5, 1]`, a provider that keeps disagreeing counts half, and it takes effect from the
//! next vote. Prices and settlements use `w(p)` alone (reliability is a score-feed property).
//! Ties between providers go to higher weight, then lower [`Weights::priority`], then id, so
//! the published order never depends on arrival order. Weights are read at `apply` time; a
//! market is re-evaluated with the current weights when it is next touched.
//!
//! # Score
//! Readings are grouped by (home, away, status); the period label is not part of the vote,
//! because feeds label the same moment differently ("LIVE" vs "Q3"), and the published period
//! is that of the most preferred agreeing reading with a specific label (not "" or "LIVE").
//! A group may win only if it does not
//! move the published score backwards (lower home or lower away) unless every provider
//! currently reporting agrees on that score (a corrected goal), and does not move the status
//! backwards (scheduled < live, halftime, postponed < finished, cancelled) unless every
//! provider agrees on that status. Among eligible groups the one with the most vote weight
//! wins; ties go to the freshest (latest `observed_at` at which a member's reading last
//! changed), then the lowest priority. If no group is eligible the published score stays.
//! * `confidence` = vote weight agreeing with the published score / vote weight of every
//!   provider reporting a score (0 when that is 0).
//! * `sources` = agreeing providers, by descending vote weight; `clock` = clock of the
//!   freshest agreeing reading that has one.
//! * A `Score` change is emitted when any field but `updated_at` changes (a clock tick alone is
//!   a change: it is what the live view shows).
//!
//! # Markets
//! A `Prices` observation replaces that provider's book for the market (selections it no
//! longer lists are dropped for it) and is ignored once the market is settled. With *active*
//! prices those whose provider's book status is [`Active`](crate::MarketStatus::Active):
//! * `best` = highest decimal price among active prices (ties: the preferred provider).
//! * `average` = Σ active prices / their count (each provider's own price, once).
//! * `confidence` = (Σ `w` of providers with an active price for the selection / Σ `w` of the
//!   providers quoting any market of this match) × (1 − min(1, (best − min) / average)), where
//!   min is the lowest active price; 0 with no active price or a zero denominator.
//! * `best_overround` = Σ 1/best − 1 when there are at least two selections and each has a
//!   best price; `arbitrage` = `best_overround < 0`. `provider_overround` = Σ 1/price − 1 for
//!   each provider quoting every selection (whatever its status), also only with at least two
//!   selections.
//! * `prices` are listed by provider preference; `updated_at` of a provider price is the
//!   `observed_at` at which that price (or its book status) last changed, so repeats do not
//!   move it.
//! * Status: `Settled` once any provider has reported a settlement, else `Active` if some
//!   provider has an active price, else `Suspended`.
//! * Changes: `Odds(key)` when anything in the selections changed (or the market first
//!   appeared), then `MarketSuspended`/`MarketResumed` when the status flips between active and
//!   suspended. When the set of providers quoting the match changes, every market is
//!   re-evaluated and each one whose view changed emits `Odds`.
//!
//! # Settlement
//! Per provider, its latest results (empty reports are ignored). Per selection, the result
//! with the most `w` wins (ties: the preferred provider's result); `confidence` = min over
//! selections of agreeing `w` / `w` of the providers that settled that selection; `conflicts`
//! lists every selection on which providers disagree. `Settled(key)` is emitted whenever the
//! aggregated settlement changes.
//!
//! # Layout
//! * `weights`: [`Weights`]. * `score`: score consensus. * `book`: one market's prices.
//! * `settle`: one market's settlement. * `state`: [`MatchState`], sequence numbers.
//! * [`view`]: the published types.

mod book;
mod score;
mod settle;
mod state;
pub mod view;
mod weights;

#[cfg(test)]
mod props;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod testkit;

use std::cmp::Ordering;

use crate::model::Selection;

pub use state::MatchState;
pub use weights::Weights;

/// The published order of selections: home, draw, away / over, under / others by name.
fn selection_cmp(a: &Selection, b: &Selection) -> Ordering {
    fn rank(s: &Selection) -> u8 {
        match s {
            Selection::Home => 0,
            Selection::Draw => 1,
            Selection::Away => 2,
            Selection::Over => 3,
            Selection::Under => 4,
            Selection::Other(_) => 5,
        }
    }
    match (a, b) {
        (Selection::Other(x), Selection::Other(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}
