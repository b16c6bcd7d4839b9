//! Profiles of the two simulated providers, and the simulated success and latency of a poll.
//!
//! The profiles are public so the server can register the providers with their weights and
//! priorities; the quirks they describe are applied in `report`.

use super::{
    catalog::LeagueDef,
    rng::{below, fnv1a, mix4, splitmix64, tag, unit},
};
use crate::model::{ProviderId, Timestamp};

/// How one simulated provider behaves. Rates are in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderProfile {
    /// Provider id (`demo-alpha`, `demo-beta`).
    pub id: ProviderId,
    /// Rank when providers tie (1 = first).
    pub priority: u8,
    /// Trust weight in aggregation, in `0.0..=1.0`.
    pub weight: f64,
    /// Bookmaker overround added to fair probabilities (0.045 = 4.5 %).
    pub margin: f64,
    /// Relative price noise (0.015 = ±1.5 %).
    pub noise: f64,
    /// The provider sees the world this many ms late.
    pub lag_ms: u32,
    /// Share of (match, 8 s bucket) reports taken from an older snapshot of the match.
    pub stale_rate: f64,
    /// Share of (match, line) pairs quoted half a point off.
    pub line_shift_rate: f64,
    /// Share of polls that fail upstream.
    pub error_rate: f64,
    /// Simulated response time range, ms (inclusive).
    pub latency_ms: (u32, u32),
    /// Share of fixtures reported with the actual kick-off (1–2.5 min late) as start time.
    pub actual_start_rate: f64,
    /// Event id style: `Some(prefix)` gives `prefix` + hex, `None` a decimal number.
    pub event_id_prefix: Option<&'static str>,
}

/// The simulated result of one poll, for provider health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollOutcome {
    /// The upstream call failed: the poll yields nothing.
    pub failed: bool,
    /// Simulated response time, ms.
    pub latency_ms: u32,
}

// === impl ProviderProfile ===

impl ProviderProfile {
    /// The fast, sharp, trusted book.
    pub fn alpha() -> Self {
        Self {
            id: ProviderId::new("demo-alpha"),
            priority: 1,
            weight: 0.6,
            margin: 0.045,
            noise: 0.015,
            lag_ms: 1_000,
            stale_rate: 0.02,
            line_shift_rate: 0.05,
            error_rate: 0.01,
            latency_ms: (15, 60),
            actual_start_rate: 0.0,
            event_id_prefix: Some("a-"),
        }
    }

    /// The slower, noisier book that reports actual kick-off times.
    pub fn beta() -> Self {
        Self {
            id: ProviderId::new("demo-beta"),
            priority: 2,
            weight: 0.4,
            margin: 0.06,
            noise: 0.025,
            lag_ms: 4_000,
            stale_rate: 0.08,
            line_shift_rate: 0.15,
            error_rate: 0.03,
            latency_ms: (25, 120),
            actual_start_rate: 0.35,
            event_id_prefix: None,
        }
    }

    /// Hash of the id: separates this provider's quirks from the other's.
    pub(super) fn salt(&self) -> u64 {
        fnv1a(self.id.as_str())
    }
}

/// Simulated failure and latency of a poll, from (provider, league, 1 s bucket).
pub(super) fn outcome(p: &ProviderProfile, league: &LeagueDef, now: Timestamp) -> PollOutcome {
    let h = mix4(
        p.salt(),
        tag::OUTCOME,
        league.index as u64,
        now.millis().div_euclid(1000) as u64,
    );
    let (lo, hi) = (
        p.latency_ms.0.min(p.latency_ms.1),
        p.latency_ms.0.max(p.latency_ms.1),
    );
    let mut latency = lo + below(splitmix64(h), u64::from(hi - lo) + 1) as u32;
    if unit(splitmix64(h ^ 0xA5)) < 0.03 {
        latency = latency.saturating_mul(3); // the occasional slow response
    }
    PollOutcome {
        failed: unit(h) < p.error_rate,
        latency_ms: latency,
    }
}
