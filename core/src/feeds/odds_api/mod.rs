//! The Odds API v4 (the-odds-api.com): featured odds, scores, error bodies and quota headers.
//!
//! The Odds API is an aggregator: one `/v4/sports/{sport}/odds` response carries many
//! bookmakers' prices for each event. Each bookmaker is reported as its own provider,
//! `"{ctx.provider}/{bookmaker.key}"` (`odds-api/fanduel`), so the aggregator's best price,
//! average and confidence are computed across bookmakers. Markets are keyed by inplay's
//! [`MarketKey`](crate::MarketKey) (type + line), never by the event id, so two bookmakers'
//! `h2h` on one game merge into one market while a -3.5 and a -4.0 spread stay apart.
//!
//! * [`parse_odds`]: `GET /v4/sports/{sport}/odds` (h2h, spreads, totals; decimal or American).
//! * [`parse_scores`]: `GET /v4/sports/{sport}/scores`.
//! * [`parse_error`]: the `{"message", "error_code", "details_url"}` error body.
//! * [`QuotaHeaders`]: `x-requests-remaining`, `x-requests-used`, `x-requests-last`.
//!
//! Sport keys map through [`FeedContext::map_sport_key`](super::FeedContext::map_sport_key);
//! an unknown key is derived from its parts and reported as a warning.

mod odds;
mod scores;

pub use odds::parse_odds;
pub use scores::parse_scores;

use std::sync::Arc;

use serde_json::Value;

use super::{
    json, FeedContext, FeedError, ParseReport, ProviderError, ProviderErrorKind, SportLeague,
};
use crate::observation::EventRef;

/// Classifies an error response of The Odds API from its HTTP status and body. A body that is
/// not the documented JSON still yields an error (code empty, message from the status).
///
/// `OUT_OF_USAGE_CREDITS` is [`ProviderErrorKind::Quota`] although it comes with HTTP 401;
/// `INVALID_KEY` is [`ProviderErrorKind::Auth`]; `EXCEEDED_FREQ_LIMIT` or HTTP 429 is
/// [`ProviderErrorKind::RateLimited`]; anything else is [`ProviderErrorKind::Other`].
pub fn parse_error(status: u16, bytes: &[u8]) -> ProviderError {
    let body = json::parse(bytes).unwrap_or(Value::Null);
    let code = json::text(&body, "error_code")
        .unwrap_or_default()
        .to_owned();
    let message =
        json::text(&body, "message").map_or_else(|| format!("HTTP {status}"), str::to_owned);
    let details_url = json::text(&body, "details_url").map(str::to_owned);
    let kind = match code.as_str() {
        "OUT_OF_USAGE_CREDITS" => ProviderErrorKind::Quota,
        "INVALID_KEY" => ProviderErrorKind::Auth,
        "EXCEEDED_FREQ_LIMIT" => ProviderErrorKind::RateLimited,
        _ if status == 429 => ProviderErrorKind::RateLimited,
        _ => ProviderErrorKind::Other,
    };
    ProviderError {
        kind,
        status,
        code,
        message,
        details_url,
    }
}

/// The usage counters The Odds API returns on every response (header values are strings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuotaHeaders {
    /// `x-requests-remaining`: requests left until the quota resets.
    pub remaining: Option<u64>,
    /// `x-requests-used`: requests used since the last reset.
    pub used: Option<u64>,
    /// `x-requests-last`: what the request that carried these headers cost.
    pub last: Option<u64>,
}

// === impl QuotaHeaders ===

impl QuotaHeaders {
    /// Reads the three header values (`None` for a header that was absent). A value that is
    /// not a non-negative whole number (`"498"`, also `"498.0"`) reads as `None`.
    pub fn parse(remaining: Option<&str>, used: Option<&str>, last: Option<&str>) -> Self {
        Self {
            remaining: remaining.and_then(header_count),
            used: used.and_then(header_count),
            last: last.and_then(header_count),
        }
    }

    /// Whether the provider said no request is left.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// A header count: ASCII digits, optionally followed by `.0…` (some proxies print floats).
fn header_count(s: &str) -> Option<u64> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.bytes().any(|b| b != b'0') {
        return None;
    }
    int.parse().ok()
}

/// The top-level array of events, or the error the body really is.
///
/// # Errors
/// [`FeedError::Provider`] for an error body, [`FeedError::Shape`] for any other non-array.
fn events(value: &Value) -> Result<&[Value], FeedError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(map) if map.contains_key("message") || map.contains_key("error_code") => {
            Err(FeedError::Provider {
                code: json::text(value, "error_code")
                    .unwrap_or_default()
                    .to_owned(),
                message: json::text(value, "message").unwrap_or_default().to_owned(),
            })
        }
        other => Err(FeedError::Shape(format!(
            "$: expected an array of events, found {}",
            json::kind(other)
        ))),
    }
}

/// The event fields shared by odds and scores, or why the event is unusable.
fn event_ref(
    event: &Value,
    ctx: &FeedContext,
    report: &mut ParseReport,
    path: &str,
) -> Option<Arc<EventRef>> {
    let field = |key: &str| json::text(event, key);
    let missing = |key: &str| format!("{path}: rejected event: `{key}` missing or not a string");
    let Some(id) = field("id") else {
        report.reject(missing("id"));
        return None;
    };
    let (Some(home), Some(away)) = (field("home_team"), field("away_team")) else {
        report.reject(missing(if field("home_team").is_none() {
            "home_team"
        } else {
            "away_team"
        }));
        return None;
    };
    let Some(start_time) = json::timestamp(event.get("commence_time")) else {
        report.reject(format!("{path}: rejected event: bad `commence_time`"));
        return None;
    };
    let sport_key = field("sport_key").unwrap_or_default();
    let SportLeague { sport, league } = ctx.map_sport_key(sport_key).unwrap_or_else(|| {
        report.warn(format!(
            "{path}: unknown sport_key {}, derived",
            super::quote(sport_key)
        ));
        FeedContext::derive_sport_key(sport_key)
    });
    Some(Arc::new(EventRef {
        provider_event_id: id.to_owned(),
        sport,
        league,
        home: home.to_owned(),
        away: away.to_owned(),
        start_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_code_before_status() {
        let quota = br#"{"message":"Usage quota has been reached. See usage plans at https://the-odds-api.com","error_code":"OUT_OF_USAGE_CREDITS","details_url":"https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html#out_of_usage_credits"}"#;
        let e = parse_error(401, quota);
        assert_eq!(e.kind, ProviderErrorKind::Quota);
        assert_eq!(e.code, "OUT_OF_USAGE_CREDITS");
        assert!(e.details_url.is_some());
        let key = br#"{"message":"API key is not valid","error_code":"INVALID_KEY"}"#;
        assert_eq!(parse_error(401, key).kind, ProviderErrorKind::Auth);
        let freq = br#"{"message":"slow down","error_code":"EXCEEDED_FREQ_LIMIT"}"#;
        assert_eq!(parse_error(429, freq).kind, ProviderErrorKind::RateLimited);
        assert_eq!(
            parse_error(429, b"<html>").kind,
            ProviderErrorKind::RateLimited
        );
        let other = parse_error(
            404,
            br#"{"message":"Unknown sport","error_code":"UNKNOWN_SPORT"}"#,
        );
        assert_eq!(other.kind, ProviderErrorKind::Other);
        let garbage = parse_error(502, b"\xff\x00");
        assert_eq!(
            (garbage.kind, garbage.message.as_str()),
            (ProviderErrorKind::Other, "HTTP 502")
        );
    }

    #[test]
    fn quota_headers() {
        let q = QuotaHeaders::parse(Some("498"), Some(" 2 "), Some("1.0"));
        assert_eq!((q.remaining, q.used, q.last), (Some(498), Some(2), Some(1)));
        assert!(!q.exhausted());
        assert!(QuotaHeaders::parse(Some("0"), None, None).exhausted());
        let bad = QuotaHeaders::parse(Some("-1"), Some("1.5"), Some(""));
        assert_eq!(bad, QuotaHeaders::default());
        assert_eq!(header_count("99999999999999999999999"), None);
    }
}
