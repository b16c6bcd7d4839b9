//! What aggregation produces: the consensus view of one match, read by the server to serialise
//! responses, and the changes it emits.

use crate::{
    model::{
        MarketKey, MarketStatus, MatchId, MatchStatus, ProviderId, Selection, Settlement, Timestamp,
    },
    odds::Price,
};

/// Static facts about a match, fixed when the identity registry creates it.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchInfo {
    /// inplay's stable id.
    pub id: MatchId,
    /// Sport (`football`, ...).
    pub sport: String,
    /// League (`nfl`, ...).
    pub league: String,
    /// Home team, as first reported (display name).
    pub home_team: String,
    /// Away team, as first reported (display name).
    pub away_team: String,
    /// Scheduled start, as first reported.
    pub start_time: Timestamp,
}

/// The consensus score of a match.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreView {
    /// Home points.
    pub home: u32,
    /// Away points.
    pub away: u32,
    /// Period label (`Q3`, `2nd Half`, ...).
    pub period: String,
    /// Match state.
    pub status: MatchStatus,
    /// Game clock if any provider in the consensus reported one.
    pub clock: Option<String>,
    /// Providers whose latest reading agrees with the consensus, by descending weight.
    pub sources: Vec<ProviderId>,
    /// Agreeing weight / weight of all providers reporting a score for this match, in
    /// `0.0..=1.0`.
    pub confidence: f64,
    /// When the consensus last changed.
    pub updated_at: Timestamp,
}

/// One provider's price for a selection.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderPrice {
    /// Who quotes it.
    pub provider: ProviderId,
    /// The price.
    pub price: Price,
    /// That provider's status of the market.
    pub status: MarketStatus,
    /// When the provider last quoted it.
    pub updated_at: Timestamp,
}

/// The aggregated view of one selection of one market.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionView {
    /// Which selection.
    pub selection: Selection,
    /// Every provider's latest price, by descending provider weight.
    pub prices: Vec<ProviderPrice>,
    /// Best price for the bettor among *active* provider prices (`None` if none is active).
    pub best: Option<Price>,
    /// Who offers the best price.
    pub best_provider: Option<ProviderId>,
    /// Mean of the active providers' own decimal prices.
    pub average: Option<Price>,
    /// How much to trust `best`, in `0.0..=1.0` (documented in `aggregate`).
    pub confidence: f64,
}

/// The aggregated view of one market.
#[derive(Clone, Debug, PartialEq)]
pub struct MarketView {
    /// Type and line.
    pub key: MarketKey,
    /// Aggregated status: settled once settlement is agreed, suspended when no provider has an
    /// active price, else active.
    pub status: MarketStatus,
    /// Selections in a stable order (home, draw, away / over, under / others by name).
    pub selections: Vec<SelectionView>,
    /// Overround of the best-of book: Σ 1/best − 1 (negative means arbitrage). `None` unless
    /// every selection has a best price.
    pub best_overround: Option<f64>,
    /// Each provider's own overround for this market (only providers quoting every selection).
    pub provider_overround: Vec<(ProviderId, f64)>,
    /// Σ of best implied probabilities < 1: backing every selection at the best prices wins.
    pub arbitrage: bool,
    /// Settlement, once any provider has reported one.
    pub settlement: Option<SettlementView>,
    /// When anything in this market last changed.
    pub updated_at: Timestamp,
}

/// Aggregated settlement of a market.
#[derive(Clone, Debug, PartialEq)]
pub struct SettlementView {
    /// Agreed result per selection (weighted majority per selection).
    pub results: Vec<(Selection, Settlement)>,
    /// What each provider reported.
    pub provider_results: Vec<(ProviderId, Vec<(Selection, Settlement)>)>,
    /// Weight agreeing with the result / weight of all providers that settled, `0.0..=1.0`
    /// (the minimum over selections).
    pub confidence: f64,
    /// Selections on which providers disagree; never silently resolved.
    pub conflicts: Vec<Selection>,
}

/// What changed in a match. Emitted only when something really changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// The consensus score, period, status or clock changed.
    Score,
    /// Prices (best, average, per-provider) of a market changed.
    Odds(MarketKey),
    /// A market became suspended.
    MarketSuspended(MarketKey),
    /// A suspended market became active again.
    MarketResumed(MarketKey),
    /// A market's settlement appeared or changed.
    Settled(MarketKey),
}

/// One change, stamped with the match's next sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Sequence number within the match; strictly increasing, starting at 1.
    pub seq: u64,
    /// What changed.
    pub kind: ChangeKind,
}
