//! One provider's report on one league at one instant: scores, prices and settlements.
//!
//! A provider observes the true world the way real feeds do: a little late (lag), now and then
//! on an older snapshot of one match (stale), with its own margin and price noise, and
//! sometimes a spread or total line half a point off the other book's. Every quirk is a hash of
//! (provider, fixture, time bucket), so two polls in the same bucket say the same thing.

use std::{ops::Range, sync::Arc};

use super::{
    catalog::LeagueDef,
    markets::{self, Fair, Sel},
    outlook::Outlook,
    profile::ProviderProfile,
    rng::{below, mix, mix3, mix4, signed_unit, splitmix64, tag, unit},
    rules::Model,
    timeline::{Fixture, Phase, State, MARKS},
    world::World,
};
use crate::{
    model::{Line, MarketKey, MarketStatus, MarketType, MatchStatus, Timestamp},
    observation::{EventRef, Observation, ObservationBody},
    odds::Price,
};

/// Stale reports are decided per (match, bucket of this many ms).
const STALE_BUCKET_MS: i64 = 8_000;
/// A stale report shows the match as it was 10–40 s earlier.
const STALE_MIN_MS: i64 = 10_000;
const STALE_SPREAD_MS: u64 = 30_000;
/// The world halts a match's markets (VAR check, injury) in 1.5 % of 20 s buckets.
const HALT_BUCKET_MS: i64 = 20_000;
const HALT_RATE: f64 = 0.015;
/// A provider pulls one market on its own in 1 % of 10 s buckets.
const PULL_BUCKET_MS: i64 = 10_000;
const PULL_RATE: f64 = 0.01;

/// One provider's report on the fixtures of `slots` of one league (see [`World::poll_slots`]).
pub(super) fn poll(
    world: &World,
    p: &ProviderProfile,
    league: &LeagueDef,
    slots: Range<usize>,
    now: Timestamp,
) -> Vec<Observation> {
    let Some(league) = world.own_league(league) else {
        return Vec::new();
    };
    let seen_at = now.millis().saturating_sub(i64::from(p.lag_ms));
    let reporter = Reporter {
        p,
        league,
        salt: p.salt(),
        observed_at: Timestamp(seen_at),
    };
    // Per fixture: a score and three markets, up to nine settlements once finished.
    let mut out = Vec::with_capacity(slots.len() * 7);
    for slot in slots {
        for &k in world.visible(league, slot, seen_at).ks() {
            if let Some(fx) = world.fixture(league, slot, k) {
                reporter.report(&fx, &mut out);
            }
        }
    }
    out
}

/// What one poll needs to know to report any fixture.
struct Reporter<'a> {
    p: &'a ProviderProfile,
    league: &'a LeagueDef,
    salt: u64,
    observed_at: Timestamp,
}

// === impl Reporter ===

impl Reporter<'_> {
    /// Score, then prices, settlements or voids of one fixture.
    fn report(&self, fx: &Fixture, out: &mut Vec<Observation>) {
        let t = self.view_time(fx);
        let st = fx.state_at(self.league, t);
        let event = self.event_ref(fx);
        self.push(out, &event, self.score(&st));
        match st.status {
            MatchStatus::Scheduled | MatchStatus::Live | MatchStatus::Halftime => {
                self.quote(fx, &st, t, &event, out)
            }
            MatchStatus::Finished => self.settle(fx, &st, &event, out),
            MatchStatus::Postponed | MatchStatus::Cancelled => self.void(fx, &event, out),
        }
    }

    fn push(&self, out: &mut Vec<Observation>, event: &Arc<EventRef>, body: ObservationBody) {
        out.push(Observation {
            provider: self.p.id.clone(),
            event: event.clone(),
            observed_at: self.observed_at,
            body,
        });
    }

    /// The instant this provider sees `fx` at: usually now − lag, sometimes older (stale).
    fn view_time(&self, fx: &Fixture) -> i64 {
        let t = self.observed_at.millis();
        let h = mix4(
            self.salt,
            tag::STALE,
            fx.seed,
            t.div_euclid(STALE_BUCKET_MS) as u64,
        );
        if unit(h) < self.p.stale_rate {
            t.saturating_sub(STALE_MIN_MS + below(splitmix64(h), STALE_SPREAD_MS) as i64)
        } else {
            t
        }
    }

    /// The fixture under this provider's id, with its scheduled or actual kick-off.
    fn event_ref(&self, fx: &Fixture) -> Arc<EventRef> {
        let provider_event_id = match self.p.event_id_prefix {
            Some(prefix) => format!("{prefix}{:012x}", fx.seed >> 16),
            None => (fx.seed >> 20).to_string(),
        };
        let h = mix3(self.salt, tag::KICKOFF, fx.seed);
        let start = if unit(h) < self.p.actual_start_rate {
            fx.start + 60_000 + below(splitmix64(h), 90_000) as i64
        } else {
            fx.start
        };
        let team = |i: usize| self.league.teams.get(i).copied().unwrap_or("?").to_owned();
        Arc::new(EventRef {
            provider_event_id,
            sport: self.league.sport.to_owned(),
            league: self.league.league.to_owned(),
            home: team(fx.home),
            away: team(fx.away),
            start_time: Timestamp(start),
        })
    }

    fn score(&self, st: &State) -> ObservationBody {
        let period = match st.phase {
            Phase::Pre => "PRE",
            Phase::Period(i) => self.league.rules.label(i),
            Phase::Break(label) | Phase::Overtime(label) => label,
            Phase::Final => "FT",
            Phase::Off if st.status == MatchStatus::Cancelled => "CANC",
            Phase::Off => "PPD",
        };
        ObservationBody::Score {
            home: st.home,
            away: st.away,
            period: period.to_owned(),
            status: st.status,
            clock: st.clock_ms.map(format_clock),
        }
    }

    /// Prices of the three markets of a fixture not yet over.
    fn quote(
        &self,
        fx: &Fixture,
        st: &State,
        t: i64,
        event: &Arc<EventRef>,
        out: &mut Vec<Observation>,
    ) {
        let league = self.league;
        let outlook = Outlook::new(league, fx, st);
        let (mark, score) = st.current_mark();
        let (spread, total) = self.mark_lines(fx, mark, score);
        let halted = halted(league, fx, st, t);
        let ml = markets::moneyline(league, fx, st, &outlook);
        // Overtime is too short to price lines set for regulation: only the moneyline trades.
        let overtime = matches!(st.phase, Phase::Overtime(_));
        let mut quote = |idx: u64, market: MarketKey, fair: Fair| {
            let body = self.prices(fx, t, idx, market, fair, halted || (idx > 0 && overtime));
            self.push(out, event, body);
        };
        quote(0, key(MarketType::Moneyline, None), ml);
        if let Some(line) = Line::from_f64(spread) {
            quote(
                1,
                key(MarketType::Spread, Some(line)),
                markets::spread(st, &outlook, spread),
            );
        }
        if let Some(line) = Line::from_f64(total) {
            quote(
                2,
                key(MarketType::Total, Some(line)),
                markets::total(st, &outlook, total),
            );
        }
    }

    /// This provider's spread and total lines from line mark `mark` (score `score` then): the
    /// fair ones, sometimes half a point off.
    fn mark_lines(&self, fx: &Fixture, mark: usize, score: (u32, u32)) -> (f64, f64) {
        let st = State::at_mark(self.league, mark, score);
        let means = Outlook::means(self.league, fx, &st);
        let (spread, total) = markets::base_lines(self.league, &st, means);
        if self.league.rules.model == Model::Sets {
            return (spread, total);
        }
        (
            spread + self.shift(fx, 1, spread),
            total + self.shift(fx, 2, total),
        )
    }

    /// Keyed by the line itself, so a line is shifted always or never: what this provider
    /// settles is exactly what it quoted.
    fn shift(&self, fx: &Fixture, market: u64, line: f64) -> f64 {
        let h = mix4(
            self.salt,
            tag::LINE_SHIFT + (market << 8),
            fx.seed,
            (line * 2.0) as i64 as u64,
        );
        match unit(h) < self.p.line_shift_rate {
            false => 0.0,
            true if h & 1 == 0 => 0.5,
            true => -0.5,
        }
    }

    fn prices(
        &self,
        fx: &Fixture,
        t: i64,
        idx: u64,
        market: MarketKey,
        fair: Fair,
        halted: bool,
    ) -> ObservationBody {
        let pull = mix4(
            self.salt,
            tag::PULL + (idx << 8),
            fx.seed,
            t.div_euclid(PULL_BUCKET_MS) as u64,
        );
        let status = if halted || fair.decided || unit(pull) < PULL_RATE {
            MarketStatus::Suspended
        } else {
            MarketStatus::Active
        };
        let bucket = self.noise_bucket(fx, t);
        let prices = fair
            .selections()
            .iter()
            .enumerate()
            .filter_map(|(i, &(sel, p))| {
                let u = signed_unit(mix4(self.salt, fx.seed, bucket, idx << 8 | i as u64));
                Some((sel.selection(), self.price(p, u)?))
            })
            .collect();
        ObservationBody::Prices {
            market,
            prices,
            status,
        }
    }

    /// Price buckets last 3–7 s and start at a per-(provider, match) offset, so prices move
    /// every few seconds but not all at once.
    fn noise_bucket(&self, fx: &Fixture, t: i64) -> u64 {
        let h = mix3(self.salt, tag::NOISE, fx.seed);
        let len = 3_000 + below(h, 4_000) as i64;
        let offset = below(splitmix64(h), len as u64) as i64;
        t.saturating_add(offset).div_euclid(len) as u64
    }

    /// Fair probability → decimal price with this provider's margin and noise `u` in `-1..1`.
    fn price(&self, p: f64, u: f64) -> Option<Price> {
        let implied = p.clamp(0.002, 0.995) * (1.0 + self.p.margin) * (1.0 + self.p.noise * u);
        let decimal = ((100.0 / implied).round() / 100.0).clamp(1.01, 500.0);
        Price::from_decimal(decimal).ok()
    }

    /// Results of the moneyline and of every spread and total line quoted (one per line mark).
    fn settle(&self, fx: &Fixture, st: &State, event: &Arc<EventRef>, out: &mut Vec<Observation>) {
        let league = self.league;
        let (home, away) = (st.home, st.away);
        let results = markets::settle_moneyline(league.rules.draw_allowed, home, away);
        let market = key(MarketType::Moneyline, None);
        self.push(out, event, ObservationBody::Settled { market, results });
        let mut spreads = Distinct::default();
        let mut totals = Distinct::default();
        for (mark, score) in st.marks.iter().enumerate() {
            if let Some(score) = *score {
                let (spread, total) = self.mark_lines(fx, mark, score);
                spreads.insert(spread);
                totals.insert(total);
            }
        }
        for spread in spreads.iter() {
            if let Some(line) = Line::from_f64(spread) {
                let results = markets::settle_spread(spread, home, away);
                let market = key(MarketType::Spread, Some(line));
                self.push(out, event, ObservationBody::Settled { market, results });
            }
        }
        for total in totals.iter() {
            if let Some(line) = Line::from_f64(total) {
                let results = markets::settle_total(total, home, away);
                let market = key(MarketType::Total, Some(line));
                self.push(out, event, ObservationBody::Settled { market, results });
            }
        }
    }

    /// Everything void: the moneyline and the pre-match lines that were quoted.
    fn void(&self, fx: &Fixture, event: &Arc<EventRef>, out: &mut Vec<Observation>) {
        let ml: &[Sel] = if self.league.rules.draw_allowed {
            &[Sel::Home, Sel::Draw, Sel::Away]
        } else {
            &[Sel::Home, Sel::Away]
        };
        let (spread, total) = self.mark_lines(fx, 0, (0, 0));
        let markets = [
            (key(MarketType::Moneyline, None), ml),
            (
                key(MarketType::Spread, Line::from_f64(spread)),
                &[Sel::Home, Sel::Away][..],
            ),
            (
                key(MarketType::Total, Line::from_f64(total)),
                &[Sel::Over, Sel::Under][..],
            ),
        ];
        for (market, sels) in markets {
            if market.market_type.has_line() == market.line.is_some() {
                let results = markets::void(sels);
                self.push(out, event, ObservationBody::Settled { market, results });
            }
        }
    }
}

/// Up to [`MARKS`] distinct lines, in first-seen order, without allocating.
#[derive(Default)]
struct Distinct {
    lines: [f64; MARKS],
    len: usize,
}

impl Distinct {
    fn insert(&mut self, line: f64) {
        if self.len < MARKS && !self.lines[..self.len].contains(&line) {
            self.lines[self.len] = line;
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        self.lines[..self.len].iter().copied()
    }
}

/// Whether the true world has the match's markets halted at `t`: just after a score, or a
/// random stoppage. Both providers see it, each through its own lag.
fn halted(league: &LeagueDef, fx: &Fixture, st: &State, t: i64) -> bool {
    if st.status != MatchStatus::Live {
        return false;
    }
    let (lo, hi) = league.rules.suspend_ms;
    if let Some((at, h)) = st.last_event {
        let len = lo + below(mix(h, tag::SUSPEND), (hi - lo).max(0) as u64 + 1) as i64;
        if hi > 0 && st.play_ms - at < len {
            return true;
        }
    }
    let bucket = t.saturating_sub(fx.start).div_euclid(HALT_BUCKET_MS) as u64;
    unit(mix3(fx.seed, tag::RANDOM_SUSPEND, bucket)) < HALT_RATE
}

fn key(market_type: MarketType, line: Option<Line>) -> MarketKey {
    MarketKey { market_type, line }
}

/// `MM:SS` of a clock in ms.
fn format_clock(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    format!("{:02}:{:02}", secs / 60, secs % 60)
}
