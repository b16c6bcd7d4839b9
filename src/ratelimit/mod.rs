//! Per-client request limits: GCRA buckets, one table per shard, no locks.
//!
//! # Design
//!
//! Each shard keeps its own table of client → theoretical arrival time ([`gcra`]), one `u64`
//! per route class, and decides alone. Connections reach shards through SO_REUSEPORT, so a
//! client's requests may be spread over every shard; instead of sharing state (a lock or a
//! cross-shard hop on every request) each shard enforces its *share* of the configured limit:
//! `requests_per_minute / nr_shards` per minute and `burst / nr_shards` at once.
//!
//! # How the limit holds
//!
//! - **Upper bound, whatever the spread.** Each shard's interval is `60 s × nr_shards /
//!   requests_per_minute`, rounded *up* to whole nanoseconds, so the shards together never
//!   admit more than `requests_per_minute` per minute sustained. Each shard's burst is
//!   `burst / nr_shards` rounded *down*, but at least 1 (a shard must admit something), so
//!   together at most `max(burst, nr_shards)` at once. Over any window of `w` seconds a
//!   client is admitted at most `max(burst, nr_shards) + requests_per_minute × w / 60`
//!   (property-tested in `gcra`).
//! - **Lower bound: one shard's share.** A client whose connections all land on one shard —
//!   one keep-alive connection does — gets that shard's share only: `requests_per_minute /
//!   nr_shards` and `burst / nr_shards`. Clients that open several connections get closer to
//!   the whole limit as the kernel spreads them. Size the limit with this in mind (with 8
//!   shards and 100/min, a single-connection client gets 12.5/min).
//! - **Classes are separate buckets.** `read` (GETs, WebSocket handshakes, preflights, unknown
//!   paths) and `write` (POST routes) each have their own rate and burst; a write does not use
//!   up reads. `GET /health` and `GET /metrics` are exempt (load balancers and scrapers poll
//!   them) and carry no rate-limit headers.
//!
//! # Memory
//!
//! At most `max_clients_per_shard` clients per shard. A client whose buckets are full again
//! (TAT in the past) holds no information — forgetting it changes no decision — so when the
//! table is full those are dropped first. If every tracked client is still active (a flood
//! from many addresses) the half with the earliest TATs (the least limited) is dropped, so
//! the table stays bounded and the clients being held back stay held back.

mod client;
mod gcra;

use std::{collections::HashMap, net::IpAddr, time::Instant};

pub(crate) use client::client_key;
pub(crate) use client::{IpNet, TrustedProxies, UNKNOWN_PEER};
use gcra::{Gcra, Outcome};

use crate::{config::RateLimitConfig, http::RateLimitHeaders};

/// Which bucket a route draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Not limited (`/health`, `/metrics`).
    Exempt,
    /// Reads: GET, HEAD, OPTIONS, WebSocket handshakes, unknown paths.
    Read,
    /// Writes: POST routes.
    Write,
}

/// One shard's limiter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Bucket parameters of `Read` and `Write`, this shard's share.
    buckets: [Gcra; 2],
    /// The configured totals per minute, for `X-RateLimit-Limit`.
    limits: [u32; 2],
    /// Client key → TAT of each class, in nanoseconds since `epoch`.
    table: HashMap<u128, [u64; 2]>,
    /// Most clients tracked.
    max_clients: usize,
    /// Zero of the TAT scale.
    epoch: Instant,
}

/// A verdict with its headers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Verdict {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// `X-RateLimit-*` (and `Retry-After` when refused).
    pub headers: RateLimitHeaders,
}

// === impl RateLimiter ===

impl RateLimiter {
    /// The limiter of one of `nr_shards` shards.
    pub fn new(config: &RateLimitConfig, nr_shards: usize) -> Self {
        Self {
            buckets: [
                Gcra::per_shard(config.requests_per_minute, config.burst, nr_shards),
                Gcra::per_shard(
                    config.write_requests_per_minute,
                    config.write_burst,
                    nr_shards,
                ),
            ],
            limits: [config.requests_per_minute, config.write_requests_per_minute],
            table: HashMap::new(),
            max_clients: config.max_clients_per_shard.max(1),
            epoch: Instant::now(),
        }
    }

    /// Decides one request of `class` from `client` now. `None` for exempt classes.
    pub fn check(&mut self, client: IpAddr, class: Class) -> Option<Verdict> {
        let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.check_at(client, class, now)
    }

    /// [`RateLimiter::check`] at `now` nanoseconds since the epoch.
    fn check_at(&mut self, client: IpAddr, class: Class, now: u64) -> Option<Verdict> {
        let i = match class {
            Class::Exempt => return None,
            Class::Read => 0,
            Class::Write => 1,
        };
        let key = client_key(client);
        if self.table.len() >= self.max_clients && !self.table.contains_key(&key) {
            self.make_room(now);
        }
        let tat = &mut self.table.entry(key).or_insert([0; 2])[i];
        let limit = self.limits[i];
        let verdict = match self.buckets[i].check(tat, now) {
            Outcome::Allowed { remaining, reset } => Verdict {
                allowed: true,
                headers: RateLimitHeaders {
                    limit,
                    remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                    reset_secs: ceil_secs(reset),
                    retry_after_secs: None,
                },
            },
            Outcome::Limited { retry_after, reset } => Verdict {
                allowed: false,
                headers: RateLimitHeaders {
                    limit,
                    remaining: 0,
                    reset_secs: ceil_secs(reset),
                    retry_after_secs: Some(ceil_secs(retry_after).max(1)),
                },
            },
        };
        Some(verdict)
    }

    /// Frees room for one more client: drops every client whose buckets are full again, and if
    /// that is not enough, the half that is least limited.
    fn make_room(&mut self, now: u64) {
        self.table.retain(|_, tats| tats.iter().any(|&t| t > now));
        if self.table.len() < self.max_clients {
            return;
        }
        let mut tats: Vec<u64> = self.table.values().map(|t| t[0].max(t[1])).collect();
        let mid = tats.len() / 2;
        let (_, &mut median, _) = tats.select_nth_unstable(mid);
        self.table.retain(|_, t| t[0].max(t[1]) > median);
        if self.table.len() >= self.max_clients {
            // Every TAT equal: nothing tells them apart, start over.
            self.table.clear();
        }
    }

    /// Clients tracked now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table.len()
    }
}

/// Nanoseconds as whole seconds, rounded up.
fn ceil_secs(ns: u64) -> u64 {
    ns.div_ceil(1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn config(per_minute: u32, burst: u32, max_clients: usize) -> RateLimitConfig {
        RateLimitConfig {
            requests_per_minute: per_minute,
            burst,
            write_requests_per_minute: 6,
            write_burst: 1,
            max_clients_per_shard: max_clients,
            ..RateLimitConfig::default()
        }
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(n.into())
    }

    #[test]
    fn classes_have_separate_buckets_and_headers() {
        let mut rl = RateLimiter::new(&config(60, 2, 10), 1);
        let now = 10 * SEC;
        let first = rl.check_at(ip(1), Class::Read, now).unwrap();
        assert!(first.allowed);
        assert_eq!((first.headers.limit, first.headers.remaining), (60, 1));
        assert!(rl.check_at(ip(1), Class::Read, now).unwrap().allowed);
        let refused = rl.check_at(ip(1), Class::Read, now).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.headers.retry_after_secs, Some(1));
        assert_eq!(refused.headers.reset_secs, 2);
        // Writes are a separate bucket; another client is unaffected; exempt is not counted.
        let write = rl.check_at(ip(1), Class::Write, now).unwrap();
        assert!(write.allowed && write.headers.limit == 6);
        assert!(!rl.check_at(ip(1), Class::Write, now).unwrap().allowed);
        assert!(rl.check_at(ip(2), Class::Read, now).unwrap().allowed);
        assert!(rl.check_at(ip(1), Class::Exempt, now).is_none());
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_limited_clients() {
        let mut rl = RateLimiter::new(&config(1, 3, 100), 1);
        // Client 0 empties its bucket: the most limited client of all.
        for _ in 0..3 {
            assert!(rl.check_at(ip(0), Class::Read, SEC).unwrap().allowed);
        }
        for n in 1..10_000 {
            rl.check_at(ip(n), Class::Read, SEC + u64::from(n));
            assert!(rl.tracked() <= 100);
        }
        // Evictions dropped the least limited clients; client 0 is still held back.
        assert!(!rl.check_at(ip(0), Class::Read, 2 * SEC).unwrap().allowed);
        // Once every bucket is full again, all of them are forgotten.
        rl.make_room(10 * 60 * SEC);
        assert_eq!(rl.tracked(), 0);
    }
}
