//! Small, total readers over `serde_json::Value` shared by the parsers.
//!
//! Provider payloads are read as a `Value` tree rather than through derived structs because
//! one bad field must cost one item, not the payload, and because the providers' types drift
//! (ids as strings or numbers, timestamps as ISO or unix, scores as strings or numbers). Every
//! reader here returns `Option` and never panics; the parsers decide what a `None` costs.

use serde_json::Value;

use super::FeedError;
use crate::model::Timestamp;

/// Largest unix time in seconds accepted from a payload (year 9999), so converting to
/// milliseconds cannot overflow and nonsense is refused.
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Deepest nesting accepted in a payload; real feeds nest well under 16 levels.
const MAX_DEPTH: usize = 64;

/// Parses a payload: simd-json tokenises it (on a copy: it unescapes in place) into a
/// `serde_json::Value` tree. The nesting depth is checked first by a flat byte scan, so
/// hostile input cannot exhaust the stack of the recursive conversion.
///
/// # Errors
/// [`FeedError::Json`] if `bytes` is not one JSON value, or nests deeper than 64 levels.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, FeedError> {
    inplay_wire::json_depth::check_depth(bytes, MAX_DEPTH)
        .map_err(|_| FeedError::Json(format!("nested deeper than {MAX_DEPTH} levels")))?;
    let mut copy = bytes.to_vec();
    simd_json::serde::from_slice(&mut copy).map_err(|e| FeedError::Json(e.to_string()))
}

/// A string field, trimmed, if present and not blank.
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An id field: a non-blank string, or an integer written in decimal.
pub(crate) fn id(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// A time field: an ISO 8601 string (with or without seconds) or unix seconds.
pub(crate) fn timestamp(v: Option<&Value>) -> Option<Timestamp> {
    match v? {
        Value::String(s) => Timestamp::parse_iso(s.trim()),
        Value::Number(n) => {
            let secs = n.as_i64().filter(|s| (0..=MAX_UNIX_SECONDS).contains(s))?;
            Some(Timestamp(secs * 1000))
        }
        _ => None,
    }
}

/// A count (score, goals): a non-negative integer, or a string of ASCII digits (`"17"`).
pub(crate) fn count(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

/// A finite number (a JSON number only: a price written as a string is malformed).
pub(crate) fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

/// The array at `key`, or a [`FeedError::Shape`] naming `path`.
pub(crate) fn array_at<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a [Value], FeedError> {
    match v.get(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(FeedError::Shape(format!("{path}.{key}: expected an array"))),
        None => Err(FeedError::Shape(format!("{path}.{key}: missing"))),
    }
}

/// The array at `key` for item-level reading: missing or `null` is empty, anything else that
/// is not an array is `None` (the caller rejects the item).
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> Option<&'a [Value]> {
    match v.get(key) {
        None | Some(Value::Null) => Some(&[]),
        Some(Value::Array(items)) => Some(items),
        Some(_) => None,
    }
}

/// A short description of a value's JSON type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn readers_accept_provider_variants() {
        let v = json!({"a": " x ", "n": 239625, "s": "17", "t": "2024-11-10T18:00Z",
                       "u": 1580997600, "neg": -3, "blank": "  ", "f": 1.5});
        assert_eq!(text(&v, "a"), Some("x"));
        assert_eq!(text(&v, "blank"), None);
        assert_eq!(id(&v, "n").as_deref(), Some("239625"));
        assert_eq!(id(&v, "f"), None);
        assert_eq!(count(&v["s"]), Some(17));
        assert_eq!(count(&v["neg"]), None);
        assert_eq!(count(&json!("-1")), None);
        assert_eq!(count(&json!("1e3")), None);
        assert_eq!(timestamp(v.get("u")), Some(Timestamp(1_580_997_600_000)));
        assert_eq!(
            timestamp(v.get("t")),
            Timestamp::parse_iso("2024-11-10T18:00:00Z")
        );
        assert_eq!(timestamp(Some(&json!(i64::MAX))), None);
        assert_eq!(number(&json!("1.9")), None);
    }

    #[test]
    fn arrays_name_their_path() {
        let v = json!({"response": {}});
        let err = array_at(&v, "response", "$").unwrap_err();
        assert_eq!(
            err,
            FeedError::Shape("$.response: expected an array".into())
        );
        assert_eq!(list(&json!({"x": null}), "x"), Some(&[][..]));
        assert_eq!(list(&json!({"x": 1}), "x"), None);
    }
}
