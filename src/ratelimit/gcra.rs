//! The generic cell rate algorithm (GCRA): a token bucket kept as one number per client.
//!
//! A bucket admits `capacity` requests at once and then one every `interval`. Instead of a
//! token count and a refill time, GCRA keeps the *theoretical arrival time* (TAT): the instant
//! at which the bucket would be full again if nothing more arrived. A request at `now` is
//! admitted when `max(tat, now) + interval - now <= capacity * interval`, and then moves the
//! TAT on by one interval. Pure arithmetic on a `u64` of nanoseconds: no clock reads (time is
//! passed in), no allocation, no floating point.
//!
//! Bound (proved in the docs of [`Gcra::check`] and checked by a property test): among the
//! requests a bucket admits at times `t_i <= ... <= t_j`, there are at most
//! `capacity + (t_j - t_i) / interval` of them.

/// Nanoseconds in a minute.
const MINUTE_NS: u64 = 60_000_000_000;

/// One bucket's parameters. The per-client state is just its TAT (`u64`, 0 = never seen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// Time between two admitted requests at the sustained rate, in nanoseconds (≥ 1).
    interval: u64,
    /// Requests admitted at once from a full bucket (≥ 1).
    capacity: u64,
    /// `capacity * interval`: how far the TAT may run ahead of now.
    tolerance: u64,
}

/// What [`Gcra::check`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Admitted.
    Allowed {
        /// Requests that would still be admitted right now.
        remaining: u64,
        /// Nanoseconds until the bucket is full again.
        reset: u64,
    },
    /// Refused; the TAT is unchanged.
    Limited {
        /// Nanoseconds until one request would be admitted.
        retry_after: u64,
        /// Nanoseconds until the bucket is full again.
        reset: u64,
    },
}

// === impl Gcra ===

impl Gcra {
    /// A bucket of `capacity` requests refilling at `per_minute` requests per minute.
    /// Both are clamped to at least 1; the interval is rounded *up* to whole nanoseconds, so the
    /// sustained rate never exceeds `per_minute`. (The server builds buckets with
    /// [`Gcra::per_shard`].)
    #[cfg(test)]
    pub fn new(per_minute: u64, capacity: u64) -> Self {
        let interval = MINUTE_NS.div_ceil(per_minute.max(1)).max(1);
        let capacity = capacity.max(1);
        Self {
            interval,
            capacity,
            tolerance: interval.saturating_mul(capacity),
        }
    }

    /// One shard's share of a limit enforced by `nr_shards` shards that each see part of a
    /// client's traffic: `per_minute / nr_shards` per minute (the interval rounded up) and
    /// `burst / nr_shards` at once (rounded down, but at least 1, so every shard admits
    /// something). Summed over the shards: at most `per_minute` per minute sustained and at
    /// most `max(burst, nr_shards)` at once.
    pub fn per_shard(per_minute: u32, burst: u32, nr_shards: usize) -> Self {
        let shards = (nr_shards.max(1)) as u64;
        let interval = (MINUTE_NS * shards).div_ceil(u64::from(per_minute.max(1)));
        let capacity = (u64::from(burst) / shards).max(1);
        Self {
            interval,
            capacity,
            tolerance: interval.saturating_mul(capacity),
        }
    }

    /// Nanoseconds between two requests at the sustained rate.
    #[cfg(test)]
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// Requests admitted at once from a full bucket.
    #[cfg(test)]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Decides one request at `now` (nanoseconds on any monotonic scale shared with `tat`) and
    /// updates `tat` when it is admitted.
    ///
    /// Why the bound in the module docs holds: every admission sets `tat' = max(tat, now) +
    /// interval`, so after the first admission at `t_i` the TAT is at least
    /// `t_i + interval`, and after `k` admissions at least `t_i + k * interval`. An admission
    /// at `t_j` requires `tat' - t_j <= tolerance = capacity * interval`. Together:
    /// `t_i + k * interval <= t_j + capacity * interval`, i.e. `k <= capacity +
    /// (t_j - t_i) / interval`.
    pub fn check(&self, tat: &mut u64, now: u64) -> Outcome {
        let start = (*tat).max(now);
        let next = start.saturating_add(self.interval);
        let ahead = next - now; // next > start >= now
        if ahead <= self.tolerance {
            *tat = next;
            Outcome::Allowed {
                remaining: (self.tolerance - ahead) / self.interval,
                reset: ahead,
            }
        } else {
            Outcome::Limited {
                retry_after: ahead - self.tolerance,
                reset: start - now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn burst_then_sustained_rate() {
        let g = Gcra::new(60, 3); // one a second, three at once
        let mut tat = 0;
        let now = 100 * SEC;
        for left in [2, 1, 0] {
            assert!(
                matches!(g.check(&mut tat, now), Outcome::Allowed { remaining, .. } if remaining == left)
            );
        }
        match g.check(&mut tat, now) {
            Outcome::Limited { retry_after, reset } => {
                assert_eq!(retry_after, SEC);
                assert_eq!(reset, 3 * SEC);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            g.check(&mut tat, now + SEC - 1),
            Outcome::Limited { .. }
        ));
        assert!(matches!(
            g.check(&mut tat, now + SEC),
            Outcome::Allowed { remaining: 0, .. }
        ));
        // Idle for the whole bucket: full again.
        assert!(matches!(
            g.check(&mut tat, now + 10 * SEC),
            Outcome::Allowed { remaining: 2, .. }
        ));
    }

    #[test]
    fn per_shard_split_rounds_towards_the_limit() {
        let g = Gcra::per_shard(100, 100, 2);
        assert_eq!((g.capacity(), g.interval()), (50, 1_200_000_000));
        // 7 does not divide 60 s: the interval rounds up, so 7 shards stay under 100/min.
        let g = Gcra::per_shard(100, 10, 7);
        assert_eq!(g.capacity(), 1);
        assert!(7 * (60 * SEC / g.interval()) <= 100);
        // A huge limit still leaves an interval of at least 1 ns; no division by zero.
        assert_eq!(Gcra::per_shard(u32::MAX, 1, 1).interval(), 14);
        assert!(Gcra::new(u64::MAX, 0).interval() >= 1);
        assert_eq!(Gcra::per_shard(0, 0, 0).capacity(), 1);
    }

    #[test]
    fn never_overflows_at_the_end_of_time() {
        let g = Gcra::per_shard(1, 1_000_000, 1024);
        let mut tat = u64::MAX - 5;
        assert!(matches!(
            g.check(&mut tat, u64::MAX),
            Outcome::Allowed { .. } | Outcome::Limited { .. }
        ));
        let mut tat = 0;
        assert!(matches!(
            g.check(&mut tat, u64::MAX),
            Outcome::Limited { .. } | Outcome::Allowed { .. }
        ));
    }

    proptest! {
        /// Never more than `capacity + span / interval` admissions between any two admitted
        /// requests, whatever the arrival pattern.
        #[test]
        fn never_more_than_burst_plus_rate(
            per_minute in 1u64..10_000,
            capacity in 1u64..50,
            gaps in proptest::collection::vec(0u64..3 * SEC, 1..300),
        ) {
            let g = Gcra::new(per_minute, capacity);
            let (mut tat, mut now) = (0u64, SEC);
            let mut admitted = Vec::new();
            for gap in gaps {
                now += gap;
                if matches!(g.check(&mut tat, now), Outcome::Allowed { .. }) {
                    admitted.push(now);
                }
            }
            for i in 0..admitted.len() {
                for j in i..admitted.len() {
                    let count = (j - i + 1) as u64;
                    let bound = g.capacity() + (admitted[j] - admitted[i]) / g.interval();
                    prop_assert!(count <= bound, "{count} admitted in a span allowing {bound}");
                }
            }
        }

        /// Summed over shards, any 60 s window holds at most `limit + max(burst, shards)`.
        #[test]
        fn shards_together_stay_within_the_limit(
            per_minute in 1u32..1000,
            burst in 1u32..200,
            nr_shards in 1usize..8,
            arrivals in proptest::collection::vec((0usize..8, 0u64..200 * SEC), 1..400),
        ) {
            let g = Gcra::per_shard(per_minute, burst, nr_shards);
            let mut arrivals = arrivals;
            arrivals.sort_by_key(|&(_, t)| t);
            let mut tats = vec![0u64; nr_shards];
            let mut admitted = Vec::new();
            for (shard, t) in arrivals {
                if matches!(g.check(&mut tats[shard % nr_shards], t + SEC), Outcome::Allowed { .. }) {
                    admitted.push(t);
                }
            }
            let most = u64::from(per_minute) + u64::from(burst).max(nr_shards as u64);
            for (i, &start) in admitted.iter().enumerate() {
                let in_window = admitted[i..].iter().take_while(|&&t| t < start + 60 * SEC).count();
                prop_assert!(in_window as u64 <= most, "{in_window} in a minute, limit {most}");
            }
        }

        /// Requests spaced at least one interval apart are always admitted.
        #[test]
        fn steady_clients_are_never_limited(per_minute in 1u64..100_000, capacity in 1u64..20, n in 1usize..200) {
            let g = Gcra::new(per_minute, capacity);
            let mut tat = 0;
            for i in 0..n as u64 {
                let now = SEC + i * g.interval();
                let admitted = matches!(g.check(&mut tat, now), Outcome::Allowed { .. });
                prop_assert!(admitted, "refused at step {}", i);
            }
        }
    }
}
