//! Serialising a match once, on its owner, into every body the API serves about it.
//!
//! Field names follow the original service's types (`LiveScore`, `Market`, see ORIGINAL.md) so
//! its clients keep working; aggregated fields (`sources`, `confidence`, `bestOdds`,
//! `averageOdds`) are added as it documented them.

use std::sync::Arc;

use inplay_core::{
    aggregate::{view::MarketView, MatchState},
    MarketKey, MarketStatus, MatchId, MatchStatus, Timestamp,
};

use super::market_json::{render_entries, render_market, round};
use serde::Serialize;

/// Everything the API serves about one match, rendered by its owner. `Send`: it crosses shards.
///
/// Market pieces are immutable `Arc` bytes: a render after a change reuses the pieces of every
/// market that did not change, and all shards share them instead of each holding a copy.
#[derive(Debug)]
pub(crate) struct MatchRender {
    pub id: MatchId,
    pub sport: String,
    pub league: String,
    pub status: MatchStatus,
    pub start_time: Timestamp,
    /// `GET /api/scores/:matchId`.
    pub score: Vec<u8>,
    /// This match's entry in `GET /api/matches`.
    pub summary: Vec<u8>,
    /// Markets in display order.
    pub markets: Vec<MarketPiece>,
    /// The match's sequence number at this render (its last change).
    pub seq: u64,
    /// The stream `seq` counts in: new whenever the owner (re)creates the match, so a client
    /// holding `(epoch, seq)` can tell a restart from a gap. Set by the owner.
    pub epoch: Arc<str>,
}

/// One market, rendered.
#[derive(Debug)]
pub(crate) struct MarketPiece {
    /// `<matchId>:<type>[:<line>]`.
    pub id: Arc<str>,
    /// `GET /api/markets/:marketId/odds`.
    pub body: Arc<[u8]>,
    /// Its selections' entries in `GET /api/markets/:sport`, comma-joined; empty unless
    /// `main` (only main lines are listed).
    pub entries: Arc<[u8]>,
    /// The main line of its market type (see [`main_lines`]): only main lines are listed in
    /// `GET /api/markets/:sport`; alternative lines are served per match and per market.
    pub main: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScoreJson<'a> {
    match_id: &'a str,
    sport: &'a str,
    league: &'a str,
    home_team: &'a str,
    away_team: &'a str,
    home_score: u32,
    away_score: u32,
    period: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock: Option<&'a str>,
    start_time: String,
    timestamp: String,
    /// Highest-weight provider agreeing with the consensus (the original's `provider`).
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    sources: Vec<&'a str>,
    confidence: f64,
    seq: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryJson<'a> {
    match_id: &'a str,
    sport: &'a str,
    league: &'a str,
    home_team: &'a str,
    away_team: &'a str,
    status: &'a str,
    home_score: Option<u32>,
    away_score: Option<u32>,
    period: Option<&'a str>,
    start_time: String,
    seq: u64,
}

/// Renders `state`. Markets in `changed` (or not in `prev`) are serialised afresh; every other
/// market reuses its piece from `prev`. Score and summary are always rebuilt: they carry `seq`.
pub(crate) fn render(
    state: &MatchState,
    prev: Option<&MatchRender>,
    changed: &[MarketKey],
    now: Timestamp,
) -> MatchRender {
    let info = state.info();
    let id = info.id.as_str();
    let status = state.status();
    let score = state.score();
    let score_json = ScoreJson {
        match_id: id,
        sport: &info.sport,
        league: &info.league,
        home_team: &info.home_team,
        away_team: &info.away_team,
        home_score: score.map_or(0, |s| s.home),
        away_score: score.map_or(0, |s| s.away),
        period: score.map_or("PRE", |s| s.period.as_str()),
        status: status.as_str(),
        clock: score.and_then(|s| s.clock.as_deref()),
        start_time: info.start_time.to_iso(),
        timestamp: score.map_or(now, |s| s.updated_at).to_iso(),
        provider: score.and_then(|s| s.sources.first()).map(|p| p.as_str()),
        sources: score.map_or(Vec::new(), |s| {
            s.sources.iter().map(|p| p.as_str()).collect()
        }),
        confidence: score.map_or(0.0, |s| round(s.confidence, 3)),
        seq: state.seq(),
    };
    let summary = SummaryJson {
        match_id: id,
        sport: &info.sport,
        league: &info.league,
        home_team: &info.home_team,
        away_team: &info.away_team,
        status: status.as_str(),
        home_score: score.map(|s| s.home),
        away_score: score.map(|s| s.away),
        period: score.map(|s| s.period.as_str()),
        start_time: info.start_time.to_iso(),
        seq: state.seq(),
    };
    let mut event_name = None;
    let markets = state
        .markets()
        .zip(main_lines(state))
        .map(|(m, main)| {
            let market_id = format!("{id}:{}", m.key.suffix());
            let reuse = prev
                .filter(|_| !changed.contains(&m.key))
                .and_then(|prev| prev.markets.iter().find(|p| *p.id == *market_id));
            let name = || format!("{} vs {}", info.home_team, info.away_team);
            match reuse {
                // Unchanged, and its entries are what its role needs: shared as they are.
                Some(p) if p.main == main => MarketPiece {
                    id: p.id.clone(),
                    body: p.body.clone(),
                    entries: p.entries.clone(),
                    main,
                },
                // Unchanged, but it became (or stopped being) the main line of its type.
                Some(p) => MarketPiece {
                    id: p.id.clone(),
                    body: p.body.clone(),
                    entries: if main {
                        let name = event_name.get_or_insert_with(name);
                        render_entries(m, &market_id, id, info, name)
                    } else {
                        Arc::from(&[][..])
                    },
                    main,
                },
                None => {
                    let name = event_name.get_or_insert_with(name);
                    render_market(m, &market_id, id, info, name, main)
                }
            }
        })
        .collect::<Vec<_>>();
    MatchRender {
        id: info.id.clone(),
        sport: info.sport.clone(),
        league: info.league.clone(),
        status,
        start_time: info.start_time,
        // Serialising plain structs of strings and numbers cannot fail.
        score: serde_json::to_vec(&score_json).unwrap_or_default(),
        summary: serde_json::to_vec(&summary).unwrap_or_default(),
        markets,
        seq: state.seq(),
        epoch: Arc::from(""),
    }
}

/// For each market of `state` (in its order), whether it is the main line of its type: the
/// line the most providers actively quote (ties: the first, i.e. the lowest line). Types
/// without lines have one market, always main.
fn main_lines(state: &MatchState) -> Vec<bool> {
    let quoting = |m: &MarketView| -> usize {
        m.selections
            .iter()
            .map(|s| {
                s.prices
                    .iter()
                    .filter(|p| p.status == MarketStatus::Active)
                    .count()
            })
            .max()
            .unwrap_or(0)
    };
    let markets: Vec<&MarketView> = state.markets().collect();
    let mut main = vec![true; markets.len()];
    for (i, m) in markets.iter().enumerate() {
        if m.key.line.is_none() {
            continue;
        }
        let better = markets.iter().enumerate().any(|(j, other)| {
            other.key.market_type == m.key.market_type
                && other.key.line.is_some()
                && (quoting(other) > quoting(m) || (quoting(other) == quoting(m) && j < i))
        });
        main[i] = !better;
    }
    main
}

#[cfg(test)]
mod tests {
    use inplay_core::{
        aggregate::{view::ChangeKind, MatchState, Weights},
        demo::{DemoConfig, World},
        identity::{AliasTable, Registry, Resolution},
        MatchId, Timestamp,
    };
    use std::collections::HashMap;

    use super::{render, MatchRender};

    fn same(a: &MatchRender, b: &MatchRender) -> bool {
        a.score == b.score
            && a.summary == b.summary
            && a.markets.len() == b.markets.len()
            && a.markets.iter().zip(&b.markets).all(|(x, y)| {
                x.id == y.id && x.body == y.body && x.entries == y.entries && x.main == y.main
            })
    }

    fn has_selections(body: &[u8]) -> bool {
        let empty = b"\"selections\":[]";
        !body.windows(empty.len()).any(|w| w == empty)
    }

    /// Re-rendering only the changed markets yields exactly what a full render would.
    #[test]
    fn incremental_render_equals_full_render() {
        let epoch = Timestamp(1_700_000_000_000);
        let world = World::new(DemoConfig {
            seed: 3,
            epoch,
            slots_per_league: 5,
        });
        let aliases = AliasTable::builtin();
        let mut weights = Weights::new(0.5);
        for p in world.providers() {
            weights.set(p.id.clone(), p.priority, p.weight);
        }
        let mut registry = Registry::new(5_400_000);
        let mut states: HashMap<MatchId, MatchState> = HashMap::new();
        let mut renders: HashMap<MatchId, MatchRender> = HashMap::new();
        let mut compared = 0;
        for step in 0..300 {
            let now = epoch.add_millis(step * 7_000);
            for provider in world.providers() {
                for league in world.leagues() {
                    for obs in world.poll(provider, league, now) {
                        let id = match registry.resolve(&obs.provider, &obs.event, &aliases) {
                            Resolution::Existing(id) => id,
                            Resolution::Created(info) => {
                                let id = info.id.clone();
                                states.insert(id.clone(), MatchState::new(info));
                                id
                            }
                        };
                        let state = states.get_mut(&id).expect("state exists once resolved");
                        let changes = state.apply(&obs, &weights, now);
                        let changed: Vec<_> = changes
                            .into_iter()
                            .filter_map(|c| match c.kind {
                                ChangeKind::Score => None,
                                ChangeKind::Odds(k)
                                | ChangeKind::MarketSuspended(k)
                                | ChangeKind::MarketResumed(k)
                                | ChangeKind::Settled(k) => Some(k),
                            })
                            .collect();
                        let incremental = render(state, renders.get(&id), &changed, now);
                        let full = render(state, None, &[], now);
                        assert!(
                            same(&incremental, &full),
                            "render of {id} diverged at step {step}"
                        );
                        for piece in &incremental.markets {
                            // Only main lines are listed, so only they carry list entries.
                            assert_eq!(
                                !piece.entries.is_empty(),
                                piece.main && !piece.body.is_empty() && has_selections(&piece.body),
                                "entries of {} (main: {})",
                                piece.id,
                                piece.main
                            );
                        }
                        renders.insert(id, incremental);
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000, "only {compared} renders compared");
    }
}
