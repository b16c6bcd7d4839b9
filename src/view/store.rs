//! Each shard's replica of every match's pre-serialised JSON, so any shard answers a GET for
//! any match with a lookup and one write: no lock, no hop.
//!
//! The owner renders a match once per change ([`MatchRender`], `Send`); every shard, the owner
//! included, installs it here. The small hot bodies (score, summary) are copied into this
//! shard's own `Rc`s; market pieces stay shared `Arc` bytes. Lists (`/api/markets/:sport`,
//! `/api/matches`) are concatenations of per-match fragments, cached per query and rebuilt only
//! after a match changed.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet, HashMap},
    rc::Rc,
    sync::Arc,
};

use inplay_core::{MatchId, MatchStatus, Timestamp};

use super::{list_cache::ListCache, render::MatchRender};

/// Bytes shared by the read view and in-flight responses on one shard.
pub(crate) type Shared = Rc<[u8]>;

/// One match as this shard serves it.
#[derive(Debug)]
pub(crate) struct MatchView {
    pub sport: Box<str>,
    pub league: Box<str>,
    pub status: MatchStatus,
    pub start_time: Timestamp,
    /// `GET /api/scores/:matchId`.
    pub score: Shared,
    /// This match's entry in `GET /api/matches`.
    pub summary: Shared,
    /// The owner's render: market pieces.
    render: Arc<MatchRender>,
}

impl MatchView {
    /// The match's seq at this render.
    pub fn seq(&self) -> u64 {
        self.render.seq
    }

    /// The stream its seq counts in.
    pub fn epoch(&self) -> &Arc<str> {
        &self.render.epoch
    }

    /// `GET /api/matches/:matchId`: `{"score": …, "markets": […]}`, assembled from the pieces.
    pub fn detail(&self) -> Vec<u8> {
        let markets: usize = self.render.markets.iter().map(|m| m.body.len() + 1).sum();
        let mut out = Vec::with_capacity(self.score.len() + markets + 32);
        out.extend_from_slice(b"{\"score\":");
        out.extend_from_slice(&self.score);
        out.extend_from_slice(b",\"markets\":[");
        for (i, m) in self.render.markets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&m.body);
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// Which list a cached body answers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ListKey {
    Markets {
        sport: Box<str>,
        league: Option<Box<str>>,
        limit: usize,
    },
    Matches {
        sport: Option<Box<str>>,
        league: Option<Box<str>>,
        status: Option<MatchStatus>,
    },
}

/// A shard's whole read view.
#[derive(Debug, Default)]
pub(crate) struct ViewStore {
    matches: HashMap<MatchId, MatchView>,
    /// `/api/markets/:marketId/odds` bodies by market id.
    markets: HashMap<Arc<str>, Arc<[u8]>>,
    /// Open (not terminal) matches per sport, in listing order.
    open_by_sport: BTreeMap<Box<str>, BTreeSet<(Timestamp, MatchId)>>,
    /// All matches, in listing order.
    all: BTreeSet<(Timestamp, MatchId)>,
    /// Bumped whenever any match changes; cached lists remember the value they were built at.
    generation: u64,
    /// The value of `generation` when a match of each sport last changed: a list of one sport
    /// is rebuilt only after one of its own matches changed, not after any match.
    sport_changed: HashMap<Box<str>, u64>,
    lists: RefCell<ListCache>,
}

/// A list body for one request.
#[derive(Debug)]
pub(crate) struct ListBody {
    pub body: Shared,
    /// Served from cache: nothing was built or compressed for this request.
    pub hit: bool,
    /// `body` is gzip-compressed.
    pub gzip: bool,
}

impl ViewStore {
    /// Installs (or replaces) a match's rendering.
    pub fn upsert(&mut self, r: &Arc<MatchRender>) {
        self.remove(&r.id);
        let key = (r.start_time, r.id.clone());
        if !r.status.is_terminal() {
            self.open_by_sport
                .entry(r.sport.as_str().into())
                .or_default()
                .insert(key.clone());
        }
        self.all.insert(key);
        for m in &r.markets {
            self.markets.insert(m.id.clone(), m.body.clone());
        }
        let view = MatchView {
            sport: r.sport.as_str().into(),
            league: r.league.as_str().into(),
            status: r.status,
            start_time: r.start_time,
            score: Rc::from(r.score.as_slice()),
            summary: Rc::from(r.summary.as_slice()),
            render: r.clone(),
        };
        self.matches.insert(r.id.clone(), view);
        self.changed(r.sport.as_str());
    }

    /// Drops a match (evicted after it finished).
    pub fn remove(&mut self, id: &MatchId) {
        let Some(old) = self.matches.remove(id) else {
            return;
        };
        let key = (old.start_time, id.clone());
        if let Some(set) = self.open_by_sport.get_mut(&old.sport) {
            set.remove(&key);
        }
        self.all.remove(&key);
        for m in &old.render.markets {
            self.markets.remove(&m.id);
        }
        self.changed(&old.sport);
    }

    /// Records that a match of `sport` changed (or came or went).
    fn changed(&mut self, sport: &str) {
        self.generation += 1;
        match self.sport_changed.get_mut(sport) {
            Some(at) => *at = self.generation,
            None => {
                self.sport_changed.insert(sport.into(), self.generation);
            }
        }
    }

    /// The generation a cached `key` must have been built at or after to be current: the last
    /// change of its sport, or of any match for a list over every sport.
    fn changed_at(&self, key: &ListKey) -> u64 {
        let sport = match key {
            ListKey::Markets { sport, .. } => Some(sport),
            ListKey::Matches { sport, .. } => sport.as_ref(),
        };
        match sport {
            Some(sport) => self.sport_changed.get(sport).copied().unwrap_or(0),
            None => self.generation,
        }
    }

    /// A match by id.
    pub fn get(&self, id: &str) -> Option<&MatchView> {
        self.matches.get(id)
    }

    /// A market's odds body by market id.
    pub fn market(&self, market_id: &str) -> Option<&Arc<[u8]>> {
        self.markets.get(market_id)
    }

    /// Number of matches served.
    pub fn len(&self) -> usize {
        self.matches.len()
    }

    /// Bumped whenever any match changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every (sport, league) with an open match.
    pub fn open_leagues(&self) -> BTreeSet<(Box<str>, Box<str>)> {
        self.open_by_sport
            .values()
            .flat_map(|set| set.iter().filter_map(|(_, id)| self.matches.get(id)))
            .map(|m| (m.sport.clone(), m.league.clone()))
            .collect()
    }

    /// Open matches of a sport (and league), in listing order, at most `limit`.
    pub fn open_matches(&self, sport: &str, league: Option<&str>, limit: usize) -> Vec<MatchId> {
        let Some(set) = self.open_by_sport.get(sport) else {
            return Vec::new();
        };
        set.iter()
            .filter(|(_, id)| {
                league.is_none_or(|l| self.matches.get(id).is_some_and(|m| &*m.league == l))
            })
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Whether any match of `sport` is known (open or not).
    pub fn has_sport(&self, sport: &str) -> bool {
        self.open_by_sport.contains_key(sport) || self.matches.values().any(|m| &*m.sport == sport)
    }

    /// A list body, from cache when nothing changed since it was built. With `gzip` (the client
    /// accepts it), the compressed form, made once per rebuild, unless the body is too short.
    pub fn list(&self, key: ListKey, gzip: bool) -> ListBody {
        let fresh_since = self.changed_at(&key);
        self.lists.borrow_mut().get(
            key,
            fresh_since,
            self.generation,
            |key| self.build_list(key),
            gzip,
        )
    }

    fn build_list(&self, key: &ListKey) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 * 1024);
        out.push(b'[');
        let mut first = true;
        let mut push = |bytes: &[u8]| {
            if bytes.is_empty() {
                return;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(bytes);
        };
        match key {
            ListKey::Markets {
                sport,
                league,
                limit,
            } => {
                let Some(set) = self.open_by_sport.get(sport) else {
                    return b"[]".to_vec();
                };
                let views = set.iter().filter_map(|(_, id)| self.matches.get(id));
                let wanted = views.filter(|m| league.as_ref().is_none_or(|l| *l == m.league));
                for m in wanted.filter(|m| !m.render.markets.is_empty()).take(*limit) {
                    for piece in m.render.markets.iter().filter(|p| p.main) {
                        push(&piece.entries);
                    }
                }
            }
            ListKey::Matches {
                sport,
                league,
                status,
            } => {
                for (_, id) in &self.all {
                    let Some(m) = self.matches.get(id) else {
                        continue;
                    };
                    if sport.as_ref().is_some_and(|s| *s != m.sport)
                        || league.as_ref().is_some_and(|l| *l != m.league)
                        || status.is_some_and(|s| s != m.status)
                    {
                        continue;
                    }
                    push(&m.summary);
                }
            }
        }
        out.push(b']');
        out
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
