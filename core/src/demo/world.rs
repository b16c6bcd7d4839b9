//! The demo world: rolling fixtures per league slot, computed from (seed, epoch, now).
//!
//! Each league has `slots_per_league` slots; slot `i` plays an endless series of fixtures,
//! fixture `k` kicking off at `epoch + phase_i + k * cycle`. A slot shows its current fixture
//! from the pre-match window on, and the finished one until a few minutes into the next one's
//! pre-match, so every slot always shows one or two matches. Phases are spread over the cycle,
//! so at any instant some slots are pre-match, some live, some at halftime, some finished.
//!
//! [`World`] holds only what `new` precomputed (phases, team ratings, pairing constants) and
//! is immutable: every shard can poll it concurrently without coordination.

use std::ops::Range;

use super::{
    catalog::{leagues, LeagueDef},
    profile::{self, PollOutcome, ProviderProfile},
    report,
    rng::{below, mix, mix3, mix4, signed_unit, tag, unit},
    timeline::{Fate, Fixture},
};
use crate::{model::Timestamp, observation::Observation};

/// A finished fixture stays visible this long into its successor's pre-match window, ms.
const OVERLAP_MS: i64 = 5 * 60_000;
/// Upper bound on `slots_per_league`, so a typo in a config cannot exhaust memory.
pub const MAX_SLOTS: usize = 10_000;

/// How the demo world is built.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Seed of every simulated decision: same seed, same world.
    pub seed: u64,
    /// Origin of the fixture schedule (fixture 0 of each slot starts within one cycle of it).
    pub epoch: Timestamp,
    /// Fixtures shown at once per league (about; a slot shows one or two). Capped at
    /// [`MAX_SLOTS`].
    pub slots_per_league: usize,
}

impl Default for DemoConfig {
    /// Seed 7, epoch 2024-01-01T00:00Z, 100 slots per league (1,100 slots in 11 leagues).
    fn default() -> Self {
        Self {
            seed: 7,
            epoch: Timestamp(1_704_067_200_000),
            slots_per_league: 100,
        }
    }
}

/// Precomputed per-league data.
#[derive(Debug)]
pub(super) struct LeagueTable {
    /// Kick-off offset of each slot within the cycle, ms.
    phases: Vec<i64>,
    /// Strength of each team, in `-0.5..0.5`.
    ratings: Vec<f64>,
    /// Ordered pairings `teams × (teams − 1)`.
    pairs: u64,
    /// Multiplier (coprime with `pairs`) and offset scrambling the pairing sequence.
    pair_mul: u64,
    pair_add: u64,
}

/// The simulated world: leagues, fixtures and the two providers observing them.
#[derive(Debug)]
pub struct World {
    pub(super) config: DemoConfig,
    pub(super) slots: usize,
    pub(super) leagues: Vec<LeagueDef>,
    pub(super) providers: Vec<ProviderProfile>,
    pub(super) tables: Vec<LeagueTable>,
}

/// Up to two fixture numbers visible in one slot.
#[derive(Debug, Clone, Copy)]
pub(super) struct Visible {
    ks: [i64; 2],
    len: usize,
}

impl Visible {
    /// The fixture numbers, oldest first.
    pub(super) fn ks(&self) -> &[i64] {
        &self.ks[..self.len]
    }
}

// === impl World ===

impl World {
    /// Builds the world. Cheap: a few thousand hashes.
    pub fn new(config: DemoConfig) -> Self {
        let slots = config.slots_per_league.min(MAX_SLOTS);
        let leagues = leagues();
        let tables = leagues.iter().map(|l| table(&config, l, slots)).collect();
        let providers = vec![ProviderProfile::alpha(), ProviderProfile::beta()];
        Self {
            config,
            slots,
            leagues,
            providers,
            tables,
        }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &DemoConfig {
        &self.config
    }

    /// Every league, in a fixed order.
    pub fn leagues(&self) -> &[LeagueDef] {
        &self.leagues
    }

    /// The simulated providers: `demo-alpha`, `demo-beta`.
    pub fn providers(&self) -> &[ProviderProfile] {
        &self.providers
    }

    /// Everything `provider` reports for one league at `now`: per visible fixture one Score
    /// observation, then the Prices of each market while not finished, or Settled results once
    /// finished (void if postponed or cancelled). Empty for a league of another world.
    pub fn poll(
        &self,
        provider: &ProviderProfile,
        league: &LeagueDef,
        now: Timestamp,
    ) -> Vec<Observation> {
        self.poll_slots(provider, league, 0..self.slots, now)
    }

    /// Slots per league: [`World::poll_slots`] takes ranges of `0..slots()`.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The part of [`World::poll`] about the fixtures of `slots` (clamped to `0..slots()`).
    /// Polls of consecutive ranges at the same `now`, concatenated, are exactly `poll`, so a
    /// caller can build a big report in pieces and do other work in between.
    pub fn poll_slots(
        &self,
        provider: &ProviderProfile,
        league: &LeagueDef,
        slots: Range<usize>,
        now: Timestamp,
    ) -> Vec<Observation> {
        let slots = slots.start.min(self.slots)..slots.end.min(self.slots);
        report::poll(self, provider, league, slots, now)
    }

    /// Whether a poll at `now` fails upstream, and how long the simulated call takes.
    pub fn poll_outcome(
        &self,
        provider: &ProviderProfile,
        league: &LeagueDef,
        now: Timestamp,
    ) -> PollOutcome {
        profile::outcome(provider, league, now)
    }

    /// How many fixtures the true world shows at `now`, over all leagues.
    pub fn visible_matches(&self, now: Timestamp) -> usize {
        let mut n = 0;
        for league in &self.leagues {
            for slot in 0..self.slots {
                let vis = self.visible(league, slot, now.millis());
                n += vis
                    .ks()
                    .iter()
                    .filter(|&&k| self.fixture(league, slot, k).is_some())
                    .count();
            }
        }
        n
    }

    /// Our own definition of `league`, if it belongs to this world.
    pub(super) fn own_league(&self, league: &LeagueDef) -> Option<&LeagueDef> {
        let own = self.leagues.get(league.index)?;
        (own.league == league.league && own.sport == league.sport).then_some(own)
    }

    /// Fixture numbers slot `slot` of `league` shows at `t` (unix ms).
    pub(super) fn visible(&self, league: &LeagueDef, slot: usize, t: i64) -> Visible {
        let none = Visible { ks: [0; 2], len: 0 };
        let Some(phase) = self
            .tables
            .get(league.index)
            .and_then(|t| t.phases.get(slot))
        else {
            return none;
        };
        let r = league.rules;
        let cycle = i128::from(r.cycle_ms.max(1));
        let since = i128::from(t) - i128::from(self.config.epoch.millis()) - i128::from(*phase);
        let into_window = since + i128::from(r.pre_ms);
        let k = into_window.div_euclid(cycle);
        let (Ok(k), Ok(prev)) = (i64::try_from(k), i64::try_from(k - 1)) else {
            return none;
        };
        if into_window.rem_euclid(cycle) < i128::from(OVERLAP_MS) {
            Visible {
                ks: [prev, k],
                len: 2,
            }
        } else {
            Visible { ks: [k, 0], len: 1 }
        }
    }

    /// Fixture `k` of slot `slot` of `league`; `None` if out of range (far past or future).
    pub(super) fn fixture(&self, league: &LeagueDef, slot: usize, k: i64) -> Option<Fixture> {
        let table = self.tables.get(league.index)?;
        let phase = *table.phases.get(slot)?;
        let r = league.rules;
        let start = i128::from(self.config.epoch.millis())
            + i128::from(phase)
            + i128::from(k) * i128::from(r.cycle_ms);
        // Keep clear of i64's ends so later `start + offset` arithmetic cannot overflow.
        let start = i64::try_from(start)
            .ok()
            .filter(|s| s.unsigned_abs() < 1 << 62)?;
        let league_slot = (league.index as u64) << 32 | slot as u64;
        let seed = mix4(self.config.seed, tag::FIXTURE, league_slot, k as u64);
        let n =
            (i128::from(k) * self.slots as i128 + slot as i128).rem_euclid(i128::from(table.pairs));
        let idx = (u128::from(table.pair_mul) * n as u128 + u128::from(table.pair_add))
            % u128::from(table.pairs);
        let others = (league.teams.len() as u128).saturating_sub(1).max(1);
        let home = (idx / others) as usize;
        let away = (home + 1 + (idx % others) as usize) % league.teams.len().max(1);
        let form = signed_unit(mix(seed, tag::RATING)) * 0.05;
        let edge = table.ratings.get(home)? - table.ratings.get(away)? + r.home_advantage + form;
        let share = (0.5 + r.share_slope * edge).clamp(0.15, 0.85);
        let fate = match unit(mix(seed, tag::OUTCOME)) {
            u if u < 0.003 => Fate::Cancelled,
            u if u < 0.013 => Fate::Postponed,
            _ => Fate::Played,
        };
        Some(Fixture {
            seed,
            start,
            home,
            away,
            share,
            fate,
        })
    }
}

/// Precomputes one league's phases, ratings and pairing scramble.
fn table(config: &DemoConfig, league: &LeagueDef, slots: usize) -> LeagueTable {
    let li = league.index as u64;
    let cycle = league.rules.cycle_ms.max(1) as u64;
    let phases = (0..slots)
        .map(|s| below(mix3(config.seed, tag::PHASE, li << 32 | s as u64), cycle) as i64)
        .collect();
    let ratings = (0..league.teams.len())
        .map(|t| unit(mix3(config.seed, tag::RATING, li << 32 | t as u64)) - 0.5)
        .collect();
    let teams = league.teams.len().max(2) as u64;
    let pairs = teams * (teams - 1);
    let h = mix3(config.seed, tag::PAIRING, li);
    let mut pair_mul = below(h, pairs).max(1);
    while gcd(pair_mul, pairs) != 1 {
        // Terminates: pair_mul = 1 is always coprime.
        pair_mul -= 1;
    }
    LeagueTable {
        phases,
        ratings,
        pairs,
        pair_mul,
        pair_add: below(h.rotate_left(32), pairs),
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
