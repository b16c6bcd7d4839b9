//! One subscriber's account of the updates of its match: which numbers arrived, in what order,
//! and how many times.
//!
//! Updates of a match are numbered 0, 1, 2, … in publish order, so for one subscriber:
//! - a number seen twice is a **duplicate**;
//! - a number lower than one already seen (and not seen before) is **out of order**;
//! - a published number never seen is missing ([`Tally::missing`], known only once publishing
//!   is over): **lost** if a higher number arrived (a gap), **undelivered** if none did (the
//!   tail of the stream had not arrived when the run ended: late or lost, no one can tell);
//! - a number that was never published (≥ `count`) is **unexpected**.

/// Counters of one subscriber (or, merged, of all of them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Updates received for the first time, in or out of order.
    pub delivered: u64,
    /// Updates received again.
    pub duplicates: u64,
    /// Updates received after a higher number.
    pub out_of_order: u64,
    /// Numbers outside `0..count`, or updates naming another match.
    pub unexpected: u64,
    /// Frames that were not JSON objects, or updates with broken fields.
    pub malformed: u64,
    /// Frames the generator does not count (snapshots, pongs, warm-up).
    pub other: u64,
}

impl Counts {
    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &Counts) {
        self.delivered += other.delivered;
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.unexpected += other.unexpected;
        self.malformed += other.malformed;
        self.other += other.other;
    }
}

/// What one received update was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// First time, after every lower number seen so far.
    InOrder,
    /// First time, but a higher number came before it.
    OutOfOrder,
    /// Seen before.
    Duplicate,
    /// Outside `0..count`.
    Unexpected,
}

/// Which update numbers a subscriber has received (a bitmap of `count` bits).
#[derive(Debug, Clone)]
pub struct Tally {
    seen: Vec<u64>,
    count: u64,
    highest: Option<u64>,
    /// The counters so far.
    pub counts: Counts,
}

impl Tally {
    /// A subscriber expecting updates `0..count`.
    pub fn new(count: u64) -> Self {
        Self {
            seen: vec![0; count.div_ceil(64) as usize],
            count,
            highest: None,
            counts: Counts::default(),
        }
    }

    /// Records update `n`.
    pub fn record(&mut self, n: u64) -> Arrival {
        if n >= self.count {
            self.counts.unexpected += 1;
            return Arrival::Unexpected;
        }
        let (word, bit) = ((n / 64) as usize, 1u64 << (n % 64));
        if self.seen[word] & bit != 0 {
            self.counts.duplicates += 1;
            return Arrival::Duplicate;
        }
        self.seen[word] |= bit;
        self.counts.delivered += 1;
        match self.highest {
            Some(h) if n < h => {
                self.counts.out_of_order += 1;
                Arrival::OutOfOrder
            }
            _ => {
                self.highest = Some(n);
                Arrival::InOrder
            }
        }
    }

    /// Updates `0..published` never received: (below the highest received — gaps, lost —,
    /// above it — the undelivered tail).
    pub fn missing(&self, published: u64) -> (u64, u64) {
        let published = published.min(self.count);
        let tail = published.saturating_sub(self.highest.map_or(0, |h| h + 1));
        (self.missing_below(published) - tail, tail)
    }

    fn missing_below(&self, published: u64) -> u64 {
        let published = published.min(self.count);
        let full = (published / 64) as usize;
        let mut have: u64 = self.seen[..full]
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum();
        let rest = published % 64;
        if rest > 0 {
            have += u64::from((self.seen[full] & ((1u64 << rest) - 1)).count_ones());
        }
        published - have
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_stream_has_no_anomalies() {
        let mut t = Tally::new(130);
        for n in 0..130 {
            assert_eq!(t.record(n), Arrival::InOrder);
        }
        assert_eq!(t.missing(130), (0, 0));
        assert_eq!(t.missing(200), (0, 0), "never more than count");
        assert_eq!(t.counts.delivered, 130);
    }

    #[test]
    fn losses_reorderings_duplicates_and_strays() {
        let mut t = Tally::new(100);
        assert_eq!(t.record(0), Arrival::InOrder);
        assert_eq!(t.record(2), Arrival::InOrder);
        assert_eq!(t.record(1), Arrival::OutOfOrder);
        assert_eq!(t.record(2), Arrival::Duplicate);
        assert_eq!(t.record(100), Arrival::Unexpected);
        assert_eq!(t.record(70), Arrival::InOrder);
        // 0, 1, 2 and 70 arrived: of 0..80 published, 3..=69 are lost and 71..80 undelivered.
        assert_eq!(t.missing(80), (67, 9));
        assert_eq!(t.missing(2), (0, 0));
        assert_eq!(t.missing(1000), (67, 29), "never more than count");
        assert_eq!(
            Tally::new(10).missing(4),
            (0, 4),
            "nothing arrived: all undelivered"
        );
        let c = t.counts;
        assert_eq!(
            (c.delivered, c.out_of_order, c.duplicates, c.unexpected),
            (4, 1, 1, 1)
        );
    }
}
