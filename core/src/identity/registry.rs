//! The registry of one owner shard: which of its matches a provider event belongs to, and the
//! stable ids of new matches.
//!
//! Every fixture of a pairing hashes to the same shard, so this one registry sees all of them
//! and can tell them apart by start time and league: a provider's kick-off a few minutes off is
//! the same match, a return leg a week later or the second game of a doubleheader is not. Once
//! resolved, a provider's own event id routes later observations in O(1). When an event nearly
//! matches another (same slot, one team in common) the registry reports it instead of merging:
//! a wrong merge corrupts prices and settlement, a missed one only costs a duplicate.

use std::collections::{HashMap, VecDeque};

use super::{alias::AliasTable, IdentityKey};
use crate::{
    aggregate::view::MatchInfo,
    model::{MatchId, ProviderId, Timestamp},
    observation::EventRef,
};

/// How many near misses are kept (the most recent).
const NEAR_MISS_CAP: usize = 100;
/// How many forgotten match ids are remembered so that they are not handed to another fixture.
const RETIRED_CAP: usize = 4096;

/// The outcome of resolving a provider event.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// The event belongs to this known match.
    Existing(MatchId),
    /// A new match was registered; the caller creates its state from these facts.
    Created(MatchInfo),
}

/// An event that was registered as a new match although another match in the same slot shares
/// a team with it: a likely missing alias or a provider's error, for an operator to review.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMiss {
    /// Who reported the event.
    pub provider: ProviderId,
    /// The event as reported (it became a new match).
    pub event: EventRef,
    /// The existing match closest in start time that it was not merged with.
    pub closest: MatchId,
    /// Why they look alike.
    pub reason: String,
}

/// A live match as the registry knows it.
#[derive(Debug)]
struct Entry {
    /// Its identity key.
    key: IdentityKey,
    /// Trimmed lower-case league.
    league: String,
    /// Start time as first reported.
    start: Timestamp,
    /// The id-map entries that point here, removed with the match.
    provider_ids: Vec<(ProviderId, String)>,
}

/// A forgotten match, kept so its id is given back only to the same fixture.
#[derive(Debug)]
struct Retired {
    key: IdentityKey,
    league: String,
    start: Timestamp,
}

/// The matches one shard owns, by identity, with the provider id map.
#[derive(Debug)]
pub struct Registry {
    /// Start-time tolerance: events of one pairing and league closer than this are one match.
    window_ms: u64,
    /// The fast path: provider → provider event id → match.
    id_map: HashMap<ProviderId, HashMap<String, MatchId>>,
    /// Every live match.
    matches: HashMap<MatchId, Entry>,
    /// Live matches per identity key (several for doubleheaders and return legs).
    by_key: HashMap<IdentityKey, Vec<MatchId>>,
    /// Live matches per (sport, canonical team), for near-miss reports.
    by_team: HashMap<(String, String), Vec<MatchId>>,
    /// Recently forgotten ids, so a later fixture of the pairing never reuses one.
    retired: HashMap<MatchId, Retired>,
    /// `retired` in the order of forgetting, to bound it.
    retired_order: VecDeque<MatchId>,
    /// The most recent near misses, oldest first.
    near_misses: Vec<NearMiss>,
    /// Near misses ever reported (the list above keeps only the latest).
    near_miss_total: u64,
}

// === impl Registry ===

impl Registry {
    /// An empty registry with a start-time tolerance of `window_ms` either way (90 minutes is
    /// 5_400_000). A negative window is taken as its absolute value.
    pub fn new(window_ms: i64) -> Self {
        Self {
            window_ms: window_ms.unsigned_abs(),
            id_map: HashMap::new(),
            matches: HashMap::new(),
            by_key: HashMap::new(),
            by_team: HashMap::new(),
            retired: HashMap::new(),
            retired_order: VecDeque::new(),
            near_misses: Vec::new(),
            near_miss_total: 0,
        }
    }

    /// The match a provider's event belongs to, registering a new one if there is none.
    ///
    /// 1. A known (provider, provider event id) returns its match at once.
    /// 2. Else the live match with the same identity key and league whose start is within the
    ///    window and closest to the event's start.
    /// 3. Else a new match `"{hash32:08x}-{yyyymmdd}"`, with `-2`, `-3`, … when that id is
    ///    taken; a near miss is reported if another match in the slot shares one team.
    pub fn resolve(
        &mut self,
        provider: &ProviderId,
        event: &EventRef,
        aliases: &AliasTable,
    ) -> Resolution {
        let known = self
            .id_map
            .get(provider)
            .and_then(|m| m.get(&event.provider_event_id));
        if let Some(id) = known {
            return Resolution::Existing(id.clone());
        }
        let key = IdentityKey::of(event, aliases);
        let league = league_key(&event.league);
        if let Some(id) = self.closest(&key, &league, event.start_time) {
            self.remember(provider, event, &id);
            return Resolution::Existing(id);
        }
        let id = self.assign_id(&key, &league, event.start_time);
        self.report_near_miss(provider, event, &key, &league);
        for team in [&key.home, &key.away] {
            let slot = self
                .by_team
                .entry((key.sport.clone(), team.clone()))
                .or_default();
            if !slot.contains(&id) {
                slot.push(id.clone());
            }
        }
        self.by_key.entry(key.clone()).or_default().push(id.clone());
        let entry = Entry {
            key,
            league,
            start: event.start_time,
            provider_ids: Vec::new(),
        };
        self.matches.insert(id.clone(), entry);
        self.remember(provider, event, &id);
        Resolution::Created(MatchInfo {
            id,
            sport: event.sport.clone(),
            league: event.league.clone(),
            home_team: event.home.clone(),
            away_team: event.away.clone(),
            start_time: event.start_time,
        })
    }

    /// The (provider, provider event id) pairs known for match `id`, in the order first seen.
    pub fn provider_events(&self, id: &MatchId) -> &[(ProviderId, String)] {
        self.matches
            .get(id)
            .map_or(&[], |e| e.provider_ids.as_slice())
    }

    /// Evicts a finished match and its id-map entries. Its id is remembered for a while so
    /// that only the same fixture (same key, league and start window) can be given it again.
    pub fn forget(&mut self, id: &MatchId) {
        let Some(entry) = self.matches.remove(id) else {
            return;
        };
        remove_from(&mut self.by_key, &entry.key, id);
        for team in [&entry.key.home, &entry.key.away] {
            remove_from(
                &mut self.by_team,
                &(entry.key.sport.clone(), team.clone()),
                id,
            );
        }
        for (provider, event_id) in &entry.provider_ids {
            if let Some(events) = self.id_map.get_mut(provider) {
                events.remove(event_id);
                if events.is_empty() {
                    self.id_map.remove(provider);
                }
            }
        }
        let Entry {
            key, league, start, ..
        } = entry;
        self.retired
            .insert(id.clone(), Retired { key, league, start });
        self.retired_order.push_back(id.clone());
        if self.retired_order.len() > RETIRED_CAP {
            if let Some(oldest) = self.retired_order.pop_front() {
                self.retired.remove(&oldest);
            }
        }
    }

    /// Number of live matches.
    pub fn len(&self) -> usize {
        self.matches.len()
    }

    /// Whether there are no live matches.
    pub fn is_empty(&self) -> bool {
        self.matches.is_empty()
    }

    /// The most recent near misses (at most 100), oldest first.
    pub fn near_misses(&self) -> &[NearMiss] {
        &self.near_misses
    }

    /// How many near misses were ever reported (so a caller can tell new ones from old).
    pub fn near_miss_total(&self) -> u64 {
        self.near_miss_total
    }

    /// The start-time tolerance, in milliseconds either way.
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// The live match of `key` in `league` closest to `start`, if one is within the window.
    fn closest(&self, key: &IdentityKey, league: &str, start: Timestamp) -> Option<MatchId> {
        self.by_key
            .get(key)?
            .iter()
            .filter_map(|id| Some((id, self.matches.get(id)?)))
            .filter(|(_, e)| e.league == league)
            .map(|(id, e)| (id, e.start.millis().abs_diff(start.millis())))
            .filter(|&(_, gap)| gap <= self.window_ms)
            .min_by_key(|&(_, gap)| gap)
            .map(|(id, _)| id.clone())
    }

    /// Records the fast-path entry. Empty provider ids are not recorded: they would send every
    /// later event of that provider to this match.
    fn remember(&mut self, provider: &ProviderId, event: &EventRef, id: &MatchId) {
        let event_id = &event.provider_event_id;
        if event_id.trim().is_empty() {
            return;
        }
        let Some(entry) = self.matches.get_mut(id) else {
            return;
        };
        entry
            .provider_ids
            .push((provider.clone(), event_id.clone()));
        self.id_map
            .entry(provider.clone())
            .or_default()
            .insert(event_id.clone(), id.clone());
    }

    /// The id of a new match: the first of `base`, `base-2`, `base-3`, … that is neither live
    /// nor retired from a different fixture.
    fn assign_id(&mut self, key: &IdentityKey, league: &str, start: Timestamp) -> MatchId {
        let base = format!("{:08x}-{}", key.hash32(), utc_date(start));
        // Terminates: there are finitely many live and retired ids.
        let mut n = 0_u64;
        loop {
            n += 1;
            let id = MatchId::new(if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            if self.matches.contains_key(&id) {
                continue;
            }
            match self.retired.get(&id) {
                None => return id,
                Some(r)
                    if r.key == *key
                        && r.league == league
                        && r.start.millis().abs_diff(start.millis()) <= self.window_ms =>
                {
                    // The same fixture reported again after it was forgotten: same id.
                    self.retired.remove(&id);
                    self.retired_order.retain(|r| *r != id);
                    return id;
                }
                Some(_) => {}
            }
        }
    }

    /// Pushes a near miss if a live match in the same sport, league and start window shares
    /// exactly one team with `key`, or has the same teams with home and away swapped.
    fn report_near_miss(
        &mut self,
        provider: &ProviderId,
        event: &EventRef,
        key: &IdentityKey,
        league: &str,
    ) {
        let mut closest: Option<(u64, MatchId, String)> = None;
        for team in [&key.home, &key.away] {
            let Some(ids) = self.by_team.get(&(key.sport.clone(), team.clone())) else {
                continue;
            };
            for id in ids {
                let Some(e) = self.matches.get(id) else {
                    continue;
                };
                let gap = e.start.millis().abs_diff(event.start_time.millis());
                if e.league != league || gap > self.window_ms {
                    continue;
                }
                let shared = [&e.key.home, &e.key.away]
                    .into_iter()
                    .filter(|n| **n == key.home || **n == key.away)
                    .count();
                let reason = if e.key.home == key.away && e.key.away == key.home {
                    format!("home and away swapped: {} v {}", e.key.home, e.key.away)
                } else if shared == 1 {
                    format!(
                        "only {team:?} in common: existing {} v {}, new {} v {}",
                        e.key.home, e.key.away, key.home, key.away
                    )
                } else {
                    continue;
                };
                if closest.as_ref().is_none_or(|(best, _, _)| gap < *best) {
                    closest = Some((gap, id.clone(), reason));
                }
            }
        }
        let Some((_, closest, reason)) = closest else {
            return;
        };
        self.near_miss_total += 1;
        if self.near_misses.len() >= NEAR_MISS_CAP {
            self.near_misses.remove(0);
        }
        let (provider, event) = (provider.clone(), event.clone());
        self.near_misses.push(NearMiss {
            provider,
            event,
            closest,
            reason,
        });
    }
}

/// Leagues are compared by trimmed lower-case name.
fn league_key(league: &str) -> String {
    league.trim().to_lowercase()
}

/// `yyyymmdd` of the instant's UTC date (digits only, so a pre-epoch year cannot add a `-`).
fn utc_date(t: Timestamp) -> String {
    let iso = t.to_iso();
    let date = iso.split('T').next().unwrap_or_default();
    date.chars().filter(char::is_ascii_digit).collect()
}

/// Removes `id` from the list at `key`, dropping the list when it becomes empty.
fn remove_from<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<MatchId>>, key: &K, id: &MatchId) {
    if let Some(ids) = map.get_mut(key) {
        ids.retain(|i| i != id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}
