//! The betting platform's contract: validate a bet against the live price, record accepted bets
//! durably, and grade them when their market settles (see `api::bets` for the routes).
//!
//! Everything about a market is answered by the owner shard of its match (the market id starts
//! with the match id, whose leading hash names the owner), from the authoritative state, not a
//! replica. Bets live on that shard too ([`book`]), so grading needs no hop.

pub(crate) mod book;
pub(crate) mod check;

use serde_json::{Map, Value};

pub(crate) use book::{Bet, BetBook, BetJournal};
pub(crate) use check::{BetCheck, BetLimits};

/// A request body field that is missing or wrong: answered 400 `{"error", "field"}`.
#[derive(Debug, PartialEq)]
pub(crate) struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// `POST /api/bets/validate` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidateRequest {
    pub market_id: String,
    pub selection: String,
    pub odds: f64,
    pub stake: f64,
}

/// Splits `<matchId>:<type>[:<line>]` into the match id and the market suffix.
pub(crate) fn split_market_id(market_id: &str) -> Option<(&str, &str)> {
    market_id
        .split_once(':')
        .filter(|(m, s)| !m.is_empty() && !s.is_empty())
}

fn object(body: &[u8]) -> Result<Map<String, Value>, FieldError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(FieldError {
            field: "body",
            message: "body must be a JSON object".into(),
        }),
    }
}

fn text(m: &Map<String, Value>, field: &'static str, max: usize) -> Result<String, FieldError> {
    match m.get(field).and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control) => {
            Ok(s.to_owned())
        }
        _ => Err(FieldError {
            field,
            message: format!("{field} must be a non-empty string of at most {max} characters"),
        }),
    }
}

fn number(
    m: &Map<String, Value>,
    field: &'static str,
    valid: impl Fn(f64) -> bool,
    what: &str,
) -> Result<f64, FieldError> {
    match m.get(field).and_then(Value::as_f64) {
        Some(v) if v.is_finite() && valid(v) => Ok(v),
        _ => Err(FieldError {
            field,
            message: format!("{field} must be {what}"),
        }),
    }
}

fn market_id(m: &Map<String, Value>) -> Result<String, FieldError> {
    let id = text(m, "marketId", 256)?;
    if split_market_id(&id).is_none() {
        return Err(FieldError {
            field: "marketId",
            message: "marketId must look like <matchId>:<type>[:<line>]".into(),
        });
    }
    Ok(id)
}

impl ValidateRequest {
    /// Parses and checks a body.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let m = object(body)?;
        Ok(Self {
            market_id: market_id(&m)?,
            selection: text(&m, "selection", 64)?,
            odds: number(&m, "odds", |v| v > 1.0, "a decimal price above 1.0")?,
            stake: number(&m, "stake", |v| v > 0.0, "a positive amount")?,
        })
    }
}

/// Parses a `POST /api/bets` body into a bet recorded at `now`.
pub(crate) fn parse_bet(body: &[u8], now: &str) -> Result<Bet, FieldError> {
    let m = object(body)?;
    let bet_id = text(&m, "betId", 128)?;
    if !crate::api::valid_name(&bet_id) {
        return Err(FieldError {
            field: "betId",
            message: "betId may hold letters, digits and - _ . : only".into(),
        });
    }
    Ok(Bet {
        bet_id,
        user_id: text(&m, "userId", 100)?,
        market_id: market_id(&m)?,
        selection: text(&m, "selection", 64)?,
        odds: number(&m, "odds", |v| v > 1.0, "a decimal price above 1.0")?,
        stake: number(&m, "stake", |v| v > 0.0, "a positive amount")?,
        placed_at: now.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_field_by_field() {
        let ok = br#"{"marketId":"m1:moneyline","selection":"home","odds":1.9,"stake":10}"#;
        assert_eq!(ValidateRequest::parse(ok).unwrap().odds, 1.9);
        let field = |b: &[u8]| ValidateRequest::parse(b).unwrap_err().field;
        assert_eq!(field(b"[]"), "body");
        assert_eq!(field(b"{not json"), "body");
        assert_eq!(
            field(br#"{"selection":"home","odds":1.9,"stake":1}"#),
            "marketId"
        );
        assert_eq!(
            field(br#"{"marketId":"nocolon","selection":"h","odds":1.9,"stake":1}"#),
            "marketId"
        );
        assert_eq!(
            field(br#"{"marketId":"m:x","odds":1.9,"stake":1}"#),
            "selection"
        );
        assert_eq!(
            field(br#"{"marketId":"m:x","selection":"h","odds":1.0,"stake":1}"#),
            "odds"
        );
        assert_eq!(
            field(br#"{"marketId":"m:x","selection":"h","odds":"2","stake":1}"#),
            "odds"
        );
        assert_eq!(
            field(br#"{"marketId":"m:x","selection":"h","odds":2,"stake":-1}"#),
            "stake"
        );
        let bet =
            br#"{"betId":"b 1","userId":"u","marketId":"m:x","selection":"h","odds":2,"stake":1}"#;
        assert_eq!(parse_bet(bet, "t").unwrap_err().field, "betId");
        let bet = br#"{"betId":"b1","marketId":"m:x","selection":"h","odds":2,"stake":1}"#;
        assert_eq!(parse_bet(bet, "t").unwrap_err().field, "userId");
    }
}
