//! What the shards hand the I/O thread: history records for PostgreSQL, cache entries and
//! publishes for Redis.
//!
//! Records are plain data (`Send`, serde) so the PostgreSQL writer can queue them, spill them to
//! the on-disk journal as JSON lines and replay them later, unchanged.

use serde::{Deserialize, Serialize};

/// One row-to-be of history. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(crate) enum Record {
    /// A match was seen for the first time, or its status changed: upserted into `matches`.
    Match {
        id: String,
        sport: String,
        league: String,
        home: String,
        away: String,
        start_ms: i64,
        status: String,
        at_ms: i64,
    },
    /// A provider's own event id for a match: upserted into `provider_events` (the id map).
    ProviderEvent {
        provider: String,
        provider_event_id: String,
        match_id: String,
        at_ms: i64,
    },
    /// The consensus score changed: appended to `live_scores` (the original's table).
    Score {
        match_id: String,
        home: u32,
        away: u32,
        period: String,
        status: String,
        seq: u64,
        at_ms: i64,
    },
    /// A market changed (prices, suspension, resumption): appended to `market_history`, and
    /// the original's `markets` table is upserted with each selection's best price.
    Market {
        match_id: String,
        /// `<matchId>:<type>[:<line>]`.
        market_id: String,
        sport: String,
        /// `Home vs Away`, the original's `event` column.
        event: String,
        market_type: String,
        line: Option<f64>,
        /// `active` | `suspended` | `settled`.
        status: String,
        selections: Vec<SelectionPrice>,
        seq: u64,
        at_ms: i64,
    },
    /// A market's settlement appeared or changed: appended to `settlements`.
    Settlement {
        match_id: String,
        market_id: String,
        /// Agreed result per selection (`won` | `lost` | `void` | `push`).
        results: Vec<(String, String)>,
        confidence: f64,
        /// Selections the providers disagree on.
        conflicts: Vec<String>,
        seq: u64,
        at_ms: i64,
    },
    /// A bet the platform recorded (durable in the bet journal first): `bet_records`, and the
    /// original `bets` table.
    Bet {
        bet_id: String,
        user_id: String,
        market_id: String,
        selection: String,
        odds: f64,
        stake: f64,
        placed_ms: i64,
    },
    /// A recorded bet was graded: `bet_records.result` (`won` | `lost` | `void` | `push`).
    BetGrade {
        bet_id: String,
        result: String,
        at_ms: i64,
    },
}

impl Record {
    /// A recorded bet, for `bet_records` and the original `bets`.
    pub fn bet(bet: &crate::bets::Bet, placed_ms: i64) -> Self {
        Record::Bet {
            bet_id: bet.bet_id.clone(),
            user_id: bet.user_id.clone(),
            market_id: bet.market_id.clone(),
            selection: bet.selection.clone(),
            odds: bet.odds,
            stake: bet.stake,
            placed_ms,
        }
    }
}

/// One selection's best price in a [`Record::Market`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SelectionPrice {
    pub selection: String,
    /// Best active decimal price, if any provider has one.
    pub best: Option<f64>,
    pub best_provider: Option<String>,
    /// Every provider's own price and status for the selection (the provider prices history,
    /// kept in `market_history.selections`).
    #[serde(default)]
    pub prices: Vec<ProviderQuote>,
}

/// One provider's price of a selection in a [`Record::Market`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProviderQuote {
    pub provider: String,
    /// Decimal price.
    pub odds: f64,
    /// That provider's status of the market.
    pub status: String,
}
