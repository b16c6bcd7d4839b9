//! Routing observations to the shard that owns their match.
//!
//! The owner is `hash(sport, canonical home, canonical away) % nr_shards`; working that out
//! needs name normalisation, so it is cached per (provider, provider event id). Work is moved in
//! chunks, pausing between them once a time slice is spent, so a big poll never holds the core
//! while requests wait.

use std::collections::HashMap;

use inplay_core::{
    identity::{owner_shard, IdentityKey},
    Observation, ProviderId,
};
use tracing::debug;

use super::{slice::Slice, Shard, ShardMsg};

/// Observations applied (or sent to an owner) at once: one unit of work between pauses
/// (0.3–0.6 ms for 64 demo observations in a release build).
pub(super) const APPLY_CHUNK: usize = 64;

/// Entries kept in the routing cache before it is cleared.
pub(super) const OWNER_CACHE_MAX: usize = 200_000;

/// (provider, provider event id) → owner shard.
pub(super) type OwnerCache = HashMap<ProviderId, HashMap<String, usize>>;

// === impl Shard ===

impl Shard {
    /// Sends observations to their owners (applying this shard's share directly).
    pub async fn route(&self, batch: Vec<Observation>) {
        self.route_sliced(batch, &mut Slice::start()).await;
    }

    /// [`Shard::route`] as part of a longer piece of work whose `slice` is already running.
    ///
    /// The work pauses whenever the slice's budget is spent (see [`super::slice`]), so a big
    /// poll never holds the core for long while requests wait. Observations are applied in the
    /// order they came, in the same chunks whatever the pauses, so the results do not change.
    pub async fn route_sliced(&self, batch: Vec<Observation>, slice: &mut Slice) {
        let mut per_owner: Vec<Vec<Observation>> = vec![Vec::new(); self.nr_shards];
        {
            let mut cache = self.owner_cache.borrow_mut();
            if cache.values().map(HashMap::len).sum::<usize>() > OWNER_CACHE_MAX {
                cache.clear();
            }
        }
        for (i, obs) in batch.into_iter().enumerate() {
            // New events need name normalisation: a first poll can take milliseconds.
            let owner = self.owner_of(&mut self.owner_cache.borrow_mut(), &obs);
            per_owner[owner].push(obs);
            if i % APPLY_CHUNK == APPLY_CHUNK - 1 {
                slice.yield_if_spent().await;
            }
        }
        for (owner, mut obs) in per_owner.into_iter().enumerate() {
            while !obs.is_empty() {
                let rest = obs.split_off(obs.len().min(APPLY_CHUNK));
                let chunk = std::mem::replace(&mut obs, rest);
                if owner == self.id {
                    self.apply(&chunk);
                    slice.yield_if_spent().await;
                } else if self.inboxes[owner]
                    .send(ShardMsg::Observations(chunk))
                    .await
                    .is_err()
                {
                    debug!(
                        owner,
                        "Owner shard stopped; observations dropped during shutdown"
                    );
                    break;
                }
            }
        }
    }

    fn owner_of(&self, cache: &mut OwnerCache, obs: &Observation) -> usize {
        let event_id = &obs.event.provider_event_id;
        if event_id.is_empty() {
            let key = IdentityKey::of(&obs.event, &self.config.aliases);
            return owner_shard(key.hash64(), self.nr_shards);
        }
        // Looked up by reference: no allocation for events seen before.
        if let Some(&owner) = cache
            .get(&obs.provider)
            .and_then(|m| m.get(event_id.as_str()))
        {
            return owner;
        }
        let key = IdentityKey::of(&obs.event, &self.config.aliases);
        let owner = owner_shard(key.hash64(), self.nr_shards);
        cache
            .entry(obs.provider.clone())
            .or_default()
            .insert(event_id.clone(), owner);
        owner
    }
}
