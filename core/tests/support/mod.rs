//! Shared by the feed integration tests: fixture loading and the whole core pipeline
//! (parse → `Registry::resolve` → `MatchState::apply`) in a few lines.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::HashMap;

use inplay_core::{
    aggregate::{view::Change, MatchState, Weights},
    feeds::{FeedContext, ParseReport},
    identity::{AliasTable, Registry, Resolution},
    odds::OddsFormat,
    Line, MarketKey, MarketType, MatchId, ProviderId, Timestamp,
};

/// Start-time tolerance of the test registry: 90 minutes either way.
pub const WINDOW_MS: i64 = 90 * 60 * 1000;

/// The bytes of `core/tests/fixtures/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}

/// An ISO instant; panics on a typo in a test.
pub fn at(iso: &str) -> Timestamp {
    Timestamp::parse_iso(iso).unwrap_or_else(|| panic!("bad test timestamp {iso}"))
}

/// A context for `provider`, received at a fixed instant.
pub fn ctx(provider: &str) -> FeedContext {
    FeedContext::new(ProviderId::new(provider), at("2024-01-01T00:00:00Z"))
}

/// The Odds API context for `format`.
pub fn odds_api(format: OddsFormat) -> FeedContext {
    ctx("odds-api").with_odds_format(format)
}

/// ESPN's context for one scoreboard URL (`/sports/{sport}/{league}/scoreboard`).
pub fn espn(sport: &str, league: &str) -> FeedContext {
    ctx("espn").with_sport(sport, league)
}

/// A market key.
pub fn key(market_type: MarketType, line: Option<f64>) -> MarketKey {
    MarketKey {
        market_type,
        line: line.and_then(Line::from_f64),
    }
}

/// The core pipeline of one owner shard.
pub struct Pipeline {
    pub registry: Registry,
    pub aliases: AliasTable,
    pub weights: Weights,
    pub states: HashMap<MatchId, MatchState>,
    /// Every change emitted, with its match.
    pub changes: Vec<(MatchId, Change)>,
    /// Simulated shard clock, advanced by one second per observation.
    now: Timestamp,
}

impl Pipeline {
    /// Built-in aliases, every provider weighing 1.
    pub fn new() -> Self {
        Self {
            registry: Registry::new(WINDOW_MS),
            aliases: AliasTable::builtin(),
            weights: Weights::new(1.0),
            states: HashMap::new(),
            changes: Vec::new(),
            now: at("2024-01-01T00:00:00Z"),
        }
    }

    /// Resolves and applies every observation of `report`; returns each one's match id.
    pub fn feed(&mut self, report: &ParseReport) -> Vec<MatchId> {
        let mut ids = Vec::with_capacity(report.observations.len());
        for obs in &report.observations {
            let id = match self
                .registry
                .resolve(&obs.provider, &obs.event, &self.aliases)
            {
                Resolution::Existing(id) => id,
                Resolution::Created(info) => {
                    let id = info.id.clone();
                    self.states.insert(id.clone(), MatchState::new(info));
                    id
                }
            };
            self.now = self.now.add_millis(1000);
            let state = self
                .states
                .get_mut(&id)
                .expect("resolved matches have a state");
            for change in state.apply(obs, &self.weights, self.now) {
                self.changes.push((id.clone(), change));
            }
            ids.push(id);
        }
        ids
    }

    /// The state of a match the pipeline created.
    pub fn state(&self, id: &MatchId) -> &MatchState {
        self.states
            .get(id)
            .expect("the match was created by this pipeline")
    }
}
