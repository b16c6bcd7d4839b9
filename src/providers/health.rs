//! One provider's health: a sliding window of poll outcomes, a circuit breaker with half-open
//! probes, its usage quota and rate-limit slow-down.
//!
//! Rules (documented in README "Providers"):
//! - **down** while the breaker is open or half-open, or the quota is used up. The breaker opens
//!   after `breaker_failures` consecutive failed polls and stays open `breaker_cooldown`; then
//!   one poll goes through as a probe (half-open). A successful probe closes it; a failed one
//!   opens it again for twice as long (at most 8× the cooldown).
//! - **degraded** after 2 consecutive failures, above 10 % errors in the window, or while the
//!   provider is slowed down after a rate limit.
//! - **healthy** otherwise.

use std::collections::VecDeque;

use inplay_core::Timestamp;
use serde_json::{json, Value};

/// Outcomes kept per provider.
const WINDOW: usize = 100;
/// Largest rate-limit slow-down factor.
const MAX_SLOWDOWN: u32 = 16;
/// Successful polls in a row after which a slow-down is halved.
const RECOVER_AFTER: u32 = 10;
/// Longest breaker cooldown, in multiples of the configured one.
const MAX_COOLDOWN_FACTOR: i64 = 8;

/// How a poll ended, as far as health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Data came back and parsed.
    Ok,
    /// No usable data: network, timeout, HTTP error, garbage, provider error body.
    Failed,
    /// The provider said the usage quota is used up.
    QuotaExhausted,
    /// The provider said we poll too fast.
    RateLimited,
}

/// What the breaker and quota allow right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Poll.
    Go,
    /// Poll, as the half-open probe: its outcome decides whether the breaker closes.
    Probe,
    /// Do not poll; why, for `/api/polling/status`.
    Skip(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaker {
    Closed,
    /// Open until this instant (unix ms), after a cooldown of `cooldown_ms`.
    Open {
        until: i64,
        cooldown_ms: i64,
    },
    /// One probe is in flight; it failing reopens for `cooldown_ms` × 2.
    HalfOpen {
        cooldown_ms: i64,
    },
}

/// The limits a provider's health is judged by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub breaker_failures: u32,
    pub breaker_cooldown_ms: i64,
    pub quota_backoff_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            breaker_failures: 5,
            breaker_cooldown_ms: 30_000,
            quota_backoff_ms: 3_600_000,
        }
    }
}

/// One provider's record.
#[derive(Debug)]
pub(crate) struct Health {
    policy: Policy,
    /// Most recent outcomes: (succeeded, response time in ms).
    window: VecDeque<(bool, u32)>,
    last_success: Option<Timestamp>,
    last_failure: Option<Timestamp>,
    last_error: Option<String>,
    consecutive_failures: u32,
    consecutive_successes: u32,
    polls: u64,
    failures: u64,
    breaker: Breaker,
    /// Times the breaker opened.
    opened: u64,
    /// Usage counters the provider reported, and until when it said none are left.
    quota_remaining: Option<u64>,
    quota_used: Option<u64>,
    quota_last: Option<u64>,
    quota_until: Option<i64>,
    /// Interval multiplier after rate limits (1 = none).
    slowdown: u32,
}

impl Health {
    /// A provider with no polls yet.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            window: VecDeque::with_capacity(WINDOW),
            last_success: None,
            last_failure: None,
            last_error: None,
            consecutive_failures: 0,
            consecutive_successes: 0,
            polls: 0,
            failures: 0,
            breaker: Breaker::Closed,
            opened: 0,
            quota_remaining: None,
            quota_used: None,
            quota_last: None,
            quota_until: None,
            slowdown: 1,
        }
    }

    /// Whether a poll may go out at `now`; turns an expired open breaker half-open.
    pub fn admit(&mut self, now: i64) -> Admit {
        if self.quota_until.is_some_and(|until| now < until) {
            return Admit::Skip("quota_exhausted");
        }
        match self.breaker {
            Breaker::Closed => Admit::Go,
            Breaker::Open { until, .. } if now < until => Admit::Skip("circuit_open"),
            Breaker::Open { cooldown_ms, .. } => {
                self.breaker = Breaker::HalfOpen { cooldown_ms };
                Admit::Probe
            }
            Breaker::HalfOpen { .. } => Admit::Skip("circuit_half_open"),
        }
    }

    /// Why no poll may go out at `now`, without changing the breaker.
    pub fn blocked(&self, now: i64) -> Option<&'static str> {
        if self.quota_until.is_some_and(|until| now < until) {
            return Some("quota_exhausted");
        }
        match self.breaker {
            Breaker::Closed => None,
            Breaker::Open { .. } => Some("circuit_open"),
            Breaker::HalfOpen { .. } => Some("circuit_half_open"),
        }
    }

    /// Records one poll's outcome at `now`; `error` says what went wrong.
    pub fn record(
        &mut self,
        verdict: Verdict,
        latency_ms: u32,
        now: Timestamp,
        error: Option<String>,
    ) {
        let ok = verdict == Verdict::Ok;
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back((ok, latency_ms));
        self.polls += 1;
        if ok {
            self.last_success = Some(now);
            self.consecutive_failures = 0;
            self.consecutive_successes += 1;
            self.breaker = Breaker::Closed;
            self.quota_until = None;
            if self.slowdown > 1 && self.consecutive_successes >= RECOVER_AFTER {
                self.slowdown /= 2;
                self.consecutive_successes = 0;
            }
            return;
        }
        self.last_failure = Some(now);
        self.last_error = error.map(clip_error);
        self.failures += 1;
        self.consecutive_failures += 1;
        self.consecutive_successes = 0;
        match verdict {
            Verdict::QuotaExhausted => {
                self.quota_until = Some(now.millis() + self.policy.quota_backoff_ms);
                self.quota_remaining = Some(0);
            }
            Verdict::RateLimited => self.slowdown = (self.slowdown * 2).min(MAX_SLOWDOWN),
            Verdict::Ok | Verdict::Failed => {}
        }
        let base = self.policy.breaker_cooldown_ms;
        match self.breaker {
            Breaker::HalfOpen { cooldown_ms } => {
                let cooldown_ms = (cooldown_ms * 2).min(base * MAX_COOLDOWN_FACTOR);
                self.open(now.millis(), cooldown_ms);
            }
            Breaker::Closed if self.consecutive_failures >= self.policy.breaker_failures => {
                self.open(now.millis(), base);
            }
            _ => {}
        }
    }

    fn open(&mut self, now: i64, cooldown_ms: i64) {
        self.breaker = Breaker::Open {
            until: now + cooldown_ms,
            cooldown_ms,
        };
        self.opened += 1;
    }

    /// Records the usage counters a response carried.
    pub fn quota(&mut self, remaining: Option<u64>, used: Option<u64>, last: Option<u64>) {
        self.quota_remaining = remaining.or(self.quota_remaining);
        self.quota_used = used.or(self.quota_used);
        self.quota_last = last.or(self.quota_last);
    }

    /// The interval multiplier after rate limits.
    pub fn slowdown(&self) -> u32 {
        self.slowdown
    }

    /// `healthy`, `degraded` or `down` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        let quota_out = self.quota_until.is_some_and(|until| now < until);
        if quota_out || self.breaker != Breaker::Closed {
            "down"
        } else if self.consecutive_failures >= 2 || self.error_rate() > 0.1 || self.slowdown > 1 {
            "degraded"
        } else {
            "healthy"
        }
    }

    /// (polls, failures) since start.
    pub fn counts(&self) -> (u64, u64) {
        (self.polls, self.failures)
    }

    fn error_rate(&self) -> f64 {
        let n = self.window.len();
        if n == 0 {
            return 0.0;
        }
        self.window.iter().filter(|(ok, _)| !ok).count() as f64 / n as f64
    }

    /// Response-time percentiles of successful polls in the window: (p50, p95, p99) in ms.
    fn percentiles(&self) -> Option<(u32, u32, u32)> {
        let mut l: Vec<u32> = self
            .window
            .iter()
            .filter(|(ok, _)| *ok)
            .map(|(_, l)| *l)
            .collect();
        if l.is_empty() {
            return None;
        }
        l.sort_unstable();
        let at = |q: f64| l[((l.len() - 1) as f64 * q).round() as usize];
        Some((at(0.50), at(0.95), at(0.99)))
    }

    /// The original `ProviderHealth` fields plus breaker, quota and latency percentiles.
    pub fn to_json(&self, id: &str, now: i64) -> Value {
        let ok: Vec<u32> = self
            .window
            .iter()
            .filter(|(ok, _)| *ok)
            .map(|(_, l)| *l)
            .collect();
        let average = (!ok.is_empty()).then(|| {
            let mean = ok.iter().map(|&l| f64::from(l)).sum::<f64>() / ok.len() as f64;
            (mean * 10.0).round() / 10.0
        });
        let (state, retry_at) = match self.breaker {
            Breaker::Closed => ("closed", None),
            Breaker::Open { until, .. } => ("open", Some(Timestamp(until).to_iso())),
            Breaker::HalfOpen { .. } => ("half_open", None),
        };
        let percentiles = self
            .percentiles()
            .map(|(p50, p95, p99)| json!({"p50": p50, "p95": p95, "p99": p99}));
        json!({
            "providerId": id,
            "status": self.status(now),
            "lastSuccess": self.last_success.map(Timestamp::to_iso),
            "lastFailure": self.last_failure.map(Timestamp::to_iso),
            "lastError": self.last_error,
            "consecutiveFailures": self.consecutive_failures,
            "averageResponseTime": average,
            "responseTimes": percentiles,
            "errorRate": (self.error_rate() * 1000.0).round() / 1000.0,
            "polls": self.polls,
            "failures": self.failures,
            "circuit": {"state": state, "opened": self.opened, "retryAt": retry_at},
            "quota": {
                "remaining": self.quota_remaining,
                "used": self.quota_used,
                "last": self.quota_last,
                "exhaustedUntil": self.quota_until.filter(|&u| now < u).map(|u| Timestamp(u).to_iso()),
            },
            "slowdown": self.slowdown,
        })
    }
}

/// Longest provider error text kept for `lastError`, in characters. A provider (or a push to
/// `/api/ingest`) may send megabytes of it; `/health` is public and would serve it each time.
const MAX_ERROR_CHARS: usize = 300;

/// `text`, cut to [`MAX_ERROR_CHARS`] characters with `…` at the cut.
fn clip_error(text: String) -> String {
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        None => text,
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
