//! Sport rules of the simulated world: compressed periods, breaks, scoring, overtime, clocks.
//!
//! Real games last hours; the demo squeezes each into 15–25 minutes of wall time so a viewer
//! sees kick-off, halftime and a final whistle within one coffee. Everything that depends on
//! the sport and not on the league lives here; the league adds its scoring rate and clock.

/// A break between periods (halftime, hockey intermission).
#[derive(Debug)]
pub(crate) struct Break {
    /// Comes after this many periods.
    pub after: u8,
    /// Wall length, ms.
    pub len_ms: i64,
    /// Period label while it lasts (`HT`, `INT`).
    pub label: &'static str,
}

/// What happens when a sport without draws is level after regulation.
#[derive(Debug)]
pub(crate) enum Overtime {
    /// The game may end level (soccer, tennis cannot be level).
    None,
    /// The first score wins; if nobody scores, a decider (shoot-out, walk-off) ends it.
    SuddenDeath { len_ms: i64, label: &'static str },
    /// A full extra period; a decider breaks a tie still standing at its end.
    Period { len_ms: i64, label: &'static str },
}

/// How fair probabilities are modelled for the sport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Model {
    /// Many points: normal approximation of the remaining margin and total.
    Normal,
    /// Few goals or runs: independent Poisson counts per side.
    Poisson,
    /// Tennis: sets won, each set a biased coin.
    Sets,
}

/// How the game clock is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Clock {
    /// No clock (baseball, tennis).
    None,
    /// Counts down within each period (`15:00` → `00:00`).
    Down,
    /// Counts up across the game (`00:00` → `90:00`).
    Up,
}

/// Everything the simulation needs to know about a sport.
#[derive(Debug)]
pub(crate) struct SportRules {
    /// Regulation periods (quarters, halves, periods, innings, sets).
    pub periods: u8,
    /// Wall length of one period, ms.
    pub period_ms: i64,
    /// Period labels; past the list (overtime) the overtime label is used.
    pub labels: &'static [&'static str],
    /// Breaks between periods.
    pub breaks: &'static [Break],
    /// One scoring chance per step of play time, ms.
    pub step_ms: i64,
    /// Points a scoring event is worth, with relative weights.
    pub points: &'static [(u32, u32)],
    /// Tennis: the set point falls at the end of the step, not somewhere inside it.
    pub event_at_step_end: bool,
    /// Tennis: the match ends as soon as one side has this many.
    pub race_to: Option<u32>,
    /// Tie-break after regulation.
    pub overtime: Overtime,
    /// Points of the decider when overtime itself ends level.
    pub decider_points: u32,
    /// Whether a draw is a valid final result (3-way moneyline).
    pub draw_allowed: bool,
    /// Probability model for prices.
    pub model: Model,
    /// Game clock style.
    pub clock: Clock,
    /// Added to the home side's rating difference.
    pub home_advantage: f64,
    /// How much a rating difference moves the home share of scoring events.
    pub share_slope: f64,
    /// A market stays suspended this long (wall ms, range) after a score; `(0, 0)` = never.
    pub suspend_ms: (i64, i64),
    /// Wall time between two fixtures of one slot, ms.
    pub cycle_ms: i64,
    /// How long before kick-off a fixture appears (pre-match), ms.
    pub pre_ms: i64,
}

/// Where in the game a play instant falls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Spot {
    /// Inside regulation period `period` (0-based), `into_ms` into it.
    InPeriod { period: u8, into_ms: i64 },
    /// In a break.
    Break(&'static str),
    /// Regulation is over, `over_ms` of wall time ago.
    AfterRegulation { over_ms: i64 },
}

const MIN: i64 = 60_000;

// === impl SportRules ===

impl SportRules {
    /// Play time of regulation, ms (breaks excluded).
    pub fn regulation_play_ms(&self) -> i64 {
        i64::from(self.periods) * self.period_ms
    }

    /// Wall time of regulation, ms (breaks included).
    #[cfg(test)]
    pub fn regulation_wall_ms(&self) -> i64 {
        self.regulation_play_ms() + self.breaks.iter().map(|b| b.len_ms).sum::<i64>()
    }

    /// Length and label of overtime, if the sport has one.
    pub fn overtime(&self) -> Option<(i64, &'static str, bool)> {
        match self.overtime {
            Overtime::None => None,
            Overtime::SuddenDeath { len_ms, label } => Some((len_ms, label, true)),
            Overtime::Period { len_ms, label } => Some((len_ms, label, false)),
        }
    }

    /// Label of regulation period `i` (0-based).
    pub fn label(&self, i: u8) -> &'static str {
        self.labels.get(usize::from(i)).copied().unwrap_or("OT")
    }

    /// Mean and second moment of the points of one scoring event.
    pub fn point_moments(&self) -> (f64, f64) {
        let total: u32 = self.points.iter().map(|p| p.1).sum::<u32>().max(1);
        self.points.iter().fold((0.0, 0.0), |(m1, m2), &(pts, w)| {
            let (p, x) = (f64::from(w) / f64::from(total), f64::from(pts));
            (m1 + p * x, m2 + p * x * x)
        })
    }

    /// Points of one scoring event, picked by `roll16` in `0..65_536`.
    pub fn pick_points(&self, roll16: u64) -> u32 {
        let total: u32 = self.points.iter().map(|p| p.1).sum();
        let mut roll = ((roll16 & 0xFFFF) * u64::from(total)) >> 16;
        for &(pts, w) in self.points {
            if roll < u64::from(w) {
                return pts;
            }
            roll -= u64::from(w);
        }
        1
    }

    /// Where wall instant `rel` (ms since kick-off, ≥ 0) falls, and the play time elapsed.
    pub fn locate(&self, rel: i64) -> (i64, Spot) {
        let (mut wall, mut play) = (0, 0);
        for p in 0..self.periods {
            if rel < wall + self.period_ms {
                let into_ms = rel - wall;
                return (play + into_ms, Spot::InPeriod { period: p, into_ms });
            }
            wall += self.period_ms;
            play += self.period_ms;
            if let Some(b) = self.breaks.iter().find(|b| b.after == p + 1) {
                if rel < wall + b.len_ms {
                    return (play, Spot::Break(b.label));
                }
                wall += b.len_ms;
            }
        }
        (
            play,
            Spot::AfterRegulation {
                over_ms: rel - wall,
            },
        )
    }
}

/// American football: 4 × 5 min, 2 min halftime, sudden-death overtime.
pub(crate) static FOOTBALL: SportRules = SportRules {
    periods: 4,
    period_ms: 5 * MIN,
    labels: &["Q1", "Q2", "Q3", "Q4"],
    breaks: &[Break {
        after: 2,
        len_ms: 2 * MIN,
        label: "HT",
    }],
    step_ms: 10_000,
    // Touchdown + kick, field goal, two-point conversion, missed kick, safety.
    points: &[(7, 55), (3, 38), (8, 3), (6, 2), (2, 2)],
    event_at_step_end: false,
    race_to: None,
    overtime: Overtime::SuddenDeath {
        len_ms: 3 * MIN,
        label: "OT",
    },
    decider_points: 3,
    draw_allowed: false,
    model: Model::Normal,
    clock: Clock::Down,
    home_advantage: 0.08,
    share_slope: 0.1,
    suspend_ms: (12_000, 20_000),
    cycle_ms: 70 * MIN,
    pre_ms: 25 * MIN,
};

/// Basketball: 4 × 4 min, 2 min halftime, a full overtime period.
pub(crate) static BASKETBALL: SportRules = SportRules {
    periods: 4,
    period_ms: 4 * MIN,
    labels: &["Q1", "Q2", "Q3", "Q4"],
    breaks: &[Break {
        after: 2,
        len_ms: 2 * MIN,
        label: "HT",
    }],
    step_ms: 6_000,
    points: &[(2, 56), (3, 26), (1, 18)],
    event_at_step_end: false,
    race_to: None,
    overtime: Overtime::Period {
        len_ms: 80_000,
        label: "OT",
    },
    decider_points: 2,
    draw_allowed: false,
    model: Model::Normal,
    clock: Clock::Down,
    home_advantage: 0.06,
    share_slope: 0.025,
    // Baskets come every few seconds; books do not suspend for each one.
    suspend_ms: (0, 0),
    cycle_ms: 60 * MIN,
    pre_ms: 25 * MIN,
};

/// Soccer: 2 × 10 min, 3 min halftime, draws stand.
pub(crate) static SOCCER: SportRules = SportRules {
    periods: 2,
    period_ms: 10 * MIN,
    labels: &["1st Half", "2nd Half"],
    breaks: &[Break {
        after: 1,
        len_ms: 3 * MIN,
        label: "HT",
    }],
    step_ms: 10_000,
    points: &[(1, 1)],
    event_at_step_end: false,
    race_to: None,
    overtime: Overtime::None,
    decider_points: 1,
    draw_allowed: true,
    model: Model::Poisson,
    clock: Clock::Up,
    home_advantage: 0.1,
    share_slope: 0.25,
    suspend_ms: (15_000, 25_000),
    cycle_ms: 75 * MIN,
    pre_ms: 25 * MIN,
};

/// Ice hockey: 3 × 5 min, 1 min intermissions, sudden-death overtime then a shoot-out.
pub(crate) static HOCKEY: SportRules = SportRules {
    periods: 3,
    period_ms: 5 * MIN,
    labels: &["P1", "P2", "P3"],
    breaks: &[
        Break {
            after: 1,
            len_ms: MIN,
            label: "INT",
        },
        Break {
            after: 2,
            len_ms: MIN,
            label: "INT",
        },
    ],
    step_ms: 10_000,
    points: &[(1, 1)],
    event_at_step_end: false,
    race_to: None,
    overtime: Overtime::SuddenDeath {
        len_ms: 2 * MIN,
        label: "OT",
    },
    decider_points: 1,
    draw_allowed: false,
    model: Model::Poisson,
    clock: Clock::Down,
    home_advantage: 0.06,
    share_slope: 0.15,
    suspend_ms: (10_000, 15_000),
    cycle_ms: 60 * MIN,
    pre_ms: 25 * MIN,
};

/// Baseball: 9 × 2 min innings, an extra inning decides a tie.
pub(crate) static BASEBALL: SportRules = SportRules {
    periods: 9,
    period_ms: 2 * MIN,
    labels: &["1", "2", "3", "4", "5", "6", "7", "8", "9"],
    breaks: &[],
    step_ms: 10_000,
    points: &[(1, 70), (2, 20), (3, 7), (4, 3)],
    event_at_step_end: false,
    race_to: None,
    overtime: Overtime::SuddenDeath {
        len_ms: 2 * MIN,
        label: "10",
    },
    decider_points: 1,
    draw_allowed: false,
    model: Model::Poisson,
    clock: Clock::None,
    home_advantage: 0.05,
    share_slope: 0.1,
    suspend_ms: (8_000, 12_000),
    cycle_ms: 60 * MIN,
    pre_ms: 25 * MIN,
};

/// Tennis: best of 3 sets of 7 min each; the score counts sets.
pub(crate) static TENNIS: SportRules = SportRules {
    periods: 3,
    period_ms: 7 * MIN,
    labels: &["Set 1", "Set 2", "Set 3"],
    breaks: &[],
    step_ms: 7 * MIN,
    points: &[(1, 1)],
    event_at_step_end: true,
    race_to: Some(2),
    overtime: Overtime::None,
    decider_points: 1,
    draw_allowed: false,
    model: Model::Sets,
    clock: Clock::None,
    home_advantage: 0.0,
    share_slope: 0.35,
    suspend_ms: (15_000, 20_000),
    cycle_ms: 60 * MIN,
    pre_ms: 25 * MIN,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_walks_periods_and_breaks() {
        let r = &SOCCER;
        assert_eq!(
            r.locate(0),
            (
                0,
                Spot::InPeriod {
                    period: 0,
                    into_ms: 0
                }
            )
        );
        assert_eq!(r.locate(10 * MIN), (10 * MIN, Spot::Break("HT")));
        let (play, spot) = r.locate(14 * MIN);
        assert_eq!(
            (play, spot),
            (
                11 * MIN,
                Spot::InPeriod {
                    period: 1,
                    into_ms: MIN
                }
            )
        );
        assert_eq!(r.locate(24 * MIN).1, Spot::AfterRegulation { over_ms: MIN });
    }

    #[test]
    fn every_game_fits_its_cycle() {
        for r in [&FOOTBALL, &BASKETBALL, &SOCCER, &HOCKEY, &BASEBALL, &TENNIS] {
            let ot = r.overtime().map_or(0, |o| o.0);
            assert!(r.pre_ms + r.regulation_wall_ms() + ot < r.cycle_ms, "{r:?}");
            assert!(r.period_ms % r.step_ms == 0);
        }
    }
}
