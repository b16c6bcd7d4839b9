//! API-Football v3 (api-sports.io), `GET /fixtures` (`?live=all` and by date or id).
//!
//! Scores and states of soccer fixtures. One `Score` observation comes out per fixture, from
//! `ctx.provider`, stamped `ctx.received_at` (fixtures carry no update time).
//!
//! * The envelope is `{get, parameters, errors, results, paging, response}`. `errors` is `[]`
//!   on success and an *object* on failure (`{"token": "Error/Missing application key."}`),
//!   even with HTTP 200, so a non-empty `errors` is a [`FeedError::Provider`] whatever the
//!   status.
//! * `fixture.status.short`: `TBD`, `NS` scheduled; `1H`, `2H`, `ET`, `BT`, `P`, `LIVE`,
//!   `SUSP`, `INT` live; `HT` halftime; `FT`, `AET`, `PEN` finished; `PST` postponed; `CANC`,
//!   `ABD`, `AWD`, `WO` cancelled (a match awarded or walked over was not played out).
//! * `goals` are integers, `null` before kick-off; `elapsed` minutes plus `extra` stoppage
//!   minutes give the clock (`45'+2`).
//! * The league maps through the context's league table by id (`39`), `country/name`
//!   (`england/premier league`) or name; an unknown league keeps its name as a slug
//!   (`Botola Pro` → `botola-pro`) under `ctx.sport`, or `soccer` if that is empty.
//! * Team names are API-Football's ("Tottenham", "Man Utd" in places); the identity alias
//!   table, not this parser, reconciles them with other feeds.

use serde_json::Value;

use super::{
    context::{slug, SportLeague},
    json, quote, status_label, FeedContext, FeedError, ParseReport,
};
use crate::{
    model::MatchStatus,
    observation::{EventRef, Observation, ObservationBody},
};

/// Parses a fixtures response: one [`ObservationBody::Score`] per fixture.
///
/// # Errors
/// [`FeedError::Json`] if the bytes are not JSON, [`FeedError::Provider`] if `errors` is not
/// empty, [`FeedError::Shape`] if the envelope is not an object with a `response` array.
/// Malformed fixtures are skipped and counted instead.
pub fn parse_fixtures(bytes: &[u8], ctx: &FeedContext) -> Result<ParseReport, FeedError> {
    let value = json::parse(bytes)?;
    if !value.is_object() {
        let found = json::kind(&value);
        return Err(FeedError::Shape(format!(
            "$: expected an object, found {found}"
        )));
    }
    check_errors(value.get("errors"))?;
    let mut report = ParseReport::new();
    for (i, item) in json::array_at(&value, "response", "$")?.iter().enumerate() {
        let path = format!("$.response[{i}]");
        if let Some((event, body)) = read_fixture(item, ctx, &mut report, &path) {
            report.observations.push(Observation {
                provider: ctx.provider.clone(),
                event: event.into(),
                observed_at: ctx.received_at,
                body,
            });
        }
    }
    Ok(report)
}

/// `Ok` for an absent, null or empty `errors`; the provider's first error otherwise.
fn check_errors(errors: Option<&Value>) -> Result<(), FeedError> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match errors {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => match items.first() {
            None => Ok(()),
            Some(first) => Err(FeedError::Provider {
                code: String::new(),
                message: text(first),
            }),
        },
        Some(Value::Object(map)) => match map.iter().next() {
            None => Ok(()),
            Some((code, message)) => Err(FeedError::Provider {
                code: code.clone(),
                message: text(message),
            }),
        },
        Some(other) => Err(FeedError::Shape(format!(
            "$.errors: expected an array or object, found {}",
            json::kind(other)
        ))),
    }
}

/// One fixture's event reference and score, or `None` (counted) if unusable.
fn read_fixture(
    item: &Value,
    ctx: &FeedContext,
    report: &mut ParseReport,
    path: &str,
) -> Option<(EventRef, ObservationBody)> {
    let null = &Value::Null;
    let fixture = item.get("fixture").unwrap_or(null);
    let Some(id) = json::id(fixture, "id") else {
        report.reject(format!("{path}.fixture.id: rejected: missing"));
        return None;
    };
    let start = json::timestamp(fixture.get("date")).or(json::timestamp(fixture.get("timestamp")));
    let Some(start_time) = start else {
        report.reject(format!("{path}.fixture.date: rejected: missing or bad"));
        return None;
    };
    let status_obj = fixture.get("status").unwrap_or(null);
    let short = json::text(status_obj, "short").unwrap_or_default();
    let Some(status) = status_of(short) else {
        report.reject(format!(
            "{path}.fixture.status.short: rejected: unknown {}",
            quote(short)
        ));
        return None;
    };
    let teams = item.get("teams").unwrap_or(null);
    let team = |side: &str| json::text(teams.get(side).unwrap_or(null), "name");
    let (Some(home), Some(away)) = (team("home"), team("away")) else {
        report.reject(format!("{path}.teams: rejected: no home and away names"));
        return None;
    };
    let goals = item.get("goals").unwrap_or(null);
    let goal = |side: &str| goals.get(side).and_then(json::count);
    let (home_goals, away_goals) = match (goal("home"), goal("away")) {
        (Some(h), Some(a)) => (h, a),
        _ if !status.in_play() && status != MatchStatus::Finished => (0, 0),
        _ => {
            report.reject(format!(
                "{path}.goals: rejected: missing for a started match"
            ));
            return None;
        }
    };
    let period = status_label(status).map_or_else(|| live_period(short), str::to_owned);
    let clock = (status == MatchStatus::Live)
        .then(|| clock(status_obj))
        .flatten();
    let SportLeague { sport, league } = league_of(item.get("league").unwrap_or(null), ctx);
    let event = EventRef {
        provider_event_id: id,
        sport,
        league,
        home: home.to_owned(),
        away: away.to_owned(),
        start_time,
    };
    let body = ObservationBody::Score {
        home: home_goals,
        away: away_goals,
        period,
        status,
        clock,
    };
    Some((event, body))
}

/// The match status of a `status.short` code (see the module docs).
fn status_of(short: &str) -> Option<MatchStatus> {
    Some(match short {
        "TBD" | "NS" => MatchStatus::Scheduled,
        "1H" | "2H" | "ET" | "BT" | "P" | "LIVE" | "SUSP" | "INT" => MatchStatus::Live,
        "HT" => MatchStatus::Halftime,
        "FT" | "AET" | "PEN" => MatchStatus::Finished,
        "PST" => MatchStatus::Postponed,
        "CANC" | "ABD" | "AWD" | "WO" => MatchStatus::Cancelled,
        _ => return None,
    })
}

/// The period label of a live `status.short` code.
fn live_period(short: &str) -> String {
    match short {
        "1H" => "1st Half",
        "2H" => "2nd Half",
        "ET" => "ET",
        "BT" => "Break",
        "P" => "PEN",
        "SUSP" => "Suspended",
        "INT" => "Interrupted",
        _ => "LIVE",
    }
    .to_owned()
}

/// `elapsed'` or `elapsed'+extra` (`45'+2`); `None` without `elapsed`.
fn clock(status: &Value) -> Option<String> {
    let elapsed = status.get("elapsed").and_then(json::count)?;
    Some(match status.get("extra").and_then(json::count) {
        Some(extra) if extra > 0 => format!("{elapsed}'+{extra}"),
        _ => format!("{elapsed}'"),
    })
}

/// inplay's sport and league of a fixture's `league` object.
fn league_of(league: &Value, ctx: &FeedContext) -> SportLeague {
    let name = json::text(league, "name").unwrap_or_default();
    let country = json::text(league, "country").unwrap_or_default();
    let id = json::id(league, "id").unwrap_or_default();
    let qualified = format!("{country}/{name}");
    if let Some(found) = ctx.map_league(&[&id, &qualified, name]) {
        return found;
    }
    let sport = match ctx.sport.trim() {
        "" => "soccer",
        s => s,
    };
    let league = match slug(name) {
        s if s.is_empty() => ctx.league.trim().to_owned(),
        s => s,
    };
    SportLeague::new(sport, league)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn status_codes() {
        for (short, status) in [
            ("NS", MatchStatus::Scheduled),
            ("1H", MatchStatus::Live),
            ("BT", MatchStatus::Live),
            ("HT", MatchStatus::Halftime),
            ("PEN", MatchStatus::Finished),
            ("PST", MatchStatus::Postponed),
            ("WO", MatchStatus::Cancelled),
        ] {
            assert_eq!(status_of(short), Some(status), "{short}");
        }
        assert_eq!(status_of("ft"), None);
    }

    #[test]
    fn clocks() {
        assert_eq!(
            clock(&json!({"elapsed": 45, "extra": 2})).as_deref(),
            Some("45'+2")
        );
        assert_eq!(
            clock(&json!({"elapsed": 67, "extra": null})).as_deref(),
            Some("67'")
        );
        assert_eq!(clock(&json!({"elapsed": null})), None);
    }

    #[test]
    fn errors_envelope() {
        assert_eq!(check_errors(Some(&json!([]))), Ok(()));
        assert_eq!(check_errors(Some(&json!({}))), Ok(()));
        let e = check_errors(Some(&json!({"token": "Error/Missing application key."})));
        assert_eq!(
            e,
            Err(FeedError::Provider {
                code: "token".into(),
                message: "Error/Missing application key.".into()
            })
        );
        assert!(matches!(
            check_errors(Some(&json!(3))),
            Err(FeedError::Shape(_))
        ));
    }
}
