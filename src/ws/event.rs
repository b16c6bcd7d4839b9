//! Change events as WebSocket frames, serialised once by the match's owner.
//!
//! Message shapes are the original service's: `{"type":"score_update","matchId":…,"data":{…},
//! "timestamp":…}`, plus `odds_update`, `market_suspended`, `market_resumed` and `settlement`
//! whose `data` is the market as `/api/markets/:marketId/odds` serves it. Every event also
//! carries the match's sequence number `seq`, so a client can tell it missed something.

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::{aggregate::view::ChangeKind, aggregate::MatchState, MatchId, Timestamp};
use serde::Serialize;

use crate::view::MatchRender;

/// One change of one match, ready to write to any number of sessions.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub match_id: MatchId,
    /// The change's sequence number in its match (0: unknown, e.g. an external publish).
    pub seq: u64,
    /// The stream `seq` counts in (empty for an external publish).
    pub epoch: std::sync::Arc<str>,
    pub sport: Box<str>,
    pub league: Box<str>,
    /// Whether this is a market event (for `/markets/:sport` subscribers).
    pub market: bool,
    /// The text frame (cheap to clone: shared bytes).
    pub frame: Utf8Bytes,
    /// When the change was serialised (for the publish-to-send lag metric).
    pub born: std::time::Instant,
}

/// Changes of one match that a shard's sessions will never get: the owner dropped them because
/// that shard fell too far behind. Its sessions are told ([`super::Hub::missed`]), never left
/// with a silent gap.
#[derive(Debug, Clone)]
pub(crate) struct Missed {
    pub match_id: MatchId,
    pub sport: Box<str>,
    pub league: Box<str>,
    /// Whether a market change was among them (`/markets/:sport` sessions missed it too).
    pub market: bool,
}

impl Missed {
    /// What dropping `event` costs its match's sessions.
    pub fn of(event: &Event) -> Self {
        Self {
            match_id: event.match_id.clone(),
            sport: event.sport.clone(),
            league: event.league.clone(),
            market: event.market,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScoreData<'a> {
    home_score: u32,
    away_score: u32,
    period: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock: Option<&'a str>,
    confidence: f64,
}

/// Builds the events of `changes` (with their sequence numbers) from the fresh render.
pub(crate) fn events(
    state: &MatchState,
    render: &MatchRender,
    changes: &[(u64, ChangeKind)],
    now: Timestamp,
) -> Vec<Event> {
    let id = state.info().id.as_str();
    let timestamp = now.to_iso();
    let mut out = Vec::with_capacity(changes.len());
    for (seq, kind) in changes {
        let (kind_name, data, market) = match kind {
            ChangeKind::Score => {
                let status = state.status();
                let data = state.score().map(|s| ScoreData {
                    home_score: s.home,
                    away_score: s.away,
                    period: &s.period,
                    status: status.as_str(),
                    clock: s.clock.as_deref(),
                    confidence: (s.confidence * 1000.0).round() / 1000.0,
                });
                let Ok(data) = serde_json::to_string(&data) else {
                    continue;
                };
                ("score_update", data, false)
            }
            ChangeKind::Odds(key)
            | ChangeKind::MarketSuspended(key)
            | ChangeKind::MarketResumed(key)
            | ChangeKind::Settled(key) => {
                let market_id = format!("{id}:{}", key.suffix());
                let Some(piece) = render.markets.iter().find(|p| *p.id == *market_id) else {
                    continue;
                };
                let name = match kind {
                    ChangeKind::Odds(_) => "odds_update",
                    ChangeKind::MarketSuspended(_) => "market_suspended",
                    ChangeKind::MarketResumed(_) => "market_resumed",
                    _ => "settlement",
                };
                (
                    name,
                    String::from_utf8_lossy(&piece.body).into_owned(),
                    true,
                )
            }
        };
        let mut frame = format!(
            r#"{{"type":"{kind_name}","matchId":{},"seq":{seq},"epoch":"{}","data":{data},"timestamp":"{timestamp}"}}"#,
            serde_json::Value::from(id),
            render.epoch,
        );
        // The recovery history holds these bytes for seconds: not the spare capacity `format!`
        // grew into (up to as much again).
        frame.shrink_to_fit();
        out.push(Event {
            match_id: state.info().id.clone(),
            seq: *seq,
            epoch: render.epoch.clone(),
            sport: render.sport.as_str().into(),
            league: render.league.as_str().into(),
            market,
            frame: Utf8Bytes::from(frame),
            born: std::time::Instant::now(),
        });
    }
    out
}
