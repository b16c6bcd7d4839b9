//! The matches a shard owns: identity resolution, aggregation, rendering, eviction.
//!
//! Only the owner mutates a match. It applies observations in batches and re-renders each
//! changed match once per batch, re-serialising only the markets that changed, then installs the
//! render in its own view and queues it for the others.

use std::{collections::HashMap, sync::Arc};

use tracing::debug;

use inplay_core::{
    aggregate::{view::ChangeKind, MatchState, Weights},
    identity::{AliasTable, Registry, Resolution},
    MarketKey, MatchId, MatchStatus, Observation, Timestamp,
};

use super::{
    history::{History, Recovery},
    io_out::IoOut,
};
use crate::{
    view::{render, MatchRender},
    ws::{self, Event},
};

/// What changed in one match during a batch: its changed markets (to re-render), every change
/// with its sequence number (to publish), and whether the match is new.
type Dirty = (Vec<MarketKey>, Vec<(u64, ChangeKind)>, bool);

/// One shard's owned matches.
#[derive(Debug)]
pub(crate) struct Owned {
    registry: Registry,
    states: HashMap<MatchId, MatchState>,
    /// The last render of each match, whose unchanged market pieces the next render reuses.
    renders: HashMap<MatchId, Arc<MatchRender>>,
    /// Each match's epoch: the hex millisecond this shard created it.
    epochs: HashMap<MatchId, Arc<str>>,
    /// Recent change frames, for `/ws` recovery.
    history: History,
    /// Whether changes are recorded in `history`: from the first WebSocket session the server
    /// sees (see [`Owned::arm_history`]).
    history_armed: bool,
    /// Markets whose settlement appeared or changed since the last [`Owned::take_settled`].
    settled: Vec<String>,
}

impl Owned {
    /// No matches yet; `window_ms` is the start-time tolerance of identity matching,
    /// `history_bytes` the recovery history's budget.
    pub fn new(window_ms: i64, history_bytes: usize) -> Self {
        Self {
            registry: Registry::new(window_ms),
            states: HashMap::new(),
            renders: HashMap::new(),
            epochs: HashMap::new(),
            history: History::new(history_bytes),
            history_armed: false,
            settled: Vec::new(),
        }
    }

    /// What a hot-match polling task needs of match `id`: its sport, league, whether it is
    /// over, and every (provider, provider event id) that reported it. `None` if not owned here.
    pub fn provider_events(&self, id: &MatchId) -> Option<crate::shard::MatchEvents> {
        let state = self.states.get(id)?;
        let info = state.info();
        Some(crate::shard::MatchEvents {
            sport: info.sport.clone(),
            league: info.league.clone(),
            over: matches!(
                state.status(),
                MatchStatus::Finished | MatchStatus::Cancelled | MatchStatus::Postponed
            ),
            events: self
                .registry
                .provider_events(id)
                .iter()
                .map(|(p, e)| (p.as_str().to_owned(), e.clone()))
                .collect(),
        })
    }

    /// A match's authoritative state.
    pub fn state(&self, id: &str) -> Option<&MatchState> {
        self.states.get(id)
    }

    /// Market ids (`<matchId>:<suffix>`) settled since the last call.
    pub fn take_settled(&mut self) -> Vec<String> {
        std::mem::take(&mut self.settled)
    }

    /// The changes of `id` a client at `(epoch, after)` missed, if they are all still held.
    pub fn recover(&self, id: &MatchId, epoch: &str, after: u64) -> Recovery {
        match (self.states.get(id), self.epochs.get(id)) {
            (Some(state), Some(e)) if **e == *epoch => self.history.since(id, after, state.seq()),
            _ => Recovery::Lost,
        }
    }

    /// Starts recording changes for `/ws` recovery. Until a WebSocket client has connected, no
    /// client can hold a position worth recovering from this server's history, and a server
    /// that only answers HTTP would hold `websocket.history_bytes` per shard for nothing. A
    /// client that learnt a seq elsewhere (REST) before that gets a snapshot with
    /// `"recovered": false`, as for any gap the history does not cover.
    pub fn arm_history(&mut self) {
        self.history_armed = true;
    }

    /// Whether changes are being recorded for recovery.
    pub fn history_armed(&self) -> bool {
        self.history_armed
    }

    /// Bytes held by the recovery history.
    pub fn history_bytes(&self) -> usize {
        self.history.bytes()
    }

    /// Applies a batch. Returns a fresh render of every match that changed, and the change
    /// events (in sequence order per match) for WebSocket subscribers.
    pub fn apply(
        &mut self,
        batch: &[Observation],
        aliases: &AliasTable,
        weights: &Weights,
        io: &IoOut,
        now: Timestamp,
    ) -> (Vec<Arc<MatchRender>>, Vec<Event>) {
        // Changed matches, with the markets that changed in each and the changes themselves.
        let mut dirty: HashMap<MatchId, Dirty> = HashMap::new();
        for obs in batch {
            let misses_before = self.registry.near_miss_total();
            let id = match self.registry.resolve(&obs.provider, &obs.event, aliases) {
                Resolution::Existing(id) => id,
                Resolution::Created(info) => {
                    let id = info.id.clone();
                    self.states.insert(id.clone(), MatchState::new(info));
                    let epoch = format!("{:x}", now.millis());
                    self.epochs.insert(id.clone(), epoch.into());
                    dirty.entry(id.clone()).or_default().2 = true;
                    id
                }
            };
            io.observed(
                obs.provider.as_str(),
                &obs.event.provider_event_id,
                id.as_str(),
                now,
            );
            if self.registry.near_miss_total() > misses_before {
                if let Some(m) = self.registry.near_misses().last() {
                    // Reported, never merged by guess: an alias in [identity.aliases] fixes it.
                    // Debug level: the demo world plays one team in several simultaneous
                    // matches, which this heuristic cannot tell from a missing alias.
                    debug!(
                        provider = %m.provider,
                        event = %m.event.provider_event_id,
                        home = %m.event.home,
                        away = %m.event.away,
                        closest = %m.closest,
                        reason = %m.reason,
                        "Event kept apart from a similar match"
                    );
                }
            }
            let Some(state) = self.states.get_mut(&id) else {
                continue;
            };
            let changes = state.apply(obs, weights, now);
            if changes.is_empty() {
                continue;
            }
            for change in &changes {
                if let ChangeKind::Settled(key) = &change.kind {
                    self.settled.push(format!("{id}:{}", key.suffix()));
                }
            }
            let (markets, kinds, _) = dirty.entry(id).or_default();
            for change in changes {
                match &change.kind {
                    ChangeKind::Score => {}
                    ChangeKind::Odds(key)
                    | ChangeKind::MarketSuspended(key)
                    | ChangeKind::MarketResumed(key)
                    | ChangeKind::Settled(key) => {
                        if !markets.contains(key) {
                            markets.push(key.clone());
                        }
                    }
                }
                kinds.push((change.seq, change.kind));
            }
        }
        let mut out = Vec::with_capacity(dirty.len());
        let mut events = Vec::new();
        for (id, (changed, kinds, created)) in dirty {
            let Some(state) = self.states.get(&id) else {
                continue;
            };
            let mut fresh = render(state, self.renders.get(&id).map(|r| &**r), &changed, now);
            fresh.epoch = self.epochs.get(&id).cloned().unwrap_or_default();
            let fresh = Arc::new(fresh);
            let fresh_events = ws::event::events(state, &fresh, &kinds, now);
            if self.history_armed {
                for e in &fresh_events {
                    self.history.push(&e.match_id, e.seq, &e.frame);
                }
            }
            io.changed(state, &fresh, &kinds, &fresh_events, created, now);
            events.extend(fresh_events);
            self.renders.insert(id, fresh.clone());
            out.push(fresh);
        }
        (out, events)
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
            self.renders.remove(id);
            self.registry.forget(id);
            self.epochs.remove(id);
            self.history.forget(id);
        }
        expired
    }
}
