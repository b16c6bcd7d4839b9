//! Serialising a match once, on its owner, into every body the API serves about it.
//!
//! Field names follow the original service's types (`LiveScore`, `Market`, see ORIGINAL.md) so
//! its clients keep working; aggregated fields (`sources`, `confidence`, `bestOdds`,
//! `averageOdds`) are added as it documented them.

use inplay_core::{
    aggregate::{
        view::{MarketView, SelectionView, SettlementView},
        MatchState,
    },
    odds::Price,
    MatchId, MatchStatus, Timestamp,
};
use serde::Serialize;

/// Everything the API serves about one match, rendered by its owner. `Send`: it crosses shards.
#[derive(Debug)]
pub(crate) struct MatchRender {
    pub id: MatchId,
    pub sport: String,
    pub league: String,
    pub status: MatchStatus,
    pub start_time: Timestamp,
    pub score: Vec<u8>,
    pub detail: Vec<u8>,
    pub summary: Vec<u8>,
    pub market_entries: Vec<u8>,
    /// (market id, `/api/markets/:marketId/odds` body).
    pub markets: Vec<(String, Vec<u8>)>,
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
struct PriceJson<'a> {
    provider: &'a str,
    odds: f64,
    american: f64,
    status: &'a str,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelectionJson<'a> {
    selection: &'a str,
    best_odds: Option<f64>,
    best_provider: Option<&'a str>,
    average_odds: Option<f64>,
    implied_probability: Option<f64>,
    confidence: f64,
    prices: Vec<PriceJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettlementJson<'a> {
    results: Vec<(&'a str, &'a str)>,
    provider_settlements: Vec<ProviderSettlementJson<'a>>,
    confidence: f64,
    conflicts: Vec<&'a str>,
}

#[derive(Serialize)]
struct ProviderSettlementJson<'a> {
    provider: &'a str,
    results: Vec<(&'a str, &'a str)>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MarketJson<'a> {
    market_id: &'a str,
    match_id: &'a str,
    sport: &'a str,
    league: &'a str,
    event_name: &'a str,
    market_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<f64>,
    status: &'a str,
    selections: Vec<SelectionJson<'a>>,
    best_overround: Option<f64>,
    arbitrage: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    settlement: Option<SettlementJson<'a>>,
    updated_at: String,
}

/// One selection as the original's aggregated `Market` type: the entries of
/// `GET /api/markets/:sport`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MarketEntryJson<'a> {
    id: String,
    market_id: &'a str,
    match_id: &'a str,
    provider_id: Option<&'a str>,
    provider: Option<&'a str>,
    sport: &'a str,
    league: &'a str,
    event_id: &'a str,
    event_name: &'a str,
    market_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<f64>,
    selection: &'a str,
    odds: Option<f64>,
    odds_format: &'static str,
    status: &'a str,
    updated_at: String,
    sources: Vec<&'a str>,
    best_odds: Option<f64>,
    average_odds: Option<f64>,
    confidence: f64,
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

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn odds(p: Option<Price>) -> Option<f64> {
    p.map(|p| round(p.decimal(), 3))
}

/// Renders every body for `state`.
pub(crate) fn render(state: &MatchState, now: Timestamp) -> MatchRender {
    let info = state.info();
    let id = info.id.as_str();
    let event_name = format!("{} vs {}", info.home_team, info.away_team);
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
    let market_ids: Vec<String> = state
        .markets()
        .map(|m| format!("{id}:{}", m.key.suffix()))
        .collect();
    let mut markets = Vec::with_capacity(market_ids.len());
    let mut market_values = Vec::with_capacity(market_ids.len());
    let mut entries: Vec<u8> = Vec::new();
    for (m, market_id) in state.markets().zip(&market_ids) {
        let json = market_json(m, market_id, id, info, &event_name);
        for sel in &m.selections {
            if !entries.is_empty() {
                entries.push(b',');
            }
            let entry = market_entry(m, sel, market_id, id, info, &event_name);
            // Serialising plain structs of strings and numbers cannot fail.
            let _ = serde_json::to_writer(&mut entries, &entry);
        }
        markets.push((
            market_id.clone(),
            serde_json::to_vec(&json).unwrap_or_default(),
        ));
        market_values.push(json);
    }
    let detail = serde_json::to_vec(&serde_json::json!({
        "score": &score_json,
        "markets": &market_values,
    }))
    .unwrap_or_default();
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
    MatchRender {
        id: info.id.clone(),
        sport: info.sport.clone(),
        league: info.league.clone(),
        status,
        start_time: info.start_time,
        score: serde_json::to_vec(&score_json).unwrap_or_default(),
        detail,
        summary: serde_json::to_vec(&summary).unwrap_or_default(),
        market_entries: entries,
        markets,
    }
}

fn market_json<'a>(
    m: &'a MarketView,
    market_id: &'a str,
    match_id: &'a str,
    info: &'a inplay_core::aggregate::view::MatchInfo,
    event_name: &'a str,
) -> MarketJson<'a> {
    MarketJson {
        market_id,
        match_id,
        sport: &info.sport,
        league: &info.league,
        event_name,
        market_type: m.key.market_type.as_str(),
        line: m.key.line.map(|l| l.as_f64()),
        status: m.status.as_str(),
        selections: m.selections.iter().map(selection_json).collect(),
        best_overround: m.best_overround.map(|o| round(o, 4)),
        arbitrage: m.arbitrage,
        settlement: m.settlement.as_ref().map(settlement_json),
        updated_at: m.updated_at.to_iso(),
    }
}

fn selection_json(s: &SelectionView) -> SelectionJson<'_> {
    SelectionJson {
        selection: s.selection.as_str(),
        best_odds: odds(s.best),
        best_provider: s.best_provider.as_ref().map(|p| p.as_str()),
        average_odds: odds(s.average),
        implied_probability: s.best.map(|p| round(1.0 / p.decimal(), 4)),
        confidence: round(s.confidence, 3),
        prices: s
            .prices
            .iter()
            .map(|p| PriceJson {
                provider: p.provider.as_str(),
                odds: round(p.price.decimal(), 3),
                american: american(p.price),
                status: p.status.as_str(),
                updated_at: p.updated_at.to_iso(),
            })
            .collect(),
    }
}

fn settlement_json(s: &SettlementView) -> SettlementJson<'_> {
    SettlementJson {
        results: pairs(&s.results),
        provider_settlements: s
            .provider_results
            .iter()
            .map(|(p, r)| ProviderSettlementJson {
                provider: p.as_str(),
                results: pairs(r),
            })
            .collect(),
        confidence: round(s.confidence, 3),
        conflicts: s.conflicts.iter().map(|c| c.as_str()).collect(),
    }
}

fn pairs(v: &[(inplay_core::Selection, inplay_core::Settlement)]) -> Vec<(&str, &str)> {
    v.iter()
        .map(|(sel, r)| (sel.as_str(), r.as_str()))
        .collect()
}

fn market_entry<'a>(
    m: &'a MarketView,
    sel: &'a SelectionView,
    market_id: &'a str,
    match_id: &'a str,
    info: &'a inplay_core::aggregate::view::MatchInfo,
    event_name: &'a str,
) -> MarketEntryJson<'a> {
    let best_provider = sel.best_provider.as_ref().map(|p| p.as_str());
    MarketEntryJson {
        id: format!("{market_id}:{}", sel.selection.as_str()),
        market_id,
        match_id,
        provider_id: best_provider,
        provider: best_provider,
        sport: &info.sport,
        league: &info.league,
        event_id: match_id,
        event_name,
        market_type: m.key.market_type.as_str(),
        line: m.key.line.map(|l| l.as_f64()),
        selection: sel.selection.as_str(),
        odds: odds(sel.best),
        odds_format: "decimal",
        status: m.status.as_str(),
        updated_at: m.updated_at.to_iso(),
        sources: sel.prices.iter().map(|p| p.provider.as_str()).collect(),
        best_odds: odds(sel.best),
        average_odds: odds(sel.average),
        confidence: round(sel.confidence, 3),
    }
}

fn american(p: Price) -> f64 {
    let d = p.decimal();
    if d >= 2.0 {
        ((d - 1.0) * 100.0).round()
    } else {
        (-100.0 / (d - 1.0)).round()
    }
}
