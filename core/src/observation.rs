//! What one provider said about one event at one moment: the input of aggregation.
//!
//! Adapters (provider formats) and the demo world produce these; the identity registry routes
//! them to a match; the aggregator applies them.

use std::sync::Arc;

use crate::{
    model::{MarketKey, MarketStatus, MatchStatus, ProviderId, Selection, Settlement, Timestamp},
    odds::Price,
};

/// The event as the provider names it. Identity is resolved from sport, league, teams and start
/// time, never from `provider_event_id` alone (that is only a routing shortcut once resolved).
#[derive(Clone, Debug, PartialEq)]
pub struct EventRef {
    /// The provider's own id of the event (kept in the id map for O(1) routing).
    pub provider_event_id: String,
    /// Sport as inplay names it (`football`, `basketball`, `soccer`, `hockey`, `tennis`, ...).
    pub sport: String,
    /// League as inplay names it (`nfl`, `nba`, `premier-league`, ...).
    pub league: String,
    /// Home team (or first player) as the provider spells it.
    pub home: String,
    /// Away team (or second player) as the provider spells it.
    pub away: String,
    /// Start time as the provider reports it (scheduled or actual kick-off).
    pub start_time: Timestamp,
}

/// One observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Who said it. For multi-bookmaker feeds, the bookmaker.
    pub provider: ProviderId,
    /// Which event it is about: shared by every observation a report makes of one event (a
    /// score and each market), so a report allocates the names once per event, not once per
    /// observation.
    pub event: Arc<EventRef>,
    /// When the provider says the information was current (its own timestamp if it has one,
    /// else the fetch time). Older observations than one already applied are ignored.
    pub observed_at: Timestamp,
    /// What was said.
    pub body: ObservationBody,
}

/// The content of an observation.
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationBody {
    /// The score and state of the match.
    Score {
        /// Home points/goals/sets.
        home: u32,
        /// Away points/goals/sets.
        away: u32,
        /// Period label as shown to users (`Q3`, `2nd Half`, `Set 2`, `HT`, `FT`, `PRE`).
        period: String,
        /// Match state.
        status: MatchStatus,
        /// Game clock, where the provider has one (`05:32`).
        clock: Option<String>,
    },
    /// Prices of one market's selections. A selection the provider no longer quotes in this
    /// market is dropped from that provider's book.
    Prices {
        /// Which market.
        market: MarketKey,
        /// Price per selection.
        prices: Vec<(Selection, Price)>,
        /// The provider's status of the market (`Suspended` keeps prices but stops them
        /// counting as best).
        status: MarketStatus,
    },
    /// The provider's result of one market.
    Settled {
        /// Which market.
        market: MarketKey,
        /// Result per selection.
        results: Vec<(Selection, Settlement)>,
    },
}
