//! Prices and their formats: decimal (internal), American and fractional, implied probability,
//! bookmaker margin.
//!
//! Every price is held as decimal odds, which makes "best for the bettor" a plain maximum in
//! every format: +150 (2.50) beats +140 (2.40), and -110 (1.909) beats -120 (1.833). The other
//! formats exist only at the edges: parsing what a provider sends and rendering what a client
//! asks for (`oddsFormat`).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors from price conversions.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OddsError {
    /// The value is not a valid price in its format.
    #[error("odds out of range: {0}")]
    OutOfRange(f64),
    /// A fractional price that could not be parsed (`"5/2"` is valid).
    #[error("invalid fractional odds: {0:?}")]
    BadFraction(String),
}

/// A price as decimal odds: the total return per unit staked, always finite and > 1.0.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Price(f64);

// === impl Price ===

impl Price {
    /// Largest decimal price accepted from any feed.
    pub const MAX_DECIMAL: f64 = 10_000.0;

    /// Validates decimal odds.
    ///
    /// # Errors
    /// [`OddsError::OutOfRange`] if `decimal` is not finite, is ≤ 1.0 or above
    /// [`Price::MAX_DECIMAL`].
    pub fn from_decimal(decimal: f64) -> Result<Self, OddsError> {
        if !decimal.is_finite() || decimal <= 1.0 || decimal > Self::MAX_DECIMAL {
            return Err(OddsError::OutOfRange(decimal));
        }
        Ok(Self(decimal))
    }

    /// Decimal odds.
    pub fn decimal(self) -> f64 {
        self.0
    }

    /// Converts American (moneyline) odds: `+150` → 2.5, `-110` → 1.9090….
    ///
    /// # Errors
    /// [`OddsError::OutOfRange`] if `american` is not finite, is strictly between -100 and +100
    /// (no such American price exists), or converts above [`Price::MAX_DECIMAL`].
    pub fn from_american(american: f64) -> Result<Self, OddsError> {
        if !american.is_finite() || american.abs() < 100.0 {
            return Err(OddsError::OutOfRange(american));
        }
        let decimal = if american > 0.0 {
            1.0 + american / 100.0
        } else {
            1.0 + 100.0 / -american
        };
        Self::from_decimal(decimal).map_err(|_| OddsError::OutOfRange(american))
    }

    /// American odds rounded to a whole number: 2.5 → `150`, 1.909 → `-110`, 2.0 → `100`.
    ///
    /// The magnitude is never below 100, so the result always parses back with
    /// [`Price::from_american`].
    pub fn american(self) -> f64 {
        let profit = self.0 - 1.0;
        if profit >= 1.0 {
            (profit * 100.0).round().max(100.0)
        } else {
            (-100.0 / profit).round().min(-100.0)
        }
    }

    /// Parses fractional (UK) odds: `"5/2"` → 3.5, `"evens"` or `"1/1"` → 2.0. Whitespace
    /// around the parts is ignored; numerator and denominator may be decimals (`"6.5/1"`).
    ///
    /// # Errors
    /// [`OddsError::BadFraction`] if `s` is not `n/d` with positive finite `n` and `d`;
    /// [`OddsError::OutOfRange`] if the price it denotes is not a valid decimal price.
    pub fn from_fractional(s: &str) -> Result<Self, OddsError> {
        let trimmed = s.trim();
        if ["evens", "even", "evs", "ev"]
            .iter()
            .any(|e| trimmed.eq_ignore_ascii_case(e))
        {
            return Ok(Self(2.0));
        }
        let bad = || OddsError::BadFraction(clip(s, 64));
        let (n, d) = trimmed.split_once('/').ok_or_else(bad)?;
        let part = |p: &str| -> Option<f64> {
            let p = p.trim();
            // `f64::from_str` also takes "inf", "NaN" and exponents; odds are plain numbers.
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            p.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0)
        };
        let (n, d) = (part(n).ok_or_else(bad)?, part(d).ok_or_else(bad)?);
        Self::from_decimal(1.0 + n / d)
    }

    /// The nearest simple fraction to this price's profit per unit, with denominator ≤ 100:
    /// 3.5 → `"5/2"`, 2.0 → `"1/1"`, 1.909 → `"10/11"`.
    pub fn fractional(self) -> String {
        let profit = self.0 - 1.0;
        let (mut best_num, mut best_den, mut best_err) = (1_u64, 1_u64, f64::INFINITY);
        // Ascending denominators with a strict `<` keep the first (hence fully reduced) of equally
        // close fractions, so no gcd step is needed.
        for den in 1..=100_u64 {
            // `profit` is in (0, 9999], so the numerator stays far below u64::MAX; a price
            // shorter than 1/100 still shows as `1/100` rather than `0/1`.
            let num = (profit * den as f64).round().max(1.0) as u64;
            let err = (num as f64 / den as f64 - profit).abs();
            if err < best_err {
                (best_num, best_den, best_err) = (num, den, err);
            }
        }
        format!("{best_num}/{best_den}")
    }

    /// Probability implied by this price, `1 / decimal`, in `(0.0, 1.0)`.
    pub fn implied_probability(self) -> f64 {
        self.0.recip()
    }

    /// Decimal odds rounded to two places for display, never below 1.01 (so a valid price never
    /// shows as the meaningless 1.00).
    pub fn round2(self) -> f64 {
        ((self.0 * 100.0).round() / 100.0).max(1.01)
    }

    /// The price in `format`: decimal rounded to two places, American with its sign (`+150`,
    /// `-110`), or fractional (`5/2`).
    pub fn to_format_string(self, format: OddsFormat) -> String {
        match format {
            OddsFormat::Decimal => format!("{:.2}", self.round2()),
            OddsFormat::American => format!("{:+}", self.american()),
            OddsFormat::Fractional => self.fractional(),
        }
    }
}

/// The first `max` characters of `s`, so a huge garbage input does not become a huge error.
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// How a client wants prices written (the `oddsFormat` field of the original service).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OddsFormat {
    /// Decimal odds, `2.50` (inplay's internal form).
    #[default]
    Decimal,
    /// American (moneyline) odds, `+150` / `-110`.
    American,
    /// Fractional (UK) odds, `5/2`.
    Fractional,
}

// === impl OddsFormat ===

impl OddsFormat {
    /// Parses the JSON spelling (`decimal`, `american`, `fractional`), ignoring ASCII case and
    /// surrounding whitespace.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        [Self::Decimal, Self::American, Self::Fractional]
            .into_iter()
            .find(|f| s.eq_ignore_ascii_case(f.as_str()))
    }

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decimal => "decimal",
            Self::American => "american",
            Self::Fractional => "fractional",
        }
    }
}

/// Implied probability of decimal odds, in `0.0..=1.0`.
///
/// # Errors
/// [`OddsError::OutOfRange`] if `decimal` is not finite or is below 1.0.
pub fn implied_probability(decimal: f64) -> Result<f64, OddsError> {
    if !decimal.is_finite() || decimal < 1.0 {
        return Err(OddsError::OutOfRange(decimal));
    }
    Ok(decimal.recip())
}

/// The bookmaker's margin of a book: Σ 1/price − 1. Positive is the house edge, negative means
/// the prices together are an arbitrage. `None` for an empty book.
pub fn overround(prices: &[Price]) -> Option<f64> {
    if prices.is_empty() {
        return None;
    }
    Some(prices.iter().map(|p| p.implied_probability()).sum::<f64>() - 1.0)
}

/// Whether backing every selection at these (best) prices guarantees a profit: Σ 1/price < 1.
/// Needs at least two prices; a one-selection "book" is never an arbitrage.
pub fn is_arbitrage(best: &[Price]) -> bool {
    best.len() >= 2 && overround(best).is_some_and(|o| o < 0.0)
}

/// The best price for the bettor: the highest decimal price (in every format, since all are
/// held as decimal). `None` if there are no prices.
pub fn best_for_bettor(prices: impl IntoIterator<Item = Price>) -> Option<Price> {
    prices.into_iter().fold(None, |best, p| match best {
        Some(b) if b.0 >= p.0 => Some(b),
        _ => Some(p),
    })
}

/// The arithmetic mean of the providers' own decimal prices (the real average, not the best
/// repeated). `None` if there are no prices.
pub fn mean(prices: &[Price]) -> Option<Price> {
    let (first, rest) = prices.split_first()?;
    let (mut lo, mut hi, mut sum) = (first.0, first.0, first.0);
    for p in rest {
        lo = lo.min(p.0);
        hi = hi.max(p.0);
        sum += p.0;
    }
    // Summing can round a hair outside the inputs (n equal prices); clamping keeps the mean a
    // valid price between the lowest and highest.
    Some(Price((sum / prices.len() as f64).clamp(lo, hi)))
}

#[cfg(test)]
mod tests;
