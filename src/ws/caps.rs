//! Per-client caps on WebSocket connections and subscriptions, held across all shards.
//!
//! # Design
//!
//! Shards are threads and a client's connections land on any of them (SO_REUSEPORT), so a
//! per-shard count could not hold a per-client cap: either it refuses a client whose few
//! connections happen to meet on one shard, or it lets a client have `cap × shards`. The counts
//! therefore live in one table shared by every shard: a fixed array of [`SLOTS`] pairs of
//! atomics (connections, subscriptions), indexed by a keyed hash of the client's address (IPv4,
//! or the /64 of IPv6, as for rate limits). Taking a slot is one `fetch_update` on the
//! handshake or subscribe path, never a lock, and the table never grows, whatever the number
//! of clients.
//!
//! Two clients whose addresses hash to the same slot share its caps. That can only make the
//! caps stricter, never looser, and with 65,536 slots and a per-process random hash key (so
//! a client cannot pick an address that lands on someone else's slot on purpose) it matters
//! only for a client already near its cap.
//!
//! A [`Permit`] is one connection's claim: dropping it (the session ended, or the upgrade never
//! happened) gives back the connection and every subscription it still holds.

use std::{
    cell::Cell,
    fmt,
    hash::{BuildHasher, RandomState},
    net::IpAddr,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
};

use crate::ratelimit::client_key;

/// Slots in the shared table (two `u32` each: 512 KiB).
pub(crate) const SLOTS: usize = 1 << 16;

/// The shared table and the caps it enforces.
pub(crate) struct IpCaps {
    slots: Box<[Slot]>,
    /// Keyed per process: which clients share a slot cannot be chosen from outside.
    hasher: RandomState,
    /// `websocket.max_connections_per_ip`.
    max_connections: u32,
    /// `websocket.max_subscriptions_per_ip`.
    max_subscriptions: u32,
}

#[derive(Default)]
struct Slot {
    connections: AtomicU32,
    subscriptions: AtomicU32,
}

/// One WebSocket connection's claim on its client's slot.
pub(crate) struct Permit {
    caps: Arc<IpCaps>,
    slot: usize,
    /// Subscriptions this connection holds (given back on drop).
    subscriptions: Cell<u32>,
}

/// Which cap a client is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Over {
    /// `websocket.max_connections_per_ip`, with its value.
    Connections(u32),
    /// `websocket.max_subscriptions_per_ip`, with its value.
    Subscriptions(u32),
}

// === impl IpCaps ===

impl IpCaps {
    /// A table enforcing the two caps.
    pub fn new(max_connections: u32, max_subscriptions: u32) -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            hasher: RandomState::new(),
            max_connections,
            max_subscriptions,
        }
    }

    /// Claims one connection for `client`.
    ///
    /// # Errors
    /// [`Over::Connections`] when the client already has the most connections allowed.
    pub fn connect(self: &Arc<Self>, client: IpAddr) -> Result<Permit, Over> {
        // The modulo keeps the index below SLOTS, which fits usize.
        let slot = (self.hasher.hash_one(client_key(client)) % SLOTS as u64) as usize;
        let max = self.max_connections;
        if !take(&self.slots[slot].connections, 1, max) {
            return Err(Over::Connections(max));
        }
        Ok(Permit {
            caps: self.clone(),
            slot,
            subscriptions: Cell::new(0),
        })
    }
}

impl fmt::Debug for IpCaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpCaps")
            .field("slots", &self.slots.len())
            .field("max_connections", &self.max_connections)
            .field("max_subscriptions", &self.max_subscriptions)
            .finish()
    }
}

// === impl Permit ===

impl Permit {
    /// Claims one more subscription for this connection's client.
    ///
    /// # Errors
    /// [`Over::Subscriptions`] when the client's connections together hold the most allowed.
    pub fn subscribe(&self) -> Result<(), Over> {
        let max = self.caps.max_subscriptions;
        if !take(&self.caps.slots[self.slot].subscriptions, 1, max) {
            return Err(Over::Subscriptions(max));
        }
        self.subscriptions.set(self.subscriptions.get() + 1);
        Ok(())
    }

    /// Gives back one subscription this connection holds (none if it holds none).
    pub fn unsubscribe(&self) {
        let held = self.subscriptions.get();
        if held > 0 {
            self.subscriptions.set(held - 1);
            let slot = &self.caps.slots[self.slot];
            slot.subscriptions.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let slot = &self.caps.slots[self.slot];
        slot.subscriptions
            .fetch_sub(self.subscriptions.get(), Ordering::AcqRel);
        slot.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("slot", &self.slot)
            .field("subscriptions", &self.subscriptions.get())
            .finish()
    }
}

// === impl Over ===

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Over::Connections(max) => write!(
                f,
                "too many WebSocket connections from your address (at most {max}): close one first"
            ),
            Over::Subscriptions(max) => write!(
                f,
                "subscription limit of your address reached (at most {max} over all its \
                 connections): unsubscribe first"
            ),
        }
    }
}

/// Adds `n` to `count` unless that would pass `max`; whether it did.
fn take(count: &AtomicU32, n: u32, max: u32) -> bool {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
            c.checked_add(n).filter(|&after| after <= max)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_and_drops_give_back() {
        let caps = Arc::new(IpCaps::new(2, 3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = caps.connect(a).unwrap();
        let second = caps.connect(a).unwrap();
        assert_eq!(caps.connect(a).unwrap_err(), Over::Connections(2));
        // IPv6 clients are counted per /64.
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let v6_same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let _p = caps.connect(v6).unwrap();
        let _q = caps.connect(v6_same_64).unwrap();
        assert!(caps.connect("2001:db8::2".parse().unwrap()).is_err());

        for _ in 0..2 {
            first.subscribe().unwrap();
        }
        second.subscribe().unwrap();
        assert_eq!(second.subscribe(), Err(Over::Subscriptions(3)));
        second.unsubscribe();
        second.unsubscribe(); // holds none any more: gives back nothing
        second.subscribe().unwrap();
        assert!(first.subscribe().is_err());
        drop(first); // its connection and both its subscriptions come back
        let third = caps.connect(a).unwrap();
        third.subscribe().unwrap();
        third.subscribe().unwrap();
        assert!(third.subscribe().is_err());
        drop((second, third));
        let slot = &caps.slots[caps.connect(a).unwrap().slot];
        assert_eq!(slot.subscriptions.load(Ordering::Acquire), 0);
    }
}
