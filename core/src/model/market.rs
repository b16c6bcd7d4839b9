//! Market keys: what a price is a price *of*.
//!
//! A market is identified by (match, type, line); a price by adding the selection. The line is
//! part of the key: a spread of -3.5 and one of -4.0 are different markets, unlike in the
//! service inplay replaces.

use std::fmt;

/// The kind of market.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarketType {
    /// Who wins (2-way, or 3-way with a draw). Providers also call it `h2h` or `1x2`.
    Moneyline,
    /// Handicap on the home side, with a line.
    Spread,
    /// Over/under on total points, with a line.
    Total,
    /// Any other market a provider offers, by its lower-case name.
    Other(Box<str>),
}

impl MarketType {
    /// Parses a provider's market name (`h2h`, `moneyline`, `spreads`, `totals`, ...).
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "moneyline" | "h2h" | "1x2" | "ml" | "match_winner" => Self::Moneyline,
            "spread" | "spreads" | "handicap" | "point_spread" => Self::Spread,
            "total" | "totals" | "over_under" | "ou" => Self::Total,
            other => Self::Other(other.into()),
        }
    }

    /// The JSON spelling (`moneyline`, `spread`, `total`, or the open name).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Moneyline => "moneyline",
            Self::Spread => "spread",
            Self::Total => "total",
            Self::Other(s) => s,
        }
    }

    /// Whether this type needs a line.
    pub fn has_line(&self) -> bool {
        matches!(self, Self::Spread | Self::Total)
    }
}

/// A handicap or total line in hundredths (`-3.5` is `Line(-350)`), so it can be hashed and
/// compared exactly; quarter lines (`2.25`) are representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Line(pub i32);

impl Line {
    /// Rounds a provider's float line to hundredths. `None` for non-finite or absurd values.
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v.abs() > 100_000.0 {
            return None;
        }
        Some(Self((v * 100.0).round() as i32))
    }

    /// The line as a float.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Line {
    /// Shortest decimal form: `-3.5`, `45`, `2.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (int, frac) = (abs / 100, abs % 100);
        match frac {
            0 => write!(f, "{sign}{int}"),
            f2 if f2 % 10 == 0 => write!(f, "{sign}{int}.{}", f2 / 10),
            f2 => write!(f, "{sign}{int}.{f2:02}"),
        }
    }
}

/// What a price backs within a market.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selection {
    /// The home side (moneyline, spread).
    Home,
    /// The away side.
    Away,
    /// A draw (3-way moneyline).
    Draw,
    /// Over the total line.
    Over,
    /// Under the total line.
    Under,
    /// Anything else, by lower-case name.
    Other(Box<str>),
}

impl Selection {
    /// Parses `home`, `away`, `draw`/`x`, `over`, `under` (any case); else [`Selection::Other`].
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "home" | "1" => Self::Home,
            "away" | "2" => Self::Away,
            "draw" | "x" | "tie" => Self::Draw,
            "over" => Self::Over,
            "under" => Self::Under,
            other => Self::Other(other.into()),
        }
    }

    /// The JSON spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Home => "home",
            Self::Away => "away",
            Self::Draw => "draw",
            Self::Over => "over",
            Self::Under => "under",
            Self::Other(s) => s,
        }
    }
}

/// A market within a match: type plus line (for spreads and totals).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MarketKey {
    /// Moneyline, spread, total, ...
    pub market_type: MarketType,
    /// The line, for types that have one.
    pub line: Option<Line>,
}

impl MarketKey {
    /// The market id string within a match: `moneyline`, `spread:-3.5`, `total:45.5`.
    pub fn suffix(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.market_type.as_str()),
            None => self.market_type.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_formats_shortest() {
        assert_eq!(Line::from_f64(-3.5).unwrap().to_string(), "-3.5");
        assert_eq!(Line::from_f64(45.0).unwrap().to_string(), "45");
        assert_eq!(Line::from_f64(2.25).unwrap().to_string(), "2.25");
        assert_eq!(Line::from_f64(-0.5).unwrap().to_string(), "-0.5");
        assert_eq!(Line::from_f64(f64::NAN), None);
    }

    #[test]
    fn market_names_from_providers() {
        assert_eq!(MarketType::parse("h2h"), MarketType::Moneyline);
        assert_eq!(MarketType::parse("spreads"), MarketType::Spread);
        assert_eq!(MarketType::parse("totals"), MarketType::Total);
        assert_eq!(MarketType::parse("btts").as_str(), "btts");
    }
}
