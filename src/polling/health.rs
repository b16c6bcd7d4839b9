//! Provider health from a sliding window of poll outcomes.
//!
//! Each shard records the outcomes of the polls it runs; `/api/providers/health` merges every
//! shard's windows. Status rules (documented in README): `down` after 5 consecutive failures or
//! an error rate above 50 % in the window; `degraded` after 2 consecutive failures or an error
//! rate above 10 %; `healthy` otherwise.

use std::collections::VecDeque;

use inplay_core::Timestamp;
use serde::Serialize;

/// Outcomes kept per provider per shard.
const WINDOW: usize = 100;

/// One shard's record of one provider's polls.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProviderStats {
    pub provider: String,
    /// Most recent outcomes: (succeeded, response time in ms).
    pub window: VecDeque<(bool, u32)>,
    pub last_success: Option<Timestamp>,
    pub last_failure: Option<Timestamp>,
    pub consecutive_failures: u32,
    pub polls: u64,
    pub failures: u64,
}

impl ProviderStats {
    /// Empty statistics for `provider`.
    pub fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            ..Self::default()
        }
    }

    /// Records one poll.
    pub fn record(&mut self, ok: bool, latency_ms: u32, now: Timestamp) {
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back((ok, latency_ms));
        self.polls += 1;
        if ok {
            self.last_success = Some(now);
            self.consecutive_failures = 0;
        } else {
            self.last_failure = Some(now);
            self.consecutive_failures += 1;
            self.failures += 1;
        }
    }

    /// Folds another shard's statistics of the same provider into this one.
    pub fn merge(&mut self, other: &ProviderStats) {
        self.window.extend(other.window.iter().copied());
        self.last_success = self.last_success.max(other.last_success);
        self.last_failure = self.last_failure.max(other.last_failure);
        self.consecutive_failures = self.consecutive_failures.max(other.consecutive_failures);
        self.polls += other.polls;
        self.failures += other.failures;
    }
}

/// `ProviderHealth` as the original service served it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderHealth {
    pub provider_id: String,
    pub status: &'static str,
    pub last_success: Option<String>,
    pub last_failure: Option<String>,
    pub consecutive_failures: u32,
    /// Mean response time over the window, in ms.
    pub average_response_time: Option<f64>,
    /// Failed share of the window, `0.0..=1.0`.
    pub error_rate: f64,
    pub polls: u64,
    pub failures: u64,
}

impl From<&ProviderStats> for ProviderHealth {
    fn from(s: &ProviderStats) -> Self {
        let n = s.window.len();
        let errors = s.window.iter().filter(|(ok, _)| !ok).count();
        let error_rate = if n == 0 {
            0.0
        } else {
            errors as f64 / n as f64
        };
        let latencies: Vec<u32> = s
            .window
            .iter()
            .filter(|(ok, _)| *ok)
            .map(|(_, l)| *l)
            .collect();
        let average_response_time = (!latencies.is_empty()).then(|| {
            let mean =
                latencies.iter().map(|&l| f64::from(l)).sum::<f64>() / latencies.len() as f64;
            (mean * 10.0).round() / 10.0
        });
        let status = if s.consecutive_failures >= 5 || error_rate > 0.5 {
            "down"
        } else if s.consecutive_failures >= 2 || error_rate > 0.1 {
            "degraded"
        } else {
            "healthy"
        };
        Self {
            provider_id: s.provider.clone(),
            status,
            last_success: s.last_success.map(Timestamp::to_iso),
            last_failure: s.last_failure.map(Timestamp::to_iso),
            consecutive_failures: s.consecutive_failures,
            average_response_time,
            error_rate: (error_rate * 1000.0).round() / 1000.0,
            polls: s.polls,
            failures: s.failures,
        }
    }
}

/// Merges every shard's statistics into one health entry per provider, sorted by id.
pub(crate) fn merge_health(all: Vec<ProviderStats>) -> Vec<ProviderHealth> {
    let mut merged: Vec<ProviderStats> = Vec::new();
    for s in all {
        match merged.iter_mut().find(|m| m.provider == s.provider) {
            Some(m) => m.merge(&s),
            None => merged.push(s),
        }
    }
    merged.sort_by(|a, b| a.provider.cmp(&b.provider));
    merged.iter().map(ProviderHealth::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_failures() {
        let mut s = ProviderStats::new("p");
        for _ in 0..20 {
            s.record(true, 10, Timestamp(1));
        }
        assert_eq!(ProviderHealth::from(&s).status, "healthy");
        s.record(false, 0, Timestamp(2));
        s.record(false, 0, Timestamp(3));
        assert_eq!(ProviderHealth::from(&s).status, "degraded");
        for _ in 0..3 {
            s.record(false, 0, Timestamp(4));
        }
        let h = ProviderHealth::from(&s);
        assert_eq!((h.status, h.consecutive_failures), ("down", 5));
        assert_eq!(h.average_response_time, Some(10.0));
    }

    #[test]
    fn merges_shards() {
        let mut a = ProviderStats::new("p");
        a.record(true, 10, Timestamp(5));
        let mut b = ProviderStats::new("p");
        b.record(false, 0, Timestamp(9));
        let h = merge_health(vec![a, b]);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].error_rate, 0.5);
        assert_eq!(
            h[0].last_failure.as_deref(),
            Some("1970-01-01T00:00:00.009Z")
        );
    }
}
