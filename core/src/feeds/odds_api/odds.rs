//! `GET /v4/sports/{sport}/odds`: events × bookmakers × markets × outcomes → one `Prices`
//! observation per (bookmaker, market).
//!
//! Outcomes are matched to selections by name: the event's `home_team` is home, `away_team` is
//! away, `Draw`, `Over` and `Under` are themselves. A spread's line is the home outcome's
//! `point` (the away outcome must carry its negation); a total's line is the shared `point`.
//! A market whose outcomes disagree on the line is rejected whole: pricing it under either
//! line would put a price in the wrong market.

use std::sync::Arc;

use serde_json::Value;

use super::{event_ref, events};
use crate::{
    feeds::{json, quote, FeedContext, FeedError, ParseReport},
    model::{Line, MarketKey, MarketStatus, MarketType, ProviderId, Selection, Timestamp},
    observation::{EventRef, Observation, ObservationBody},
    odds::{OddsFormat, Price},
};

/// Two points closer than this are the same line (points are quoted in halves and quarters).
const POINT_EPSILON: f64 = 1e-6;

/// Parses an odds response: one [`ObservationBody::Prices`] per bookmaker and market, from the
/// bookmaker `"{ctx.provider}/{bookmaker.key}"`, stamped with the market's `last_update`, else
/// the bookmaker's, else `ctx.received_at`. Prices are read in `ctx.odds_format`.
///
/// # Errors
/// [`FeedError::Json`] if the bytes are not JSON, [`FeedError::Provider`] if they are the
/// provider's error body, [`FeedError::Shape`] if they are not an array of events. Malformed
/// events, bookmakers, markets and outcomes are skipped and counted instead.
pub fn parse_odds(bytes: &[u8], ctx: &FeedContext) -> Result<ParseReport, FeedError> {
    let value = json::parse(bytes)?;
    let mut report = ParseReport::new();
    for (i, event) in events(&value)?.iter().enumerate() {
        let path = format!("$[{i}]");
        let Some(event_ref) = event_ref(event, ctx, &mut report, &path) else {
            continue;
        };
        let Some(bookmakers) = json::list(event, "bookmakers") else {
            report.reject(format!("{path}.bookmakers: rejected: not an array"));
            continue;
        };
        for (b, bookmaker) in bookmakers.iter().enumerate() {
            let path = format!("{path}.bookmakers[{b}]");
            read_bookmaker(bookmaker, &event_ref, ctx, &mut report, &path);
        }
    }
    Ok(report)
}

/// Pushes one observation per usable market of one bookmaker.
fn read_bookmaker(
    bookmaker: &Value,
    event: &Arc<EventRef>,
    ctx: &FeedContext,
    report: &mut ParseReport,
    path: &str,
) {
    let Some(key) = json::text(bookmaker, "key") else {
        report.reject(format!("{path}: rejected bookmaker: `key` missing"));
        return;
    };
    let Some(markets) = json::list(bookmaker, "markets") else {
        report.reject(format!("{path}.markets: rejected: not an array"));
        return;
    };
    let provider = ProviderId::new(format!("{}/{key}", ctx.provider));
    let bookmaker_at = json::timestamp(bookmaker.get("last_update"));
    for (m, market) in markets.iter().enumerate() {
        let path = format!("{path}.markets[{m}]");
        let Some(body) = read_market(market, event, ctx.odds_format, report, &path) else {
            continue;
        };
        let observed_at: Timestamp = json::timestamp(market.get("last_update"))
            .or(bookmaker_at)
            .unwrap_or(ctx.received_at);
        report.observations.push(Observation {
            provider: provider.clone(),
            event: event.clone(),
            observed_at,
            body,
        });
    }
}

/// One market as a `Prices` body, or `None` (counted) if it has no usable outcome or its
/// line is missing or inconsistent.
fn read_market(
    market: &Value,
    event: &EventRef,
    format: OddsFormat,
    report: &mut ParseReport,
    path: &str,
) -> Option<ObservationBody> {
    let Some(name) = json::text(market, "key") else {
        report.reject(format!("{path}: rejected market: `key` missing"));
        return None;
    };
    let market_type = MarketType::parse(name);
    let Some(outcomes) = json::list(market, "outcomes") else {
        report.reject(format!("{path}.outcomes: rejected: not an array"));
        return None;
    };
    let mut prices: Vec<(Selection, Price)> = Vec::with_capacity(outcomes.len());
    let mut points = Vec::with_capacity(outcomes.len());
    for (o, outcome) in outcomes.iter().enumerate() {
        let path = format!("{path}.outcomes[{o}]");
        let read = read_outcome(outcome, &market_type, event, format, report, &path);
        let Some((selection, price, point)) = read else {
            continue;
        };
        if prices.iter().any(|(s, _)| *s == selection) {
            let what = quote(selection.as_str());
            report.reject(format!("{path}: rejected outcome: duplicate {what}"));
            continue;
        }
        points.push((selection.clone(), point));
        prices.push((selection, price));
    }
    let line = match market_type {
        MarketType::Spread => Some(spread_line(&points)),
        MarketType::Total => Some(total_line(&points)),
        _ => None,
    };
    let line = match line {
        None => None,
        Some(Ok(line)) => Some(line),
        Some(Err(why)) => {
            report.reject(format!("{path}: rejected market {}: {why}", quote(name)));
            return None;
        }
    };
    if prices.is_empty() {
        report.reject(format!(
            "{path}: rejected market {}: no usable outcome",
            quote(name)
        ));
        return None;
    }
    Some(ObservationBody::Prices {
        market: MarketKey { market_type, line },
        prices,
        status: MarketStatus::Active,
    })
}

/// One outcome's selection, price and point, or `None` (counted) if it is unusable.
fn read_outcome(
    outcome: &Value,
    market_type: &MarketType,
    event: &EventRef,
    format: OddsFormat,
    report: &mut ParseReport,
    path: &str,
) -> Option<(Selection, Price, Option<f64>)> {
    let Some(label) = json::text(outcome, "name") else {
        report.reject(format!("{path}: rejected outcome: `name` missing"));
        return None;
    };
    let Some(selection) = selection(market_type, label, event) else {
        let label = quote(label);
        report.reject(format!("{path}: rejected outcome: unknown name {label}"));
        return None;
    };
    let Some(price) = outcome.get("price").and_then(|p| read_price(p, format)) else {
        let format = format.as_str();
        report.reject(format!("{path}: rejected outcome: bad {format} price"));
        return None;
    };
    let point = outcome.get("point").and_then(json::number);
    Some((selection, price, point))
}

/// The selection an outcome name stands for in a market of this type. Team names are matched
/// exactly, then ignoring case; `None` for a name that has no place in the market.
fn selection(market_type: &MarketType, label: &str, event: &EventRef) -> Option<Selection> {
    let is = |team: &str| label == team || label.eq_ignore_ascii_case(team);
    let team = if is(&event.home) {
        Some(Selection::Home)
    } else if is(&event.away) {
        Some(Selection::Away)
    } else {
        None
    };
    let named = match Selection::parse(label) {
        s @ (Selection::Draw | Selection::Over | Selection::Under) => Some(s),
        _ => None,
    };
    match market_type {
        MarketType::Moneyline => team.or(named.filter(|s| *s == Selection::Draw)),
        MarketType::Spread => team,
        MarketType::Total => named.filter(|s| matches!(s, Selection::Over | Selection::Under)),
        MarketType::Other(_) => team.or(named).or_else(|| Some(Selection::parse(label))),
    }
}

/// A price in the requested format. Fractional prices are strings (`"5/2"`); a plain number in
/// a fractional response is taken as decimal.
fn read_price(v: &Value, format: OddsFormat) -> Option<Price> {
    match (format, v) {
        (OddsFormat::Fractional, Value::String(s)) => Price::from_fractional(s).ok(),
        (OddsFormat::American, v) => Price::from_american(json::number(v)?).ok(),
        (_, v) => Price::from_decimal(json::number(v)?).ok(),
    }
}

/// The spread line: the home outcome's point, with the away outcome's point its negation.
fn spread_line(points: &[(Selection, Option<f64>)]) -> Result<Line, String> {
    let point = |side: Selection| points.iter().find(|(s, _)| *s == side).map(|(_, p)| *p);
    let home = match (point(Selection::Home), point(Selection::Away)) {
        (Some(None), _) | (None, Some(None)) => return Err("outcome without `point`".into()),
        (Some(Some(h)), Some(Some(a))) if (h + a).abs() > POINT_EPSILON => {
            return Err(format!("home point {h} but away point {a}"));
        }
        (Some(Some(h)), _) => h,
        (None, Some(Some(a))) => -a,
        (None, None) => return Err("no side priced".into()),
    };
    Line::from_f64(home).ok_or_else(|| format!("point {home} out of range"))
}

/// The total line: the point every outcome shares.
fn total_line(points: &[(Selection, Option<f64>)]) -> Result<Line, String> {
    let mut line: Option<f64> = None;
    for (_, point) in points {
        let p = point.ok_or("outcome without `point`")?;
        match line {
            Some(l) if (l - p).abs() > POINT_EPSILON => {
                return Err(format!("over/under points {l} and {p} differ"));
            }
            _ => line = Some(p),
        }
    }
    let line = line.ok_or("no side priced")?;
    Line::from_f64(line).ok_or_else(|| format!("point {line} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(format: OddsFormat) -> FeedContext {
        FeedContext::new(ProviderId::new("odds-api"), Timestamp(7)).with_odds_format(format)
    }

    fn event(markets: &str) -> String {
        format!(
            r#"[{{"id":"e1","sport_key":"basketball_nba","commence_time":"2024-05-02T23:30:00Z",
            "home_team":"Boston Celtics","away_team":"Miami Heat","bookmakers":[
            {{"key":"fanduel","title":"FanDuel","last_update":"2024-05-02T23:45:00Z",
              "markets":{markets}}}]}}]"#
        )
    }

    #[test]
    fn spreads_take_the_home_point_and_reject_inconsistent_lines() {
        let good = event(
            r#"[{"key":"spreads","outcomes":[{"name":"Miami Heat","price":-110,"point":7.5},
               {"name":"Boston Celtics","price":-110,"point":-7.5}]},
               {"key":"spreads","outcomes":[{"name":"Miami Heat","price":-110,"point":7.0},
               {"name":"Boston Celtics","price":-110,"point":-7.5}]}]"#,
        );
        let r = parse_odds(good.as_bytes(), &ctx(OddsFormat::American)).unwrap();
        assert_eq!(
            (r.observations.len(), r.rejected),
            (1, 1),
            "{:?}",
            r.warnings
        );
        let ObservationBody::Prices { market, prices, .. } = &r.observations[0].body else {
            panic!("prices expected");
        };
        assert_eq!(market.suffix(), "spread:-7.5");
        assert_eq!(prices[0].0, Selection::Away);
        assert_eq!(r.observations[0].provider.as_str(), "odds-api/fanduel");
        assert_eq!(
            r.observations[0].observed_at,
            Timestamp::parse_iso("2024-05-02T23:45:00Z").unwrap()
        );
    }

    #[test]
    fn bad_outcomes_cost_only_themselves() {
        let body = event(
            r#"[{"key":"totals","outcomes":[{"name":"Over","price":1.9,"point":168.5},
               {"name":"Under","price":"1.9","point":168.5}]},
               {"key":"h2h","outcomes":[{"name":"Boston Celtics","price":1.0},
               {"name":"Miami Heat","price":3.1},{"name":"Lakers","price":2.0}]}]"#,
        );
        let r = parse_odds(body.as_bytes(), &ctx(OddsFormat::Decimal)).unwrap();
        assert_eq!(
            (r.observations.len(), r.rejected),
            (2, 3),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn error_bodies_and_wrong_shapes_fail_the_payload() {
        let c = ctx(OddsFormat::Decimal);
        let err = parse_odds(br#"{"message":"m","error_code":"INVALID_KEY"}"#, &c).unwrap_err();
        assert!(matches!(err, FeedError::Provider { ref code, .. } if code == "INVALID_KEY"));
        assert!(matches!(parse_odds(b"{}", &c), Err(FeedError::Shape(_))));
        assert!(matches!(parse_odds(b"[", &c), Err(FeedError::Json(_))));
        assert_eq!(parse_odds(b"[]", &c).unwrap(), ParseReport::new());
    }

    #[test]
    fn fractional_and_unknown_markets() {
        let body = event(
            r#"[{"key":"h2h_lay","outcomes":[{"name":"Boston Celtics","price":"5/2"},
               {"name":"Miami Heat","price":2.5}]}]"#,
        );
        let r = parse_odds(body.as_bytes(), &ctx(OddsFormat::Fractional)).unwrap();
        let ObservationBody::Prices { market, prices, .. } = &r.observations[0].body else {
            panic!("prices expected");
        };
        assert_eq!(market.suffix(), "h2h_lay");
        assert_eq!(prices[0].1.decimal(), 3.5);
    }
}
