//! The messages a WebSocket client may send, parsed and checked before the session acts.
//!
//! `/ws` ([`MuxMsg`]) takes subscriptions; `/live` and `/markets` ([`parse_ping`]) take only
//! `{"type":"ping"}`, as in the original service. A refusal is the text of the
//! `{"type":"error","error":…}` frame the session answers with; the session goes on. Nesting is
//! checked before this runs ([`crate::json_depth`]), so the JSON parser here never recurses far.

use serde_json::{Map, Value};

use crate::valid_name;

/// A message on `/ws`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxMsg {
    /// `{"op":"ping"}` or `{"type":"ping"}`.
    Ping,
    /// `{"op":"subscribe","matches":[…],"since":{…}}`: each match with where the client was.
    SubscribeMatches(Vec<(String, Since)>),
    /// `{"op":"unsubscribe","matches":[…]}`.
    UnsubscribeMatches(Vec<String>),
    /// `{"op":"subscribe","sport":…,"league":…}` (league optional).
    SubscribeSport(SportTopic),
    /// `{"op":"unsubscribe","sport":…,"league":…}`.
    UnsubscribeSport(SportTopic),
}

/// A sport's market stream, optionally one league of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SportTopic {
    /// The sport, a [`valid_name`].
    pub sport: String,
    /// The league, a [`valid_name`], if only one.
    pub league: Option<String>,
}

/// Where a reconnecting client was in one match's stream (`since.<matchId>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// Not given: a fresh subscription.
    Fresh,
    /// `{"epoch": string, "seq": number}`: replay what came after it, if still held.
    At {
        /// The stream's epoch as the client saw it.
        epoch: String,
        /// The last sequence number the client got.
        seq: u64,
    },
    /// Given, but not in that shape: the client gets an error and a fresh snapshot.
    Invalid,
}

// === impl MuxMsg ===

impl MuxMsg {
    /// Parses a `/ws` text message.
    ///
    /// # Errors
    /// What to tell the client: not JSON, not an object, no or unknown `op`, or a field in the
    /// wrong shape.
    pub fn parse(text: &str) -> Result<Self, String> {
        let msg = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("messages are JSON objects".into()),
            Err(_) => return Err("invalid JSON".into()),
        };
        let op = msg
            .get("op")
            .or_else(|| msg.get("type"))
            .and_then(Value::as_str);
        let subscribe = match op {
            Some("subscribe") => true,
            Some("unsubscribe") => false,
            Some("ping") => return Ok(Self::Ping),
            Some(other) => {
                return Err(format!(
                    "unknown op {other:?}: use subscribe, unsubscribe or ping"
                ))
            }
            None => return Err("messages need an \"op\"".into()),
        };
        if let Some(sport) = msg.get("sport") {
            let topic = sport_topic(sport, msg.get("league"))
                .ok_or("\"sport\" and \"league\" must be names")?;
            return Ok(if subscribe {
                Self::SubscribeSport(topic)
            } else {
                Self::UnsubscribeSport(topic)
            });
        }
        let ids = match_ids(&msg)?;
        if !subscribe {
            return Ok(Self::UnsubscribeMatches(ids));
        }
        let since = msg.get("since").and_then(Value::as_object);
        let with_since = ids
            .into_iter()
            .map(|id| {
                let at = match since.and_then(|s| s.get(&id)) {
                    None => Since::Fresh,
                    Some(v) => parse_since(v).unwrap_or(Since::Invalid),
                };
                (id, at)
            })
            .collect();
        Ok(Self::SubscribeMatches(with_since))
    }
}

/// Parses a message on `/live` or `/markets`, where only pings are understood.
///
/// # Errors
/// What to tell the client: not JSON, no `type`, or a type other than `ping`.
pub fn parse_ping(text: &str) -> Result<(), String> {
    let value = serde_json::from_str::<Value>(text).map_err(|_| "invalid JSON".to_owned())?;
    match value.get("type").and_then(Value::as_str) {
        Some("ping") => Ok(()),
        Some(other) => Err(format!("unknown message type {other:?}")),
        None => Err("messages need a \"type\"".into()),
    }
}

/// The `matches` array of a message, every id a [`valid_name`].
fn match_ids(msg: &Map<String, Value>) -> Result<Vec<String>, String> {
    let Some(list) = msg.get("matches").and_then(Value::as_array) else {
        return Err(
            "needs \"matches\": [ids] or \"sport\": name (with an optional \"league\")".into(),
        );
    };
    list.iter()
        .map(|v| match v.as_str() {
            Some(s) if valid_name(s) => Ok(s.to_owned()),
            _ => Err(format!("invalid match id {}", short(v))),
        })
        .collect()
}

/// A value for an error message, cut to a readable length.
fn short(v: &Value) -> String {
    let mut text = v.to_string();
    if text.len() > 64 {
        let mut end = 64;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn sport_topic(sport: &Value, league: Option<&Value>) -> Option<SportTopic> {
    let sport = sport.as_str().filter(|s| valid_name(s))?.to_owned();
    let league = match league {
        None | Some(Value::Null) => None,
        Some(l) => Some(l.as_str().filter(|s| valid_name(s))?.to_owned()),
    };
    Some(SportTopic { sport, league })
}

fn parse_since(v: &Value) -> Option<Since> {
    Some(Since::At {
        epoch: v.get("epoch")?.as_str()?.to_owned(),
        seq: v.get("seq")?.as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        MuxMsg::parse(text).unwrap_err()
    }

    #[test]
    fn mux_messages() {
        assert_eq!(MuxMsg::parse(r#"{"type":"ping"}"#), Ok(MuxMsg::Ping));
        assert_eq!(
            MuxMsg::parse(
                r#"{"op":"subscribe","matches":["a","b"],"since":{"b":{"epoch":"e","seq":4},"a":7}}"#
            ),
            Ok(MuxMsg::SubscribeMatches(vec![
                ("a".into(), Since::Invalid),
                (
                    "b".into(),
                    Since::At {
                        epoch: "e".into(),
                        seq: 4
                    }
                ),
            ]))
        );
        assert_eq!(
            MuxMsg::parse(r#"{"op":"unsubscribe","sport":"soccer","league":null}"#),
            Ok(MuxMsg::UnsubscribeSport(SportTopic {
                sport: "soccer".into(),
                league: None
            }))
        );
        assert_eq!(err("{not json"), "invalid JSON");
        assert_eq!(err("[1]"), "messages are JSON objects");
        assert!(err(r#"{"op":"dance"}"#).starts_with("unknown op \"dance\""));
        assert!(err(r#"{"op":"subscribe"}"#).starts_with("needs \"matches\""));
        assert!(err(r#"{"op":"subscribe","matches":["bad id!"]}"#).starts_with("invalid match id"));
        assert!(err(r#"{"op":"subscribe","sport":"soccer","league":7}"#).contains("must be names"));
        let long = format!(r#"{{"op":"subscribe","matches":[{:?}]}}"#, "x ".repeat(500));
        assert!(err(&long).chars().count() < 100);
    }

    #[test]
    fn ping_only_messages() {
        assert_eq!(parse_ping(r#"{"type":"ping"}"#), Ok(()));
        assert_eq!(parse_ping("nope"), Err("invalid JSON".into()));
        assert_eq!(parse_ping("[1]"), Err("messages need a \"type\"".into()));
        assert!(parse_ping(r#"{"type":"subscribe"}"#)
            .unwrap_err()
            .contains("subscribe"));
    }
}
