//! The matches a shard owns: identity resolution, aggregation, rendering, eviction.
//!
//! Only the owner mutates a match. It applies observations in batches, re-renders each changed
//! match once per batch, installs the render in its own view and queues it for the others.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use inplay_core::{
    aggregate::{MatchState, Weights},
    identity::{AliasTable, Registry, Resolution},
    MatchId, Observation, Timestamp,
};

use crate::view::{render, MatchRender};

/// One shard's owned matches.
#[derive(Debug)]
pub(crate) struct Owned {
    registry: Registry,
    states: HashMap<MatchId, MatchState>,
}

impl Owned {
    /// No matches yet; `window_ms` is the start-time tolerance of identity matching.
    pub fn new(window_ms: i64) -> Self {
        Self {
            registry: Registry::new(window_ms),
            states: HashMap::new(),
        }
    }

    /// Applies a batch and returns a fresh render of every match that changed.
    pub fn apply(
        &mut self,
        batch: &[Observation],
        aliases: &AliasTable,
        weights: &Weights,
        now: Timestamp,
    ) -> Vec<Arc<MatchRender>> {
        let mut dirty: HashSet<MatchId> = HashSet::new();
        for obs in batch {
            let id = match self.registry.resolve(&obs.provider, &obs.event, aliases) {
                Resolution::Existing(id) => id,
                Resolution::Created(info) => {
                    let id = info.id.clone();
                    self.states.insert(id.clone(), MatchState::new(info));
                    dirty.insert(id.clone());
                    id
                }
            };
            let Some(state) = self.states.get_mut(&id) else {
                continue;
            };
            if !state.apply(obs, weights, now).is_empty() {
                dirty.insert(id);
            }
        }
        dirty
            .iter()
            .filter_map(|id| self.states.get(id))
            .map(|state| Arc::new(render(state, now)))
            .collect()
    }

    /// Forgets matches that have been over (finished, postponed, cancelled) for longer than
    /// `retain_ms`; returns their ids.
    pub fn evict(&mut self, now: Timestamp, retain_ms: i64) -> Vec<MatchId> {
        let expired: Vec<MatchId> = self
            .states
            .iter()
            .filter(|(_, s)| {
                s.status().is_terminal() && now.millis() - s.updated_at().millis() > retain_ms
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            self.states.remove(id);
            self.registry.forget(id);
        }
        expired
    }
}
