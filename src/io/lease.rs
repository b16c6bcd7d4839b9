//! Polling leases: with several nodes on one Redis, each feed group (sport:league, every
//! provider of it) is polled by exactly one node at a time.
//!
//! A lease is the key `inplay:lease:<sport>:<league>` holding the node id, taken with
//! `SET NX PX` and renewed every third of its lifetime by a script that extends it only if this
//! node still holds it. When a node dies its leases expire and another node takes them over at
//! its next round, so within about 1⅓ lease lifetimes. A whole league goes to one node (not a
//! provider of it) so that one node aggregates all providers of a match consistently.
//!
//! Without Redis every group is this node's. While Redis is unreachable for longer than a lease
//! lifetime, this node polls everything again (degraded: other nodes may poll the same groups),
//! because serving stale data would be worse than polling twice.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use ::redis::Value;
use tokio::sync::watch;
use tracing::{info, warn};

use super::redis::Link;

/// Extends the lease only if this node holds it.
const RENEW: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                     return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/// Deletes the lease only if this node holds it.
const RELEASE: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                       return redis.call('del', KEYS[1]) else return 0 end";

/// Which feed groups this node may poll. Read by shards before each poll (one atomic load).
#[derive(Debug)]
pub(crate) struct Leases {
    coordinated: bool,
    groups: HashMap<String, AtomicBool>,
}

impl Leases {
    /// Leases of `groups`; with `coordinated == false` (no Redis) every group is held.
    pub fn new(groups: Vec<String>, coordinated: bool) -> Self {
        Self {
            coordinated,
            groups: groups
                .into_iter()
                .map(|g| (g, AtomicBool::new(!coordinated)))
                .collect(),
        }
    }

    /// The lease group of a polling task.
    pub fn group(sport: &str, league: &str) -> String {
        format!("{sport}:{league}")
    }

    /// Whether this node may poll `group` now. Unknown groups are held (nothing to share).
    pub fn holds(&self, group: &str) -> bool {
        self.groups
            .get(group)
            .is_none_or(|h| h.load(Ordering::Relaxed))
    }

    /// Groups held now.
    pub fn held(&self) -> usize {
        self.groups
            .values()
            .filter(|h| h.load(Ordering::Relaxed))
            .count()
    }

    /// Groups in all.
    pub fn total(&self) -> usize {
        self.groups.len()
    }

    /// Whether leases are coordinated through Redis.
    pub fn coordinated(&self) -> bool {
        self.coordinated
    }

    fn set_all(&self, held: bool) {
        self.groups
            .values()
            .for_each(|h| h.store(held, Ordering::Relaxed));
    }
}

fn key(group: &str) -> String {
    format!("inplay:lease:{group}")
}

/// Takes and renews leases until `stop` turns true, then releases the held ones.
pub(crate) async fn run(
    link: Arc<Link>,
    leases: Arc<Leases>,
    node_id: Arc<str>,
    lifetime: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let ttl_ms = lifetime.as_millis().max(1) as u64;
    let mut last_ok = Instant::now();
    let mut degraded = false;
    let names: Vec<&String> = leases.groups.keys().collect();
    loop {
        let mut pipe = ::redis::pipe();
        for name in &names {
            if leases.holds(name) && !degraded {
                pipe.cmd("EVAL")
                    .arg(RENEW)
                    .arg(1)
                    .arg(key(name))
                    .arg(&*node_id)
                    .arg(ttl_ms);
            } else {
                pipe.cmd("SET")
                    .arg(key(name))
                    .arg(&*node_id)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms);
            }
        }
        match link.exec(&pipe, names.len()).await {
            Ok(replies) => {
                last_ok = Instant::now();
                if degraded {
                    info!("Redis back: polling leases coordinated again");
                    degraded = false;
                }
                for (name, reply) in names.iter().zip(replies) {
                    let held = matches!(reply, Value::Okay | Value::Int(1))
                        || matches!(&reply, Value::SimpleString(s) if s == "OK");
                    let was = leases.groups[*name].swap(held, Ordering::Relaxed);
                    if held != was {
                        info!(group = %name, held, "Polling lease changed hands");
                    }
                }
            }
            Err(_) if !degraded && last_ok.elapsed() > lifetime => {
                warn!("Redis unreachable for a lease lifetime: polling every feed group here");
                degraded = true;
                leases.set_all(true);
            }
            Err(_) => {}
        }
        let pause = lifetime / 3;
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
    }
    let mut pipe = ::redis::pipe();
    for name in &names {
        pipe.cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(key(name))
            .arg(&*node_id)
            .ignore();
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), link.exec(&pipe, names.len())).await;
    leases.set_all(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_redis_every_group_is_held() {
        let l = Leases::new(vec!["football:nfl".into()], false);
        assert!(l.holds("football:nfl") && l.holds("unknown:x"));
        assert_eq!((l.held(), l.total()), (1, 1));
    }

    #[test]
    fn coordinated_groups_start_unheld() {
        let l = Leases::new(vec!["football:nfl".into(), "soccer:epl".into()], true);
        assert!(!l.holds("football:nfl"));
        assert_eq!(l.held(), 0);
        l.set_all(true);
        assert_eq!(l.held(), 2);
        assert_eq!(Leases::group("soccer", "epl"), "soccer:epl");
    }
}
