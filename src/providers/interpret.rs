//! What a provider's answer means: data to route, or a failure of some kind.
//!
//! The same reading serves polled responses and pushes (`POST /api/ingest/:providerId`), so a
//! pushed payload is treated exactly like a polled one.

use inplay_core::feeds::{
    api_football, espn, native, odds_api, FeedContext, FeedError, ParseReport, ProviderErrorKind,
};

use super::{feed::Endpoint, health::Verdict};

/// A provider's answer, read.
#[derive(Debug)]
pub(crate) struct Reading {
    pub verdict: Verdict,
    /// What went wrong, for logs and `lastError`.
    pub error: Option<String>,
    /// The parsed payload (`None` on failure).
    pub report: Option<ParseReport>,
    /// Usage counters the answer carried: (remaining, used, last).
    pub quota: Option<(Option<u64>, Option<u64>, Option<u64>)>,
}

impl Reading {
    fn failed(verdict: Verdict, error: String) -> Self {
        Self {
            verdict,
            error: Some(error),
            report: None,
            quota: None,
        }
    }
}

/// Reads an HTTP answer of `endpoint`: `status`, header lookup `header`, `body`.
pub(crate) fn read(
    endpoint: Endpoint,
    status: u16,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    ctx: &FeedContext,
) -> Reading {
    let quota = quota_headers(endpoint, header);
    let mut reading = if (200..300).contains(&status) {
        parse(endpoint, body, ctx)
    } else {
        http_error(endpoint, status, body)
    };
    reading.quota = quota;
    if reading.verdict == Verdict::Ok && quota.is_some_and(|(rem, _, _)| rem == Some(0)) {
        // The data is good, but nothing is left: the next poll would be refused.
        reading.verdict = Verdict::QuotaExhausted;
        reading.error = Some("usage quota used up (remaining 0)".into());
    }
    reading
}

/// Parses a payload of `endpoint` (a 2xx body, or a push).
pub(crate) fn parse(endpoint: Endpoint, body: &[u8], ctx: &FeedContext) -> Reading {
    let parsed = match endpoint {
        Endpoint::OddsApiOdds => odds_api::parse_odds(body, ctx),
        Endpoint::OddsApiScores => odds_api::parse_scores(body, ctx),
        Endpoint::EspnScoreboard => espn::parse_scoreboard(body, ctx),
        Endpoint::ApiFootballFixtures => api_football::parse_fixtures(body, ctx),
        Endpoint::Native => native::parse(body, ctx),
    };
    match parsed {
        Ok(report) => Reading {
            verdict: Verdict::Ok,
            error: None,
            report: Some(report),
            quota: None,
        },
        Err(FeedError::Provider { code, message }) => {
            // API-Football serves its errors with HTTP 200, keyed by what is wrong.
            let verdict = match classify_code(&code) {
                ProviderErrorKind::Quota => Verdict::QuotaExhausted,
                ProviderErrorKind::RateLimited => Verdict::RateLimited,
                _ => Verdict::Failed,
            };
            Reading::failed(verdict, format!("provider error {code}: {message}"))
        }
        Err(e) => Reading::failed(Verdict::Failed, e.to_string()),
    }
}

/// A non-2xx answer.
fn http_error(endpoint: Endpoint, status: u16, body: &[u8]) -> Reading {
    if matches!(endpoint, Endpoint::OddsApiOdds | Endpoint::OddsApiScores) {
        let e = odds_api::parse_error(status, body);
        let verdict = match e.kind {
            ProviderErrorKind::Quota => Verdict::QuotaExhausted,
            ProviderErrorKind::RateLimited => Verdict::RateLimited,
            _ => Verdict::Failed,
        };
        let code = if e.code.is_empty() { "-" } else { &e.code };
        return Reading::failed(verdict, format!("HTTP {status} {code}: {}", e.message));
    }
    let verdict = if status == 429 {
        Verdict::RateLimited
    } else {
        Verdict::Failed
    };
    Reading::failed(verdict, format!("HTTP {status}"))
}

/// API-Football error keys (`token`, `requests`, `rateLimit`, `plan`) by what to do.
fn classify_code(code: &str) -> ProviderErrorKind {
    let code = code.to_ascii_lowercase();
    if code.contains("ratelimit") || code.contains("rate_limit") {
        ProviderErrorKind::RateLimited
    } else if code == "requests" || code.contains("quota") || code.contains("usage") {
        ProviderErrorKind::Quota
    } else if code.contains("token") || code.contains("key") {
        ProviderErrorKind::Auth
    } else {
        ProviderErrorKind::Other
    }
}

/// The usage counters of an answer: The Odds API's `x-requests-*`, API-Football's
/// `x-ratelimit-requests-remaining` (daily).
fn quota_headers(
    endpoint: Endpoint,
    header: &dyn Fn(&str) -> Option<String>,
) -> Option<(Option<u64>, Option<u64>, Option<u64>)> {
    match endpoint {
        Endpoint::OddsApiOdds | Endpoint::OddsApiScores => {
            let q = odds_api::QuotaHeaders::parse(
                header("x-requests-remaining").as_deref(),
                header("x-requests-used").as_deref(),
                header("x-requests-last").as_deref(),
            );
            (q != odds_api::QuotaHeaders::default()).then_some((q.remaining, q.used, q.last))
        }
        Endpoint::ApiFootballFixtures => {
            let remaining = header("x-ratelimit-requests-remaining")?
                .trim()
                .parse()
                .ok();
            Some((remaining, None, None))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use inplay_core::{ProviderId, Timestamp};

    use super::*;

    fn ctx() -> FeedContext {
        FeedContext::new(ProviderId::new("p"), Timestamp(0))
    }

    #[test]
    fn odds_api_quota_401_is_quota_not_auth() {
        let body =
            br#"{"message":"Usage quota has been reached.","error_code":"OUT_OF_USAGE_CREDITS"}"#;
        let r = read(Endpoint::OddsApiOdds, 401, &|_| None, body, &ctx());
        assert_eq!(r.verdict, Verdict::QuotaExhausted);
        let r = read(
            Endpoint::OddsApiOdds,
            401,
            &|_| None,
            br#"{"error_code":"INVALID_KEY"}"#,
            &ctx(),
        );
        assert_eq!(r.verdict, Verdict::Failed);
        let r = read(Endpoint::OddsApiOdds, 429, &|_| None, b"slow down", &ctx());
        assert_eq!(r.verdict, Verdict::RateLimited);
    }

    #[test]
    fn quota_headers_are_read_and_zero_remaining_pauses() {
        let h = |name: &str| match name {
            "x-requests-remaining" => Some("0".to_owned()),
            "x-requests-used" => Some("500".to_owned()),
            _ => None,
        };
        let r = read(Endpoint::OddsApiScores, 200, &h, b"[]", &ctx());
        assert_eq!(r.quota, Some((Some(0), Some(500), None)));
        assert_eq!(r.verdict, Verdict::QuotaExhausted);
    }

    #[test]
    fn api_football_errors_with_200_are_failures() {
        let body = br#"{"get":"fixtures","parameters":{"live":"all"},"errors":{"rateLimit":"Too many requests"},"results":0,"paging":{"current":1,"total":1},"response":[]}"#;
        let r = read(Endpoint::ApiFootballFixtures, 200, &|_| None, body, &ctx());
        assert_eq!(r.verdict, Verdict::RateLimited);
        let r = read(
            Endpoint::ApiFootballFixtures,
            200,
            &|_| None,
            b"{\"get\":",
            &ctx(),
        );
        assert_eq!(r.verdict, Verdict::Failed);
        assert!(r.error.unwrap().contains("JSON"), "garbage is named");
    }
}
