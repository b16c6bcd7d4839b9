//! ESPN's public scoreboard, `GET /apis/site/v2/sports/{sport}/{league}/scoreboard`.
//!
//! An undocumented, keyless API: scores and states only. One `Score` observation comes out per
//! competition, from `ctx.provider`, stamped `ctx.received_at` (ESPN stamps nothing). The
//! payload does not name its sport or league in a usable form, so they come from the request
//! (`ctx.sport`, `ctx.league` = the URL path) mapped through the league table (`soccer/eng.1`
//! → soccer/premier-league).
//!
//! * State is read from `status.type.state` (`pre|in|post`) plus `completed`, not from the
//!   status name, except for the names that state alone cannot tell: `STATUS_HALFTIME`
//!   (halftime), `STATUS_POSTPONED` (postponed; it is `post` but not completed) and
//!   `STATUS_CANCELED` (cancelled). Any other `post` that is not completed is postponed too.
//! * Scores are strings (`"17"`) and read `"0"` before kick-off; a game not started is always
//!   reported 0-0.
//! * `status.period` and `displayClock` give the live period label (`Q3`, `P2`, `2nd Half`)
//!   and clock. Dates without seconds (`2024-11-10T18:00Z`) are accepted.
//! * `competitions[].odds[]` is ignored on purpose: it carries a spread and an over/under line
//!   but no prices, and a market without prices has nothing to aggregate.

use serde_json::Value;

use super::{context::SportLeague, json, quote, status_label, FeedContext, FeedError, ParseReport};
use crate::{
    model::{MatchStatus, Timestamp},
    observation::{EventRef, Observation, ObservationBody},
};

/// Parses a scoreboard response: one [`ObservationBody::Score`] per competition.
///
/// # Errors
/// [`FeedError::Json`] if the bytes are not JSON, [`FeedError::Provider`] for an error body
/// (`{"code", "message"}` without events), [`FeedError::Shape`] if there is no `events`
/// array. Malformed events and competitions are skipped and counted instead.
pub fn parse_scoreboard(bytes: &[u8], ctx: &FeedContext) -> Result<ParseReport, FeedError> {
    let value = json::parse(bytes)?;
    if !value.is_object() {
        let found = json::kind(&value);
        return Err(FeedError::Shape(format!(
            "$: expected an object, found {found}"
        )));
    }
    if value.get("events").is_none() {
        if let Some(message) = json::text(&value, "message") {
            return Err(FeedError::Provider {
                code: json::id(&value, "code").unwrap_or_default(),
                message: message.to_owned(),
            });
        }
    }
    let events = json::array_at(&value, "events", "$")?;
    let path_key = format!("{}/{}", ctx.sport.trim(), ctx.league.trim());
    let names = ctx
        .map_league(&[&path_key])
        .unwrap_or_else(|| SportLeague::new(ctx.sport.trim(), ctx.league.trim()));
    let mut report = ParseReport::new();
    for (i, event) in events.iter().enumerate() {
        let path = format!("$.events[{i}]");
        let Some(competitions) = json::list(event, "competitions") else {
            report.reject(format!("{path}.competitions: rejected: not an array"));
            continue;
        };
        for (c, competition) in competitions.iter().enumerate() {
            let path = format!("{path}.competitions[{c}]");
            let read = read_competition(event, competition, &names, &mut report, &path);
            if let Some((event_ref, body)) = read {
                report.observations.push(Observation {
                    provider: ctx.provider.clone(),
                    event: event_ref.into(),
                    observed_at: ctx.received_at,
                    body,
                });
            }
        }
    }
    Ok(report)
}

/// One competition's event reference and score, or `None` (counted) if unusable.
fn read_competition(
    event: &Value,
    competition: &Value,
    names: &SportLeague,
    report: &mut ParseReport,
    path: &str,
) -> Option<(EventRef, ObservationBody)> {
    let Some(id) = json::id(event, "id").or_else(|| json::id(competition, "id")) else {
        report.reject(format!("{path}: rejected: no event id"));
        return None;
    };
    let start = json::timestamp(competition.get("date")).or(json::timestamp(event.get("date")));
    let Some(start_time): Option<Timestamp> = start else {
        report.reject(format!("{path}: rejected: bad `date`"));
        return None;
    };
    let status = competition
        .get("status")
        .filter(|s| s.is_object())
        .or(event.get("status"))
        .unwrap_or(&Value::Null);
    let Some(match_status) = read_status(status) else {
        report.reject(format!("{path}.status: rejected: unknown state"));
        return None;
    };
    let home = competitor(competition, "home");
    let away = competitor(competition, "away");
    let (Some((home, home_score)), Some((away, away_score))) = (home, away) else {
        report.reject(format!(
            "{path}.competitors: rejected: no named home and away"
        ));
        return None;
    };
    let body = score_body(status, match_status, (home_score, away_score), &names.sport);
    let Some(body) = body else {
        report.reject(format!("{path}.competitors: rejected: bad score"));
        return None;
    };
    if let (Some(name), MatchStatus::Postponed) = (status_name(status), match_status) {
        if name != "STATUS_POSTPONED" {
            report.warn(format!("{path}: {} taken as postponed", quote(name)));
        }
    }
    let event_ref = EventRef {
        provider_event_id: id,
        sport: names.sport.clone(),
        league: names.league.clone(),
        home: home.to_owned(),
        away: away.to_owned(),
        start_time,
    };
    Some((event_ref, body))
}

/// The score body of a competition in `match_status`, or `None` if a started match lacks a
/// score.
fn score_body(
    status: &Value,
    match_status: MatchStatus,
    scores: (Option<u32>, Option<u32>),
    sport: &str,
) -> Option<ObservationBody> {
    let (home, away) = match (match_status, scores) {
        // ESPN shows "0" before kick-off; whatever it shows, nothing has been scored.
        (MatchStatus::Scheduled, _) => (0, 0),
        (_, (Some(h), Some(a))) => (h, a),
        (MatchStatus::Postponed | MatchStatus::Cancelled, _) => (0, 0),
        _ => return None,
    };
    let period_number = status.get("period").and_then(json::count).unwrap_or(0);
    let period =
        status_label(match_status).map_or_else(|| live_period(sport, period_number), str::to_owned);
    let clock = json::text(status, "displayClock")
        .filter(|_| match_status == MatchStatus::Live)
        .map(str::to_owned);
    Some(ObservationBody::Score {
        home,
        away,
        period,
        status: match_status,
        clock,
    })
}

/// The competitor on `side` (`home`/`away`): its display name and score, if it has one.
fn competitor<'a>(competition: &'a Value, side: &str) -> Option<(&'a str, Option<u32>)> {
    let competitors = competition.get("competitors")?.as_array()?;
    let c = competitors
        .iter()
        .find(|c| json::text(c, "homeAway") == Some(side))?;
    let team = c.get("team").unwrap_or(&Value::Null);
    let name = ["displayName", "shortDisplayName", "name"]
        .iter()
        .find_map(|k| json::text(team, k))?;
    let score = match c.get("score") {
        // Some ESPN endpoints write `{"value": 17.0, "displayValue": "17"}`.
        Some(obj @ Value::Object(_)) => obj.get("displayValue").and_then(json::count),
        Some(v) => json::count(v),
        None => None,
    };
    Some((name, score))
}

/// `status.type.name`, if present.
fn status_name(status: &Value) -> Option<&str> {
    json::text(status.get("type")?, "name")
}

/// The match status of an ESPN `status` object (see the module docs).
fn read_status(status: &Value) -> Option<MatchStatus> {
    let kind = status.get("type")?;
    match status_name(status).unwrap_or_default() {
        "STATUS_HALFTIME" => return Some(MatchStatus::Halftime),
        "STATUS_POSTPONED" => return Some(MatchStatus::Postponed),
        "STATUS_CANCELED" | "STATUS_CANCELLED" | "STATUS_ABANDONED" => {
            return Some(MatchStatus::Cancelled)
        }
        _ => {}
    }
    let completed = kind
        .get("completed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match json::text(kind, "state")? {
        "pre" => Some(MatchStatus::Scheduled),
        "in" => Some(MatchStatus::Live),
        "post" if completed => Some(MatchStatus::Finished),
        "post" => Some(MatchStatus::Postponed),
        _ => None,
    }
}

/// The label of live period `n` in `sport`: `Q1`–`Q4` then `OT`, `OT2`… (football,
/// basketball); `P1`–`P3` then `OT`… (hockey); halves, `ET` and `PEN` (soccer); `Inning n`
/// (baseball); `P{n}` elsewhere; `LIVE` when ESPN gives no period.
fn live_period(sport: &str, n: u32) -> String {
    let overtime = |regular: u32| match n - regular {
        1 => "OT".to_owned(),
        k => format!("OT{k}"),
    };
    match (sport, n) {
        (_, 0) => "LIVE".to_owned(),
        ("football" | "basketball", 1..=4) => format!("Q{n}"),
        ("football" | "basketball", _) => overtime(4),
        ("hockey", 1..=3) => format!("P{n}"),
        ("hockey", _) => overtime(3),
        ("soccer", 1) => "1st Half".to_owned(),
        ("soccer", 2) => "2nd Half".to_owned(),
        ("soccer", 3 | 4) => "ET".to_owned(),
        ("soccer", _) => "PEN".to_owned(),
        ("baseball", _) => format!("Inning {n}"),
        _ => format!("P{n}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn states_and_names() {
        let st = |state: &str, completed: bool, name: &str| {
            read_status(&json!({"type": {"state": state, "completed": completed, "name": name}}))
        };
        assert_eq!(
            st("pre", false, "STATUS_SCHEDULED"),
            Some(MatchStatus::Scheduled)
        );
        assert_eq!(
            st("in", false, "STATUS_IN_PROGRESS"),
            Some(MatchStatus::Live)
        );
        assert_eq!(
            st("in", false, "STATUS_HALFTIME"),
            Some(MatchStatus::Halftime)
        );
        assert_eq!(
            st("post", true, "STATUS_FINAL"),
            Some(MatchStatus::Finished)
        );
        assert_eq!(
            st("post", false, "STATUS_POSTPONED"),
            Some(MatchStatus::Postponed)
        );
        assert_eq!(
            st("post", false, "STATUS_CANCELED"),
            Some(MatchStatus::Cancelled)
        );
        assert_eq!(st("later", false, "X"), None);
        assert_eq!(read_status(&json!(null)), None);
    }

    #[test]
    fn period_labels() {
        assert_eq!(live_period("football", 3), "Q3");
        assert_eq!(live_period("basketball", 6), "OT2");
        assert_eq!(live_period("hockey", 4), "OT");
        assert_eq!(live_period("soccer", 2), "2nd Half");
        assert_eq!(live_period("baseball", 7), "Inning 7");
        assert_eq!(live_period("cricket", 0), "LIVE");
        assert_eq!(live_period("rugby", u32::MAX), format!("P{}", u32::MAX));
        assert_eq!(
            live_period("football", u32::MAX),
            format!("OT{}", u32::MAX - 4)
        );
    }

    #[test]
    fn error_bodies_and_shapes() {
        let ctx = FeedContext::new("espn".into(), Timestamp(0)).with_sport("football", "nfl");
        let err = parse_scoreboard(br#"{"code":400,"message":"bad league"}"#, &ctx).unwrap_err();
        assert_eq!(
            err,
            FeedError::Provider {
                code: "400".into(),
                message: "bad league".into()
            }
        );
        assert!(matches!(
            parse_scoreboard(b"[]", &ctx),
            Err(FeedError::Shape(_))
        ));
        assert!(matches!(
            parse_scoreboard(b"{}", &ctx),
            Err(FeedError::Shape(_))
        ));
    }
}
