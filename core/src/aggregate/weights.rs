//! Provider weights and priorities: how much each provider counts in a consensus.
//!
//! Configured once by the server (and changeable at runtime), passed by reference into every
//! [`MatchState::apply`](super::MatchState::apply). A handful of providers is the norm, so the
//! table is a small vector scanned linearly: faster than hashing for that size and free of
//! allocation on lookup.

use std::cmp::Ordering;

use crate::model::ProviderId;

/// Priority reported for providers that were never configured: the least preferred.
const UNKNOWN_PRIORITY: u8 = u8::MAX;

/// Provider weights for consensus (score, prices, settlement).
#[derive(Clone, Debug)]
pub struct Weights {
    /// Weight of any provider not configured with [`Weights::set`].
    default_weight: f64,
    /// Configured providers, at most one entry each.
    entries: Vec<Entry>,
}

/// One configured provider.
#[derive(Clone, Debug)]
struct Entry {
    provider: ProviderId,
    priority: u8,
    weight: f64,
}

// === impl Weights ===

impl Weights {
    /// A table where every provider weighs `default_weight` (negative or non-finite counts as 0).
    pub fn new(default_weight: f64) -> Self {
        Self {
            default_weight: sanitize(default_weight),
            entries: Vec::new(),
        }
    }

    /// Configures (or reconfigures) one provider. `priority`: lower is preferred (breaks ties);
    /// `weight`: its vote, ≥ 0 (negative or non-finite counts as 0).
    pub fn set(&mut self, provider: ProviderId, priority: u8, weight: f64) {
        let weight = sanitize(weight);
        match self.entries.iter_mut().find(|e| e.provider == provider) {
            Some(e) => {
                e.priority = priority;
                e.weight = weight;
            }
            None => self.entries.push(Entry {
                provider,
                priority,
                weight,
            }),
        }
    }

    /// The provider's weight, ≥ 0; the default weight for unknown providers.
    pub fn weight(&self, provider: &ProviderId) -> f64 {
        self.entry(provider)
            .map_or(self.default_weight, |e| e.weight)
    }

    /// The provider's priority: lower is preferred; 255 for unknown providers.
    pub fn priority(&self, provider: &ProviderId) -> u8 {
        self.entry(provider)
            .map_or(UNKNOWN_PRIORITY, |e| e.priority)
    }

    /// Weight and priority in one scan.
    pub(crate) fn rank(&self, provider: &ProviderId) -> (f64, u8) {
        self.entry(provider)
            .map_or((self.default_weight, UNKNOWN_PRIORITY), |e| {
                (e.weight, e.priority)
            })
    }

    fn entry(&self, provider: &ProviderId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.provider == *provider)
    }
}

/// The order in which providers are listed and preferred: higher weight first, then lower
/// priority, then provider id (so that the order never depends on arrival order).
pub(crate) fn preference(a: (f64, u8, &ProviderId), b: (f64, u8, &ProviderId)) -> Ordering {
    b.0.total_cmp(&a.0)
        .then(a.1.cmp(&b.1))
        .then_with(|| a.2.cmp(b.2))
}

/// Weights are votes: a negative or NaN vote would break every ratio built on them.
fn sanitize(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 {
        w
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_providers_get_defaults() {
        let w = Weights::new(1.5);
        let p = ProviderId::new("x");
        assert_eq!(w.weight(&p), 1.5);
        assert_eq!(w.priority(&p), 255);
    }

    #[test]
    fn set_overrides_and_sanitises() {
        let mut w = Weights::new(f64::NAN);
        let a = ProviderId::new("a");
        w.set(a.clone(), 1, 2.0);
        w.set(a.clone(), 0, 3.0);
        assert_eq!((w.weight(&a), w.priority(&a)), (3.0, 0));
        w.set(a.clone(), 0, -1.0);
        assert_eq!(w.weight(&a), 0.0);
        assert_eq!(w.weight(&ProviderId::new("b")), 0.0);
    }

    #[test]
    fn preference_orders_by_weight_priority_then_id() {
        let (a, b) = (ProviderId::new("a"), ProviderId::new("b"));
        assert_eq!(preference((2.0, 9, &b), (1.0, 0, &a)), Ordering::Less);
        assert_eq!(preference((1.0, 0, &b), (1.0, 1, &a)), Ordering::Less);
        assert_eq!(preference((1.0, 0, &a), (1.0, 0, &b)), Ordering::Less);
    }
}
