//! What a server frame means to the generator.
//!
//! The servers wrap a published message as `{"type":"score_update","matchId":…,"data":<the
//! published JSON>,"timestamp":…}`; the generator's own messages carry `n` (the update's
//! number in its match) and `sentAt` (unix µs) in `data`. Anything else the server may send
//! (snapshots, pongs, acknowledgements, the warm-up message) is [`Frame::Other`]; text that is
//! not a JSON object is [`Frame::Malformed`], counted as an error and never a crash.

use std::borrow::Cow;

use serde::{
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// One received text frame, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One of the generator's updates.
    Update {
        /// Its number within its match, from 0.
        n: u64,
        /// When it was published, unix µs.
        sent_at_us: u64,
        /// Whether it names the match the subscriber watches.
        right_match: bool,
    },
    /// A `/ws` snapshot for the subscriber's match (its subscription is in place).
    Snapshot,
    /// A server frame the generator does not count (pong, warm-up, other types).
    Other,
    /// Not a JSON object, or an update whose `n`/`sentAt` are not numbers.
    Malformed,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "matchId", borrow, default)]
    match_id: Option<Cow<'a, str>>,
    #[serde(default)]
    data: Option<Data>,
}

/// `data`, reduced to the two fields the generator reads (without building a JSON tree: this
/// runs for every delivered message).
enum Data {
    Object {
        n: Option<serde_json::Value>,
        sent_at: Option<serde_json::Value>,
    },
    NotObject,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum Key {
    #[serde(rename = "n")]
    N,
    #[serde(rename = "sentAt")]
    SentAt,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let (mut n, mut sent_at) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::N => n = Some(map.next_value()?),
                Key::SentAt => sent_at = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Data::Object { n, sent_at })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Data::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Data, E> {
        Ok(Data::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Data, E> {
        Ok(Data::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Data, E> {
        Ok(Data::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Data, E> {
        Ok(Data::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Data, E> {
        Ok(Data::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Data, E> {
        Ok(Data::NotObject)
    }
}

/// Classifies `text`, received by a subscriber of `match_id`.
pub fn classify(text: &str, match_id: &str) -> Frame {
    let Ok(wire) = serde_json::from_str::<Wire<'_>>(text) else {
        return Frame::Malformed;
    };
    let right_match = wire.match_id.as_deref() == Some(match_id);
    match wire.kind.as_deref() {
        Some("score_update") => {}
        Some("snapshot") if right_match => return Frame::Snapshot,
        _ => return Frame::Other,
    }
    let Some(Data::Object { n, sent_at }) = wire.data else {
        return Frame::Malformed;
    };
    match (n, sent_at) {
        (None, _) => Frame::Other, // a score update that is not ours (e.g. the warm-up)
        (Some(n), Some(sent)) => match (n.as_u64(), sent.as_u64()) {
            (Some(n), Some(sent_at_us)) => Frame::Update {
                n,
                sent_at_us,
                right_match,
            },
            _ => Frame::Malformed,
        },
        (Some(_), None) => Frame::Malformed,
    }
}

/// The message published for update `n` of a match (`sent_at_us`: unix µs, now).
pub fn update_payload(n: u64, sent_at_us: u64) -> String {
    format!(
        r#"{{"homeScore":{},"awayScore":{},"period":"{}","n":{n},"sentAt":{sent_at_us}}}"#,
        n / 7,
        n / 11,
        if n.is_multiple_of(2) {
            "1st Half"
        } else {
            "2nd Half"
        },
    )
}

/// The warm-up message published to every match before measuring (no `n`: not counted).
pub const WARMUP_PAYLOAD: &str =
    r#"{"homeScore":0,"awayScore":0,"period":"1st Half","warmup":true}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_round_trips_through_the_server_shape() {
        let data = update_payload(42, 1_700_000_000_123_456);
        let frame =
            format!(r#"{{"type":"score_update","matchId":"m-1","data":{data},"timestamp":"t"}}"#);
        assert_eq!(
            classify(&frame, "m-1"),
            Frame::Update {
                n: 42,
                sent_at_us: 1_700_000_000_123_456,
                right_match: true
            }
        );
        assert!(matches!(
            classify(&frame, "m-2"),
            Frame::Update {
                right_match: false,
                ..
            }
        ));
    }

    #[test]
    fn other_and_malformed_frames() {
        assert_eq!(classify("not json", "m"), Frame::Malformed);
        assert_eq!(classify("[1,2]", "m"), Frame::Malformed);
        assert_eq!(classify(r#"{"type":"pong"}"#, "m"), Frame::Other);
        assert_eq!(
            classify(
                r#"{"type":"snapshot","matchId":"m","seq":0,"data":null}"#,
                "m"
            ),
            Frame::Snapshot
        );
        let warm = format!(r#"{{"type":"score_update","matchId":"m","data":{WARMUP_PAYLOAD}}}"#);
        assert_eq!(classify(&warm, "m"), Frame::Other);
        assert_eq!(
            classify(r#"{"type":"score_update","matchId":"m","data":7}"#, "m"),
            Frame::Malformed
        );
        assert_eq!(
            classify(r#"{"type":"score_update","data":{"n":-1,"sentAt":5}}"#, "m"),
            Frame::Malformed
        );
        assert_eq!(
            classify(r#"{"type":"score_update","data":{"n":1}}"#, "m"),
            Frame::Malformed
        );
    }
}
