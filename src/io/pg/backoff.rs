//! Jittered exponential backoff between attempts to reach PostgreSQL.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

/// Waits that double from `min` up to `max`, each drawn at random from the upper half of the
/// current step so that several nodes restarting together do not retry in lockstep.
#[derive(Debug)]
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    /// The step the next wait is drawn from.
    step: Duration,
    /// xorshift64 state; never 0.
    rng: u64,
}

// === impl Backoff ===

impl Backoff {
    /// A backoff from `min` to `max` (`max` is raised to `min` if smaller).
    pub fn new(min: Duration, max: Duration) -> Self {
        // A randomly keyed hasher is std's only source of randomness; good enough for jitter.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        Self {
            min,
            max: max.max(min),
            step: min,
            rng: hasher.finish() | 1,
        }
    }

    /// The next wait, in `step/2..=step`; then the step doubles, up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = step.saturating_mul(2).min(self.max);
        let half = step / 2;
        let span = u64::try_from((step - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(self.random() % span.saturating_add(1))
    }

    /// Back to the shortest wait, after a success.
    pub fn reset(&mut self) {
        self.step = self.min;
    }

    fn random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_cap_and_resets() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(5));
        let mut backoff = Backoff::new(min, max);
        let mut step = min;
        for _ in 0..12 {
            let d = backoff.next_delay();
            assert!(
                d >= step / 2 && d <= step,
                "{d:?} outside {step:?}/2..={step:?}"
            );
            step = (step * 2).min(max);
        }
        assert!(backoff.next_delay() >= max / 2);
        backoff.reset();
        assert!(backoff.next_delay() <= min);
    }
}
