//! The betting platform's questions, answered from a match's authoritative state on its owner:
//! is this price still good, how did this market settle, what did this bet win.

use inplay_core::{
    aggregate::{view::MarketView, MatchState},
    MarketStatus, Selection, Settlement,
};
use serde::Serialize;
use serde_json::{json, Value};

/// Bet limits, from `[bets]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BetLimits {
    /// How far below the current price a requested price may be, as a fraction (0.02 = 2 %).
    /// A requested price above the current one is always refused: the tolerance only ever
    /// favours the house.
    pub odds_tolerance: f64,
    /// Smallest stake accepted.
    pub min_stake: f64,
    /// Largest stake accepted.
    pub max_stake: f64,
}

/// The answer to `POST /api/bets/validate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BetCheck {
    pub valid: bool,
    pub market_id: String,
    pub selection: String,
    /// The best active price now, if any, to three decimals and never rounded up.
    pub current_odds: Option<f64>,
    pub market_suspended: bool,
    /// Why not, when `valid` is false: `unknown_market`, `unknown_selection`,
    /// `market_settled`, `market_suspended`, `no_price`, `odds_changed`, `stake_too_low`,
    /// `stake_too_high`.
    pub reason: Option<&'static str>,
}

/// The market of `state` whose id suffix (`moneyline`, `total:2.5`) is `suffix`.
pub(crate) fn find_market<'s>(state: &'s MatchState, suffix: &str) -> Option<&'s MarketView> {
    state.markets().find(|m| m.key.suffix() == suffix)
}

/// Checks a bet against the market as it is now. `market` is `None` when the market is
/// unknown.
pub(crate) fn check(
    market_id: &str,
    market: Option<&MarketView>,
    selection: &str,
    odds: f64,
    stake: f64,
    limits: &BetLimits,
) -> BetCheck {
    let mut out = BetCheck {
        valid: false,
        market_id: market_id.to_owned(),
        selection: selection.to_owned(),
        current_odds: None,
        market_suspended: false,
        reason: None,
    };
    let Some(market) = market else {
        out.reason = Some("unknown_market");
        return out;
    };
    out.market_suspended = market.status == MarketStatus::Suspended;
    if market.status == MarketStatus::Settled {
        // Settled markets carry no prices any more, only results.
        out.reason = Some(if has_selection(market, selection) {
            "market_settled"
        } else {
            "unknown_selection"
        });
        return out;
    }
    let wanted = Selection::parse(selection);
    let Some(sel) = market.selections.iter().find(|s| s.selection == wanted) else {
        out.reason = Some("unknown_selection");
        return out;
    };
    // Compared with the exact price: a rounded one would let a bettor ask for up to half a
    // cent more than is offered (2.56 for 2.558).
    let best = sel.best.map(|p| p.decimal());
    out.current_odds = best.map(shown);
    out.reason = if out.market_suspended {
        Some("market_suspended")
    } else if let Some(current) = best {
        let floor = current * (1.0 - limits.odds_tolerance);
        // A hair of slack for prices that went through a 2-decimal rendering.
        if odds > current + 1e-9 || odds < floor - 1e-9 {
            Some("odds_changed")
        } else if stake < limits.min_stake {
            Some("stake_too_low")
        } else if stake > limits.max_stake {
            Some("stake_too_high")
        } else {
            None
        }
    } else {
        Some("no_price")
    };
    out.valid = out.reason.is_none();
    out
}

/// A price as `currentOdds` shows it: to three decimals like every market body, but never
/// rounded up, so that the price shown always validates when sent back.
fn shown(price: f64) -> f64 {
    // The nudge keeps 2.558 (2557.9999… thousandths in binary) from flooring to 2.557.
    ((price * 1000.0) + 1e-6).floor() / 1000.0
}

/// Whether `selection` belongs to the market: priced now, or settled.
pub(crate) fn has_selection(market: &MarketView, selection: &str) -> bool {
    let wanted = Selection::parse(selection);
    market.selections.iter().any(|s| s.selection == wanted)
        || market
            .settlement
            .as_ref()
            .is_some_and(|s| s.results.iter().any(|(sel, _)| *sel == wanted))
}

/// `GET /api/markets/:marketId/settlement`: the agreed result per selection, what each provider
/// reported, the confidence and the conflicts (empty lists before settlement).
pub(crate) fn settlement_json(market_id: &str, market: &MarketView) -> Value {
    let Some(s) = &market.settlement else {
        return json!({
            "marketId": market_id,
            "settled": false,
            "status": market.status.as_str(),
            "settlementStatus": {},
            "providerSettlements": [],
            "confidence": 0.0,
            "conflicts": [],
        });
    };
    let per_selection: serde_json::Map<String, Value> = s
        .results
        .iter()
        .map(|(sel, r)| (sel.as_str().to_owned(), r.as_str().into()))
        .collect();
    let providers: Vec<Value> = s
        .provider_results
        .iter()
        .map(|(p, results)| {
            let results: serde_json::Map<String, Value> = results
                .iter()
                .map(|(sel, r)| (sel.as_str().to_owned(), r.as_str().into()))
                .collect();
            json!({"provider": p.as_str(), "settlementStatus": results})
        })
        .collect();
    json!({
        "marketId": market_id,
        "settled": market.status == MarketStatus::Settled,
        "status": market.status.as_str(),
        "settlementStatus": per_selection,
        "providerSettlements": providers,
        "confidence": (s.confidence * 1000.0).round() / 1000.0,
        "conflicts": s.conflicts.iter().map(Selection::as_str).collect::<Vec<_>>(),
    })
}

/// The agreed result of `selection` in a settled market (`None` before settlement, or while
/// providers disagree on it: a conflict is never graded by guess).
pub(crate) fn result_of(market: &MarketView, selection: &str) -> Option<Settlement> {
    if market.status != MarketStatus::Settled {
        return None;
    }
    let s = market.settlement.as_ref()?;
    let wanted = Selection::parse(selection);
    if s.conflicts.contains(&wanted) {
        return None;
    }
    s.results
        .iter()
        .find(|(sel, _)| *sel == wanted)
        .map(|(_, r)| *r)
}

/// What a bet returns: stake × odds when won, the stake back on void or push, nothing if lost.
pub(crate) fn payout(result: Settlement, odds: f64, stake: f64) -> f64 {
    let cents = |v: f64| (v * 100.0).round() / 100.0;
    match result {
        Settlement::Won => cents(stake * odds),
        Settlement::Void | Settlement::Push => cents(stake),
        Settlement::Lost => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_prices_are_never_above_the_price() {
        assert_eq!(shown(2.558), 2.558);
        assert_eq!(shown(2.45), 2.45);
        assert_eq!(shown(1.0 + 1.0 / 1.1), 1.909, "-110 American");
        assert_eq!(shown(2.5559), 2.555);
    }

    #[test]
    fn payouts() {
        assert_eq!(payout(Settlement::Won, 2.5, 10.0), 25.0);
        assert_eq!(payout(Settlement::Lost, 2.5, 10.0), 0.0);
        assert_eq!(payout(Settlement::Void, 2.5, 10.0), 10.0);
        assert_eq!(payout(Settlement::Push, 1.91, 10.0), 10.0);
        assert_eq!(payout(Settlement::Won, 1.91, 10.0), 19.1);
    }
}
