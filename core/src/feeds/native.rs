//! The native feed: inplay's own JSON format for providers that integrate directly.
//!
//! It exists so that a new provider (or a test harness, or an operator correcting a result)
//! can speak inplay's vocabulary without an adapter: scores, decimal prices keyed by market
//! type and line, and explicit settlements. The format is specified below; the example in it
//! is also a test fixture (`core/tests/fixtures/native/example.json`).
//!
#![doc = include_str!("native.md")]

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{json, quote, status_label, FeedContext, FeedError, ParseReport};
use crate::{
    model::Timestamp,
    model::{Line, MarketKey, MarketStatus, MarketType, MatchStatus, Selection, Settlement},
    observation::{EventRef, Observation, ObservationBody},
    odds::Price,
};

/// The only format version.
const VERSION: u64 = 1;

/// Parses a native feed payload: per event, its score, then its markets, then its settlements,
/// all from `ctx.provider`.
///
/// # Errors
/// [`FeedError::Json`] if the bytes are not JSON; [`FeedError::Shape`] if they are not an
/// object with an `events` array, or name a `version` other than 1. Malformed events,
/// scores, markets, prices and settlements are skipped and counted instead.
pub fn parse(bytes: &[u8], ctx: &FeedContext) -> Result<ParseReport, FeedError> {
    let value = json::parse(bytes)?;
    if !value.is_object() {
        let found = json::kind(&value);
        return Err(FeedError::Shape(format!(
            "$: expected an object, found {found}"
        )));
    }
    match value.get("version") {
        None => {}
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => {
            return Err(FeedError::Shape(format!("$.version: unsupported {v}")));
        }
    }
    let default_at = json::timestamp(value.get("observedAt")).unwrap_or(ctx.received_at);
    let mut report = ParseReport::new();
    for (i, event) in json::array_at(&value, "events", "$")?.iter().enumerate() {
        let path = format!("$.events[{i}]");
        let Some(event_ref) = event_ref(event, &mut report, &path) else {
            continue;
        };
        let observed_at = json::timestamp(event.get("observedAt")).unwrap_or(default_at);
        let mut bodies = Vec::new();
        if let Some(score) = event.get("score").filter(|s| !s.is_null()) {
            bodies.extend(read_score(score, &mut report, &format!("{path}.score")));
        }
        for (key, reader) in [
            ("markets", read_market as Reader),
            ("settlements", read_settlement),
        ] {
            let Some(items) = json::list(event, key) else {
                report.reject(format!("{path}.{key}: rejected: not an array"));
                continue;
            };
            for (k, item) in items.iter().enumerate() {
                bodies.extend(reader(item, &mut report, &format!("{path}.{key}[{k}]")));
            }
        }
        let provider = &ctx.provider;
        report
            .observations
            .extend(bodies.into_iter().map(|body| Observation {
                provider: provider.clone(),
                event: event_ref.clone(),
                observed_at,
                body,
            }));
    }
    Ok(report)
}

/// Reads one market or settlement item.
type Reader = fn(&Value, &mut ParseReport, &str) -> Option<ObservationBody>;

/// The event's identity fields, or `None` (counted) if one is missing.
fn event_ref(event: &Value, report: &mut ParseReport, path: &str) -> Option<Arc<EventRef>> {
    let mut fields = ["id", "sport", "league", "home", "away"].map(|k| (k, json::text(event, k)));
    if let Some((missing, _)) = fields.iter().find(|(_, v)| v.is_none()) {
        report.reject(format!(
            "{path}.{missing}: rejected event: missing or not a string"
        ));
        return None;
    }
    let Some(start_time): Option<Timestamp> = json::timestamp(event.get("startTime")) else {
        report.reject(format!("{path}.startTime: rejected event: missing or bad"));
        return None;
    };
    let mut take = |i: usize| fields[i].1.take().unwrap_or_default().to_owned();
    Some(Arc::new(EventRef {
        provider_event_id: take(0),
        sport: take(1),
        league: take(2),
        home: take(3),
        away: take(4),
        start_time,
    }))
}

/// A `Score` body, or `None` (counted).
fn read_score(score: &Value, report: &mut ParseReport, path: &str) -> Option<ObservationBody> {
    let count = |k: &str| score.get(k).filter(|v| v.is_number()).and_then(json::count);
    let (Some(home), Some(away)) = (count("home"), count("away")) else {
        report.reject(format!("{path}: rejected score: `home`/`away` not counts"));
        return None;
    };
    let status_text = json::text(score, "status").unwrap_or_default();
    let Some(status) = MatchStatus::parse(status_text) else {
        report.reject(format!(
            "{path}.status: rejected score: {}",
            quote(status_text)
        ));
        return None;
    };
    let period = json::text(score, "period")
        .or(status_label(status))
        .unwrap_or("LIVE")
        .to_owned();
    Some(ObservationBody::Score {
        home,
        away,
        period,
        status,
        clock: json::text(score, "clock").map(str::to_owned),
    })
}

/// A `Prices` body, or `None` (counted).
fn read_market(market: &Value, report: &mut ParseReport, path: &str) -> Option<ObservationBody> {
    let key = market_key(market, report, path)?;
    let status = match json::text(market, "status").unwrap_or("active") {
        "active" => MarketStatus::Active,
        "suspended" => MarketStatus::Suspended,
        other => {
            report.reject(format!("{path}.status: rejected market: {}", quote(other)));
            return None;
        }
    };
    let entries = object(market, "prices", report, path)?;
    let mut prices = Vec::with_capacity(entries.len());
    for (name, price) in entries {
        match json::number(price).and_then(|p| Price::from_decimal(p).ok()) {
            Some(price) => prices.push((Selection::parse(name), price)),
            None => report.reject(format!("{path}.prices.{name}: rejected: bad decimal price")),
        }
    }
    if prices.is_empty() && !entries.is_empty() {
        report.reject(format!("{path}: rejected market: no usable price"));
        return None;
    }
    Some(ObservationBody::Prices {
        market: key,
        prices,
        status,
    })
}

/// A `Settled` body, or `None` (counted).
fn read_settlement(item: &Value, report: &mut ParseReport, path: &str) -> Option<ObservationBody> {
    let key = market_key(item, report, path)?;
    let entries = object(item, "results", report, path)?;
    let mut results = Vec::with_capacity(entries.len());
    for (name, result) in entries {
        let result = match result.as_str().unwrap_or_default() {
            "won" => Settlement::Won,
            "lost" => Settlement::Lost,
            "void" => Settlement::Void,
            "push" => Settlement::Push,
            _ => {
                report.reject(format!(
                    "{path}.results.{name}: rejected settlement: bad result"
                ));
                return None;
            }
        };
        results.push((Selection::parse(name), result));
    }
    if results.is_empty() {
        report.reject(format!("{path}.results: rejected settlement: empty"));
        return None;
    }
    Some(ObservationBody::Settled {
        market: key,
        results,
    })
}

/// The market key of a market or settlement item: `type`, plus `line` exactly when the type
/// has one.
fn market_key(item: &Value, report: &mut ParseReport, path: &str) -> Option<MarketKey> {
    let Some(name) = json::text(item, "type") else {
        report.reject(format!("{path}.type: rejected: missing"));
        return None;
    };
    let market_type = MarketType::parse(name);
    let line = match item.get("line").filter(|l| !l.is_null()) {
        None => None,
        Some(l) => match json::number(l).and_then(Line::from_f64) {
            Some(line) => Some(line),
            None => {
                report.reject(format!("{path}.line: rejected: not a number"));
                return None;
            }
        },
    };
    if market_type.has_line() != line.is_some() {
        let want = if market_type.has_line() {
            "needs"
        } else {
            "takes no"
        };
        report.reject(format!("{path}: rejected: {} {want} line", quote(name)));
        return None;
    }
    Some(MarketKey { market_type, line })
}

/// The object at `key`, or `None` (counted).
fn object<'a>(
    item: &'a Value,
    key: &str,
    report: &mut ParseReport,
    path: &str,
) -> Option<&'a Map<String, Value>> {
    let found = item.get(key).and_then(Value::as_object);
    if found.is_none() {
        report.reject(format!("{path}.{key}: rejected: not an object"));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderId;

    fn ctx() -> FeedContext {
        FeedContext::new(ProviderId::new("native"), Timestamp(9))
    }

    fn event(extra: &str) -> String {
        format!(
            r#"{{"events":[{{"id":"e","sport":"football","league":"nfl","home":"A","away":"B",
            "startTime":"2024-11-17T21:25Z"{extra}}}]}}"#
        )
    }

    #[test]
    fn lines_are_required_exactly_where_they_belong() {
        let body = event(
            r#","markets":[{"type":"spread","prices":{"home":1.9}},
               {"type":"moneyline","line":1,"prices":{"home":1.9}},
               {"type":"total","line":44.5,"prices":{"over":1.9,"under":0.9}}]"#,
        );
        let r = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!(
            (r.observations.len(), r.rejected),
            (1, 3),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.observations[0].observed_at, Timestamp(9));
    }

    #[test]
    fn scores_and_settlements() {
        let body = event(
            r#","observedAt":"2024-11-17T22:00:00Z","score":{"home":3,"away":7,"status":"live"},
               "settlements":[{"type":"moneyline","results":{"home":"lost","away":"won"}},
               {"type":"moneyline","results":{"home":"maybe"}}]"#,
        );
        let r = parse(body.as_bytes(), &ctx()).unwrap();
        assert_eq!((r.observations.len(), r.rejected), (2, 1));
        assert!(matches!(
            &r.observations[0].body,
            ObservationBody::Score { period, status: MatchStatus::Live, .. } if period == "LIVE"
        ));
        assert!(matches!(
            &r.observations[1].body,
            ObservationBody::Settled { .. }
        ));
    }

    #[test]
    fn envelope_errors() {
        assert!(matches!(parse(b"[]", &ctx()), Err(FeedError::Shape(_))));
        assert!(matches!(
            parse(br#"{"version":2,"events":[]}"#, &ctx()),
            Err(FeedError::Shape(_))
        ));
        assert!(matches!(
            parse(br#"{"events":{}}"#, &ctx()),
            Err(FeedError::Shape(_))
        ));
        assert_eq!(
            parse(br#"{"version":1,"events":[]}"#, &ctx())
                .unwrap()
                .rejected,
            0
        );
    }
}
