//! The three demo markets (moneyline, spread, total): fair lines and probabilities from an
//! [`Outlook`], and settlement from a final score.
//!
//! Lines follow the game: the spread is the expected final margin and the total the expected
//! final points, both rounded to half points, so whole lines (and pushes) happen naturally.

use super::{
    catalog::LeagueDef,
    outlook::Outlook,
    rules::Model,
    timeline::{Fixture, State},
};
use crate::model::{Selection, Settlement};

/// A fair probability below this (or its complement above) means the market is decided:
/// books suspend it rather than quote 1.01.
const DECIDED: f64 = 0.02;

/// The selections of a market, by position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sel {
    Home,
    Draw,
    Away,
    Over,
    Under,
}

/// Fair probabilities of one market's selections (push mass removed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fair {
    /// Up to three selections; the first `len` are used.
    pub sels: [(Sel, f64); 3],
    /// How many selections.
    pub len: usize,
    /// Whether the outcome is (nearly) certain.
    pub decided: bool,
}

// === impl Sel ===

impl Sel {
    /// The shared selection type.
    pub fn selection(self) -> Selection {
        match self {
            Self::Home => Selection::Home,
            Self::Draw => Selection::Draw,
            Self::Away => Selection::Away,
            Self::Over => Selection::Over,
            Self::Under => Selection::Under,
        }
    }
}

// === impl Fair ===

impl Fair {
    /// The selections in use.
    pub fn selections(&self) -> &[(Sel, f64)] {
        &self.sels[..self.len.min(3)]
    }

    fn two_way(a: Sel, win: f64, b: Sel, lose: f64) -> Self {
        let sum = win + lose;
        let p = if sum > 1e-12 { win / sum } else { 0.5 };
        let decided = sum <= 1e-12 || !(DECIDED..=1.0 - DECIDED).contains(&p);
        Self {
            sels: [(a, p), (b, 1.0 - p), (b, 0.0)],
            len: 2,
            decided,
        }
    }
}

/// Base spread (home handicap) and total lines for state `st`, given the expected remaining
/// change of (margin, total) from [`Outlook::means`].
pub(crate) fn base_lines(league: &LeagueDef, st: &State, means: (f64, f64)) -> (f64, f64) {
    let lead = f64::from(st.home) - f64::from(st.away);
    let current = f64::from(st.home) + f64::from(st.away);
    if league.rules.model == Model::Sets {
        // Tennis books quote set handicaps of ±1.5 and 2.5 sets.
        let favourite_home = lead + means.0 >= 0.0;
        return (if favourite_home { -1.5 } else { 1.5 }, 2.5);
    }
    let spread = -round_half(lead + means.0);
    // A total at or below the points already scored would be settled before it is offered.
    let total = round_half(current + means.1).max(current + 0.5);
    (spread, total)
}

/// Fair moneyline (3-way where draws stand).
pub(crate) fn moneyline(league: &LeagueDef, fx: &Fixture, st: &State, outlook: &Outlook) -> Fair {
    let lead = f64::from(st.home) - f64::from(st.away);
    let c = outlook.margin_cmp(-lead);
    if league.rules.draw_allowed {
        let sels = [(Sel::Home, c.gt), (Sel::Draw, c.eq), (Sel::Away, c.lt)];
        let decided = sels
            .iter()
            .any(|s| s.1 < DECIDED / 2.0 || s.1 > 1.0 - DECIDED);
        return Fair {
            sels,
            len: 3,
            decided,
        };
    }
    // Level at the end goes to overtime, won by the side that scores first.
    Fair::two_way(
        Sel::Home,
        c.gt + c.eq * fx.share,
        Sel::Away,
        c.lt + c.eq * (1.0 - fx.share),
    )
}

/// Fair spread at home handicap `line`.
pub(crate) fn spread(st: &State, outlook: &Outlook, line: f64) -> Fair {
    let lead = f64::from(st.home) - f64::from(st.away);
    let c = outlook.margin_cmp(-lead - line);
    Fair::two_way(Sel::Home, c.gt, Sel::Away, c.lt)
}

/// Fair total at `line`.
pub(crate) fn total(st: &State, outlook: &Outlook, line: f64) -> Fair {
    let current = f64::from(st.home) + f64::from(st.away);
    let c = outlook.total_cmp(line - current);
    Fair::two_way(Sel::Over, c.gt, Sel::Under, c.lt)
}

/// Moneyline result of a final score.
pub(crate) fn settle_moneyline(
    draw_allowed: bool,
    home: u32,
    away: u32,
) -> Vec<(Selection, Settlement)> {
    let won = |b: bool| if b { Settlement::Won } else { Settlement::Lost };
    let mut out = vec![(Selection::Home, won(home > away))];
    if draw_allowed {
        out.push((Selection::Draw, won(home == away)));
    }
    out.push((Selection::Away, won(away > home)));
    out
}

/// Spread result of a final score at home handicap `line`.
pub(crate) fn settle_spread(line: f64, home: u32, away: u32) -> Vec<(Selection, Settlement)> {
    let adjusted = f64::from(home) - f64::from(away) + line;
    let (h, a) = two_way_result(adjusted);
    vec![(Selection::Home, h), (Selection::Away, a)]
}

/// Total result of a final score at `line`.
pub(crate) fn settle_total(line: f64, home: u32, away: u32) -> Vec<(Selection, Settlement)> {
    let (o, u) = two_way_result(f64::from(home) + f64::from(away) - line);
    vec![(Selection::Over, o), (Selection::Under, u)]
}

/// Every selection of a market void (postponed, cancelled).
pub(crate) fn void(sels: &[Sel]) -> Vec<(Selection, Settlement)> {
    sels.iter()
        .map(|s| (s.selection(), Settlement::Void))
        .collect()
}

/// (first, second) result when `diff` is the first selection's margin over the line.
fn two_way_result(diff: f64) -> (Settlement, Settlement) {
    if diff > 0.0 {
        (Settlement::Won, Settlement::Lost)
    } else if diff < 0.0 {
        (Settlement::Lost, Settlement::Won)
    } else {
        (Settlement::Push, Settlement::Push)
    }
}

/// Rounds to the nearest half point.
fn round_half(x: f64) -> f64 {
    if x.is_finite() {
        (x * 2.0).round() / 2.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settlement_follows_the_line() {
        assert_eq!(settle_spread(-3.0, 24, 21)[0].1, Settlement::Push);
        assert_eq!(settle_spread(-3.5, 24, 21)[0].1, Settlement::Lost);
        assert_eq!(settle_spread(-3.5, 24, 21)[1].1, Settlement::Won);
        assert_eq!(settle_total(45.0, 24, 21)[1].1, Settlement::Push);
        assert_eq!(settle_total(44.5, 24, 21)[0].1, Settlement::Won);
        let ml = settle_moneyline(true, 1, 1);
        assert_eq!(ml[1], (Selection::Draw, Settlement::Won));
        assert_eq!(ml[0].1, Settlement::Lost);
    }

    #[test]
    fn two_way_normalises_and_flags_certainty() {
        let f = Fair::two_way(Sel::Over, 0.3, Sel::Under, 0.3);
        assert_eq!(f.selections()[0].1, 0.5);
        assert!(!f.decided);
        assert!(Fair::two_way(Sel::Over, 0.999, Sel::Under, 0.001).decided);
        assert_eq!(round_half(-3.3), -3.5);
        assert_eq!(round_half(f64::NAN), 0.0);
    }
}
