//! Lifecycle states of matches and markets, and settlement results.
//!
//! Serialised in lower case exactly as the original service's JSON used them.

use serde::{Deserialize, Serialize};

/// Where a match is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchStatus {
    /// Not started yet.
    Scheduled,
    /// In play.
    Live,
    /// In a break between halves (or periods, where a provider says so).
    Halftime,
    /// Over; the score is final.
    Finished,
    /// Moved to another date.
    Postponed,
    /// Will not be played.
    Cancelled,
}

impl MatchStatus {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Live => "live",
            Self::Halftime => "halftime",
            Self::Finished => "finished",
            Self::Postponed => "postponed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the JSON spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Self::Scheduled,
            "live" => Self::Live,
            "halftime" => Self::Halftime,
            "finished" => Self::Finished,
            "postponed" => Self::Postponed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Live or at halftime: the score can still change.
    pub fn in_play(self) -> bool {
        matches!(self, Self::Live | Self::Halftime)
    }

    /// Finished, postponed or cancelled: nothing more will happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Postponed | Self::Cancelled)
    }
}

/// Whether bets can be placed on a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarketStatus {
    /// Open for betting.
    Active,
    /// Temporarily closed (a goal, a VAR check, a provider pulling prices).
    Suspended,
    /// Result known; closed for good.
    Settled,
}

impl MarketStatus {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Settled => "settled",
        }
    }
}

/// The result of one selection once its market is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Settlement {
    /// The selection won: stake × odds is paid.
    Won,
    /// The selection lost.
    Lost,
    /// Stake returned (e.g. match cancelled).
    Void,
    /// Stake returned because the result landed exactly on the line.
    Push,
}

impl Settlement {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Void => "void",
            Self::Push => "push",
        }
    }
}
