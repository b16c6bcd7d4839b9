//! `GET /v4/sports/{sport}/scores`: one `Score` observation per event.
//!
//! The state comes from two fields: `scores: null` means not started, `scores` with
//! `completed: false` means live, `completed: true` means final. Scores are strings in an array
//! keyed by team *name*, so they are matched to home and away by name, never by position. A
//! final score settles nothing by itself: this feed reports no market results, so no
//! `Settled` observation comes from here.

use serde_json::Value;

use super::{event_ref, events};
use crate::{
    feeds::{json, quote, status_label, FeedContext, FeedError, ParseReport},
    model::MatchStatus,
    observation::{EventRef, Observation, ObservationBody},
};

/// A game still "live" this long after its start is probably over: the feed sometimes never
/// flips `completed` (a recorded Saints–Vikings game stayed live into the next day). It is
/// reported as a warning; deciding that it ended is for a feed that says so.
const STALE_LIVE_MS: i64 = 8 * 3_600_000;

/// Parses a scores response: one [`ObservationBody::Score`] per event from `ctx.provider`,
/// stamped with the event's `last_update` or else `ctx.received_at`. Not started → 0-0
/// [`MatchStatus::Scheduled`] (`PRE`); live → [`MatchStatus::Live`] (`LIVE`, the feed names no
/// period and has no clock); completed → [`MatchStatus::Finished`] (`FT`).
///
/// # Errors
/// [`FeedError::Json`] if the bytes are not JSON, [`FeedError::Provider`] if they are the
/// provider's error body, [`FeedError::Shape`] if they are not an array of events. Malformed
/// events are skipped and counted instead.
pub fn parse_scores(bytes: &[u8], ctx: &FeedContext) -> Result<ParseReport, FeedError> {
    let value = json::parse(bytes)?;
    let mut report = ParseReport::new();
    for (i, event) in events(&value)?.iter().enumerate() {
        let path = format!("$[{i}]");
        let Some(event_ref) = event_ref(event, ctx, &mut report, &path) else {
            continue;
        };
        let Some(body) = read_score(event, &event_ref, &mut report, &path) else {
            continue;
        };
        let last_update = json::timestamp(event.get("last_update"));
        if let (Some(at), ObservationBody::Score { status, .. }) = (last_update, &body) {
            let running_ms = at.millis().saturating_sub(event_ref.start_time.millis());
            if *status == MatchStatus::Live && running_ms > STALE_LIVE_MS {
                report.warn(format!("{path}: live for over 8 hours; may be final"));
            }
        }
        report.observations.push(Observation {
            provider: ctx.provider.clone(),
            event: event_ref,
            observed_at: last_update.unwrap_or(ctx.received_at),
            body,
        });
    }
    Ok(report)
}

/// The score and state of one event, or `None` (counted or warned) if it cannot be read.
fn read_score(
    event: &Value,
    event_ref: &EventRef,
    report: &mut ParseReport,
    path: &str,
) -> Option<ObservationBody> {
    let completed = match event.get("completed") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            report.reject(format!(
                "{path}: rejected event: `completed` is not a boolean"
            ));
            return None;
        }
    };
    let scores = match event.get("scores") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.as_slice()),
        Some(_) => {
            report.reject(format!("{path}: rejected event: `scores` is not an array"));
            return None;
        }
    };
    let ((home, away), status) = match (scores, completed) {
        (None, false) => ((0, 0), MatchStatus::Scheduled),
        (None, true) => {
            report.warn(format!("{path}: completed without scores; skipped"));
            return None;
        }
        (Some(s), false) => (team_scores(s, event_ref, report, path)?, MatchStatus::Live),
        (Some(s), true) => (
            team_scores(s, event_ref, report, path)?,
            MatchStatus::Finished,
        ),
    };
    Some(ObservationBody::Score {
        home,
        away,
        period: status_label(status).unwrap_or("LIVE").to_owned(),
        status,
        clock: None,
    })
}

/// Home and away scores from `[{name, score}]`, matched by team name.
fn team_scores(
    scores: &[Value],
    event: &EventRef,
    report: &mut ParseReport,
    path: &str,
) -> Option<(u32, u32)> {
    let (mut home, mut away) = (None, None);
    for (k, entry) in scores.iter().enumerate() {
        let name = json::text(entry, "name").unwrap_or_default();
        let slot = if name.eq_ignore_ascii_case(&event.home) {
            &mut home
        } else if name.eq_ignore_ascii_case(&event.away) {
            &mut away
        } else {
            report.reject(format!(
                "{path}.scores[{k}]: rejected event: score for unknown team {}",
                quote(name)
            ));
            return None;
        };
        let Some(score) = entry.get("score").and_then(json::count) else {
            report.reject(format!("{path}.scores[{k}]: rejected event: bad score"));
            return None;
        };
        *slot = Some(score);
    }
    match (home, away) {
        (Some(h), Some(a)) => Some((h, a)),
        _ => {
            report.reject(format!(
                "{path}.scores: rejected event: a team has no score"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProviderId, Timestamp};

    fn ctx() -> FeedContext {
        FeedContext::new(ProviderId::new("odds-api"), Timestamp(5))
    }

    #[test]
    fn scores_are_matched_by_name_not_index() {
        let body = br#"[{"id":"a","sport_key":"americanfootball_nfl","commence_time":"2022-10-02T17:00:00Z",
            "completed":true,"home_team":"Atlanta Falcons","away_team":"Cleveland Browns",
            "scores":[{"name":"Cleveland Browns","score":"20"},{"name":"Atlanta Falcons","score":"23"}],
            "last_update":"2022-10-03T02:26:27Z"}]"#;
        let r = parse_scores(body, &ctx()).unwrap();
        let ObservationBody::Score {
            home,
            away,
            status,
            period,
            ..
        } = &r.observations[0].body
        else {
            panic!("score expected");
        };
        assert_eq!(
            (*home, *away, *status, period.as_str()),
            (23, 20, MatchStatus::Finished, "FT")
        );
        assert_eq!(r.observations[0].event.league, "nfl");
    }

    #[test]
    fn bad_scores_reject_the_event_only() {
        let body = br#"[
          {"id":"a","sport_key":"x","commence_time":"2022-10-02T17:00:00Z","home_team":"A","away_team":"B",
           "scores":[{"name":"A","score":"1"},{"name":"C","score":"2"}]},
          {"id":"b","sport_key":"x","commence_time":"2022-10-02T17:00:00Z","home_team":"A","away_team":"B",
           "scores":[{"name":"A","score":"one"},{"name":"B","score":"2"}]},
          {"id":"c","sport_key":"x","commence_time":"2022-10-02T17:00:00Z","home_team":"A","away_team":"B",
           "completed":false,"scores":null,"last_update":null}]"#;
        let r = parse_scores(body, &ctx()).unwrap();
        assert_eq!(
            (r.observations.len(), r.rejected),
            (1, 2),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.observations[0].observed_at, Timestamp(5));
        assert!(matches!(
            r.observations[0].body,
            ObservationBody::Score {
                status: MatchStatus::Scheduled,
                home: 0,
                away: 0,
                ..
            }
        ));
    }
}
