//! Fair probabilities of what is still to come in a fixture: the remaining margin and total.
//!
//! Prices and lines are derived from these. High-scoring sports use a normal approximation of
//! the per-step Bernoulli scoring process; low-scoring ones use independent Poisson counts per
//! side (so soccer gets honest draw probabilities); tennis enumerates the remaining sets.

use super::{catalog::LeagueDef, rules::Model, timeline::Fixture, timeline::State};

/// Largest change per side the discrete models track; beyond it the mass is negligible.
const N: usize = 24;
/// Bins of a discrete distribution: margin changes `-N..=N`, totals `0..=2N`.
const BINS: usize = 2 * N + 1;

/// Probabilities that a quantity ends above, on, or below a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cmp {
    /// P(value > line).
    pub gt: f64,
    /// P(value == line), non-zero only for whole lines.
    pub eq: f64,
    /// P(value < line).
    pub lt: f64,
}

/// Distribution of the remaining change in margin (home − away) and in total points.
// Lives on the stack for one fixture's pricing; boxing the tables would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Outlook {
    /// Normal approximations, with means and standard deviations.
    Normal {
        mu_m: f64,
        sd_m: f64,
        mu_t: f64,
        sd_t: f64,
    },
    /// Exact small distributions: `margin[d + N]`, `total[t]`.
    Discrete {
        margin: [f64; BINS],
        total: [f64; BINS],
    },
}

// === impl Outlook ===

impl Outlook {
    /// The outlook of `fx` from state `st`.
    pub fn new(league: &LeagueDef, fx: &Fixture, st: &State) -> Self {
        let r = league.rules;
        let n = st.remaining_steps.max(0.0);
        let q = league.event_rate.clamp(0.0, 1.0);
        let (m1, m2) = r.point_moments();
        let p = fx.share;
        match r.model {
            Model::Normal => {
                let step_m = q * m1 * (2.0 * p - 1.0);
                let var_m = (q * m2 - step_m * step_m).max(0.0);
                let step_t = q * m1;
                let var_t = (q * m2 - step_t * step_t).max(0.0);
                Self::Normal {
                    mu_m: n * step_m,
                    sd_m: (n * var_m).sqrt().max(0.5),
                    mu_t: n * step_t,
                    sd_t: (n * var_t).sqrt().max(0.5),
                }
            }
            Model::Poisson => {
                let (mut home, mut away) = ([0.0; N + 1], [0.0; N + 1]);
                let home_len = poisson(n * q * p * m1, &mut home);
                let away_len = poisson(n * q * (1.0 - p) * m1, &mut away);
                let mut margin = [0.0; BINS];
                for (i, ph) in home[..home_len].iter().enumerate() {
                    for (j, pa) in away[..away_len].iter().enumerate() {
                        margin[N + i - j] += ph * pa;
                    }
                }
                // The sum of independent Poisson counts is Poisson: no convolution needed.
                let mut total = [0.0; BINS];
                poisson(n * q * m1, &mut total);
                Self::Discrete { margin, total }
            }
            Model::Sets => {
                let (mut margin, mut total) = ([0.0; BINS], [0.0; BINS]);
                let race = r.race_to.unwrap_or(2);
                let mut acc = SetAcc {
                    p,
                    race,
                    from: (st.home, st.away),
                    margin: &mut margin,
                    total: &mut total,
                };
                acc.walk(st.home, st.away, 1.0);
                Self::Discrete { margin, total }
            }
        }
    }

    /// Expected remaining change of (margin, total) from `st`, without building the
    /// distributions: all that setting a line needs.
    pub fn means(league: &LeagueDef, fx: &Fixture, st: &State) -> (f64, f64) {
        let r = league.rules;
        if r.model == Model::Sets {
            let o = Self::new(league, fx, st);
            return (o.mean_margin(), o.mean_total());
        }
        let n = st.remaining_steps.max(0.0);
        let per_step = league.event_rate.clamp(0.0, 1.0) * r.point_moments().0;
        (n * per_step * (2.0 * fx.share - 1.0), n * per_step)
    }

    /// Expected remaining change of the margin.
    pub fn mean_margin(&self) -> f64 {
        match self {
            Self::Normal { mu_m, .. } => *mu_m,
            Self::Discrete { margin, .. } => margin
                .iter()
                .enumerate()
                .map(|(i, p)| (i as f64 - N as f64) * p)
                .sum(),
        }
    }

    /// Expected remaining points.
    pub fn mean_total(&self) -> f64 {
        match self {
            Self::Normal { mu_t, .. } => *mu_t,
            Self::Discrete { total, .. } => {
                total.iter().enumerate().map(|(i, p)| i as f64 * p).sum()
            }
        }
    }

    /// Where the remaining margin change ends relative to `x`.
    pub fn margin_cmp(&self, x: f64) -> Cmp {
        match self {
            Self::Normal { mu_m, sd_m, .. } => normal_cmp(*mu_m, *sd_m, x),
            Self::Discrete { margin, .. } => discrete_cmp(margin, -(N as f64), x),
        }
    }

    /// Where the remaining points end relative to `x`.
    pub fn total_cmp(&self, x: f64) -> Cmp {
        match self {
            Self::Normal { mu_t, sd_t, .. } => normal_cmp(*mu_t, *sd_t, x),
            Self::Discrete { total, .. } => discrete_cmp(total, 0.0, x),
        }
    }
}

/// Walks the remaining sets of a tennis match.
struct SetAcc<'a> {
    p: f64,
    race: u32,
    from: (u32, u32),
    margin: &'a mut [f64; BINS],
    total: &'a mut [f64; BINS],
}

impl SetAcc<'_> {
    fn walk(&mut self, h: u32, a: u32, prob: f64) {
        if h >= self.race || a >= self.race || h + a > 2 * self.race {
            let dm =
                (i64::from(h) - i64::from(a)) - (i64::from(self.from.0) - i64::from(self.from.1));
            let dt = i64::from(h + a) - i64::from(self.from.0 + self.from.1);
            let (mi, ti) = (dm + N as i64, dt);
            if (0..BINS as i64).contains(&mi) && (0..BINS as i64).contains(&ti) {
                self.margin[mi as usize] += prob;
                self.total[ti as usize] += prob;
            }
            return;
        }
        self.walk(h + 1, a, prob * self.p);
        self.walk(h, a + 1, prob * (1.0 - self.p));
    }
}

/// Fills `pmf` with Poisson probabilities of `0..pmf.len()`, renormalised over the
/// truncation, and returns how many leading entries carry mass (the rest are ~0).
fn poisson(lambda: f64, pmf: &mut [f64]) -> usize {
    let cap = pmf.len() as f64 / 2.0;
    let lambda = if lambda.is_finite() {
        lambda.clamp(0.0, cap)
    } else {
        0.0
    };
    let mut p = (-lambda).exp();
    let (mut sum, mut used) = (0.0, 0);
    for (k, slot) in pmf.iter_mut().enumerate() {
        *slot = p;
        sum += p;
        if p > 1e-12 || (k as f64) < lambda {
            used = k + 1;
        }
        p *= lambda / (k as f64 + 1.0);
    }
    if sum > 0.0 {
        pmf.iter_mut().for_each(|v| *v /= sum);
    }
    used
}

/// Compares a discrete distribution whose bin `i` holds value `first + i` with `x`.
fn discrete_cmp(bins: &[f64; BINS], first: f64, x: f64) -> Cmp {
    let mut c = Cmp {
        gt: 0.0,
        eq: 0.0,
        lt: 0.0,
    };
    for (i, p) in bins.iter().enumerate() {
        let v = first + i as f64;
        if v > x {
            c.gt += p;
        } else if v < x {
            c.lt += p;
        } else {
            c.eq += p;
        }
    }
    c
}

/// Compares an integer-valued quantity, approximately N(mu, sd²), with `x` (continuity
/// corrected, so whole lines get a push probability).
fn normal_cmp(mu: f64, sd: f64, x: f64) -> Cmp {
    let gt = 1.0 - phi((x.floor() + 0.5 - mu) / sd);
    let lt = phi((x.ceil() - 0.5 - mu) / sd);
    Cmp {
        gt,
        eq: (1.0 - gt - lt).max(0.0),
        lt,
    }
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26, error below 1.5e-7).
fn phi(z: f64) -> f64 {
    if !z.is_finite() {
        return if z > 0.0 { 1.0 } else { 0.0 };
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_matches_known_values() {
        assert!((phi(0.0) - 0.5).abs() < 1e-7);
        assert!((phi(1.96) - 0.975).abs() < 1e-3);
        assert!((phi(-1.0) - 0.158_655).abs() < 1e-5);
        assert_eq!(phi(f64::NAN), 0.0);
    }

    #[test]
    fn cmp_sums_to_one_and_whole_lines_push() {
        let c = normal_cmp(3.0, 4.0, 3.0);
        assert!((c.gt + c.eq + c.lt - 1.0).abs() < 1e-9);
        assert!(c.eq > 0.05);
        assert!(normal_cmp(3.0, 4.0, 2.5).eq < 1e-12);
        let mut pmf = [0.0; N + 1];
        let used = poisson(1.4, &mut pmf);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(used > 5 && used < N);
    }
}
