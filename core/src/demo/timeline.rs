//! The true state of one fixture at one instant, computed from scratch.
//!
//! Nothing is stepped or stored: the score at `t` is the sum of the scoring events before `t`,
//! and whether step `s` of fixture `f` holds an event is a hash of (`f`, `s`). Any thread can
//! ask about any instant, in any order, and gets the same answer.

use super::{
    catalog::LeagueDef,
    rng::{below, mix, splitmix64, stream, tag, unit},
    rules::{Clock, Spot},
};
use crate::model::MatchStatus;

/// Line marks per game: kick-off, then 25 %, 50 % and 75 % of regulation play.
pub(crate) const MARKS: usize = 4;

/// A postponement or cancellation is announced this long before kick-off, ms.
const ANNOUNCE_MS: i64 = 10 * 60_000;

/// Whether a fixture is played.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fate {
    /// Played as scheduled.
    Played,
    /// Moved to another date: markets are void.
    Postponed,
    /// Will not be played: markets are void.
    Cancelled,
}

/// One fixture `k` of one slot of one league: who plays whom, when, and how strong each is.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    /// Hash every decision about this fixture derives from.
    pub seed: u64,
    /// Scheduled kick-off, unix ms.
    pub start: i64,
    /// Index of the home team in the league's team list.
    pub home: usize,
    /// Index of the away team (never equal to `home`).
    pub away: usize,
    /// Chance that a scoring event (a set, in tennis) goes to the home side, in `0.15..=0.85`.
    pub share: f64,
    /// Played, postponed or cancelled.
    pub fate: Fate,
}

/// The period a state is in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    /// Before kick-off.
    Pre,
    /// Regulation period (0-based).
    Period(u8),
    /// A break, with its label.
    Break(&'static str),
    /// Overtime, with its label.
    Overtime(&'static str),
    /// Over.
    Final,
    /// Postponed or cancelled.
    Off,
}

/// The true state of a fixture at one instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct State {
    /// Match status.
    pub status: MatchStatus,
    /// Home points.
    pub home: u32,
    /// Away points.
    pub away: u32,
    /// Period.
    pub phase: Phase,
    /// Displayed game clock, ms of real-game time, if the sport shows one.
    pub clock_ms: Option<i64>,
    /// Play time elapsed, ms.
    pub play_ms: i64,
    /// Play time and hash of the latest scoring event.
    pub last_event: Option<(i64, u64)>,
    /// Scoring steps left in the current stretch (regulation or overtime).
    pub remaining_steps: f64,
    /// Score at each line mark reached: spread and total lines are set at kick-off and
    /// re-set at each quarter of regulation play, so a book quotes (and settles) at most
    /// [`MARKS`] lines per market type.
    pub marks: [Option<(u32, u32)>; MARKS],
}

/// When a scan over scoring steps stops early.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Never,
    RaceTo(u32),
    FirstEvent,
}

/// Running result of a scan.
struct Tally {
    home: u32,
    away: u32,
    last: Option<(i64, u64)>,
    decided_at: Option<i64>,
    marks: [Option<(u32, u32)>; MARKS],
    /// Play time between two line marks.
    mark_every: i64,
    /// The next mark to record; [`MARKS`] = none left (or not recording).
    next_mark: usize,
}

/// The play-time window a scan covers: steps of `0..len`, events before `until`, reported at
/// `offset + t`.
struct Span {
    offset: i64,
    len: i64,
    until: i64,
}

// === impl Fixture ===

impl Fixture {
    /// The true state at wall instant `t` (unix ms).
    pub fn state_at(&self, league: &LeagueDef, t: i64) -> State {
        let r = league.rules;
        let reg_play = r.regulation_play_ms();
        let mut st = State {
            status: MatchStatus::Scheduled,
            home: 0,
            away: 0,
            phase: Phase::Pre,
            clock_ms: None,
            play_ms: 0,
            last_event: None,
            remaining_steps: (reg_play / r.step_ms) as f64,
            marks: [Some((0, 0)), None, None, None],
        };
        let rel = t.saturating_sub(self.start);
        if self.fate != Fate::Played && rel >= -ANNOUNCE_MS {
            st.status = match self.fate {
                Fate::Cancelled => MatchStatus::Cancelled,
                _ => MatchStatus::Postponed,
            };
            st.phase = Phase::Off;
            return st;
        }
        if rel < 0 {
            return st;
        }
        let (play, spot) = r.locate(rel);
        let stop = r.race_to.map_or(Stop::Never, Stop::RaceTo);
        let mut tally = Tally {
            home: 0,
            away: 0,
            last: None,
            decided_at: None,
            marks: st.marks,
            mark_every: reg_play / MARKS as i64,
            next_mark: 1,
        };
        let span = Span {
            offset: 0,
            len: reg_play,
            until: play,
        };
        self.scan(league, tag::STEP, &span, stop, &mut tally);
        st.home = tally.home;
        st.away = tally.away;
        st.last_event = tally.last;
        st.play_ms = play;
        st.marks = tally.marks;
        if tally.decided_at.is_some() {
            return finish(st);
        }
        let remaining = |play: i64| ((reg_play - play) / r.step_ms) as f64;
        match spot {
            Spot::InPeriod { period, into_ms } => {
                st.status = MatchStatus::Live;
                st.phase = Phase::Period(period);
                st.clock_ms = self.clock(league, period, into_ms);
                st.remaining_steps = remaining(play);
            }
            Spot::Break(label) => {
                st.status = MatchStatus::Halftime;
                st.phase = Phase::Break(label);
                st.remaining_steps = remaining(play);
            }
            Spot::AfterRegulation { over_ms } => return self.overtime(league, st, over_ms),
        }
        st
    }

    /// The state once everything is over.
    #[cfg(test)]
    pub fn final_state(&self, league: &LeagueDef) -> State {
        let r = league.rules;
        let ot = r.overtime().map_or(0, |o| o.0);
        let end = r.regulation_wall_ms() + ot + 1;
        self.state_at(league, self.start.saturating_add(end.max(0)))
    }

    /// Level after regulation in a sport without draws: overtime, then a decider.
    fn overtime(&self, league: &LeagueDef, mut st: State, over_ms: i64) -> State {
        let r = league.rules;
        let reg_play = r.regulation_play_ms();
        let Some((ot_len, label, sudden)) = r.overtime() else {
            return finish(st);
        };
        if st.home != st.away || r.draw_allowed {
            return finish(st);
        }
        let stop = if sudden {
            Stop::FirstEvent
        } else {
            Stop::Never
        };
        let mut tally = Tally {
            home: st.home,
            away: st.away,
            last: None,
            decided_at: None,
            marks: st.marks,
            mark_every: 0,
            next_mark: MARKS,
        };
        let until = over_ms.min(ot_len);
        let span = Span {
            offset: reg_play,
            len: ot_len,
            until,
        };
        self.scan(league, tag::OT_STEP, &span, stop, &mut tally);
        st.home = tally.home;
        st.away = tally.away;
        st.last_event = tally.last.or(st.last_event);
        st.play_ms = reg_play + until;
        if tally.decided_at.is_some() {
            return finish(st);
        }
        if over_ms < ot_len {
            st.status = MatchStatus::Live;
            st.phase = Phase::Overtime(label);
            st.clock_ms = self.scaled(league, ot_len - over_ms);
            st.remaining_steps = ((ot_len - over_ms) / r.step_ms) as f64;
            return st;
        }
        if st.home == st.away {
            // Shoot-out, walk-off or last-second basket: someone has to win.
            let h = mix(self.seed, tag::DECIDER);
            if unit(h) < self.share {
                st.home += r.decider_points;
            } else {
                st.away += r.decider_points;
            }
            st.last_event = Some((reg_play + ot_len - 1, h));
        }
        finish(st)
    }

    /// Adds the scoring events of the steps of `span` that happen before `span.until`,
    /// recording the score at each line mark passed.
    fn scan(&self, league: &LeagueDef, salt: u64, span: &Span, stop: Stop, tally: &mut Tally) {
        let r = league.rules;
        let base = mix(self.seed, salt);
        // Compare raw hashes with a threshold: the scan is the hot loop of every poll.
        let threshold = (league.event_rate.clamp(0.0, 1.0) * 2f64.powi(64)) as u64;
        let always = league.event_rate >= 1.0;
        let home_below = (self.share.clamp(0.0, 1.0) * 2f64.powi(32)) as u64;
        for s in 0..span.len / r.step_ms {
            let step_start = s * r.step_ms;
            if step_start >= span.until {
                break;
            }
            let h = stream(base, s as u64);
            if h >= threshold && !always {
                continue;
            }
            let detail = splitmix64(h);
            let into = if r.event_at_step_end {
                r.step_ms - 1
            } else {
                below(detail, r.step_ms as u64) as i64
            };
            let at = step_start + into;
            if at >= span.until {
                break;
            }
            tally.mark(span.offset + at);
            // Top bits chose the instant; bits 32..48 pick the points, bits 0..32 the side.
            let points = r.pick_points((detail >> 32) & 0xFFFF);
            if (detail & 0xFFFF_FFFF) < home_below {
                tally.home += points;
            } else {
                tally.away += points;
            }
            tally.last = Some((span.offset + at, h));
            let decided = match stop {
                Stop::Never => false,
                Stop::RaceTo(n) => tally.home >= n || tally.away >= n,
                Stop::FirstEvent => true,
            };
            if decided {
                tally.decided_at = Some(span.offset + at);
                tally.mark(span.offset + at + 1);
                return;
            }
        }
        tally.mark(span.offset + span.until);
    }

    /// The displayed clock inside regulation period `period`.
    fn clock(&self, league: &LeagueDef, period: u8, into_ms: i64) -> Option<i64> {
        let r = league.rules;
        match r.clock {
            Clock::None => None,
            Clock::Down => self.scaled(league, r.period_ms - into_ms),
            Clock::Up => self.scaled(league, i64::from(period) * r.period_ms + into_ms),
        }
    }

    /// Compressed wall ms → real-game clock ms.
    fn scaled(&self, league: &LeagueDef, ms: i64) -> Option<i64> {
        let r = league.rules;
        if league.clock_period_ms <= 0 || r.clock == Clock::None {
            return None;
        }
        Some(ms.saturating_mul(league.clock_period_ms) / r.period_ms.max(1))
    }
}

/// Marks a state finished.
fn finish(mut st: State) -> State {
    st.status = MatchStatus::Finished;
    st.phase = Phase::Final;
    st.clock_ms = None;
    st.remaining_steps = 0.0;
    st
}

// === impl State ===

impl State {
    /// The state a book sets lines from at mark `mark`: the score then, and the scoring steps
    /// left in regulation from there.
    pub fn at_mark(league: &LeagueDef, mark: usize, score: (u32, u32)) -> Self {
        let r = league.rules;
        let reg_play = r.regulation_play_ms();
        let play = reg_play / MARKS as i64 * mark.min(MARKS) as i64;
        Self {
            status: MatchStatus::Live,
            home: score.0,
            away: score.1,
            phase: Phase::Pre,
            clock_ms: None,
            play_ms: play,
            last_event: None,
            remaining_steps: ((reg_play - play) / r.step_ms.max(1)) as f64,
            marks: [None; MARKS],
        }
    }

    /// The latest line mark reached, with the score then.
    pub fn current_mark(&self) -> (usize, (u32, u32)) {
        (0..MARKS)
            .rev()
            .find_map(|j| self.marks[j].map(|score| (j, score)))
            .unwrap_or((0, (0, 0)))
    }
}

// === impl Tally ===

impl Tally {
    /// Records the current score for every line mark at or before play time `play` not yet
    /// recorded: no event at or after such a mark has been added yet.
    fn mark(&mut self, play: i64) {
        while self.next_mark < MARKS && self.next_mark as i64 * self.mark_every <= play {
            self.marks[self.next_mark] = Some((self.home, self.away));
            self.next_mark += 1;
        }
    }
}
