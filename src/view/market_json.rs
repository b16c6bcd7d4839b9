//! One market as JSON: the `/api/markets/:marketId/odds` body and the market's entries in
//! `GET /api/markets/:sport` (the original service's per-selection `Market` shape).

use std::sync::Arc;

use inplay_core::{
    aggregate::view::{MarketView, MatchInfo, SelectionView, SettlementView},
    odds::Price,
};
use serde::Serialize;

use super::render::MarketPiece;

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

pub(super) fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn odds(p: Option<Price>) -> Option<f64> {
    p.map(|p| round(p.decimal(), 3))
}

/// Serialises one market: its odds body, and its list entries when it is a main line (only
/// main lines are listed in `GET /api/markets/:sport`; an alternative line's entries would be
/// ~1.2 KB per market held and never served).
pub(super) fn render_market(
    m: &MarketView,
    market_id: &str,
    match_id: &str,
    info: &MatchInfo,
    event_name: &str,
    main: bool,
) -> MarketPiece {
    let body = serde_json::to_vec(&market_json(m, market_id, match_id, info, event_name));
    MarketPiece {
        main,
        id: Arc::from(market_id),
        body: Arc::from(body.unwrap_or_default()),
        entries: if main {
            render_entries(m, market_id, match_id, info, event_name)
        } else {
            Arc::from(&[][..])
        },
    }
}

/// A market's selections as `GET /api/markets/:sport` entries, comma-joined.
pub(super) fn render_entries(
    m: &MarketView,
    market_id: &str,
    match_id: &str,
    info: &MatchInfo,
    event_name: &str,
) -> Arc<[u8]> {
    let mut entries: Vec<u8> = Vec::with_capacity(512 * m.selections.len());
    for sel in &m.selections {
        if !entries.is_empty() {
            entries.push(b',');
        }
        let entry = market_entry(m, sel, market_id, match_id, info, event_name);
        let _ = serde_json::to_writer(&mut entries, &entry);
    }
    Arc::from(entries)
}

fn market_json<'a>(
    m: &'a MarketView,
    market_id: &'a str,
    match_id: &'a str,
    info: &'a MatchInfo,
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
                american: p.price.american(),
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
    info: &'a MatchInfo,
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
